"""What verification found: each `Problem`, and the `VerifyReport` that sums them up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProblemKind = Literal[
    "modified", "reordered", "deleted", "inserted", "truncated", "bad_signature", "torn_line", "unsigned_tail"
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a log does not verify.

    Attributes:
        kind: ``modified``, ``reordered``, ``deleted``, ``inserted``, ``truncated``,
            ``bad_signature``, ``torn_line`` or ``unsigned_tail``.
        line: 1-based line of the file where it shows.
        seq: The sequence number expected at that line, when known.
        message: What is wrong, without the content of any record.
    """

    kind: ProblemKind
    line: int
    seq: int | None
    message: str

    def __str__(self) -> str:
        at = f"line {self.line}" + (f" (seq {self.seq})" if self.seq is not None else "")
        return f"{at}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `verify_log` found.

    Attributes:
        ok: True when the chain is intact, every checkpoint verifies, the anchor (if
            given) is present, and nothing is unsigned (unless unsigned tails were allowed).
        records: Records that verified before the first failure (all of them when ``ok``).
        checkpoints: Checkpoints whose signature verified.
        signed_through: Highest seq covered by a verified checkpoint, or ``None``.
        last_seq: Seq of the last record that verified, or ``None``.
        last_hash: Its hash: publish it (or a checkpoint's) as an anchor against truncation.
        problems: The first failure, and an ``unsigned_tail`` note when records follow
            the last verified checkpoint.
    """

    ok: bool
    records: int
    checkpoints: int
    signed_through: int | None
    last_seq: int | None
    last_hash: str | None
    problems: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        status = "OK" if self.ok else "FAILED"
        signed = "nothing signed" if self.signed_through is None else f"signed through seq {self.signed_through}"
        records = f"{self.records} record{'' if self.records == 1 else 's'}"
        checkpoints = f"{self.checkpoints} checkpoint{'' if self.checkpoints == 1 else 's'}"
        head = f"{status}: {records}, {checkpoints}, {signed}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])
