"""Session vault: consistent pseudonyms per session, and the values behind them for `restore`.

`SessionVault` holds one table per session. A table maps a keyed hash of each
value to its pseudonym (``<EMAIL_1>``), so the same value always gets the same
pseudonym in that session; in vault mode it also keeps the value itself, so
`SessionVault.restore` can put it back into a final answer. Everything is
scoped by session: a pseudonym of one session never restores in another.

The vault is bounded three ways, so an attacker who controls what is redacted
cannot grow it without limit: at most ``max_sessions`` sessions (the least
recently used one is evicted), at most ``max_entries`` pseudonyms and
``max_chars`` characters of stored values per session (beyond them the
redactor masks instead), and a session idle for ``ttl`` is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NoReturn

from ._clock import Clock, utc_now
from .errors import PolicyError

__all__ = ["SessionVault"]

MAX_ENTITY_CHARS = 48
"""Longest entity name in a pseudonym (``EMAIL`` in ``<EMAIL_1>``)."""

# "<" + entity + "_" + a number of at most 9 digits + ">": restore matches at most this many
# characters after each "<", so one pass over any text is linear.
_TOKEN_BODY_MAX = MAX_ENTITY_CHARS + 10
_ENTITY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class _Values(dict[str, str]):
    """Pseudonym → original value. Its repr never shows a value (frame-local dumps, debuggers)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} sealed value(s)>"


class _Table:
    """The pseudonyms of one session (or of one call, when there is no session)."""

    __slots__ = ("chars", "counters", "forward", "last_used", "values")

    def __init__(self, now: datetime | None) -> None:
        self.forward: dict[bytes, str] = {}  # keyed hash of (entity, value) → pseudonym
        self.values = _Values()  # pseudonym → value, for reversible entries only
        self.counters: dict[str, int] = {}  # entity → last number given
        self.chars = 0  # characters held in `values`
        self.last_used = now

    def assign(
        self, digest: bytes, entity: str, value: str, reversible: bool, max_entries: int, max_chars: int
    ) -> str | None:
        """The pseudonym of a value; ``None`` when the table is full (the caller masks instead)."""
        token = self.forward.get(digest)
        keep = reversible and (token is None or token not in self.values)
        if keep and self.chars + len(value) > max_chars:
            return None
        if token is None:
            if len(self.forward) >= max_entries:
                return None
            number = self.counters.get(entity, 0) + 1
            self.counters[entity] = number
            token = f"<{entity}_{number}>"
            self.forward[digest] = token
        if keep:
            self.values[token] = value
            self.chars += len(value)
        return token

    def wipe(self) -> None:
        self.forward.clear()
        self.values.clear()
        self.counters.clear()
        self.chars = 0

    def __repr__(self) -> str:
        return f"_Table(entries={len(self.forward)}, reversible={len(self.values)})"


