"""The policy document: defaults, validation, file formats and error reporting."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from aispm import Action, MissingExtraError, Policy, PolicyError, PolicyIssue, Severity
from aispm.policy import RISK_LEVELS


def issues_of(data: Any) -> tuple[PolicyIssue, ...]:
    with pytest.raises(PolicyError) as info:
        Policy.from_data(data)
    return info.value.issues


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- defaults ----------------------------------------------------------------------


def test_defaults() -> None:
    policy = Policy()
    assert policy.version == 1
    assert policy.mode == "enforce"
    assert policy.fail_mode == "closed"
    assert policy.limits.max_text_chars == 1_000_000
    assert policy.limits.max_depth == 8
    assert policy.limits.max_items == 10_000
    assert policy.prompt.enabled
    assert policy.output.enabled
    assert policy.tools.enabled
    assert "injection.instruction_override" in policy.prompt.detectors
    assert "pii.email" in policy.output.detectors
    assert policy.prompt.actions == {
        Severity.INFO: Action.ALLOW,
        Severity.LOW: Action.ALLOW,
        Severity.MEDIUM: Action.ALLOW,
        Severity.HIGH: Action.DENY,
        Severity.CRITICAL: Action.DENY,
    }
    assert policy.output.actions == {
        Severity.INFO: Action.ALLOW,
        Severity.LOW: Action.REDACT,
        Severity.MEDIUM: Action.REDACT,
        Severity.HIGH: Action.REDACT,
        Severity.CRITICAL: Action.REDACT,
    }
    assert policy.tools.unknown is Action.DENY
    assert policy.tools.default_risk == "write"
    assert set(policy.tools.risk_actions) == set(RISK_LEVELS)
    assert Policy.from_data({}) == policy
    assert Policy.model_validate({"version": 1}) == policy


def test_policy_is_immutable() -> None:
    with pytest.raises(Exception, match="frozen"):
        Policy().mode = "monitor"  # type: ignore[misc]


# --- partial maps keep the defaults -------------------------------------------------------


def test_partial_prompt_actions_keep_defaults() -> None:
    policy = Policy.from_data({"prompt": {"actions": {"medium": "deny"}}})
    assert policy.prompt.actions[Severity.MEDIUM] is Action.DENY
    assert policy.prompt.actions[Severity.HIGH] is Action.DENY
    assert policy.prompt.actions[Severity.LOW] is Action.ALLOW


def test_partial_output_actions_keep_redact_defaults() -> None:
    policy = Policy.from_data({"output": {"actions": {"high": "deny"}}})
    assert policy.output.actions == {
        Severity.INFO: Action.ALLOW,
        Severity.LOW: Action.REDACT,
        Severity.MEDIUM: Action.REDACT,
        Severity.HIGH: Action.DENY,
        Severity.CRITICAL: Action.REDACT,
    }


def test_partial_risk_actions_keep_defaults() -> None:
    policy = Policy.from_data({"tools": {"risk_actions": {"destructive": "deny", "admin": "deny"}}})
    assert policy.tools.risk_actions["destructive"] is Action.DENY
    assert policy.tools.risk_actions["admin"] is Action.DENY
    assert policy.tools.risk_actions["write"] is Action.ALLOW
    assert policy.tools.risk_actions["financial"] is Action.REQUIRE_APPROVAL


def test_role_overrides_are_partial() -> None:
    policy = Policy.from_data({"output": {"roles": {"compliance": {"actions": {"medium": "allow"}}}}})
    assert policy.output.roles["compliance"].actions == {Severity.MEDIUM: Action.ALLOW}


# --- validation errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({"colour": "red"}, "colour"),
        ({"prompt": {"detector": ["pii.email"]}}, "prompt.detector"),
        ({"tools": {"agents": {"bot": {"alow": ["*"]}}}}, "tools.agents.bot.alow"),
        ({"output": {"roles": {"r": {"action": {}}}}}, "output.roles.r.action"),
        ({"limits": {"max_chars": 3}}, "limits.max_chars"),
    ],
)
def test_unknown_keys_are_errors(data: dict[str, Any], location: str) -> None:
    [issue] = issues_of(data)
    assert issue.location == location
    assert issue.message == "unknown field (check the spelling)"
    assert issue.line is None


def test_every_issue_is_reported_with_its_location() -> None:
    issues = issues_of(
        {
            "mode": "block",
            "prompt": {"actions": {"high": "nope", "severe": "deny"}},
            "limits": {"max_text_chars": 0},
        }
    )
    assert [i.location for i in issues] == [
        "mode",
        "limits.max_text_chars",
        "prompt.actions.high",
        "prompt.actions.severe.[key]",
    ]


def test_policy_error_is_a_value_error_and_lists_issues() -> None:
    with pytest.raises(ValueError, match="invalid policy <data>") as info:
        Policy.from_data({"mode": "block", "colour": 1})
    message = str(info.value)
    assert "\n  mode: " in message
    assert "\n  colour: unknown field" in message


@pytest.mark.parametrize("data", [None, [], "mode: enforce", 3])
def test_document_must_be_a_mapping(data: Any) -> None:
    [issue] = issues_of(data)
    assert issue.location == "<document>"


def test_rule_needs_keywords_or_detectors() -> None:
    [issue] = issues_of({"prompt": {"rules": [{"id": "r.empty", "action": "deny"}]}})
    assert issue.location == "prompt.rules.0"
    assert "keywords or detectors" in issue.message


@pytest.mark.parametrize(
    "rule",
    [
        {"id": "Bad Id", "keywords": ["x"], "action": "deny"},
        {"id": "r", "keywords": [""], "action": "deny"},
        {"id": "r", "keywords": ["x" * 201], "action": "deny"},
        {"id": "r", "keywords": ["x"], "action": "block"},
        {"id": "r", "keywords": ["x"], "action": "deny", "sources": ["web"]},
        {"id": "r", "detectors": ["Not.An.Id"], "action": "deny"},
    ],
)
def test_invalid_rules(rule: dict[str, Any]) -> None:
    [issue] = issues_of({"prompt": {"rules": [rule]}})
    assert issue.location.startswith("prompt.rules.0.")


def test_duplicate_rule_ids_are_invalid() -> None:
    rule = {"id": "r.same", "keywords": ["x"], "action": "deny"}
    [issue] = issues_of({"output": {"rules": [rule, {**rule, "keywords": ["y"]}]}})
    assert issue.location == "output"
    assert "duplicate rule id 'r.same'" in issue.message


@pytest.mark.parametrize(
    "tools",
    [
        {"default_risk": "nuclear"},
        {"tools": {"launch": {"risk": "nuclear"}}},
    ],
)
def test_tool_risk_levels_must_have_an_action(tools: dict[str, Any]) -> None:
    [issue] = issues_of({"tools": tools})
    assert issue.location == "tools"
    assert "['nuclear'] have no entry in risk_actions" in issue.message


def test_custom_risk_levels() -> None:
    policy = Policy.from_data(
        {"tools": {"risk_actions": {"nuclear": "deny"}, "tools": {"launch": {"risk": "nuclear"}}}}
    )
    assert policy.tools.tools["launch"].risk == "nuclear"


@pytest.mark.parametrize("limits", [{"max_depth": 0}, {"max_depth": 65}, {"max_items": 0}, {"max_text_chars": -1}])
def test_limits_are_bounded(limits: dict[str, int]) -> None:
    [issue] = issues_of({"limits": limits})
    assert issue.location == f"limits.{next(iter(limits))}"


@pytest.mark.parametrize("version", [0, 2, "1"])
def test_only_version_1(version: object) -> None:
    [issue] = issues_of({"version": version})
    assert issue.location == "version"


# --- files ---------------------------------------------------------------------------------


YAML = """\
mode: monitor
prompt:
  actions:
    medium: deny
  rules:
    - id: prompt.database_operations
      keywords: ["drop table"]
      action: deny
      unless_roles: [admin]
