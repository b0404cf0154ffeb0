"""The audit trail: hash chain, checkpoint signatures, tamper detection, durability, concurrency, no leaks."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aispm
from aispm import audit
from aispm.audit import AuditError, AuditIntegrityError, AuditLog, verify_log
from aispm.decisions import Action, Finding, Severity, TextDecision, ToolDecision
from aispm.identity import AgentIdentity

SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key()


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def _decision(i: int = 0) -> ToolDecision:
    finding = Finding("secrets.stripe_key", "secret", Severity.CRITICAL, 3, 35, 0.9, ("OWASP-LLM02:2025",), "ab12")
    return ToolDecision(
        Action.DENY, "tools", {}, (finding,), ("tools.unknown",), "not permitted", 1000 + i, tool="send_email"
    )


def _write_log(path: Path, n: int = 10, every: int = 4, **kwargs: Any) -> Path:
    with AuditLog(path, signing_key=KEY, checkpoint_every=every, clock=FakeClock(), **kwargs) as log:
        for i in range(n):
            log.record(_decision(i), session_chain=("user:alice", "agent:planner"), delegation_id=f"d{i}")
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def _problem(path: Path, **kwargs: Any) -> tuple[str, int]:
    report = verify_log(path, PUB, **kwargs)
    assert not report.ok
    return report.problems[0].kind, report.problems[0].line


def _rehash(rec: dict[str, Any]) -> bytes:
    """Re-seal a record the way an attacker without the signing key could."""
    rec["hash"] = audit._record_hash(rec)
    return audit._canonical(rec) + b"\n"


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return _write_log(tmp_path / "audit.jsonl")


# --- a clean log ----------------------------------------------------------------------------


def test_clean_log_verifies(log_path: Path) -> None:
    report = verify_log(log_path, PUB)
    # 10 decisions, a checkpoint after every 4, one more on close: 13 records.
    assert report.ok, report
    assert (report.records, report.checkpoints, report.signed_through, report.last_seq) == (13, 3, 11, 12)
    assert report.problems == ()
    kinds = [json.loads(line)["kind"] for line in _lines(log_path)]
    assert kinds.count("checkpoint") == 3
    assert kinds[-1] == "checkpoint"


def test_record_format_is_canonical_and_chained(log_path: Path) -> None:
    prev = audit.GENESIS
    for seq, line in enumerate(_lines(log_path)):
        rec = json.loads(line)
        assert rec["seq"] == seq
        assert rec["prev"] == prev
        assert audit._canonical(rec) + b"\n" == line
        body = {k: v for k, v in rec.items() if k != "hash"}
        expected = hashlib.sha256(b"aispm.audit.v1\n" + audit._canonical(body)).hexdigest()
        assert rec["hash"] == expected
        prev = rec["hash"]
    first = json.loads(_lines(log_path)[0])
    assert first["ts"] == "2026-01-01T00:00:00.001000Z"
    assert first["data"]["session_chain"] == ["user:alice", "agent:planner"]
    assert first["data"]["tool"] == "send_email"
    assert first["data"]["rule_ids"] == ["tools.unknown"]


def test_empty_log_verifies(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    AuditLog(path, signing_key=KEY).close()
    assert path.read_bytes() == b""
    report = verify_log(path, PUB)
    assert report.ok
    assert report.records == 0
    assert report.last_seq is None


# --- tampering: every byte, every record -----------------------------------------------------


def _expected_for_flip(data: bytes, pos: int) -> tuple[str, int]:
    line = data.count(b"\n", 0, pos) + 1
    return ("torn_line" if pos == len(data) - 1 else "modified"), line


_SMALL: dict[str, bytes] = {}


def _small_log() -> bytes:
    if "log" not in _SMALL:
        with tempfile.TemporaryDirectory() as tmp:
            _SMALL["log"] = _write_log(Path(tmp) / "a.jsonl", n=3, every=2).read_bytes()
    return _SMALL["log"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flip_any_byte_is_detected_at_its_line(data: st.DataObject) -> None:
    log = _small_log()
    pos = data.draw(st.integers(0, len(log) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor")
    tampered = bytearray(log)
    tampered[pos] ^= mask
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jsonl"
        path.write_bytes(bytes(tampered))
        assert _problem(path) == _expected_for_flip(log, pos)


def test_flip_every_byte_once(tmp_path: Path) -> None:
    log = _small_log()
    path = tmp_path / "a.jsonl"
    path.write_bytes(log)
    fd = os.open(path, os.O_RDWR)
    try:
        for pos in range(len(log)):
            os.pwrite(fd, bytes([log[pos] ^ 0x01]), pos)  # flip in place, check, put it back
            assert _problem(path) == _expected_for_flip(log, pos), pos
            os.pwrite(fd, log[pos : pos + 1], pos)
    finally:
        os.close(fd)
    assert verify_log(path, PUB).ok


def test_delete_any_record(log_path: Path) -> None:
    lines = _lines(log_path)
    for i in range(len(lines) - 1):
        _rewrite(log_path, lines[:i] + lines[i + 1 :])
        assert _problem(log_path) == ("deleted", i + 1), i


def test_delete_last_record_leaves_an_unsigned_tail(log_path: Path) -> None:
    lines = _lines(log_path)
    _rewrite(log_path, lines[:-1])  # the final checkpoint
    assert _problem(log_path) == ("unsigned_tail", 11)  # lines 11 and 12 follow the checkpoint on line 10
    anchor = json.loads(lines[-1])
    assert _problem(log_path, expected_seq=anchor["seq"]) == ("truncated", 13)


def test_reorder_any_two_records(log_path: Path) -> None:
    lines = _lines(log_path)
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            swapped = list(lines)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            _rewrite(log_path, swapped)
            assert _problem(log_path) == ("reordered", i + 1), (i, j)


@pytest.mark.parametrize(("copy", "at"), [(0, 1), (3, 4), (3, 9), (8, 2), (12, 0), (5, 13)])
def test_insert_a_copy_of_a_record(log_path: Path, copy: int, at: int) -> None:
    lines = _lines(log_path)
    _rewrite(log_path, [*lines[:at], lines[copy], *lines[at:]])
    assert _problem(log_path) == ("inserted", at + 1)


@pytest.mark.parametrize("at", [1, 5, 11])
def test_insert_a_forged_record_that_chains(log_path: Path, at: int) -> None:
    lines = _lines(log_path)
    before = json.loads(lines[at - 1])
    forged = {"seq": before["seq"] + 1, "ts": before["ts"], "kind": "decision", "data": {}, "prev": before["hash"]}
    _rewrite(log_path, [*lines[:at], _rehash(forged), *lines[at:]])
    assert _problem(log_path) == ("inserted", at + 1)


def test_replace_a_record_and_reseal_it(log_path: Path) -> None:
    lines = _lines(log_path)
    rec = json.loads(lines[2])
    rec["data"]["action"] = "allow"
    lines[2] = _rehash(rec)
    _rewrite(log_path, lines)
    assert _problem(log_path) == ("modified", 3)  # the next record no longer chains to it


def test_rewrite_the_whole_chain_breaks_the_signature(log_path: Path) -> None:
    lines = _lines(log_path)
    out, prev = [], audit.GENESIS
    for n, line in enumerate(lines):
        rec = json.loads(line)
        if n == 2:
            rec["data"]["action"] = "allow"
        rec["prev"] = prev
        if rec["kind"] == "checkpoint":
            rec["data"]["hash"] = prev
        out.append(_rehash(rec))
        prev = rec["hash"]
    _rewrite(log_path, out)
    assert _problem(log_path) == ("bad_signature", 5)  # the first checkpoint covering line 3


def test_bad_checkpoint_signature(log_path: Path) -> None:
    lines = _lines(log_path)
    rec = json.loads(lines[4])
    other = Ed25519PrivateKey.generate().sign(b"something else")
    rec["data"]["sig"] = base64.urlsafe_b64encode(other).decode()
    lines[4] = _rehash(rec)
    nxt = json.loads(lines[5])
    nxt["prev"] = rec["hash"]
    lines[5] = _rehash(nxt)
    _rewrite(log_path, lines[:6])
    assert _problem(log_path) == ("bad_signature", 5)


def test_wrong_key(log_path: Path) -> None:
    report = verify_log(log_path, Ed25519PrivateKey.generate().public_key())
    assert not report.ok
    assert (report.problems[0].kind, report.problems[0].line) == ("bad_signature", 5)
    assert "unknown key" in report.problems[0].message


def test_truncated_at_a_checkpoint_needs_an_anchor(log_path: Path) -> None:
    full = verify_log(log_path, PUB)
    lines = _lines(log_path)
    _rewrite(log_path, lines[:10])  # ends on the second checkpoint: the file alone looks complete
    assert verify_log(log_path, PUB).ok
    kind, line = _problem(log_path, expected_seq=full.last_seq, expected_hash=full.last_hash)
    assert (kind, line) == ("truncated", 11)


def test_anchor_that_does_not_match(log_path: Path) -> None:
    assert _problem(log_path, expected_seq=4, expected_hash="0" * 64) == ("modified", 5)
    report = verify_log(log_path, PUB, expected_seq=4, expected_hash=json.loads(_lines(log_path)[4])["hash"])
    assert report.ok


def test_truncated_mid_line_is_a_torn_line(log_path: Path) -> None:
    data = log_path.read_bytes()
    log_path.write_bytes(data[:-40])
    assert _problem(log_path) == ("torn_line", 13)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"not json\n", "modified"),
        (b"[" * 100_000 + b"\n", "modified"),
        (b'{"seq": 0}\n', "modified"),
        (b"\xff\xfe\n", "modified"),
        (b"x" * (audit.MAX_LINE_BYTES + 10) + b"\n", "modified"),
        (b"x" * (audit.MAX_LINE_BYTES + 10), "torn_line"),
        (b"\n", "modified"),
    ],
    ids=["garbage", "deep", "fields", "binary", "huge-line", "huge-torn", "empty-line"],
)
def test_malformed_files_fail_cleanly(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    assert _problem(path) == (kind, 1)


def test_non_canonical_spelling_of_the_same_record_is_modified(log_path: Path) -> None:
    lines = _lines(log_path)
    lines[0] = lines[0].replace(b'"seq":0', b'"seq": 0')  # same JSON value, different bytes
    _rewrite(log_path, lines)
    assert _problem(log_path) == ("modified", 1)


# --- unsigned logs, rotation, identities ----------------------------------------------------


def test_unsigned_tail_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    log = AuditLog(path, signing_key=KEY, checkpoint_every=4)
    for i in range(6):
        log.record(_decision(i))
    report = verify_log(path, PUB)  # still open: seq 5 and 6 follow the checkpoint at seq 4
    assert not report.ok
    assert report.signed_through == 3
    assert [(p.kind, p.line, p.seq) for p in report.problems] == [("unsigned_tail", 6, 5)]
    assert verify_log(path, PUB, allow_unsigned_tail=True).ok
    log.close()
    assert verify_log(path, PUB).ok


def test_unsigned_log(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        log.record(_decision())
    assert verify_log(path, None, allow_unsigned_tail=True).ok
    report = verify_log(path, None)
    assert not report.ok
    assert report.problems[0].kind == "unsigned_tail"


def test_agent_identity_signs_checkpoints(tmp_path: Path) -> None:
    identity = AgentIdentity.generate("auditor")
    path = tmp_path / "a.jsonl"
    with AuditLog(path, signing_key=identity) as log:
        log.record(_decision())
    checkpoint = json.loads(_lines(path)[-1])["data"]
    assert checkpoint["key_id"] == identity.key_id
    assert verify_log(path, identity.public()).ok
    assert verify_log(path, identity.public_pem()).ok
    with pytest.raises(aispm.PolicyError):
        AuditLog(tmp_path / "b.jsonl", signing_key=identity.public())


def test_key_rotation_needs_both_keys(tmp_path: Path) -> None:
    path = _write_log(tmp_path / "a.jsonl", n=3)
    new = Ed25519PrivateKey.generate()
    with AuditLog(path, signing_key=new) as log:
        log.record(_decision())
    rotation = [json.loads(line) for line in _lines(path) if b"key_rotation" in line]
    assert rotation[0]["data"] == {"from": audit.key_id(PUB), "to": audit.key_id(new.public_key())}
    assert verify_log(path, [PUB, new.public_key()]).ok
    assert _problem(path, allow_unsigned_tail=True)[0] == "bad_signature"


# --- reopening, torn lines, locking ---------------------------------------------------------


def test_reopen_continues_the_chain(tmp_path: Path) -> None:
    path = _write_log(tmp_path / "a.jsonl", n=5)
    with AuditLog(path, signing_key=KEY, checkpoint_every=4) as log:
        rec = log.record(_decision())
    assert rec.seq == 7  # after 5 decisions and 2 checkpoints
    report = verify_log(path, PUB)
    assert report.ok
    assert report.records == 9


def test_reopen_counts_records_since_the_last_checkpoint(tmp_path: Path) -> None:
    path = _crashed_log(tmp_path / "a.jsonl")
    with AuditLog(path, signing_key=KEY, checkpoint_every=4) as log:
        log.record(_decision())
        log.record(_decision())  # the 4th record since the checkpoint: a checkpoint follows
        assert json.loads(_lines(path)[-1])["kind"] == "checkpoint"
    assert verify_log(path, PUB).ok


def _crashed_log(path: Path) -> Path:
    """Six records, a checkpoint after the fourth, then a crash: no final checkpoint."""
    log = AuditLog(path, signing_key=KEY, checkpoint_every=4)
    for i in range(6):
        log.record(_decision(i))
    log._file.close()
    return path


def test_reopen_refuses_a_broken_tail(tmp_path: Path) -> None:
    path = _crashed_log(tmp_path / "a.jsonl")
    lines = _lines(path)
    lines[5] = lines[5].replace(b'"deny"', b'"allow"')
    _rewrite(path, lines)
    with pytest.raises(AuditIntegrityError) as err:
        AuditLog(path, signing_key=KEY)
    assert err.value.problem is not None
    assert (err.value.problem.kind, err.value.problem.line) == ("modified", 6)


def test_reopen_does_not_reread_what_a_checkpoint_signed(log_path: Path) -> None:
    """Only the tail from the last checkpoint is checked on open; verify_log still finds the rest."""
    lines = _lines(log_path)
    lines[2] = lines[2].replace(b'"deny"', b'"allow"')
    _rewrite(log_path, lines)
    AuditLog(log_path, signing_key=KEY).close()
    assert _problem(log_path) == ("modified", 3)


def test_reopen_refuses_a_forged_final_checkpoint(log_path: Path) -> None:
    lines = _lines(log_path)
    rec = json.loads(lines[-1])
    rec["data"]["sig"] = rec["data"]["sig"][::-1]
    lines[-1] = _rehash(rec)
    _rewrite(log_path, lines)
    with pytest.raises(AuditIntegrityError, match="bad_signature"):
        AuditLog(log_path, signing_key=KEY)


def test_torn_line_refused_then_repaired(log_path: Path) -> None:
    intact = log_path.read_bytes()
    log_path.write_bytes(intact + b'{"data":{"action":"de')  # a crash mid-write
    with pytest.raises(AuditIntegrityError, match="repair=True") as err:
        AuditLog(log_path, signing_key=KEY)
    assert err.value.problem is not None
    assert err.value.problem.kind == "torn_line"
    assert _problem(log_path) == ("torn_line", 14)
    with AuditLog(log_path, signing_key=KEY, repair=True) as log:
        log.record(_decision())
    assert log_path.read_bytes().startswith(intact)
    repair = json.loads(_lines(log_path)[13])
    assert (repair["kind"], repair["data"]) == ("repair", {"dropped_bytes": 21, "line": 14})
    assert verify_log(log_path, PUB).ok


def test_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, signing_key=KEY), pytest.raises(AuditError, match="another writer"):
        AuditLog(path, signing_key=KEY)
    AuditLog(path, signing_key=KEY).close()  # released on close


def test_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    AuditLog(path).close()
    assert path.stat().st_mode & 0o077 == 0


# --- concurrency and durability -------------------------------------------------------------


def test_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    threads, per_thread = 8, 150
    barrier = threading.Barrier(threads)
    with AuditLog(path, signing_key=KEY, checkpoint_every=7, fsync="never") as log:

        def work(t: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                log.record(_decision(i), extra={"t": t, "i": i})

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    report = verify_log(path, PUB)
    assert report.ok, report
    seen = {
        (r["data"]["extra"]["t"], r["data"]["extra"]["i"])
        for r in map(json.loads, _lines(path))
        if r["kind"] == "decision"
    }
    assert seen == {(t, i) for t in range(threads) for i in range(per_thread)}
    assert report.checkpoints == -(-threads * per_thread // 7)


@pytest.mark.parametrize(("policy", "expected"), [("always", 14), ("checkpoint", 4), ("never", 0)])
def test_fsync_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str, expected: int) -> None:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    path = tmp_path / "a.jsonl"
    path.touch()  # no directory sync: count the file's only
    _write_log(path, fsync=policy)
    # always: 13 records + close; checkpoint: 3 checkpoints + close; never: none.
    assert len(calls) == expected


def test_failed_write_fails_closed(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl", signing_key=KEY)

    class Broken(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    real = log._file
    log._file = Broken()  # type: ignore[assignment]  # simulate a full disk
    with pytest.raises(AuditError, match="No space left"):
        log.record(_decision())
    with pytest.raises(AuditError, match="earlier write failed"):
        log.record(_decision())
    log._file = real
    log.close()


# --- what is recorded: no raw secrets -------------------------------------------------------


def test_no_raw_secret_reaches_the_file(tmp_path: Path) -> None:
    guard = aispm.Guard({"tools": {"tools": {"send_email": {"risk": "external_communication"}}}})
    path = tmp_path / "a.jsonl"
    with AuditLog(path, signing_key=KEY, hash_key=b"k" * 32) as log:
        with guard.session(user="alice", agent="mailer") as session:
            tool = guard.tools.check("send_email", {"to": "bob@example.com", "body": f"key {SECRET}"})
            log.record(tool, session_chain=session.chain, delegation_id="dlg-1")
        log.record(guard.output.scan(f"here is the key {SECRET} and AKIAIOSFODNN7EXAMPLE"))
        log.record(guard.prompt.check(f"use {SECRET}"))
        log.record(TextDecision(Action.ALLOW, "output", f"allowed {SECRET}"))
        log.record(ToolDecision(Action.ALLOW, "tools", {"api_key": SECRET}, tool="pay"))
    data = path.read_bytes()
    for secret in (SECRET, "AKIAIOSFODNN7EXAMPLE", "bob@example.com", SECRET[:12]):
        assert secret.encode() not in data
    assert verify_log(path, PUB).ok
    recs = [json.loads(line) for line in _lines(path)]
    assert recs[0]["data"]["session_chain"] == ["user:alice", "agent:mailer"]
    assert recs[4]["data"]["value"]["type"] == "arguments"
    assert len(recs[4]["data"]["value"]["hmac"]) == 64


def test_value_digest_is_keyed(tmp_path: Path) -> None:
    digests = []
    for n, key in enumerate((b"a" * 16, b"b" * 16, b"a" * 16)):
        with AuditLog(tmp_path / f"{n}.jsonl", hash_key=key) as log:
            rec = log.record(TextDecision(Action.ALLOW, "output", "1234"))
        digests.append(rec.data["value"]["hmac"])
    assert digests[0] == digests[2] != digests[1]
    assert hashlib.sha256(b"1234").hexdigest() not in digests
    with AuditLog(tmp_path / "nokey.jsonl") as log:
        assert log.record(TextDecision(Action.ALLOW, "output", "1234")).data["value"] == {"type": "text", "size": 4}


def test_append_events(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, signing_key=KEY) as log:
        rec = log.append("approval", {"approver": "carol", "approved": True, "tool": "send_email"})
        log.append("delegation.revoked", {"id": "dlg-1"})
    assert rec.seq == 0
    assert rec.kind == "approval"
    assert verify_log(path, PUB).ok


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("checkpoint", {}),
        ("decision", {}),
        ("Bad Kind", {}),
        ("x" * 100, {}),
        ("ok", {"v": object()}),
        ("ok", {1: "int key"}),
        ("ok", {"v": float("nan")}),
        ("ok", {"v": "x" * (audit.MAX_LINE_BYTES + 1)}),
        ("ok", "not a mapping"),
    ],
    ids=[
        "reserved-checkpoint",
        "reserved-decision",
        "bad-kind",
        "long-kind",
        "object",
        "int-key",
        "nan",
        "huge",
        "str",
    ],
)
def test_append_rejects_bad_input(tmp_path: Path, kind: str, data: Any) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, signing_key=KEY) as log:
        with pytest.raises(aispm.PolicyError):
            log.append(kind, data)
        log.append("ok", {"fine": True})  # the log is still usable
    assert verify_log(path, PUB).ok


def test_deeply_nested_data_is_refused(tmp_path: Path) -> None:
    nested: Any = "leaf"
    for _ in range(50):
        nested = {"a": nested}
    with AuditLog(tmp_path / "a.jsonl") as log, pytest.raises(aispm.PolicyError, match="deeper"):
        log.append("ok", nested)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"checkpoint_every": 0},
        {"checkpoint_every": True},
        {"fsync": "sometimes"},
        {"hash_key": b"short"},
        {"signing_key": "not a key"},
    ],
)
def test_constructor_validates(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(aispm.PolicyError):
        AuditLog(tmp_path / "a.jsonl", **kwargs)


def test_record_validates(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl") as log:
        with pytest.raises(aispm.PolicyError):
            log.record({"action": "deny"})  # type: ignore[arg-type]
        with pytest.raises(aispm.PolicyError):
            log.record(_decision(), session_chain="user:alice")
    with pytest.raises(AuditError, match="closed"):
        log.record(_decision())


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    naive = datetime(2026, 1, 1)
    with AuditLog(tmp_path / "a.jsonl", clock=lambda: naive) as log, pytest.raises(aispm.PolicyError, match="aware"):
        log.record(_decision())


def test_repr_holds_no_key(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl", signing_key=KEY, hash_key=b"h" * 16) as log:
        text = repr(log)
    raw = KEY.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    assert raw.hex() not in text
    assert "hhhh" not in text
    assert audit.key_id(PUB) in text


# --- command line ---------------------------------------------------------------------------


def _pem(tmp_path: Path) -> str:
    path = tmp_path / "pub.pem"
    path.write_bytes(PUB.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(path)


def test_cli_ok(log_path: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    assert audit.main_verify([str(log_path), "--key", _pem(tmp_path)], stdout=out) == 0
    assert out.getvalue() == f"{log_path}: OK: 13 records, 3 checkpoints, signed through seq 11\n"


def test_cli_reports_where(log_path: Path, tmp_path: Path) -> None:
    lines = _lines(log_path)
    _rewrite(log_path, lines[:3] + lines[4:])
    out = io.StringIO()
    assert audit.main_verify([str(log_path), "--key", _pem(tmp_path)], stdout=out) == 1
    assert "FAILED" in out.getvalue()
    assert "line 4 (seq 3): deleted: seq 3 missing" in out.getvalue()
    out = io.StringIO()
    assert audit.main_verify([str(log_path), "--key", _pem(tmp_path), "--json"], stdout=out) == 1
    doc = json.loads(out.getvalue())
    assert doc["ok"] is False
    assert doc["problems"][0]["kind"] == "deleted"
    assert doc["problems"][0]["line"] == 4


def test_cli_anchor(log_path: Path, tmp_path: Path) -> None:
    _rewrite(log_path, _lines(log_path)[:10])
    argv = [str(log_path), "--key", _pem(tmp_path), "--expect-seq", "12"]
    out = io.StringIO()
    assert audit.main_verify(argv, stdout=out) == 1
    assert "truncated" in out.getvalue()


@pytest.mark.parametrize("bad", ["missing-key", "not-a-key", "private-key", "missing-log", "usage"])
def test_cli_errors(log_path: Path, tmp_path: Path, bad: str) -> None:
    key = _pem(tmp_path)
    if bad == "not-a-key":
        Path(key).write_text("hello")
    elif bad == "private-key":
        Path(key).write_bytes(
            KEY.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    argv = {
        "missing-key": [str(log_path), "--key", str(tmp_path / "nope.pem")],
        "missing-log": [str(tmp_path / "nope.jsonl"), "--key", key],
        "usage": [str(log_path)],
    }.get(bad, [str(log_path), "--key", key])
    err = io.StringIO()
    assert audit.main_verify(argv, stdout=io.StringIO(), stderr=err) == 2
    if bad != "usage":
        assert err.getvalue().startswith("aispm: error: ")


def test_cli_wiring_as_a_subcommand(log_path: Path, tmp_path: Path) -> None:
    """The wiring proposed for aispm/cli.py: `aispm audit verify FILE --key PUBKEY.pem`."""
    import argparse

    parser = argparse.ArgumentParser(prog="aispm")
    commands = parser.add_subparsers(required=True)
    audit_parser = commands.add_parser("audit")
    audit_commands = audit_parser.add_subparsers(required=True)
    verify = audit_commands.add_parser("verify")
    audit.add_verify_arguments(verify)
    verify.set_defaults(handler=audit.run_verify)
    args = parser.parse_args(["audit", "verify", str(log_path), "--key", _pem(tmp_path)])
    out = io.StringIO()
    assert args.handler(args, stdout=out) == 0
    assert "OK" in out.getvalue()


# --- edge cases -----------------------------------------------------------------------------


def test_first_record_must_start_from_genesis(log_path: Path) -> None:
    lines = _lines(log_path)
    rec = json.loads(lines[0])
    rec["prev"] = "1" * 64
    lines[0] = _rehash(rec)
    _rewrite(log_path, lines)
    assert _problem(log_path) == ("modified", 1)


def test_forged_record_reusing_a_seq(log_path: Path) -> None:
    lines = _lines(log_path)
    original = json.loads(lines[2])
    forged = {**original, "data": {"action": "allow"}}
    _rewrite(log_path, [*lines[:3], _rehash(forged), *lines[3:]])
    assert _problem(log_path) == ("inserted", 4)


@pytest.mark.parametrize("change", ["drop-field", "wrong-seq", "wrong-hash", "bad-base64", "respelled", "not-str"])
def test_malformed_checkpoint_is_a_bad_signature(log_path: Path, change: str) -> None:
    lines = _lines(log_path)
    rec = json.loads(lines[4])
    if change == "drop-field":
        del rec["data"]["count"]
    elif change == "wrong-seq":
        rec["data"]["seq"] = 2
    elif change == "wrong-hash":
        rec["data"]["hash"] = "f" * 64
    elif change == "respelled":
        rec["data"]["sig"] = "*" + rec["data"]["sig"]  # the lenient decoder would skip the "*"
    elif change == "not-str":
        rec["data"]["sig"] = 7
    else:
        rec["data"]["sig"] = "!!!"
    _rewrite(log_path, [*lines[:4], _rehash(rec)])
    assert _problem(log_path) == ("bad_signature", 5)


def test_record_with_nan_is_modified(log_path: Path) -> None:
    lines = _lines(log_path)
    lines[0] = lines[0].replace(b'"duration_ns":1000', b'"duration_ns":NaN')
    _rewrite(log_path, lines)
    assert _problem(log_path) == ("modified", 1)


@pytest.mark.parametrize("field", ["kind", "prev", "seq"])
def test_record_fields_are_typed(log_path: Path, field: str) -> None:
    lines = _lines(log_path)
    rec = json.loads(lines[0])
    rec[field] = {"kind": "Not A Kind", "prev": "XYZ", "seq": -1}[field]
    lines[0] = _rehash(rec)
    _rewrite(log_path, lines)
    assert _problem(log_path) == ("modified", 1)


def test_deletion_is_classified_past_damaged_and_huge_lines(log_path: Path) -> None:
    lines = _lines(log_path)
    lines[7] = b"garbage\n"
    lines[8] = b"x" * (audit.MAX_LINE_BYTES + 5) + b"\n"
    _rewrite(log_path, lines[:3] + lines[4:])
    assert _problem(log_path) == ("deleted", 4)


def test_anchor_arguments_are_checked(log_path: Path) -> None:
    with pytest.raises(aispm.PolicyError):
        verify_log(log_path, PUB, expected_hash="a" * 64)
    with pytest.raises(aispm.PolicyError):
        verify_log(log_path, PUB, expected_seq=1, expected_hash="not hex")
    with pytest.raises(aispm.PolicyError):
        verify_log(log_path, PUB, expected_seq=-1)
    assert _problem(log_path, expected_seq=100)[0] == "truncated"


def test_public_keys_in_every_form(log_path: Path, tmp_path: Path) -> None:
    pem = PUB.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for key in (PUB, pem, pem.decode(), Path(_pem(tmp_path)), [PUB]):
        assert verify_log(log_path, key).ok
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for bad in (ec_pem, b"nope", 42, KEY):
        with pytest.raises(aispm.PolicyError):
            verify_log(log_path, bad)  # type: ignore[arg-type]


def test_properties_and_explicit_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    log = AuditLog(path, signing_key=KEY)
    assert log.path == path
    assert log.public_key is not None
    assert log.public_key.public_bytes_raw() == PUB.public_bytes_raw()
    assert log.checkpoint() is None  # nothing to sign yet
    log.record(_decision())
    cp = log.checkpoint()
    assert cp is not None
    assert (cp.kind, cp.seq) == ("checkpoint", 1)
    log.close()
    log.close()  # idempotent
    assert verify_log(path, PUB).records == 2  # close had nothing new to sign
    with AuditLog(tmp_path / "b.jsonl") as unsigned:
        assert unsigned.public_key is None


def test_value_kinds_and_unhashable_values(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.jsonl", hash_key=b"k" * 16) as log:
        items = log.record(aispm.Decision(Action.ALLOW, "retrieval", ["doc-1", "doc-2"])).data["value"]
        mixed_keys: dict[Any, Any] = {1: "a", "b": 2}
        mixed = log.record(ToolDecision(Action.ALLOW, "tools", mixed_keys, tool="t")).data["value"]
        loop: dict[str, Any] = {}
        loop["self"] = loop
        circular = log.record(ToolDecision(Action.ALLOW, "tools", loop, tool="t")).data["value"]
        other = log.record(aispm.Decision(Action.ALLOW, "custom", 42)).data["value"]
    assert items["type"] == "items"
    assert items["size"] == 2
    assert "hmac" in items
    assert mixed == {"type": "arguments", "size": 2}  # mixed keys cannot be sorted: size only
    assert circular == {"type": "arguments", "size": 1}
    assert other == {"type": "int"}


def test_many_findings_are_capped(tmp_path: Path) -> None:
    findings = tuple(Finding(f"d.x{i}", "c", Severity.LOW) for i in range(300))
    with AuditLog(tmp_path / "a.jsonl") as log:
        data = log.record(TextDecision(Action.ALLOW, "output", "", findings)).data
    assert len(data["findings"]) == 128
    assert data["findings_total"] == 300


def test_append_accepts_json_values(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, signing_key=KEY) as log:
        log.append("note", {"score": 0.5, "tags": ["a", "b"], "nested": {"kind": "checkpoint"}, "n": None})
    # the nested "kind":"checkpoint" must not fool the tail search on reopen
    with AuditLog(path, signing_key=KEY) as log:
        log.append("note", {"again": True})
    assert verify_log(path, PUB).ok


def test_only_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(aispm.PolicyError, match="regular file"):
        AuditLog(fifo)
    with pytest.raises(aispm.PolicyError, match="regular file"):
        verify_log("/dev/zero", PUB)


@pytest.mark.parametrize(
    "kwargs",
    [{"session_chain": ("user:a", 7)}, {"delegation_id": 5}],
    ids=["chain-not-str", "delegation-not-str"],
)
def test_record_fields_must_be_strings(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with AuditLog(tmp_path / "a.jsonl") as log, pytest.raises(aispm.PolicyError):
        log.record(_decision(), **kwargs)