class SessionVault:
    """Pseudonyms per session, and (for vault mode) the values behind them. Thread-safe.

    Values are never shown: not in ``repr``, ``str``, exceptions or logs, and a
    vault cannot be pickled or copied. Lookups from value to pseudonym go
    through an HMAC-SHA-256 of the value under a random per-vault key, so the
    non-reversible tables (pseudonym mode) never hold a value at all.

    Sessions are evicted least recently used first beyond ``max_sessions``, and
    dropped after ``ttl`` without use (each redaction or restore counts as use).
    An evicted or expired session starts again from ``<EMAIL_1>``, and its old
    pseudonyms no longer restore.

    Args:
        max_sessions: Sessions kept at once.
        max_entries: Distinct values per session; further values are masked.
        max_chars: Characters of stored values per session; a value that does
            not fit is masked instead of vaulted.
        ttl: How long an idle session is kept; ``None`` keeps it until evicted.
        clock: Source of the current time (aware UTC).

    Raises:
        PolicyError: A bound is not a positive number.

    Example:
        >>> vault = SessionVault()
        >>> vault.pseudonymize("s1", "EMAIL", "bob@example.com")
        '<EMAIL_1>'
        >>> vault.restore("Write to <EMAIL_1>, not <EMAIL_2>.", "s1")
        'Write to bob@example.com, not <EMAIL_2>.'
        >>> vault.restore("Write to <EMAIL_1>.", "s2")
        'Write to <EMAIL_1>.'
    """

    __slots__ = (
        "_clock",
        "_hasher",
        "_lock",
        "_max_chars",
        "_max_entries",
        "_max_sessions",
        "_sessions",
        "_token",
        "_ttl",
    )

    def __init__(
        self,
        *,
        max_sessions: int = 1_000,
        max_entries: int = 512,
        max_chars: int = 65_536,
        ttl: timedelta | None = timedelta(hours=1),
        clock: Clock = utc_now,
    ) -> None:
        for name, bound in (("max_sessions", max_sessions), ("max_entries", max_entries), ("max_chars", max_chars)):
            if type(bound) is not int or bound < 1:
                raise PolicyError(f"{name} must be a positive integer")
        if max_entries > 10**8:
            raise PolicyError("max_entries must be at most 100000000")  # pseudonym numbers stay under 10 digits
        if ttl is not None and (not isinstance(ttl, timedelta) or ttl <= timedelta(0)):
            raise PolicyError("ttl must be a positive timedelta or None")
        if not callable(clock):
            raise PolicyError("clock must be callable")
        self._max_sessions = max_sessions
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, _Table] = OrderedDict()  # least recently used first
        self._hasher = hmac.new(secrets.token_bytes(32), digestmod=hashlib.sha256)
        self._token = re.compile(rf"<[A-Z0-9_]{{3,{_TOKEN_BODY_MAX}}}>")

    # -- public ----------------------------------------------------------------

    def pseudonymize(self, session_id: str, entity: str, value: str, *, reversible: bool = True) -> str | None:
        """The pseudonym of ``value`` in this session, given on first sight: ``<EMAIL_1>``, ``<EMAIL_2>``...

        Args:
            session_id: The session the pseudonym belongs to.
            entity: What the value is, upper case: ``EMAIL``, ``PHONE``, ``CREDIT_CARD``.
            value: The value to hide.
            reversible: Keep the value so `restore` can put it back (vault mode).

        Returns:
            The pseudonym, or ``None`` when the session is full (mask the value instead).

        Raises:
            TypeError: ``session_id`` or ``value`` is not a ``str``.
            ValueError: ``entity`` is not 1 to 48 characters of ``A-Z``, ``0-9`` and ``_``.
        """
        _check_session(session_id)
        if not isinstance(value, str):
            raise TypeError("value must be a str")
        if not (isinstance(entity, str) and 0 < len(entity) <= MAX_ENTITY_CHARS and _ENTITY_CHARS.issuperset(entity)):
            raise ValueError("entity must be 1 to 48 characters of A-Z, 0-9 and _")
        return self._assign(session_id, [(entity, value, reversible)])[0]

    def restore(self, text: str, session_id: str | None) -> str:
        """Replace the pseudonyms of this session in ``text`` by their values.

        One pass over the text; pseudonyms of other sessions, unknown or
        non-reversible ones stay as they are. Restore only in the last step,
        for the session's own user: the restored text must not go back to the
        model, into tools, or into logs.

        Raises:
            TypeError: ``text`` or ``session_id`` is of the wrong type.
        """
        if not isinstance(text, str):
            raise TypeError("text must be a str")
        if session_id is None:
            return text
        _check_session(session_id)
        if "<" not in text:
            return text
        with self._lock:
            table = self._live(session_id, self._clock())
        if table is None or not table.values:
            return text
        values = table.values  # only ever added to while the session lives; dict reads are atomic
        return self._token.sub(lambda m: values.get(m.group(), m.group()), text)

    def forget(self, session_id: str) -> None:
        """Drop a session's pseudonyms and values (e.g. when the conversation ends)."""
        _check_session(session_id)
        with self._lock:
            table = self._sessions.pop(session_id, None)
        if table is not None:
            table.wipe()

    def clear(self) -> None:
        """Drop every session."""
        with self._lock:
            tables = list(self._sessions.values())
            self._sessions.clear()
        for table in tables:
            table.wipe()

    def __len__(self) -> int:
        """Number of sessions held (expired ones are dropped first)."""
        with self._lock:
            self._expire(self._clock())
            return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        with self._lock:
            return self._live(session_id, self._clock(), touch=False) is not None

    def __repr__(self) -> str:
        ttl = "None" if self._ttl is None else f"{self._ttl.total_seconds():g}s"
        return (
            f"SessionVault(sessions={len(self._sessions)}, max_sessions={self._max_sessions}, "
            f"max_entries={self._max_entries}, max_chars={self._max_chars}, ttl={ttl})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SessionVault cannot be pickled or copied: its values must stay in this process")

    # -- for the redactor ----------------------------------------------------------

    def _assign(self, session_id: str | None, requests: Sequence[tuple[str, str, bool]]) -> list[str | None]:
        """Pseudonyms for ``(entity, value, reversible)`` requests, in order, under one lock.

        With ``session_id=None`` the pseudonyms come from a fresh table that
        lives for this call only: consistent within the call, never stored.
        Entities are not checked here (the redactor derives them); use
        `pseudonymize` for one value.
        """
        digests = [self._digest(entity, value) for entity, value, _ in requests]  # hashing outside the lock
        if session_id is None:
            call = _Table(None)
            return [
                call.assign(d, e, v, r, self._max_entries, self._max_chars)
                for d, (e, v, r) in zip(digests, requests, strict=True)
            ]
        with self._lock:
            now = self._clock()
            table = self._live(session_id, now)
            if table is None:
                table = self._sessions[session_id] = _Table(now)
                while len(self._sessions) > self._max_sessions:
                    self._sessions.popitem(last=False)[1].wipe()
            return [
                table.assign(d, e, v, r, self._max_entries, self._max_chars)
                for d, (e, v, r) in zip(digests, requests, strict=True)
            ]

    # -- internals ------------------------------------------------------------------

    def _digest(self, entity: str, value: str) -> bytes:
        h = self._hasher.copy()  # keyed once; copying the keyed state is cheaper than keying again
        h.update(entity.encode("ascii", "replace"))
        h.update(b"\x00")
        h.update(value.encode("utf-8", "surrogatepass"))
        return h.digest()

    def _live(self, session_id: str, now: datetime, *, touch: bool = True) -> _Table | None:
        """The session's table if it has not expired; marks it used. Call under the lock."""
        self._expire(now)
        table = self._sessions.get(session_id)
        if table is None:
            return None
        if self._expired(table, now):  # the clock went back and forth: the LRU order is not the expiry order
            del self._sessions[session_id]
            table.wipe()
            return None
        if touch:
            table.last_used = now
            self._sessions.move_to_end(session_id)
        return table

    def _expire(self, now: datetime) -> None:
        # Least recently used first, so the expired sessions are at the front: amortised O(1).
        while self._sessions:
            session_id, table = next(iter(self._sessions.items()))
            if not self._expired(table, now):
                break
            del self._sessions[session_id]
            table.wipe()

    def _expired(self, table: _Table, now: datetime) -> bool:
        return self._ttl is not None and table.last_used is not None and now - table.last_used >= self._ttl


def _check_session(session_id: object) -> None:
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str, got {type(session_id).__name__}")
    if not session_id:
        raise ValueError("session_id must not be empty")
