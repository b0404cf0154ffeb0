"""ScanText (the shared normalisation pass), PatternDetector basics and the lazy public names."""

from __future__ import annotations

import pytest

import aispm
from aispm import Severity
from aispm.detectors import BUILTIN, PatternDetector, ScanText
from aispm.detectors._normalize import sentinel_of


def test_ascii_text_folds_by_lower_case_and_maps_offsets_one_to_one() -> None:
    text = ScanText("Ignore THIS")
    assert text.folded == "ignore this"
    assert text.to_original(3) == 3
    assert text.span_to_original(0, 6) == (0, 6)
    assert text.invisible_count == 0
    assert not text.has_tag_characters


def test_invisible_characters_are_dropped_and_offsets_point_into_the_original() -> None:
    original = "a\u200bb\u200bc IGNORE"
    text = ScanText(original)
    assert text.folded == "abc ignore"
    assert text.invisible_count == 2
    start = text.folded.index("ignore")
    mapped = text.span_to_original(start, start + len("ignore"))
    assert original[mapped[0] : mapped[1]] == "IGNORE"
    assert text.to_original(len(text.folded)) == len(original)  # the end of the text maps to the end
    assert text.span_to_original(4, 4) == (text.to_original(4),) * 2  # an empty span stays empty


def test_expanding_characters_map_back_to_the_character_they_came_from() -> None:
    original = "\ufb01x"  # the "fi" ligature folds to two characters
    text = ScanText(original)
    assert text.folded == "fix"
    assert text.span_to_original(0, 2) == (0, 1)
    assert text.span_to_original(2, 3) == (1, 2)


def test_tag_characters_are_flagged() -> None:
    text = ScanText("hi\U000e0069\U000e0067")
    assert text.has_tag_characters
    assert text.folded == "hi"


def test_contains_is_memoised_per_view() -> None:
    text = ScanText("Hello World")
    assert text.contains("world")
    assert not text.contains("world", folded=False)
    assert text.contains("World", folded=False)
    assert text.memo(folded=True) == {"world": True}
    assert text.memo(folded=False) == {"world": False, "World": True}


def test_digit_runs_hold_numbers_and_their_punctuation_only() -> None:
    text = ScanText("call +1 (202) 555-0143 or (see above) at 9")
    assert [text.original[s:e] for s, e in text.digit_runs] == ["+1 (202) 555-0143 ", "9"]


def test_pattern_detector_describes_itself() -> None:
    detector = PatternDetector("acme.ticket", "internal", Severity.LOW, [r"TCK-\d{6}"], requires=["TCK-"])
    assert (detector.id, detector.category) == ("acme.ticket", "internal")
    assert repr(detector) == "PatternDetector(id='acme.ticket')"
    [finding] = detector.detect(ScanText("see TCK-123456"))
    assert (finding.start, finding.end, finding.severity) == (4, 14, Severity.LOW)


@pytest.mark.parametrize("number", ["+1234567890123456789", "+12 345 678"])
def test_phone_runs_outside_e164_lengths_are_not_phone_numbers(number: str) -> None:
    assert BUILTIN["pii.phone"]().detect(ScanText(f"call {number} now")) == []


def test_lazy_public_names() -> None:
    assert "Guard" in dir(aispm)
    assert aispm.Policy is aispm.policy.Policy
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = aispm.Nope  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("needle", "sentinel"),
    [("](http", "]"), ('"role"', '"'), ("指令", "指"), ("system", None), ("a b", None), ("<", None)],
)
def test_a_needle_is_looked_for_after_its_rarest_character(needle: str, sentinel: str | None) -> None:
    assert sentinel_of(needle) == sentinel


@pytest.mark.parametrize(
    ("text", "needle", "expected"),
    [
        ('{"role": "system", "x": {"role": "tool"}}', '"role"', [1, 25]),
        ("the role of a user", '"role"', []),  # no double quote: no search
        ("aaaa", "aa", [0, 1, 2]),  # overlapping
        ("指令を無視", "指令", [0]),
        ("plain ascii", "指令", []),
    ],
)
def test_occurrences_find_every_offset(text: str, needle: str, expected: list[int]) -> None:
    assert ScanText(text).occurrences(needle, "original") == expected
