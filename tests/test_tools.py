"""The tool authorizer: globs, declared tools, roles, the agent chain, risk levels, tiers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aispm
from aispm import Action, Guard, semconv
from aispm.testing import SpanCapture

GuardFactory = Callable[..., Guard]
Authorize = Callable[..., Awaitable[aispm.ToolDecision]]


@pytest.fixture(params=["sync", "async"])
def authorize(request: pytest.FixtureRequest) -> Authorize:
    """``guard.tools.authorize`` or ``await guard.tools.aauthorize``."""

    async def run(guard: Guard, tool: str, args: dict[str, Any] | None = None) -> aispm.ToolDecision:
        if request.param == "sync":
            return guard.tools.authorize(tool, args)
        return await guard.tools.aauthorize(tool, args)

    return run


async def denied(
    authorize: Authorize, guard: Guard, tool: str, args: dict[str, Any] | None = None
) -> aispm.ToolDecision:
    with pytest.raises(aispm.Blocked) as info:
        await authorize(guard, tool, args)
    decision = info.value.decision
    assert isinstance(decision, aispm.ToolDecision)
    assert decision.arguments == {}  # nothing to pass on
    assert not decision.allowed
    return decision


GLOBS = {"tools": {"allow": ["search_*", "get_?", "send_email"], "deny": ["*_admin", "send_*"]}}


@pytest.mark.parametrize("tool", ["search_web", "search_", "get_x"])
async def test_allow_globs(make_guard: GuardFactory, authorize: Authorize, tool: str) -> None:
    decision = await authorize(make_guard(GLOBS), tool, {"q": "x"})
    assert decision.action is Action.ALLOW
    assert decision.arguments == {"q": "x"}
    assert decision.tool == tool
    assert decision.rule_ids == ()


@pytest.mark.parametrize(
    ("tool", "rule_ids"),
    [
        ("delete_repo", ("tools.not_granted",)),
        ("get_xy", ("tools.not_granted",)),
        ("Search_web", ("tools.not_granted",)),  # globs are case-sensitive
        ("search_admin", ("tools.denied",)),  # deny wins over allow
        ("send_email", ("tools.denied",)),
        ("drop_admin", ("tools.denied", "tools.not_granted")),
    ],
)
async def test_deny_globs(make_guard: GuardFactory, authorize: Authorize, tool: str, rule_ids: tuple[str, ...]) -> None:
    decision = await denied(authorize, make_guard(GLOBS), tool, {"q": "x"})
    assert decision.action is Action.DENY
    assert decision.rule_ids == rule_ids
    assert decision.reason == "tool call not permitted by policy"


async def test_unknown_tool_is_denied(make_guard: GuardFactory, authorize: Authorize) -> None:
    decision = await denied(authorize, make_guard(), "never_heard_of_it")
    assert decision.rule_ids == ("tools.unknown",)


@pytest.mark.parametrize(("unknown", "expected"), [("allow", Action.ALLOW), ("require_approval", None)])
async def test_unknown_action_is_configurable(
    make_guard: GuardFactory, authorize: Authorize, unknown: str, expected: Action | None
) -> None:
    guard = make_guard({"tools": {"unknown": unknown}})
    if expected is Action.ALLOW:
        assert (await authorize(guard, "anything", {"a": 1})).arguments == {"a": 1}
    else:
        decision = await denied(authorize, guard, "anything")
        assert decision.action is Action.REQUIRE_APPROVAL
        assert decision.rule_ids == ("tools.unknown",)
        assert decision.reason == "tool call needs approval"


async def test_tools_declared_in_policy_or_code_are_known(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard({"tools": {"tools": {"lookup": {}}}})
    assert (await authorize(guard, "lookup")).allowed
    guard.tools.register("registered", risk="read")
    assert (await authorize(guard, "registered")).allowed
    assert guard.tools.registered["registered"] == guard.tools.register("registered", risk="read")
    assert guard.tools.risk_of("registered") == "read"
    assert guard.tools.risk_of("lookup") == "write"


async def test_policy_spec_outside_allow_globs_is_granted(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard({"tools": {"allow": ["search_*"], "tools": {"lookup": {"risk": "read"}}}})
    assert (await authorize(guard, "lookup")).allowed
    assert (await denied(authorize, guard, "other")).rule_ids == ("tools.not_granted",)


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [(["finance"], True), (["viewer", "auditor"], True), (["viewer"], False), ([], False), (None, False)],
)
async def test_tool_spec_roles(
    make_guard: GuardFactory, authorize: Authorize, roles: list[str] | None, allowed: bool
) -> None:
    guard = make_guard({"tools": {"tools": {"get_ledger": {"risk": "read", "roles": ["finance", "auditor"]}}}})
    if roles is None:  # outside any session
        decision = await denied(authorize, guard, "get_ledger")
        assert decision.rule_ids == ("tools.role_required",)
        return
    with guard.session(user="u", roles=roles):
        if allowed:
            assert (await authorize(guard, "get_ledger")).allowed
        else:
            decision = await denied(authorize, guard, "get_ledger")
            assert decision.rule_ids == ("tools.role_required",)


AGENTS = {
    "tools": {
        "allow": ["*"],
        "agents": {
            "planner": {"allow": ["search_*", "send_email", "read_*"], "deny": ["read_secrets"]},
            "researcher": {"allow": ["search_*", "delete_*", "read_*"]},
        },
    }
}


async def test_agent_allow_and_deny(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard(AGENTS)
    with guard.session(user="alice", agent="planner"):
        assert (await authorize(guard, "search_web")).allowed
        assert (await authorize(guard, "send_email")).allowed
        assert (await denied(authorize, guard, "delete_db")).rule_ids == ("tools.agent_not_granted",)
        assert (await denied(authorize, guard, "read_secrets")).rule_ids == ("tools.agent_denied",)
    with guard.session(user="alice", agent="unlisted-agent"):
        assert (await authorize(guard, "delete_db")).allowed  # no agent rule: only the global policy


async def test_sub_agent_cannot_exceed_its_parent(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard(AGENTS)
    with guard.session(user="alice", agent="researcher"):
        assert (await authorize(guard, "delete_tmp")).allowed  # the researcher alone may delete
    with guard.session(user="alice", agent="planner"), guard.session(agent="researcher"):
        assert (await authorize(guard, "search_web")).allowed  # both allow it
        # the researcher may delete, but the planner that delegated to it may not
        assert (await denied(authorize, guard, "delete_tmp")).rule_ids == ("tools.agent_not_granted",)
        # the planner may send e-mail, but the researcher may not
        assert (await denied(authorize, guard, "send_email")).rule_ids == ("tools.agent_not_granted",)
        # the planner's deny list applies down the chain
        assert (await denied(authorize, guard, "read_secrets")).rule_ids == ("tools.agent_denied",)
    with guard.session(user="alice", agent="researcher"), guard.session(agent="planner"):
        assert (await denied(authorize, guard, "delete_tmp")).rule_ids == ("tools.agent_not_granted",)


@pytest.mark.parametrize(
    ("risk", "action"),
    [
        ("read", Action.ALLOW),
        ("write", Action.ALLOW),
        ("destructive", Action.REQUIRE_APPROVAL),
        ("financial", Action.REQUIRE_APPROVAL),
        ("external_communication", Action.REQUIRE_APPROVAL),
    ],
)
async def test_default_risk_actions(
    make_guard: GuardFactory, capture: SpanCapture, authorize: Authorize, risk: str, action: Action
) -> None:
    guard = make_guard({"tools": {"tools": {"the_tool": {"risk": risk}}}})
    if action is Action.ALLOW:
        decision = await authorize(guard, "the_tool", {"x": 1})
        assert decision.arguments == {"x": 1}
    else:
        decision = await denied(authorize, guard, "the_tool", {"x": 1})
        assert decision.rule_ids == (f"tools.risk.{risk}",)
    assert decision.action is action
    [span] = capture.finished_spans()
    assert span.attributes[semconv.TOOL_RISK] == risk


async def test_risk_actions_mapping(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard(
        {
            "tools": {
                "default_risk": "read",
                "risk_actions": {"financial": "deny", "write": "require_approval", "audit": "redact"},
                "tools": {"pay": {"risk": "financial"}, "save": {"risk": "write"}, "log": {"risk": "audit"}},
            }
        }
    )
    assert (await denied(authorize, guard, "pay")).action is Action.DENY
    assert (await denied(authorize, guard, "save")).action is Action.REQUIRE_APPROVAL
    # risk levels left out keep their defaults
    assert guard.policy.tools.risk_actions["destructive"] is Action.REQUIRE_APPROVAL
    guard.tools.register("wipe", risk="destructive")
    assert (await denied(authorize, guard, "wipe")).rule_ids == ("tools.risk.destructive",)
    guard.tools.register("peek")
    assert guard.tools.risk_of("peek") == "read"  # tools.default_risk
    assert (await authorize(guard, "peek")).allowed
    decision = await authorize(guard, "log", {"line": "x"})  # redact lets the call through
    assert decision.action is Action.REDACT
    assert decision.arguments == {"line": "x"}
    assert decision.rule_ids == ("tools.risk.audit",)


async def test_most_severe_reason_wins(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard({"tools": {"deny": ["wipe"], "tools": {"wipe": {"risk": "destructive"}}}})
    decision = await denied(authorize, guard, "wipe")
    assert decision.action is Action.DENY
    assert decision.rule_ids == ("tools.denied", "tools.risk.destructive")


def test_check_returns_instead_of_raising(make_guard: GuardFactory, capture: SpanCapture) -> None:
    guard = make_guard()
    decision = guard.tools.check("unknown_tool", {"a": 1})
    assert decision.action is Action.DENY
    assert decision.rule_ids == ("tools.unknown",)
    assert decision.arguments == {}
    assert decision.duration_ns > 0
    [span] = capture.finished_spans()
    assert span.attributes[semconv.ENFORCEMENT] == "returned"


async def test_monitor_mode_returns_the_decision(
    make_guard: GuardFactory, capture: SpanCapture, authorize: Authorize
) -> None:
    guard = make_guard(mode="monitor")
    decision = await authorize(guard, "unknown_tool", {"a": 1})
    assert decision.action is Action.DENY
    assert decision.rule_ids == ("tools.unknown",)
    assert decision.arguments == {}
    [span] = capture.finished_spans()
    assert span.attributes[semconv.ENFORCEMENT] == "monitored"


async def test_disabled_authorizer_allows_everything(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard({"tools": {"enabled": False, "deny": ["*"]}})
    assert (await authorize(guard, "anything", {"a": 1})).arguments == {"a": 1}


async def test_arguments_are_copied(make_guard: GuardFactory, authorize: Authorize) -> None:
    guard = make_guard({"tools": {"unknown": "allow"}})
    args = {"a": 1}
    decision = await authorize(guard, "t", args)
    assert decision.arguments == args
    assert decision.arguments is not args
    assert (await authorize(guard, "t")).arguments == {}


@pytest.mark.parametrize("tool", [None, 42, b"search", ["search"]])
async def test_tool_name_must_be_text(make_guard: GuardFactory, authorize: Authorize, tool: object) -> None:
    with pytest.raises(TypeError, match="tool name must be str"):
        await authorize(make_guard(), tool)


@pytest.mark.parametrize("args", [["a"], "a=1", {1: "a"}, 42])
async def test_arguments_must_be_a_mapping_with_text_keys(
    make_guard: GuardFactory, capture: SpanCapture, authorize: Authorize, args: object
) -> None:
    with pytest.raises(TypeError, match="mapping with string keys"):
        await authorize(make_guard({"tools": {"unknown": "allow"}}), "t", args)
    with pytest.raises(TypeError):
        make_guard().tools.check("t", args)  # type: ignore[arg-type]
    assert capture.finished_spans() == ()


def test_long_tool_names_are_truncated_in_spans(make_guard: GuardFactory, capture: SpanCapture) -> None:
    name = "t" * 1000
    assert make_guard().tools.check(name).tool == name
    [span] = capture.finished_spans()
    assert span.attributes[semconv.GEN_AI_TOOL_NAME] == "t" * 256


class UnhashableName(str):
    """A tool name that breaks the authorizer's lookups."""

    __slots__ = ()

    def __hash__(self) -> int:
        raise RuntimeError("lookup failed")


async def test_authorizer_failure_fails_closed(
    make_guard: GuardFactory, capture: SpanCapture, authorize: Authorize
) -> None:
    guard = make_guard({"tools": {"unknown": "allow"}})
    with pytest.raises(aispm.GuardFailed) as info:
        await authorize(guard, UnhashableName("t"), {"a": 1})
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.decision.rule_ids == ("guard.failed",)
    assert info.value.decision.arguments == {}
    [span] = capture.finished_spans()
    assert span.attributes[semconv.ERROR_TYPE] == "RuntimeError"
    assert span.status.status_code.name == "ERROR"


def test_authorizer_failure_fail_open(make_guard: GuardFactory) -> None:
    guard = make_guard({"fail_mode": "open"})
    decision = guard.tools.authorize(UnhashableName("t"), {"a": 1})
    assert decision.action is Action.ALLOW
    assert decision.arguments == {"a": 1}
    assert decision.rule_ids == ("guard.failed",)
