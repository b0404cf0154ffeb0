"""The ``aispm`` command line, run in-process through ``main`` (and once as a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace

import aispm
from aispm import _demo, semconv
from aispm.cli import main

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
EMAIL = "billing-ops@example.com"


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def _run_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["demo", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert AWS_KEY not in captured.out
    assert EMAIL not in captured.out
    doc: dict[str, Any] = json.loads(captured.out)
    return doc


# --- demo ----------------------------------------------------------------------


def test_demo_prints_decisions_and_never_the_secret(capsys):
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert AWS_KEY not in out
    assert AWS_KEY not in err
    assert EMAIL not in out
    assert EMAIL not in err
    for expected in (
        "deny",
        "redact",
        "require_approval",
        "[REDACTED:AWS_ACCESS_KEY]",  # the redacted answer of turn 3
        "injection.instruction_override",
        "secrets.aws_access_key",
        "tools.risk.destructive",
        _demo.TURN_SPAN,
        semconv.SPAN_PROMPT,
    ):
        assert expected in out


def test_demo_leaves_the_global_tracer_provider_alone(capsys):
    before = trace.get_tracer_provider()
    assert main(["demo", "--json"]) == 0
    assert trace.get_tracer_provider() is before


def test_demo_json_nests_every_decision_under_its_turn(capsys):
    doc = _run_json(capsys)
    spans = {s["span_id"]: s for s in doc["spans"]}

    def turn_of(span: dict[str, Any] | None) -> int | None:
        while span is not None:
            if span["name"] == _demo.TURN_SPAN:
                return int(span["attributes"][_demo.TURN_ATTRIBUTE])
            span = spans.get(span["parent_id"])
        return None

    decision_spans = [s for s in doc["spans"] if semconv.DECISION_ACTION in s["attributes"]]
    assert len(decision_spans) >= 6
    assert all(s["name"].startswith(semconv.SPAN_PREFIX) for s in decision_spans)
    assert all(turn_of(s) is not None for s in decision_spans)
    assert [d["span_id"] for d in doc["decisions"]] == [s["span_id"] for s in decision_spans]
    assert [d["turn"] for d in doc["decisions"]] == [turn_of(s) for s in decision_spans]
    turns = [s for s in doc["spans"] if s["name"] == _demo.TURN_SPAN]
    assert [t["attributes"][_demo.TURN_ATTRIBUTE] for t in turns] == [1, 2, 3, 4]
    # attributes are plain JSON: arrays, not tuples turned into strings
    rule_ids = [s["attributes"][semconv.RULE_IDS] for s in decision_spans if semconv.RULE_IDS in s["attributes"]]
    assert rule_ids
    assert all(isinstance(ids, list) for ids in rule_ids)


def test_demo_json_injection_is_denied_before_the_model(capsys):
    doc = _run_json(capsys)
    spans = doc["spans"]
    [turn] = [s for s in spans if s["attributes"].get(_demo.TURN_ATTRIBUTE) == 2]
    children = [s for s in spans if s["parent_id"] == turn["span_id"]]
    [prompt] = children  # one prompt decision, then nothing: no model span, no output decision
    assert prompt["name"] == semconv.SPAN_PROMPT
    assert prompt["attributes"][semconv.DECISION_ACTION] == "deny"
    assert "injection.instruction_override" in prompt["attributes"][semconv.RULE_IDS]
    assert turn["attributes"][_demo.OUTCOME_ATTRIBUTE] == "blocked"
    model_calls = [s for s in spans if s["name"] == _demo.MODEL_SPAN]
    assert len(model_calls) == 3  # turns 1, 3 and 4
    assert all(s["parent_id"] != turn["span_id"] for s in model_calls)
    [injection] = [t for t in doc["turns"] if t["turn"] == 2]
    assert injection["reply"] is None
    assert injection["blocked"] == "prompt guard: deny"
    assert [(d["guard"], d["action"]) for d in doc["decisions"] if d["turn"] == 2] == [("prompt", "deny")]


def test_demo_json_redacts_the_leaked_secret(capsys):
    doc = _run_json(capsys)
    [leak] = [d for d in doc["decisions"] if d["turn"] == 3 and d["guard"] == "output"]
    assert leak["action"] == "redact"
    assert set(leak["rule_ids"]) == {"secrets.aws_access_key", "pii.email"}
    assert {f["detector"] for f in leak["findings"]} == {"secrets.aws_access_key", "pii.email"}
    [turn3] = [t for t in doc["turns"] if t["turn"] == 3]
    assert "[REDACTED:AWS_ACCESS_KEY]" in turn3["reply"]
    assert "[REDACTED:EMAIL]" in turn3["reply"]
    [span] = [s for s in doc["spans"] if s["span_id"] == leak["span_id"]]
    events = span["events"]
    assert {e["attributes"][semconv.FINDING_EXCERPT] for e in events} == {
        "[REDACTED:AWS_ACCESS_KEY]",
        "[REDACTED:EMAIL]",
    }


def test_demo_json_tools_read_allowed_destructive_needs_approval(capsys):
    doc = _run_json(capsys)
    tools = [(d["tool"], d["action"], d["rule_ids"]) for d in doc["decisions"] if d["guard"] == "tools"]
    assert tools == [
        ("lookup_order", "allow", []),
        ("delete_customer", "require_approval", ["tools.risk.destructive"]),
    ]
    [turn4] = [t for t in doc["turns"] if t["turn"] == 4]
    assert "approval" in turn4["reply"]
    assert "deleted" not in turn4["reply"]  # the destructive tool never ran


def test_demo_without_rich_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.console", None)  # import rich.console now raises ImportError
    assert main(["demo"]) == 2
    out, err = capsys.readouterr()
    assert 'pip install "aispm[cli]"' in err
    assert "Traceback" not in err
    assert AWS_KEY not in out + err


def test_demo_without_the_sdk_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    assert main(["demo", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("aispm: aispm demo needs the optional dependency 'opentelemetry.sdk'")
    assert 'pip install "aispm[cli]"' in err


def test_demo_renders_at_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "require_approval" in out
    assert AWS_KEY not in out + err


def test_demo_json_needs_no_rich(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich", None)
    assert _run_json(capsys)["decisions"]


def test_demo_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "aispm.cli", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert AWS_KEY not in result.stdout
    doc = json.loads(result.stdout)
    assert {d["action"] for d in doc["decisions"]} == {"allow", "deny", "redact", "require_approval"}


def test_closed_stdout_exits_quietly():
    # `aispm demo --json | head -c0`: the reader is gone before the demo writes
    proc = subprocess.Popen(
        [sys.executable, "-m", "aispm.cli", "demo", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert err == b""


# --- policy ----------------------------------------------------------------------

GOOD_YAML = """\
    prompt:
      detectors: [injection.instruction_override, injection.jailbreak]
      actions: {high: deny, critical: deny}
    tools:
      allow: ["search_*", "get_*"]
      risk_actions: {read: allow, write: allow, destructive: deny}
