"""`verify_log`: check a whole log, its checkpoint signatures and an optional anchor."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..errors import PolicyError
from ._checker import _Checker
from ._format import _HEX64
from ._keys import PublicKeyLike, _key_map
from ._reading import _lines, _require_regular
from ._report import Problem, VerifyReport


def verify_log(
    path: str | os.PathLike[str],
    public_key: PublicKeyLike | Sequence[PublicKeyLike] | None,
    *,
    expected_seq: int | None = None,
    expected_hash: str | None = None,
    allow_unsigned_tail: bool = False,
) -> VerifyReport:
    """Verify an audit log: the hash chain, every checkpoint signature, and an optional anchor.

    Args:
        path: The JSONL log.
        public_key: The checkpoint key (an Ed25519 public key, PEM, PEM file or identity),
            a sequence of them when the key was rotated, or ``None`` to check the chain only
            (then nothing counts as signed).
        expected_seq: Anchor: a seq the log is known to have reached (e.g. from the last
            checkpoint, published elsewhere); a shorter log is ``truncated``.
        expected_hash: Anchor: the hash of the record at ``expected_seq``.
        allow_unsigned_tail: Report records after the last checkpoint (a log still being
            written) without failing.

    Returns:
        The report; ``report.problems[0]`` names the first failure, its line and kind.

    Raises:
        PolicyError: A key or the anchor is invalid, or the path is not a regular file.
        OSError: The file cannot be read.
    """
    keys = _key_map(public_key)
    if expected_hash is not None and (expected_seq is None or not _HEX64.fullmatch(str(expected_hash))):
        raise PolicyError("expected_hash needs expected_seq and must be 64 lowercase hex digits")
    if expected_seq is not None and (type(expected_seq) is not int or expected_seq < 0):
        raise PolicyError("expected_seq must be a non-negative integer")
    checker = _Checker(keys)
    if expected_seq is not None:
        checker.anchor = (expected_seq, expected_hash)
    last_line = 0
    with open(path, "rb") as f:
        _require_regular(f.fileno())
        lines = _lines(f)
        for line in lines:
            last_line = line.number
            if not checker.feed(line, lines):
                break
    problems: list[Problem] = []
    if checker.problem is not None:
        problems.append(checker.problem)
    elif expected_seq is not None and checker.seq <= expected_seq:
        have = "no records" if checker.seq == 0 else f"the last is seq {checker.seq - 1}"
        problems.append(
            Problem("truncated", last_line + 1, checker.seq, f"{have}; the anchor expects seq {expected_seq}")
        )
    unsigned_ok = True
    if checker.problem is None and checker.unsigned is not None:
        line_no, seq = checker.unsigned
        problems.append(
            Problem(
                "unsigned_tail", line_no, seq, f"seq {seq}..{checker.seq - 1} are chained but no checkpoint signs them"
            )
        )
        unsigned_ok = allow_unsigned_tail
    failed = any(p.kind != "unsigned_tail" for p in problems)
    return VerifyReport(
        ok=not failed and unsigned_ok,
        records=checker.records,
        checkpoints=checker.checkpoints,
        signed_through=checker.signed_through,
        last_seq=checker.seq - 1 if checker.records else None,
        last_hash=checker.head if checker.records else None,
        problems=tuple(problems),
    )
