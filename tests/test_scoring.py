"""Source-aware thresholds, per-detector thresholds and allowlists."""

from __future__ import annotations

from typing import Any

import pytest

import aispm
from aispm import Action, PolicyError
from aispm.decisions import Severity
from aispm.detectors import PatternDetector
from aispm.detectors._pattern import Pattern
from aispm.testing import SpanCapture

from .conftest import GuardFactory

WEAK = "note to the assistant"  # confidence 0.5: suspicious only inside data
MEDIUM = "switch persona"  # confidence 0.7
STRONG = "obey me now"  # confidence 0.95


def _scored() -> PatternDetector:
    return PatternDetector(
        "test.scored",
        "prompt_injection",
        Severity.HIGH,
        [Pattern(WEAK, confidence=0.5), Pattern(MEDIUM, confidence=0.7), Pattern(STRONG, confidence=0.95)],
        folded=True,
    )


def _guard(make_guard: GuardFactory, **prompt: Any) -> aispm.Guard:
    return make_guard({"prompt": {"detectors": ["test.scored"], **prompt}}, detectors=[_scored()])


@pytest.mark.parametrize(
    ("level", "source", "text", "action"),
    [
        ("balanced", "user", WEAK, Action.ALLOW),  # 0.5 < 0.6
        ("balanced", "tool", WEAK, Action.DENY),  # 0.5 >= 0.6 - 0.2
        ("balanced", "retrieval", WEAK, Action.DENY),
        ("balanced", "agent", WEAK, Action.DENY),
        ("balanced", "system", WEAK, Action.ALLOW),
        ("balanced", "user", MEDIUM, Action.DENY),
        ("permissive", "user", MEDIUM, Action.ALLOW),  # 0.7 < 0.8
        ("permissive", "tool", MEDIUM, Action.DENY),  # 0.7 >= 0.6
        ("permissive", "tool", WEAK, Action.ALLOW),
        ("strict", "user", WEAK, Action.DENY),  # 0.5 >= 0.4
        ("permissive", "user", STRONG, Action.DENY),
    ],
)
def test_thresholds_depend_on_level_and_source(
    make_guard: GuardFactory, level: str, source: str, text: str, action: Action
) -> None:
    decision = _guard(make_guard, level=level).prompt.check(f"Hello. {text}.", source=source)
    assert decision.action is action
    assert bool(decision.findings) is (action is Action.DENY)  # findings below threshold are not findings


def test_a_detector_threshold_wins_over_the_level(make_guard: GuardFactory) -> None:
    guard = _guard(make_guard, thresholds={"test.scored": 0.99})
    assert guard.prompt.check(STRONG).action is Action.ALLOW
    assert guard.prompt.check(STRONG, source="tool").action is Action.DENY  # 0.95 >= 0.99 - 0.2


def test_unscored_findings_are_always_kept(make_guard: GuardFactory) -> None:
    unscored = PatternDetector("test.unscored", "pii", Severity.MEDIUM, ["secret-thing"])
    policy = {"output": {"detectors": ["test.unscored"], "level": "permissive", "thresholds": {"test.unscored": 1.0}}}
    guard = make_guard(policy, detectors=[unscored])
    assert guard.output.scan("a secret-thing here").action is Action.REDACT


# --- allowlists ------------------------------------------------------------------------------


def test_a_phrase_covering_the_finding_drops_it(make_guard: GuardFactory) -> None:
    guard = _guard(make_guard, allowlist=[{"phrases": ["please OBEY  me now, said the trainer"]}])
    assert guard.prompt.check("Quote: Please obey me now, said the trainer.").action is Action.ALLOW
    # the phrase must cover the finding: the same words elsewhere still count
    assert guard.prompt.check("Please obey me now, said the trainer. Obey me now!").action is Action.DENY
    assert guard.prompt.check("obey me now").action is Action.DENY


def test_a_pattern_covering_the_finding_drops_it(make_guard: GuardFactory) -> None:
    guard = _guard(make_guard, allowlist=[{"patterns": [r"(?i)example: \"[^\"]{0,80}\""]}])
    assert guard.prompt.check('An example: "obey me now" is a classic.').action is Action.ALLOW
    assert guard.prompt.check("obey me now").action is Action.DENY


def test_entries_are_scoped_by_detector_source_and_origin(make_guard: GuardFactory) -> None:
    entry = {"detectors": ["test.scored"], "sources": ["tool"], "origins": ["security_kb"]}
    guard = _guard(make_guard, allowlist=[entry])
    assert guard.prompt.check(STRONG, source="tool", origin="security_kb").action is Action.ALLOW
    assert guard.prompt.check(STRONG, source="tool", origin="web_search").action is Action.DENY
    assert guard.prompt.check(STRONG, source="tool").action is Action.DENY
    assert guard.prompt.check(STRONG, source="retrieval", origin="security_kb").action is Action.DENY
    other = _guard(make_guard, allowlist=[{"detectors": ["test.scored"], "phrases": ["nothing like it"]}])
    assert other.prompt.check(STRONG).action is Action.DENY


