"""`_Checker`: walks the hash chain line by line and names the first line that breaks it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._format import _CHECKPOINT_KEYS, GENESIS, _checkpoint_message
from ._reading import _b64decode, _decode, _Line, _loose_seq
from ._report import Problem, ProblemKind


class _Checker:
    """Walks the chain line by line, holding O(1) state; stops at the first problem."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey], seq: int = 0, head: str = GENESIS) -> None:
        self.keys = keys
        self.seq = seq  # the seq the next record must have
        self.head = head  # the hash the next record's prev must be
        self.records = 0
        self.checkpoints = 0
        self.signed_through: int | None = None
        self.unsigned: tuple[int, int] | None = None  # (line, seq) of the first record after the last checkpoint
        self.since_checkpoint = 0
        self.last_key: str | None = None
        self.problem: Problem | None = None
        self.anchor: tuple[int, str | None] | None = None
        self._previous: dict[str, Any] | None = None

    def feed(self, line: _Line, rest: Iterable[_Line]) -> bool:
        """Check one line; ``rest`` is the lines after it (read only to classify a break). False: stop."""
        if not line.terminated:
            return self._fail("torn_line", line.number, "the last line is incomplete (a crash mid-write, or cut)")
        rec = _decode(line.raw)
        if rec is None:
            return self._fail("modified", line.number, "the record does not match its hash or is malformed")
        seq, prev = rec["seq"], rec["prev"]
        if seq == self.seq and prev != self.head:
            if self._previous is None:
                return self._fail("modified", line.number, "the first record does not start from the genesis hash")
            return self._fail(
                "modified", line.number - 1, "a record was replaced: the next one does not chain to it", self.seq - 1
            )
        if seq > self.seq:
            return self._fail(*self._classify_gap(line, seq, rest))
        if seq < self.seq:
            return self._fail(*self._classify_repeat(line, rec, rest))
        if rec["kind"] == "checkpoint" and not self._checkpoint(line, rec):
            return False
        anchor = self.anchor
        if anchor is not None and seq == anchor[0] and anchor[1] is not None and rec["hash"] != anchor[1]:
            return self._fail("modified", line.number, "the record differs from the expected anchor hash")
        if rec["kind"] != "checkpoint":
            self.since_checkpoint += 1
            if self.unsigned is None:
                self.unsigned = (line.number, seq)
        self.records += 1
        self.seq, self.head, self._previous = seq + 1, rec["hash"], rec
        return True

    def _checkpoint(self, line: _Line, rec: Mapping[str, Any]) -> bool:
        data, seq = rec["data"], rec["seq"]
        if not isinstance(data, dict) or data.keys() != _CHECKPOINT_KEYS:
            return self._fail("bad_signature", line.number, "malformed checkpoint")
        if (data["seq"], data["hash"], data["count"]) != (seq - 1, rec["prev"], seq):
            return self._fail("bad_signature", line.number, "the checkpoint does not cover the records before it")
        self.last_key = data["key_id"] if isinstance(data["key_id"], str) else None
        self.since_checkpoint = 0  # for a writer resuming the chain: the next checkpoint is due after N more
        if not self.keys:  # chain-only verification: the checkpoint proves nothing
            return True
        key = self.keys.get(self.last_key or "")
        if key is None:
            return self._fail("bad_signature", line.number, "the checkpoint is signed by an unknown key")
        sig = _b64decode(data["sig"])
        try:
            if sig is None:
                raise InvalidSignature
            key.verify(sig, _checkpoint_message(seq - 1, rec["prev"], seq))
        except InvalidSignature:
            return self._fail("bad_signature", line.number, "the checkpoint signature does not verify")
        self.checkpoints += 1
        self.signed_through = seq - 1
        self.unsigned = None
        return True

    def _classify_gap(self, line: _Line, seq: int, rest: Iterable[_Line]) -> tuple[ProblemKind, int, str]:
        # seq jumped ahead. Without this line, does the file run on consecutively? Then the line
        # is inserted. Else, if a skipped seq shows up later, records were reordered; else deleted.
        expected, consecutive, found_at = self.seq, True, None
        for later in rest:
            s = _loose_seq(later.raw)
            if consecutive and s != expected:
                consecutive = False
            expected += 1
            if found_at is None and s is not None and self.seq <= s < seq:
                found_at = later.number
            if not consecutive and found_at is not None:
                break
        if consecutive and expected > seq:  # the run reached `seq` again: this line is the extra one
            return "inserted", line.number, "a record that does not belong here (the records after it run on)"
        if found_at is not None:
            return "reordered", line.number, f"out of order: found seq {seq}; seq {self.seq} is at line {found_at}"
        missing = f"seq {self.seq}" if seq == self.seq + 1 else f"seq {self.seq}..{seq - 1}"
        return "deleted", line.number, f"{missing} missing before this line"

    def _classify_repeat(
        self, line: _Line, rec: Mapping[str, Any], rest: Iterable[_Line]
    ) -> tuple[ProblemKind, int, str]:
        previous = self._previous
        if previous is not None and rec["seq"] == previous["seq"] and rec["hash"] != previous["hash"]:
            # Two records claim the same seq. The one the next record chains to is the original.
            nxt = next(iter(rest), None)
            nxt_rec = _decode(nxt.raw) if nxt is not None and nxt.terminated else None
            if nxt_rec is not None and nxt_rec["prev"] == rec["hash"]:
                return "inserted", line.number - 1, "a record that does not belong here (seq used twice)"
        return "inserted", line.number, f"a record that does not belong here (seq {rec['seq']} again)"

    def _fail(self, kind: ProblemKind, number: int, message: str, seq: int | None = None) -> bool:
        self.problem = Problem(kind, number, self.seq if seq is None else seq, message)
        return False
