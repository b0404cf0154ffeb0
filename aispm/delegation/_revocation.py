"""Revocation: the `Revocations` protocol and the in-process store."""

from __future__ import annotations

import math
import threading
from datetime import datetime
from typing import Protocol, runtime_checkable

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ..identity._encoding import _timestamp

# --- revocation ------------------------------------------------------------------------------------


@runtime_checkable
class Revocations(Protocol):
    """Where revoked grant ids are kept. Revoking a grant revokes every chain that contains it."""

    @property
    def epoch(self) -> int:
        """A counter that changes on every revocation (verification caches watch it)."""
        ...

    def revoke(self, grant_id: str, until: datetime) -> None:
        """Revoke ``grant_id``; the record may be dropped after ``until`` (the grant's expiry)."""
        ...

    def is_revoked(self, grant_id: str) -> bool:
        """Whether ``grant_id`` is revoked."""
        ...


class InMemoryRevocations:
    """Thread-safe revocations in this process; records are dropped once past ``until``."""

    __slots__ = ("_clock", "_epoch", "_lock", "_max_entries", "_revoked")

    def __init__(self, *, clock: Clock = utc_now, max_entries: int = 100_000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._revoked: dict[str, float] = {}
        self._epoch = 0
        self._lock = threading.Lock()

    @property
    def epoch(self) -> int:
        """Changes on every revocation."""
        return self._epoch

    def revoke(self, grant_id: str, until: datetime) -> None:
        """Revoke ``grant_id`` until ``until``.

        Raises:
            PolicyError: The store is full of unexpired revocations (never silently forgets one).
        """
        if not isinstance(grant_id, str) or not isinstance(until, datetime) or until.tzinfo is None:
            raise PolicyError("revoke needs a grant id and an aware datetime")
        with self._lock:
            if grant_id not in self._revoked and len(self._revoked) >= self._max_entries:
                now = _timestamp(self._clock)
                self._revoked = {k: v for k, v in self._revoked.items() if v > now}
                if len(self._revoked) >= self._max_entries:
                    raise PolicyError("too many unexpired revocations")
            self._revoked[grant_id] = max(until.timestamp(), self._revoked.get(grant_id, -math.inf))
            self._epoch += 1

    def is_revoked(self, grant_id: str) -> bool:
        """Whether ``grant_id`` is revoked (and its record not yet past ``until``)."""
        until = self._revoked.get(grant_id)
        return until is not None and _timestamp(self._clock) < until

    def __len__(self) -> int:
        return len(self._revoked)
