"""Decisions already made on a text in the current session, shared by the guarded LLM and tools.

An agent resends its whole conversation on every model call, and a tool's result re-enters the
model's context as a tool message. Deciding each text once per session keeps the cost of a step
proportional to what is new in it, and keeps a flagged text from adding to the session's risk on
every step. Keys hold a hash of the text, never the text; outside a session nothing is remembered
(every call is decided and reported).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from typing import Final

import aispm

__all__ = ["MEMO_SIZE", "recall", "remember"]

MEMO_SIZE: Final = 8192
"""Decisions kept per guard; the least recently used go first."""

_Key = tuple[str, str, str, str]
_MEMOS: weakref.WeakKeyDictionary[aispm.Guard, OrderedDict[_Key, aispm.TextDecision]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _key(source: str, origin: str | None, text: str) -> _Key | None:
    session = aispm.current_session()
    if session is None:
        return None
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return session.id, source, origin or "", digest


def recall(guard: aispm.Guard, source: str, origin: str | None, text: str) -> aispm.TextDecision | None:
    """The decision ``guard`` made on this text from this source in the current session, if any."""
    key = _key(source, origin, text)
    if key is None:
        return None
    with _LOCK:
        memo = _MEMOS.get(guard)
        decision = memo.get(key) if memo is not None else None
        if decision is not None and memo is not None:
            memo.move_to_end(key)
    return decision


def remember(guard: aispm.Guard, source: str, origin: str | None, text: str, decision: aispm.TextDecision) -> None:
    """Remember ``decision`` on this text for the rest of the session (no-op outside a session)."""
    key = _key(source, origin, text)
    if key is None:
        return
    with _LOCK:
        memo = _MEMOS.setdefault(guard, OrderedDict())
        memo[key] = decision
        while len(memo) > MEMO_SIZE:
            memo.popitem(last=False)
