"""Redaction: placeholders, and how overlapping, adjacent and nested findings merge."""

from __future__ import annotations

import pytest

import aispm
from aispm import Action, Finding, Severity
from aispm._redact import placeholder, redact


def found(start: int | None, end: int | None, detector: str = "pii.email") -> Finding:
    return Finding(detector=detector, category="pii", severity=Severity.MEDIUM, start=start, end=end)


@pytest.mark.parametrize(
    ("detector_id", "expected"),
    [
        ("pii.email", "[REDACTED:EMAIL]"),
        ("pii.us_ssn", "[REDACTED:US_SSN]"),
        ("secrets.aws_access_key", "[REDACTED:AWS_ACCESS_KEY]"),
        ("secrets.private_key", "[REDACTED:PRIVATE_KEY]"),
        ("acme.pii.iban", "[REDACTED:IBAN]"),  # the last dotted part
        ("custom", "[REDACTED:CUSTOM]"),  # no dot
        ("acme.employee-id", "[REDACTED:EMPLOYEE-ID]"),
    ],
)
def test_placeholder(detector_id: str, expected: str) -> None:
    assert placeholder(detector_id) == expected


TEXT = "0123456789abcdefghij"

REDACTIONS = [
    # (findings, expected)
    ([], TEXT),
    ([found(0, 4)], "[REDACTED:EMAIL]456789abcdefghij"),
    ([found(16, 20)], "0123456789abcdef[REDACTED:EMAIL]"),
    ([found(0, 20)], "[REDACTED:EMAIL]"),
    ([found(2, 4), found(10, 12, "pii.phone")], "01[REDACTED:EMAIL]456789[REDACTED:PHONE]cdefghij"),
    # order of the findings does not matter
    ([found(10, 12, "pii.phone"), found(2, 4)], "01[REDACTED:EMAIL]456789[REDACTED:PHONE]cdefghij"),
    # adjacent spans stay two placeholders
    ([found(2, 4), found(4, 6, "pii.phone")], "01[REDACTED:EMAIL][REDACTED:PHONE]6789abcdefghij"),
    # overlapping spans merge; the placeholder of the first one is used
    ([found(2, 6), found(4, 8, "pii.phone")], "01[REDACTED:EMAIL]89abcdefghij"),
    ([found(4, 8, "pii.phone"), found(2, 6)], "01[REDACTED:EMAIL]89abcdefghij"),
    # a chain of overlaps is one placeholder
    ([found(2, 6), found(5, 9, "pii.phone"), found(8, 12, "pii.us_ssn")], "01[REDACTED:EMAIL]cdefghij"),
    # nested spans: the outer one covers the inner one
    ([found(2, 10, "pii.phone"), found(4, 6)], "01[REDACTED:PHONE]abcdefghij"),
    ([found(4, 6), found(2, 10, "pii.phone")], "01[REDACTED:PHONE]abcdefghij"),
    # same start: the shorter span comes first, the longer one extends it
    ([found(2, 8, "pii.phone"), found(2, 4)], "01[REDACTED:EMAIL]89abcdefghij"),
    # identical spans: one placeholder
    ([found(2, 4), found(2, 4)], "01[REDACTED:EMAIL]456789abcdefghij"),
    # unlocated findings (whole-text findings such as invisible characters) are ignored
    ([found(None, None)], TEXT),
    ([found(None, None), found(2, 4, "pii.phone")], "01[REDACTED:PHONE]456789abcdefghij"),
    # an empty span inserts a placeholder: it marks where something was found
    ([found(3, 3)], "012[REDACTED:EMAIL]3456789abcdefghij"),
]


@pytest.mark.parametrize(("findings", "expected"), REDACTIONS)
def test_redact(findings: list[Finding], expected: str) -> None:
    assert redact(TEXT, findings) == expected
    assert redact(TEXT, iter(findings)) == expected  # any iterable, consumed once


def test_redact_without_located_findings_returns_the_same_object() -> None:
    assert redact(TEXT, []) is TEXT
    assert redact(TEXT, [found(None, None)]) is TEXT


def test_redact_keeps_surrounding_unicode() -> None:
    text = "\u2709 \u200bbob@example.com \u2014 \u6771\u4eac \U0001f642"
    start = text.index("bob")
    end = start + len("bob@example.com")
    assert redact(text, [found(start, end)]) == "\u2709 \u200b[REDACTED:EMAIL] \u2014 \u6771\u4eac \U0001f642"


def test_output_scanner_redacts_with_placeholders() -> None:
    text = "Mail bob@example.com or call +1-202-555-0143."
    decision = aispm.Guard().output.scan(text)
    assert decision.action is Action.REDACT
    assert decision.text == "Mail [REDACTED:EMAIL] or call [REDACTED:PHONE]."
    assert decision.reason == "2 finding(s) redacted"
    # findings keep the offsets of the original text
    assert [text[f.start : f.end] for f in decision.findings if f.start is not None] == [
        "bob@example.com",
        "+1-202-555-0143",
    ]


def test_output_scanner_merges_overlapping_findings_of_custom_detectors() -> None:
    class Spans:
        category = "pii"

        def __init__(self, id: str, spans: list[tuple[int, int]]) -> None:
            self.id = id
            self._spans = spans

        def detect(self, text: aispm.detectors.ScanText) -> list[Finding]:
            return [found(s, e, self.id) for s, e in self._spans]

    policy = {"output": {"detectors": ["acme.outer", "acme.inner"]}}
    guard = aispm.Guard(policy, detectors=[Spans("acme.outer", [(2, 8)]), Spans("acme.inner", [(4, 12)])])
    decision = guard.output.scan(TEXT)
    assert decision.action is Action.REDACT
    assert decision.text == "01[REDACTED:OUTER]cdefghij"
    assert set(decision.rule_ids) == {"acme.outer", "acme.inner"}