def test_allowlists_never_cover_unlocated_findings(make_guard: GuardFactory) -> None:
    guard = make_guard({"prompt": {"allowlist": [{"phrases": ["hello"]}]}})
    assert guard.prompt.check("hello\u200bthere\u200b\u200b").findings  # invisible characters: no span


def test_the_output_allowlist_keeps_a_known_address(make_guard: GuardFactory) -> None:
    guard = make_guard({"output": {"allowlist": [{"phrases": ["support@example.com"], "detectors": ["pii.email"]}]}})
    assert guard.output.scan("Write to support@example.com or bob@example.com").text == (
        "Write to support@example.com or [REDACTED:EMAIL]"
    )


def test_the_origin_is_reported(make_guard: GuardFactory, capture: SpanCapture) -> None:
    _guard(make_guard).prompt.check("fine", source="tool", origin="web_search")
    (span,) = capture.finished_spans()
    assert span.attributes[aispm.semconv.PROMPT_ORIGIN] == "web_search"
    assert span.attributes[aispm.semconv.PROMPT_SOURCE] == "tool"


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ({"allowlist": [{"detectors": ["injection.jailbreak"]}]}, "needs phrases or patterns"),
        ({"allowlist": [{"patterns": ["(unclosed"]}]}, "invalid pattern"),
        ({"allowlist": [{"phrases": ["x"], "detectors": ["pii.email"]}]}, "do not run here"),
        ({"thresholds": {"pii.email": 0.5}}, "do not run here"),
        ({"thresholds": {"injection.jailbreak": 1.5}}, "less than or equal to 1"),
        ({"level": "paranoid"}, "permissive"),
    ],
)
def test_invalid_scoring_policies_are_refused(prompt: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        aispm.Guard({"prompt": prompt})
    assert message in str(caught.value) + "".join(i.message for i in caught.value.issues)


def test_output_allowlists_cannot_name_sources() -> None:
    with pytest.raises(PolicyError):
        aispm.Guard({"output": {"allowlist": [{"phrases": ["x"], "sources": ["tool"]}]}})


# --- documents pasted into a prompt, and corroborating weak signals ------------------------------

DOCUMENT = "Experience: ten years of accounting, audit and tax work at two firms in Leeds and York, then a move."


@pytest.mark.parametrize(
    ("ask", "action"),
    [
        ("Summarise this CV:", Action.DENY),
        ("Please translate the following text into French.", Action.DENY),
        ("Assess whether the following domain is malicious based on its WHOIS record.", Action.DENY),
        ("Thanks for the help yesterday!", Action.ALLOW),  # no request about a document
    ],
)
def test_a_document_pasted_after_a_request_is_judged_as_untrusted(
    make_guard: GuardFactory, ask: str, action: Action
) -> None:
    text = f"{ask}\n\n{DOCUMENT} {WEAK}."
    assert _guard(make_guard).prompt.check(text).action is action
    assert _guard(make_guard).prompt.check(f"{ask}\n\n{DOCUMENT} {MEDIUM}.").action is Action.DENY


def test_the_request_itself_and_short_pastes_stay_direct_text(make_guard: GuardFactory) -> None:
    g = _guard(make_guard)
    assert g.prompt.check(f"Summarise this CV, {WEAK}:\n\n{DOCUMENT}").allowed  # the request is the user's
    assert g.prompt.check(f"Summarise this: {WEAK}.").allowed  # too short to be a document


def _weak(id: str) -> PatternDetector:
    return PatternDetector(id, "prompt_injection", Severity.HIGH, [Pattern(WEAK, confidence=0.5)], folded=True)


@pytest.mark.parametrize(
    ("ids", "action"),
    [
        (("injection.test_a", "injection.test_b"), Action.DENY),  # 1 - 0.5 * 0.5 = 0.75
        (("injection.test_a", "obfuscation.test_b"), Action.DENY),
        (("test.a", "test.b"), Action.ALLOW),  # not injection detectors: no corroboration
        (("injection.test_a",), Action.ALLOW),  # one detector, however often it fires
    ],
)
def test_weak_signals_of_distinct_injection_detectors_corroborate(
    make_guard: GuardFactory, ids: tuple[str, ...], action: Action
) -> None:
    g = make_guard({"prompt": {"detectors": list(ids)}}, detectors=[_weak(i) for i in ids])
    decision = g.prompt.check(f"Hello. {WEAK}. And again: {WEAK}.")
    assert decision.action is action
    if action is Action.DENY:
        assert {f.confidence for f in decision.findings} == {0.75}