tools:
  allow: ["search_*"]
"""

TOML = """\
mode = "monitor"

[prompt]
actions = { medium = "deny" }

[[prompt.rules]]
id = "prompt.database_operations"
keywords = ["drop table"]
action = "deny"
unless_roles = ["admin"]

[tools]
allow = ["search_*"]
"""

JSON = json.dumps(
    {
        "mode": "monitor",
        "prompt": {
            "actions": {"medium": "deny"},
            "rules": [
                {
                    "id": "prompt.database_operations",
                    "keywords": ["drop table"],
                    "action": "deny",
                    "unless_roles": ["admin"],
                }
            ],
        },
        "tools": {"allow": ["search_*"]},
    },
    indent=2,
)


@pytest.mark.parametrize(("name", "content"), [("p.yaml", YAML), ("p.YML", YAML), ("p.toml", TOML), ("p.json", JSON)])
def test_from_file_formats_agree(tmp_path: Path, name: str, content: str) -> None:
    policy = Policy.from_file(write(tmp_path, name, content))
    assert policy == Policy.from_data(json.loads(JSON))
    assert policy.mode == "monitor"
    assert policy.prompt.rules[0].unless_roles == ("admin",)
    assert Policy.from_file(str(tmp_path / name)) == policy


def test_empty_toml_file_is_the_default_policy(tmp_path: Path) -> None:
    assert Policy.from_file(write(tmp_path, "empty.toml", "# nothing\n")) == Policy()


def test_yaml_issues_carry_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "mode: enforce\nprompt:\n  actions:\n    high: nope\n  colour: red\n"
        "tools:\n  agents:\n    bot:\n      alow: ['*']\n",
    )
    with pytest.raises(PolicyError) as info:
        Policy.from_file(path)
    assert repr(str(path)) in str(info.value)
    assert {(i.location, i.line) for i in info.value.issues} == {
        ("prompt.actions.high", 4),
        ("prompt.colour", 5),
        ("tools.agents.bot.alow", 9),
    }
    assert "line 4: prompt.actions.high: " in str(info.value)


def test_yaml_issue_in_a_list_item_has_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "prompt:\n  rules:\n    - id: ok\n      keywords: [x]\n      action: deny\n    - id: bad\n      action: deny\n",
    )
    with pytest.raises(PolicyError) as info:
        Policy.from_file(path)
    [issue] = info.value.issues
    assert (issue.location, issue.line) == ("prompt.rules.1", 6)


@pytest.mark.parametrize(
    "content",
    [
        "base: &base {enabled: true}\nprompt: *base\n",
        "prompt:\n  detectors: &d [pii.email]\noutput:\n  detectors: *d\n",
        "a: &a [x]\nb: &b [*a, *a]\n",
    ],
)
def test_yaml_anchors_and_aliases_are_refused(tmp_path: Path, content: str) -> None:
    with pytest.raises(PolicyError, match="invalid YAML") as info:
        Policy.from_file(write(tmp_path, "p.yaml", content))
    [issue] = info.value.issues
    assert issue.message == "YAML anchors and aliases are not supported"
    assert issue.line is not None


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(PolicyError, match="invalid YAML"):
        Policy.from_file(write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n"))


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("p.yaml", "prompt: [unclosed\n", "invalid YAML"),
        ("p.yaml", "prompt:\n  a: 1\n b: 2\n", "invalid YAML"),
        ("p.toml", "mode = \n", "invalid TOML"),
        ("p.toml", "[prompt]\n[prompt]\n", "invalid TOML"),
        ("p.json", '{"mode": "enforce",}', "invalid JSON"),
        ("p.json", "", "invalid JSON"),
    ],
)
def test_unparsable_files(tmp_path: Path, name: str, content: str, match: str) -> None:
    with pytest.raises(PolicyError, match=match) as info:
        Policy.from_file(write(tmp_path, name, content))
    [issue] = info.value.issues
    assert issue.location == "<document>"
    assert issue.message


def test_invalid_json_has_a_line_number(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_file(write(tmp_path, "p.json", '{\n  "mode": "enforce",\n  oops\n}'))
    assert info.value.issues[0].line == 3


def test_invalid_yaml_has_a_line_number(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_file(write(tmp_path, "p.yaml", "mode: enforce\nprompt: [unclosed\n"))
    assert info.value.issues[0].line is not None


@pytest.mark.parametrize("name", ["policy.txt", "policy", "policy.yaml.bak", "policy.ini"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(PolicyError, match="unsupported policy file type"):
        Policy.from_file(write(tmp_path, name, "{}"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        Policy.from_file(tmp_path / "nope.toml")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(PolicyError, match="cannot read policy file"):
        Policy.from_file(tmp_path / "dir.json")


@pytest.mark.parametrize("name", ["p.yaml", "p.toml", "p.json"])
def test_non_utf8_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(PolicyError, match=r"is not UTF-8 \(byte 8\)"):
        Policy.from_file(write(tmp_path, name, b'{"mode":\xff"enforce"}'))


def test_toml_and_json_validation_errors_have_no_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_file(write(tmp_path, "p.toml", 'mode = "block"\n'))
    [issue] = info.value.issues
    assert (issue.location, issue.line) == ("mode", None)


# --- schema ------------------------------------------------------------------------------


def test_json_schema() -> None:
    schema = Policy.model_json_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert {"version", "mode", "fail_mode", "limits", "prompt", "output", "tools"} <= set(schema["properties"])
    json.dumps(schema)  # serialisable as it is
    assert "Rule" in schema["$defs"]


def test_yaml_needs_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if PyYAML were not installed
    with pytest.raises(MissingExtraError, match=r'pip install "aispm\[yaml\]"') as info:
        Policy.from_file(write(tmp_path, "p.yaml", "mode: enforce\n"))
    assert isinstance(info.value, ImportError)
    assert info.value.extra == "yaml"
    assert info.value.name == "yaml"


def test_the_default_policy_built_without_validation_equals_the_validated_one() -> None:
    built, validated = Policy.default(), Policy()
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert type(built.prompt.redaction) is type(validated.prompt.redaction)
    assert built.tools.risk_actions == validated.tools.risk_actions
