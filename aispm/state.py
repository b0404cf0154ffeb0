"""Shared mutable state of the guards: rate-limit counters, per-session call counts, risk and taint.

Everything a guard must remember between calls goes through the small `StateStore`
protocol, so that several agent processes can share it (a Redis-backed store can
implement the same four methods). `MemoryStore` is the default: in process,
thread-safe, bounded.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

__all__ = ["MemoryStore", "SessionState", "StateStore"]


@dataclass(frozen=True, slots=True)
class SessionState:
    """What the guards know about one session.

    Attributes:
        risk: Accumulated risk: the sum of the weights of the findings the guards made in it.
        tainted_by: Where untrusted content entered the context (``tool:web_fetch``,
            ``retrieval``), in order; empty while the session is clean.
        calls: Tool calls authorised in it so far.
    """

    risk: float = 0.0
    tainted_by: tuple[str, ...] = ()
    calls: int = 0

    @property
    def tainted(self) -> bool:
        """Whether untrusted content has entered the session's context."""
        return bool(self.tainted_by)


@runtime_checkable
class StateStore(Protocol):
    """Where guards keep counters and session state. Implementations must be thread-safe."""

    def hit(self, key: str, window_seconds: float) -> float:
        """Record one event under ``key`` and return the events in the last ``window_seconds``, this one included."""
        ...

    def session(self, session_id: str) -> SessionState:
        """The state of a session (a fresh one when unknown)."""
        ...

    def add_risk(self, session_id: str, amount: float, *, taint: str | None = None) -> SessionState:
        """Raise a session's risk by ``amount``; with ``taint``, mark it tainted by that source."""
        ...

    def add_call(self, session_id: str) -> SessionState:
        """Count one tool call in a session."""
        ...


_MAX_TAINTS = 16  # sources remembered per session: the first ones say how it was tainted


class MemoryStore:
    """In-process `StateStore`: sliding-window counters and session states, bounded in size.

    Counters use the sliding-window approximation (the previous fixed window's count,
    weighted by how much of it still overlaps the sliding window, plus the current
    window's count): constant memory per key, and never more than one window's worth
    of error at a window's start, where it errs on the side of counting more.

    Args:
        max_keys: Counters kept; the least recently used are dropped beyond it.
        max_sessions: Session states kept; the least recently used are dropped beyond it.
        clock: Seconds, monotonic; injectable for tests.
    """

    __slots__ = ("_clock", "_counters", "_lock", "_max_keys", "_max_sessions", "_sessions")

    def __init__(
        self, *, max_keys: int = 100_000, max_sessions: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_keys < 1 or max_sessions < 1:
            raise ValueError("max_keys and max_sessions must be positive")
        self._max_keys = max_keys
        self._max_sessions = max_sessions
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (window length, start of the current window, its count, the previous window's count)
        self._counters: OrderedDict[str, tuple[float, float, int, int]] = OrderedDict()
        self._sessions: OrderedDict[str, SessionState] = OrderedDict()

    def hit(self, key: str, window_seconds: float) -> float:
        """Record one event and return the sliding-window count, this event included."""
        if not window_seconds > 0:
            raise ValueError("window_seconds must be positive")
        now = self._clock()
        with self._lock:
            entry = self._counters.get(key)
            if entry is None or entry[0] != window_seconds:
                start, current, previous = now - now % window_seconds, 0, 0
            else:
                _, start, current, previous = entry
                windows = int((now - start) // window_seconds)
                if windows == 1:
                    start, current, previous = start + window_seconds, 0, current
                elif windows > 1:
                    start, current, previous = now - now % window_seconds, 0, 0
            current += 1
            self._counters[key] = (window_seconds, start, current, previous)
            self._counters.move_to_end(key)
            if len(self._counters) > self._max_keys:
                self._counters.popitem(last=False)
        overlap = 1.0 - (now - start) / window_seconds
        return current + previous * max(0.0, overlap)

    def session(self, session_id: str) -> SessionState:
        """The state of a session (a fresh one when unknown)."""
        with self._lock:
            state = self._sessions.get(session_id)
            if state is None:
                return SessionState()
            self._sessions.move_to_end(session_id)
            return state

    def add_risk(self, session_id: str, amount: float, *, taint: str | None = None) -> SessionState:
        """Raise a session's risk by ``amount``; with ``taint``, mark it tainted by that source."""
        with self._lock:
            state = self._sessions.get(session_id) or SessionState()
            tainted_by = state.tainted_by
            if taint is not None and taint not in tainted_by and len(tainted_by) < _MAX_TAINTS:
                tainted_by = (*tainted_by, taint)
            return self._put(session_id, replace(state, risk=state.risk + max(0.0, amount), tainted_by=tainted_by))

    def add_call(self, session_id: str) -> SessionState:
        """Count one tool call in a session."""
        with self._lock:
            state = self._sessions.get(session_id) or SessionState()
            return self._put(session_id, SessionState(state.risk, state.tainted_by, state.calls + 1))

    def _put(self, session_id: str, state: SessionState) -> SessionState:
        self._sessions[session_id] = state
        self._sessions.move_to_end(session_id)
        if len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        return state
