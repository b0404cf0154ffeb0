"""Reading a log: its lines in bounded memory, and the strict decoding of each record."""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from ..errors import PolicyError
from ._format import _HEX64, _KIND, _RECORD_KEYS, MAX_LINE_BYTES, _canonical, _record_hash


@dataclass(frozen=True, slots=True)
class _Line:
    number: int  # 1-based
    offset: int
    raw: bytes | None  # without the newline; None when longer than MAX_LINE_BYTES
    terminated: bool


def _lines(f: IO[bytes], offset: int = 0, number: int = 1) -> Iterator[_Line]:
    """The lines from ``offset``, in bounded memory: an over-long line is skipped, not read whole."""
    f.seek(offset)
    while chunk := f.readline(MAX_LINE_BYTES + 1):
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            size = len(chunk)
            while chunk and not chunk.endswith(b"\n"):
                chunk = f.readline(MAX_LINE_BYTES + 1)
                size += len(chunk)
            yield _Line(number, offset, None, chunk.endswith(b"\n"))
            offset += size
        else:
            terminated = chunk.endswith(b"\n")
            yield _Line(number, offset, chunk[:-1] if terminated else chunk, terminated)
            offset += len(chunk)
        number += 1


def _decode(raw: bytes | None) -> dict[str, Any] | None:
    """The record on a line, or ``None`` unless it is well formed, canonical and matches its hash."""
    if raw is None:
        return None
    try:
        rec = json.loads(raw)
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and over-long integers
        return None
    if not isinstance(rec, dict) or rec.keys() != _RECORD_KEYS:
        return None
    seq, ts, kind, data, prev, digest = (rec[k] for k in ("seq", "ts", "kind", "data", "prev", "hash"))
    if type(seq) is not int or seq < 0 or not isinstance(ts, str) or len(ts) > 40 or not isinstance(data, dict):
        return None
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        return None
    if not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in (prev, digest)):
        return None
    try:
        canonical = _canonical(rec)
    except (ValueError, RecursionError):
        return None
    # Re-encoding must give back the very bytes: JSON has many spellings of one value
    # (escapes, key order, spaces), and a byte that changes nothing must still be caught.
    if canonical != raw or not hmac.compare_digest(digest, _record_hash(rec)):
        return None
    return rec


def _b64decode(text: object) -> bytes | None:
    """Strict base64url: ``None`` unless ``text`` is the one padded encoding of its bytes."""
    if not isinstance(text, str) or len(text) > 128:
        return None
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    # The decoder skips stray characters: without this, one signature would have many spellings.
    return raw if base64.urlsafe_b64encode(raw).decode("ascii") == text else None


def _loose_seq(raw: bytes | None) -> int | None:
    """The ``seq`` of a line that may be damaged, to tell a reorder from a deletion or an insertion."""
    with contextlib.suppress(ValueError, RecursionError):
        rec = json.loads(raw) if raw is not None else None
        if isinstance(rec, dict) and type(rec.get("seq")) is int:
            return int(rec["seq"])
    return None


def _require_regular(fd: int) -> None:
    # A FIFO or a device (/dev/zero) could stall a reader or writer forever.
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise PolicyError("an audit log must be a regular file")
