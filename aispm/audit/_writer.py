"""`AuditLog`: the writer that appends records, chains them and signs checkpoints."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._clock import Clock, utc_now
from ..decisions import Decision
from ..errors import PolicyError
from ..identity import AgentIdentity
from ._checker import _Checker
from ._errors import AuditError, AuditIntegrityError
from ._format import (
    _KIND,
    _VALUE_DOMAIN,
    GENESIS,
    MAX_LINE_BYTES,
    AuditRecord,
    _bounded,
    _canonical,
    _checkpoint_message,
    _json_value,
    _record_hash,
)
from ._keys import _private_key, key_id
from ._reading import _decode, _Line, _lines

_RESERVED_KINDS: Final = frozenset({"checkpoint", "decision", "repair", "key_rotation"})
_MAX_FINDINGS: Final = 128
_MAX_CHAIN: Final = 32
_MAX_ID_CHARS: Final = 256
_MAX_REASON_CHARS: Final = 1024

FsyncPolicy = Literal["always", "checkpoint", "never"]


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one writer per file is then the caller's duty
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        raise AuditError("the audit log is open by another writer; one AuditLog per file") from exc


class AuditLog:
    """An append-only, hash-chained JSONL audit log, signed at checkpoints. Thread-safe.

    Reopening an existing file verifies its tail (from the last checkpoint on) and
    continues the chain; a broken tail is refused. Use it as a context manager, or
    call `close`, which writes a final checkpoint.

    Args:
        path: The log file; created (mode 0600) when missing.
        signing_key: Ed25519 key (or an ``AgentIdentity``) that signs checkpoints;
            ``None`` writes an unsigned chain.
        checkpoint_every: Records between two checkpoints.
        fsync: ``always`` (every record survives a power loss), ``checkpoint``
            (records up to the last checkpoint do), or ``never`` (leave it to the OS).
            Every record is flushed to the OS before its call returns, so all of them
            survive a crash of the process itself.
        hash_key: Key (at least 16 bytes) for HMAC digests of decision values; without
            it the log records only their size.
        repair: Truncate a torn last line (a crash mid-write) and log a ``repair``
            record, instead of refusing to open.
        clock: Source of the timestamps.

    Raises:
        PolicyError: An argument is invalid, or the path is not a regular file.
        AuditIntegrityError: The existing file does not verify.
        AuditError: Another writer holds the file.
        OSError: The file cannot be opened or read.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        signing_key: Ed25519PrivateKey | AgentIdentity | None = None,
        checkpoint_every: int = 100,
        fsync: FsyncPolicy = "checkpoint",
        hash_key: bytes | None = None,
        repair: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        if type(checkpoint_every) is not int or not 1 <= checkpoint_every <= 1_000_000:
            raise PolicyError("checkpoint_every must be an integer from 1 to 1000000")
        if fsync not in ("always", "checkpoint", "never"):
            raise PolicyError("fsync must be 'always', 'checkpoint' or 'never'")
        if hash_key is not None and (not isinstance(hash_key, bytes) or len(hash_key) < 16):
            raise PolicyError("hash_key must be at least 16 bytes")
        self._path = Path(path)
        self._key = None if signing_key is None else _private_key(signing_key)
        self._key_id = None if self._key is None else key_id(self._key.public_key())
        self._every = checkpoint_every
        self._fsync: FsyncPolicy = fsync
        self._hash_key = hash_key
        self._clock = clock
        self._lock = threading.Lock()
        self._closed = False
        self._broken = False
        self._seq, self._head, self._since = 0, GENESIS, 0
        existed = self._path.exists()
        if existed and not self._path.is_file():
            raise PolicyError("an audit log must be a regular file")
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            _lock(fd)
            self._file = os.fdopen(fd, "ab")
        except BaseException:
            os.close(fd)
            raise
        try:
            if not existed and fsync != "never":
                self._sync_dir()
            self._resume(repair)
        except BaseException:
            self._file.close()
            raise

    @property
    def path(self) -> Path:
        """The log file."""
        return self._path

    @property
    def public_key(self) -> Ed25519PublicKey | None:
        """The key that verifies this log's checkpoints, or ``None`` when it is unsigned."""
        return None if self._key is None else self._key.public_key()

    def __repr__(self) -> str:
        return f"AuditLog({str(self._path)!r}, seq={self._seq}, key_id={self._key_id!r})"

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(
        self,
        decision: Decision[Any],
        *,
        session_chain: Sequence[str] = (),
        delegation_id: str | None = None,
        approval: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Append a ``decision`` record: ids, actions and digests, never the decision's value.

        Args:
            decision: Any guard's decision. Its ``value`` (text, arguments) is not stored:
                only its size and, with ``hash_key``, an HMAC digest.
            session_chain: The on-behalf-of chain, user first (``Session.chain``).
            delegation_id: The id of the delegation the acting agent presented.
            approval: The approval outcome (approver, answer); stored as given.
            extra: Other JSON fields to keep; stored as given, so no raw content.

        Returns:
            The record written.

        Raises:
            PolicyError: An argument is not JSON, too big, or of the wrong type.
            AuditError: The log is closed, or the write failed.
        """
        if not isinstance(decision, Decision):
            raise PolicyError(f"record() takes a Decision, not {type(decision).__name__}")
        if (
            isinstance(session_chain, str)
            or len(session_chain) > _MAX_CHAIN
            or not all(isinstance(p, str) for p in session_chain)
        ):
            raise PolicyError(f"session_chain must be a sequence of at most {_MAX_CHAIN} strings")
        if delegation_id is not None and not isinstance(delegation_id, str):
            raise PolicyError("delegation_id must be a string or None")
        data: dict[str, Any] = {
            "guard": _bounded(decision.guard, 64),
            "action": decision.action.value,
            "rule_ids": [_bounded(r, _MAX_ID_CHARS) for r in decision.rule_ids[:_MAX_FINDINGS]],
            "reason": _bounded(decision.reason, _MAX_REASON_CHARS),
            "duration_ns": int(decision.duration_ns),
            "findings": [
                {
                    "detector": _bounded(f.detector, _MAX_ID_CHARS),
                    "category": _bounded(f.category, _MAX_ID_CHARS),
                    "severity": f.severity.value,
                    "start": f.start,
                    "end": f.end,
                    "confidence": f.confidence,
                    "mappings": [_bounded(m, 64) for m in f.mappings[:16]],
                    "fingerprint": _bounded(f.fingerprint, 128),
                    "layer": _bounded(f.layer, 128),
                }
                for f in decision.findings[:_MAX_FINDINGS]
            ],
            "value": self._describe(decision.value),
            "session_chain": [_bounded(p, _MAX_ID_CHARS) for p in session_chain],
            "delegation_id": None if delegation_id is None else _bounded(delegation_id, _MAX_ID_CHARS),
            "approval": None if approval is None else _json_value(approval),
            "extra": None if extra is None else _json_value(extra),
        }
        if len(decision.findings) > _MAX_FINDINGS:
            data["findings_total"] = len(decision.findings)
        tool = getattr(decision, "tool", None)
        if isinstance(tool, str):
            data["tool"] = _bounded(tool, _MAX_ID_CHARS)
        return self._append("decision", data)

    def append(self, kind: str, data: Mapping[str, Any]) -> AuditRecord:
        """Append another event (an approval, a revocation, a key rotation...).

        Args:
            kind: Lowercase dotted name, e.g. ``approval`` or ``delegation.revoked``;
                ``decision``, ``checkpoint``, ``repair`` and ``key_rotation`` are reserved.
            data: JSON fields, stored as given: put no raw secrets in them.

        Raises:
            PolicyError: ``kind`` or ``data`` is invalid or too big.
            AuditError: The log is closed, or the write failed.
        """
        if not isinstance(kind, str) or not _KIND.fullmatch(kind) or kind in _RESERVED_KINDS:
            raise PolicyError("kind must be a lowercase dotted name (not a reserved kind)")
        if not isinstance(data, Mapping):
            raise PolicyError("data must be a mapping")
        return self._append(kind, _json_value(data))

    def checkpoint(self) -> AuditRecord | None:
        """Sign the records written so far now; ``None`` when unsigned or nothing is new."""
        with self._lock:
            self._check_open()
            if self._key is None or self._since == 0:
                return None
            return self._write_checkpoint(self._key)

    def close(self) -> None:
        """Write a final checkpoint, sync (unless ``fsync="never"``) and close. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if not self._broken and self._key is not None and self._since:
                    self._write_checkpoint(self._key)
                if not self._broken and self._fsync != "never":
                    os.fsync(self._file.fileno())
            finally:
                self._file.close()  # also releases the flock

    # -- internals --

    def _describe(self, value: object) -> dict[str, Any]:
        """Size and keyed digest of a decision value; the value itself never reaches the log."""
        if isinstance(value, str):
            out: dict[str, Any] = {"type": "text", "size": len(value)}
            payload: bytes | None = value.encode("utf-8", "surrogatepass")
        elif isinstance(value, Mapping):
            out = {"type": "arguments", "size": len(value)}
            payload = self._dump(value)
        elif isinstance(value, list | tuple):
            out = {"type": "items", "size": len(value)}
            payload = self._dump(value)
        else:
            return {"type": type(value).__name__[:64]}
        if self._hash_key is not None and payload is not None:
            # Keyed: a plain hash of a low-entropy value (an amount, an address) can be
            # reversed by guessing; an HMAC cannot without the key, which the log does not hold.
            out["hmac"] = hmac.new(self._hash_key, _VALUE_DOMAIN + payload, hashlib.sha256).hexdigest()
        return out

    def _dump(self, value: object) -> bytes | None:
        if self._hash_key is None:
            return None
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr).encode("utf-8", "replace")
        except (TypeError, ValueError, RecursionError):
            return None  # not representable: no digest

    def _append(self, kind: str, data: dict[str, Any]) -> AuditRecord:
        with self._lock:
            self._check_open()
            rec = self._write(kind, data)
            self._since += 1
            if self._key is not None and self._since >= self._every:
                self._write_checkpoint(self._key)
            return rec

    def _check_open(self) -> None:
        if self._closed:
            raise AuditError("the audit log is closed")
        if self._broken:
            raise AuditError("an earlier write failed; reopen the log (with repair=True if its last line is torn)")

    def _write(self, kind: str, data: dict[str, Any]) -> AuditRecord:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise PolicyError("the audit clock must return an aware datetime")
        ts = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rec: dict[str, Any] = {"seq": self._seq, "ts": ts, "kind": kind, "data": data, "prev": self._head}
        rec["hash"] = _record_hash(rec)  # data went through _json_value: it encodes
        line = _canonical(rec) + b"\n"
        if len(line) > MAX_LINE_BYTES + 1:
            raise PolicyError(f"audit record is larger than {MAX_LINE_BYTES} bytes")
        try:
            self._file.write(line)  # one write of one whole line, then flush it to the OS
            self._file.flush()
            if self._fsync == "always" or (self._fsync == "checkpoint" and kind == "checkpoint"):
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._broken = True  # the file may now end in a torn line: fail closed
            raise AuditError(f"writing the audit log failed: {exc.strerror or type(exc).__name__}") from exc
        self._seq += 1
        self._head = rec["hash"]
        return AuditRecord(rec["seq"], ts, kind, data, rec["prev"], rec["hash"])

    def _write_checkpoint(self, key: Ed25519PrivateKey) -> AuditRecord:
        seq, count = self._seq - 1, self._seq
        sig = key.sign(_checkpoint_message(seq, self._head, count))
        data = {
            "seq": seq,
            "hash": self._head,
            "count": count,
            "key_id": key_id(key.public_key()),
            "sig": base64.urlsafe_b64encode(sig).decode("ascii"),
        }
        rec = self._write("checkpoint", data)
        self._since = 0
        return rec

    def _sync_dir(self) -> None:
        with contextlib.suppress(OSError):  # not every platform can open a directory
            dfd = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _resume(self, repair: bool) -> None:
        """Verify the tail of an existing log (from its last checkpoint on) and continue its chain."""
        with open(self._path, "rb") as f:
            start: _Line | None = None
            start_rec: dict[str, Any] | None = None
            for line in _lines(f):  # a cheap filter first: only checkpoint lines are decoded
                if line.raw is not None and b'"kind":"checkpoint"' in line.raw:
                    rec = _decode(line.raw)
                    if rec is not None and rec["kind"] == "checkpoint":
                        start, start_rec = line, rec
            keys: dict[str, Ed25519PublicKey] = {}
            if (
                start_rec is not None
                and self._key is not None
                and self._key_id is not None
                and start_rec["data"].get("key_id") == self._key_id
            ):
                keys = {self._key_id: self._key.public_key()}
            checker = _Checker(keys)
            if start is not None and start_rec is not None:
                checker.seq, checker.head = start_rec["seq"], start_rec["prev"]
                checker._previous = start_rec
            last: _Line | None = None
            lines = _lines(f, start.offset if start else 0, start.number if start else 1)
            for line in lines:
                last = line
                if not checker.feed(line, lines):
                    break
        problem = checker.problem
        torn: _Line | None = None
        if problem is not None:
            if problem.kind != "torn_line" or not repair or last is None:
                hint = " (open it with repair=True to drop the torn line)" if problem.kind == "torn_line" else ""
                raise AuditIntegrityError(f"refusing to append to a broken audit log: {problem}{hint}", problem)
            torn = last  # a line without its newline was never a whole record: dropping it loses none
            dropped = self._path.stat().st_size - torn.offset
            os.ftruncate(self._file.fileno(), torn.offset)
            os.fsync(self._file.fileno())
        self._seq, self._head, self._since = checker.seq, checker.head, checker.since_checkpoint
        if torn is not None:
            self._append("repair", {"dropped_bytes": dropped, "line": torn.number})
        if self._key_id is not None and checker.last_key is not None and checker.last_key != self._key_id:
            self._append("key_rotation", {"from": checker.last_key, "to": self._key_id})