"""

GOOD_TOML = """\
    mode = "monitor"

    [prompt]
    detectors = ["injection.jailbreak"]

    [output.actions]
    medium = "redact"

    [tools]
    deny = ["delete_*"]
"""


@pytest.mark.parametrize(("name", "text"), [("good.yaml", GOOD_YAML), ("good.toml", GOOD_TOML)])
def test_policy_check_accepts_a_good_file(tmp_path, capsys, name, text):
    path = _write(tmp_path, name, text)
    assert main(["policy", "check", path]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: OK\n"
    assert err == ""


def test_policy_check_reports_every_issue_with_its_line(tmp_path, capsys):
    path = _write(
        tmp_path,
        "bad.yaml",
        """\
        prompt:
          actions:
            high: block
          detectrs: [injection.jailbreak]
        """,
    )
    assert main(["policy", "check", path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:3: prompt.actions.high: ")
    assert "'deny'" in lines[0]
    assert lines[1] == f"{path}:4: prompt.detectrs: unknown field (check the spelling)"
    assert "Traceback" not in err


def test_policy_check_reports_an_unknown_detector(tmp_path, capsys):
    path = _write(
        tmp_path,
        "unknown.yaml",
        """\
        output:
          detectors: [pii.email, pii.emial]
        """,
    )
    assert main(["policy", "check", path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"{path}: output.detectors.1: unknown detector 'pii.emial'\n"


def test_policy_check_reports_a_missing_file(tmp_path, capsys):
    path = str(tmp_path / "missing.yaml")
    assert main(["policy", "check", path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}: cannot read policy file")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_policy_check_yaml_without_pyyaml_names_the_extra(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, "good.yaml", GOOD_YAML)
    monkeypatch.setitem(sys.modules, "yaml", None)
    assert main(["policy", "check", path]) == 2
    err = capsys.readouterr().err
    assert 'pip install "aispm[yaml]"' in err
    assert "Traceback" not in err


def test_policy_schema_is_json_schema(capsys):
    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"version", "prompt", "output", "tools"} <= set(schema["properties"])
    assert schema == aispm.Policy.model_json_schema()


# --- the command line itself ------------------------------------------------------


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"aispm {aispm.__version__}\n"


@pytest.mark.parametrize("argv", [[], ["policy"], ["nonsense"], ["policy", "check"]])
def test_usage_errors_exit_2(capsys, argv):
    assert main(argv) == 2
    assert "usage: aispm" in capsys.readouterr().err


def test_interrupt_exits_130(capsys, monkeypatch):
    def interrupted() -> _demo.DemoRun:
        raise KeyboardInterrupt

    monkeypatch.setattr(_demo, "run", interrupted)
    assert main(["demo"]) == 130
    assert capsys.readouterr().err == ""


def test_closed_pipe_points_stdout_at_devnull(tmp_path, capsys, monkeypatch):
    def reader_gone() -> _demo.DemoRun:
        raise BrokenPipeError

    monkeypatch.setattr(_demo, "run", reader_gone)
    out = tmp_path / "stdout"
    with out.open("w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert main(["demo"]) == 1
        stdout.write("written after the pipe broke")  # goes to devnull, so the exit flush cannot fail
    assert out.read_text() == ""
    assert capsys.readouterr().err == ""


def _boom() -> _demo.DemoRun:
    raise RuntimeError("something broke\nbadly")


def test_unexpected_error_is_one_line_without_traceback(capsys, monkeypatch):
    monkeypatch.delenv("AISPM_DEBUG", raising=False)
    monkeypatch.setattr(_demo, "run", _boom)
    assert main(["demo"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "aispm: error: RuntimeError: something broke badly\n"


def test_aispm_debug_adds_the_traceback(capsys, monkeypatch):
    monkeypatch.setenv("AISPM_DEBUG", "1")
    monkeypatch.setattr(_demo, "run", _boom)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.endswith("aispm: error: RuntimeError: something broke badly\n")
