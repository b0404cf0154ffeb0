"""The record format: canonical JSON, the hash chain's domains and hashes, and what a record holds."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import PolicyError

GENESIS: Final = "0" * 64
"""The ``prev`` of the first record."""

MAX_LINE_BYTES: Final = 256 * 1024
"""Longest record line written or accepted; longer lines are refused (writer) or ``modified`` (verifier)."""

_RECORD_DOMAIN: Final = b"aispm.audit.v1\n"
_CHECKPOINT_DOMAIN: Final = b"aispm.audit.checkpoint.v1\n"
_VALUE_DOMAIN: Final = b"aispm.audit.value.v1\n"
_RECORD_KEYS: Final = frozenset({"seq", "ts", "kind", "data", "prev", "hash"})
_CHECKPOINT_KEYS: Final = frozenset({"seq", "hash", "count", "key_id", "sig"})
_KIND = re.compile(r"[a-z][a-z0-9_.]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_DEPTH: Final = 16


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record as written: the return value of `AuditLog.record` and `AuditLog.append`."""

    seq: int
    ts: str
    kind: str
    data: Mapping[str, Any] = field(repr=False)
    prev: str
    hash: str


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def _record_hash(rec: Mapping[str, Any]) -> str:
    body = {k: v for k, v in rec.items() if k != "hash"}
    return hashlib.sha256(_RECORD_DOMAIN + _canonical(body)).hexdigest()


def _checkpoint_message(seq: int, last_hash: str, count: int) -> bytes:
    return _CHECKPOINT_DOMAIN + _canonical({"count": count, "hash": last_hash, "seq": seq})


def _json_value(value: object, depth: int = 0) -> Any:
    """A JSON copy of ``value``; raises `PolicyError` (naming only the type) for anything else."""
    if depth > _MAX_DEPTH:
        raise PolicyError(f"audit data is nested deeper than {_MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PolicyError("audit data cannot hold NaN or infinite numbers")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise PolicyError(f"audit data keys must be strings, not {type(k).__name__}")
            out[k] = _json_value(v, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_json_value(v, depth + 1) for v in value]
    raise PolicyError(f"audit data cannot hold a {type(value).__name__}; use str, int, float, bool, None, lists, maps")


def _bounded(value: object, limit: int) -> str:
    return str(value)[:limit]
