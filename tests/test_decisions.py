"""Decision values: ordering, validation, aliases and `combine`."""

from __future__ import annotations

import dataclasses

import pytest

from aispm import Action, Decision, Finding, Severity, TextDecision, ToolDecision, combine


def _finding(detector: str = "pii.email", severity: Severity = Severity.MEDIUM, start: int = 0) -> Finding:
    return Finding(detector=detector, category="pii", severity=severity, start=start, end=start + 3)


# --- ordering -------------------------------------------------------------------


def test_actions_are_ordered_by_severity() -> None:
    assert Action.ALLOW < Action.REDACT < Action.REQUIRE_APPROVAL < Action.DENY
    assert sorted([Action.DENY, Action.ALLOW, Action.REQUIRE_APPROVAL, Action.REDACT]) == list(Action)
    assert max(Action) is Action.DENY
    assert min(Action) is Action.ALLOW
    assert Action.DENY >= Action.DENY
    assert Action.REDACT <= Action.REDACT
    assert Action.DENY > Action.ALLOW


def test_severities_are_ordered() -> None:
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert [s.rank for s in Severity] == [0, 1, 2, 3, 4]
    assert max(Severity) is Severity.CRITICAL


@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__"])
def test_actions_and_severities_do_not_compare(op: str) -> None:
    assert getattr(Action.DENY, op)(Severity.HIGH) is NotImplemented
    assert getattr(Severity.HIGH, op)("high") is NotImplemented
    with pytest.raises(TypeError):
        _ = Action.DENY < Severity.HIGH  # type: ignore[operator]


# --- Decision -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "allowed"),
    [(Action.ALLOW, True), (Action.REDACT, True), (Action.REQUIRE_APPROVAL, False), (Action.DENY, False)],
)
def test_allowed(action: Action, allowed: bool) -> None:
    assert Decision(action, "prompt", "x").allowed is allowed


def test_text_decision_text_is_value() -> None:
    decision = TextDecision(Action.REDACT, "output", "[REDACTED:EMAIL]")
    assert decision.text == "[REDACTED:EMAIL]"
    assert decision.text is decision.value


def test_tool_decision_arguments_is_value() -> None:
    args = {"q": "weather"}
    decision = ToolDecision(Action.ALLOW, "tools", args, tool="search")
    assert decision.arguments is args
    assert decision.tool == "search"


def test_decisions_are_immutable() -> None:
    decision = TextDecision(Action.ALLOW, "prompt", "hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.action = Action.DENY  # type: ignore[misc]


# --- Finding --------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [None, 0.0, 0.5, 1.0])
def test_finding_accepts_confidence_in_range(confidence: float | None) -> None:
    assert Finding("d", "c", Severity.LOW, confidence=confidence).confidence == confidence


@pytest.mark.parametrize("confidence", [-0.01, 1.01, float("nan"), float("inf")])
def test_finding_rejects_confidence_out_of_range(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        Finding("d", "c", Severity.LOW, confidence=confidence)


@pytest.mark.parametrize(("start", "end"), [(0, None), (None, 3)])
def test_finding_needs_both_start_and_end(start: int | None, end: int | None) -> None:
    with pytest.raises(ValueError, match="both"):
        Finding("d", "c", Severity.LOW, start=start, end=end)


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (5, 4)])
def test_finding_rejects_invalid_span(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="invalid span"):
        Finding("d", "c", Severity.LOW, start=start, end=end)


def test_finding_accepts_empty_span_and_no_span() -> None:
    assert Finding("d", "c", Severity.LOW, start=3, end=3).end == 3
    finding = Finding("d", "c", Severity.LOW)
    assert (finding.start, finding.end, finding.confidence, finding.mappings, finding.fingerprint) == (
        None,
        None,
        None,
        (),
        "",
    )


# --- combine ------------------------------------------------------------------


def test_combine_most_severe_action_wins() -> None:
    decisions = [
        TextDecision(Action.REDACT, "output", "a [X]", (_finding(),), ("pii.email",), "1 finding(s) redacted", 5),
        TextDecision(Action.DENY, "output", "", (_finding("secrets.x", Severity.HIGH),), ("secrets.x",), "denied", 7),
        TextDecision(Action.ALLOW, "output", "fine", duration_ns=11),
    ]
    combined = combine(decisions)
    assert type(combined) is TextDecision
    assert combined.action is Action.DENY
    assert combined.value == ""
    assert combined.reason == "denied"
    assert combined.duration_ns == 23
    assert combined.rule_ids == ("pii.email", "secrets.x")
    assert combined.findings == (_finding(), _finding("secrets.x", Severity.HIGH))


def test_combine_merges_without_duplicates_in_first_seen_order() -> None:
    a, b, c = _finding(start=0), _finding(start=10), _finding("pii.phone", start=20)
    combined = combine(
        [
            TextDecision(Action.REDACT, "output", "1", (a, b), ("pii.email",), "r1"),
            TextDecision(Action.REDACT, "output", "2", (b, c), ("pii.email", "pii.phone"), "r2"),
            TextDecision(Action.REDACT, "output", "3", (a,), ("pii.email",), "r1"),
        ]
    )
    assert combined.findings == (a, b, c)
    assert combined.rule_ids == ("pii.email", "pii.phone")
    assert combined.reason == "r1; r2"
    assert combined.value == "3"  # the last decision with the winning action


def test_combine_keeps_only_reasons_of_the_winning_action() -> None:
    combined = combine(
        [
            TextDecision(Action.REDACT, "output", "x", reason="redacted"),
            TextDecision(Action.REQUIRE_APPROVAL, "output", "", reason="needs approval"),
        ]
    )
    assert combined.action is Action.REQUIRE_APPROVAL
    assert combined.reason == "needs approval"


def test_combine_value_override() -> None:
    combined = combine(
        [TextDecision(Action.ALLOW, "output", "a"), TextDecision(Action.ALLOW, "output", "b")], value="c"
    )
    assert combined.value == "c"
    assert combined.action is Action.ALLOW


def test_combine_accepts_any_iterable() -> None:
    combined = combine(ToolDecision(a, "tools", {}, tool="t") for a in (Action.ALLOW, Action.REQUIRE_APPROVAL))
    assert type(combined) is ToolDecision
    assert combined.action is Action.REQUIRE_APPROVAL
    assert combined.tool == "t"


def test_combine_single_decision_is_itself() -> None:
    decision = TextDecision(Action.REDACT, "output", "v", (_finding(),), ("pii.email",), "r", 3)
    assert combine([decision]) == decision


def test_combine_empty_raises() -> None:
    with pytest.raises(ValueError, match="at least one"):
        combine([])
