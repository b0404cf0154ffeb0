"""Tamper-evident audit trail: an append-only, hash-chained JSONL log, signed at checkpoints.

Each line of the file is one record, in canonical JSON (sorted keys, no spaces,
ASCII only)::

    {"data":{...},"hash":"<hex>","kind":"decision","prev":"<hex>","seq":0,"ts":"2026-01-01T00:00:00.000000Z"}

``hash`` is SHA-256 over the bytes ``aispm.audit.v1`` and a newline, then the canonical record without
``hash``; ``prev`` is the ``hash`` of the record before it (64 zeros for the first).
Every ``checkpoint_every`` records, and on `AuditLog.close`, a ``checkpoint`` record
carries an Ed25519 signature over the sequence number, hash and count of the records
before it. `verify_log` (and ``aispm audit verify``) re-derives the chain, checks the
signatures and names the first line that is modified, reordered, deleted, inserted,
truncated or torn. The format and its limits are specified in ``docs/audit.md``.
"""

from __future__ import annotations

from ._cli import add_verify_arguments, main_verify, run_verify
from ._errors import AuditError, AuditIntegrityError
from ._format import GENESIS, AuditRecord
from ._format import MAX_LINE_BYTES as MAX_LINE_BYTES
from ._format import _canonical as _canonical  # the tests re-derive hashes with it
from ._format import _record_hash as _record_hash  # the tests re-derive hashes with it
from ._keys import PublicKeyLike as PublicKeyLike
from ._keys import key_id, load_public_key
from ._report import Problem, ProblemKind, VerifyReport
from ._verify import verify_log
from ._writer import AuditLog
from ._writer import FsyncPolicy as FsyncPolicy

__all__ = [
    "GENESIS",
    "AuditError",
    "AuditIntegrityError",
    "AuditLog",
    "AuditRecord",
    "Problem",
    "ProblemKind",
    "VerifyReport",
    "add_verify_arguments",
    "key_id",
    "load_public_key",
    "main_verify",
    "run_verify",
    "verify_log",
]
