"""Decisions already made on a text in the current session, for adapters whose framework resends it.

An agent resends its whole conversation on every model call, and a tool's result re-enters the
model's context as a tool message. An adapter that decides each text once per session keeps the
cost of a step proportional to what is new in it, and keeps a flagged text from adding to the
session's risk on every step. What to remember (every decision, or only those a text passes
with) is the adapter's choice; the keys and the bound are this module's.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from .decisions import TextDecision
from .principals import current_session

__all__ = ["DecisionMemo", "MemoKey"]

MemoKey = tuple[str, str, str, str]
"""The session id, the text's source and origin, and a SHA-256 of the text (never the text)."""


class DecisionMemo:
    """A bounded, thread-safe memo of decisions by text; the least recently used go first.

    Args:
        size: How many decisions it keeps.
    """

    __slots__ = ("_decisions", "_lock", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._decisions: OrderedDict[MemoKey, TextDecision] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(source: str, origin: str | None, text: str) -> MemoKey | None:
        """The text's key in the current session; ``None`` outside a session (nothing is remembered there)."""
        session = current_session()
        if session is None:
            return None
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return session.id, source, origin or "", digest

    def get(self, key: MemoKey | None) -> TextDecision | None:
        """The decision remembered under ``key``, if any."""
        if key is None:
            return None
        with self._lock:
            decision = self._decisions.get(key)
            if decision is not None:
                self._decisions.move_to_end(key)
            return decision

    def put(self, key: MemoKey | None, decision: TextDecision) -> None:
        """Remember ``decision`` under ``key`` (no-op for ``None``: outside a session)."""
        if key is None:
            return
        with self._lock:
            self._decisions[key] = decision
            while len(self._decisions) > self._size:
                self._decisions.popitem(last=False)
