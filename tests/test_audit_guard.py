"""A guard's audit trail: every decision recorded with who acted for whom, under which grant, approved by whom;
verified by ``aispm audit verify``; nothing it caught written down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import aispm
from aispm import Action
from aispm.audit import AuditLog, verify_log
from aispm.cli import main
from aispm.delegation import Delegation, Scope
from aispm.identity import AgentIdentity, KeyRing

SECRET = "AKIAIOSFODNN7EXAMPLE"
POLICY: dict[str, Any] = {
    "tools": {
        "tools": {"wire_money": {"risk": "financial"}, "lookup": {"risk": "read"}},
        "approval": {"timeout_seconds": 1},
    }
}


def run_agent(log: AuditLog) -> tuple[AgentIdentity, Delegation]:
    authz, treasurer = AgentIdentity.generate("authz"), AgentIdentity.generate("treasurer")
    keys = KeyRing()
    keys.add(authz, root=True)
    grant = Delegation.issue(authz, treasurer, [Scope("*")], ttl=600, max_depth=0, audience="aispm")
    guard = aispm.Guard(POLICY, keys=keys, approver=lambda request: True, audit=log)
    with guard.session(user="alice", agent="treasurer", delegation=grant.token):
        guard.prompt.check(f"please wire 10 EUR; my key is {SECRET}")
        guard.tools.authorize("lookup", {"account": "DE44500105175407324931"})
        guard.tools.authorize("wire_money", {"amount": 10, "note": SECRET})
        guard.output.scan(f"done, key {SECRET}")
    return authz, grant


def test_every_decision_is_recorded_and_the_log_verifies(tmp_path: Path) -> None:
    signer = AgentIdentity.generate("audit")
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, signing_key=signer, hash_key=b"k" * 32) as log:
        _, grant = run_agent(log)
    report = verify_log(path, signer)
    assert report.ok, report.problems
    text = path.read_text()
    assert SECRET not in text  # nothing caught is written down
    assert "DE44500105175407324931" not in text
    decisions = [json.loads(line)["data"] for line in text.splitlines() if '"kind":"decision"' in line]
    assert [d["guard"] for d in decisions] == ["prompt", "tools", "tools", "output"]
    wire = decisions[2]
    assert wire["action"] == Action.ALLOW.value
    assert wire["session_chain"] == ["user:alice", "agent:treasurer"]
    assert wire["delegation_id"] == grant.id
    assert wire["approval"] == {"outcome": "approved", "approver": "handler:run_agent.<locals>.<lambda>"}
    assert "approval" not in decisions[1] or decisions[1]["approval"] is None  # nobody was asked about lookup


def test_aispm_audit_verify_reports_a_modified_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signer = AgentIdentity.generate("audit")
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, signing_key=signer) as log:
        run_agent(log)
    key = tmp_path / "audit.pub.pem"
    key.write_bytes(signer.public_pem())
    assert main(["audit", "verify", str(path), "--key", str(key)]) == 0
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace('"allow"', '"deny"', 1)  # rewrite history
    path.write_text("\n".join(lines) + "\n")
    assert main(["audit", "verify", str(path), "--key", str(key)]) == 1
    assert "line 3" in capsys.readouterr().out


def test_a_decision_that_cannot_be_recorded_is_denied(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", signing_key=AgentIdentity.generate("audit"))
    log.close()  # a closed log refuses writes
    guard = aispm.Guard({"tools": {"tools": {"lookup": {"risk": "read"}}}}, audit=log)
    decision = guard.tools.check("lookup", {})
    assert decision.action is Action.DENY
    assert decision.rule_ids == ("guard.failed",)
    with pytest.raises(aispm.GuardFailed):
        guard.tools.authorize("lookup", {})
