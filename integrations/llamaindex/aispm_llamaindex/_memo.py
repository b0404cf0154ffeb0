"""Decisions already made on a text in the current session, shared by the guarded LLM and tools.

An agent resends its whole conversation on every model call, and a tool's result re-enters the
model's context as a tool message. Deciding each text once per session keeps the cost of a step
proportional to what is new in it, and keeps a flagged text from adding to the session's risk on
every step. One `aispm._session_memo.DecisionMemo` per guard (keys hold a hash of the text, never
the text; outside a session nothing is remembered, and every call is decided and reported).
"""

from __future__ import annotations

import threading
import weakref
from typing import Final

import aispm
from aispm._session_memo import DecisionMemo

__all__ = ["MEMO_SIZE", "recall", "remember"]

MEMO_SIZE: Final = 8192
"""Decisions kept per guard; the least recently used go first."""

_MEMOS: weakref.WeakKeyDictionary[aispm.Guard, DecisionMemo] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def recall(guard: aispm.Guard, source: str, origin: str | None, text: str) -> aispm.TextDecision | None:
    """The decision ``guard`` made on this text from this source in the current session, if any."""
    memo = _MEMOS.get(guard)
    return memo.get(DecisionMemo.key(source, origin, text)) if memo is not None else None


def remember(guard: aispm.Guard, source: str, origin: str | None, text: str, decision: aispm.TextDecision) -> None:
    """Remember ``decision`` on this text for the rest of the session (no-op outside a session)."""
    key = DecisionMemo.key(source, origin, text)
    if key is None:
        return
    with _LOCK:
        memo = _MEMOS.setdefault(guard, DecisionMemo(MEMO_SIZE))
    memo.put(key, decision)
