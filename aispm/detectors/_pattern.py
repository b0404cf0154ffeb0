"""`PatternDetector`: linear-time regular expressions behind cheap substring triggers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..decisions import Finding, Severity
from ._normalize import ScanText


class PatternDetector:
    """A detector made of regular expressions, optionally gated by trigger substrings.

    The patterns must be linear-time: bounded quantifiers, no nested unbounded
    repetition (the test suite checks every built-in one on adversarial input).
    When ``triggers`` is given, the patterns only run if one of those substrings
    occurs in the text, so clean text costs a few ``in`` checks.

    Args:
        id: Stable dotted id.
        category: Category of the findings.
        severity: Severity of every finding.
        patterns: Regular expressions; on folded text they see lower case.
        triggers: Substrings, one of which must occur for the patterns to run.
        mappings: Framework references recorded on every finding.
        confidence: Score of every finding, or ``None``.
        folded: Match ``ScanText.folded`` (phrases) instead of ``original`` (data).
        validate: Extra check on a matched string (e.g. the Luhn checksum).
    """

    __slots__ = (
        "_category",
        "_confidence",
        "_folded",
        "_id",
        "_mappings",
        "_patterns",
        "_severity",
        "_triggers",
        "_validate",
    )

    def __init__(
        self,
        id: str,
        category: str,
        severity: Severity,
        patterns: Sequence[str],
        *,
        triggers: Sequence[str] = (),
        mappings: Sequence[str] = (),
        confidence: float | None = None,
        folded: bool = False,
        validate: Callable[[str], bool] | None = None,
    ) -> None:
        self._id = id
        self._category = category
        self._severity = severity
        self._patterns = tuple(re.compile(p) for p in patterns)
        self._triggers = tuple(triggers)
        self._mappings = tuple(mappings)
        self._confidence = confidence
        self._folded = folded
        self._validate = validate

    @property
    def id(self) -> str:
        """Stable dotted id."""
        return self._id

    @property
    def category(self) -> str:
        """Category of the findings."""
        return self._category

    def __repr__(self) -> str:
        return f"PatternDetector(id={self._id!r})"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return non-overlapping findings ordered by position."""
        haystack = text.folded if self._folded else text.original
        if self._triggers and not any(t in haystack for t in self._triggers):
            return []
        spans: list[tuple[int, int]] = []
        for pattern in self._patterns:
            for match in pattern.finditer(haystack):
                if self._validate is not None and not self._validate(match.group()):
                    continue
                spans.append(match.span())
        if not spans:
            return []
        spans.sort()
        findings: list[Finding] = []
        last_end = -1
        for start, end in spans:
            if start < last_end:
                continue  # overlaps a finding already reported
            last_end = end
            if self._folded:
                start, end = text.span_to_original(start, end)
            findings.append(
                Finding(
                    detector=self._id,
                    category=self._category,
                    severity=self._severity,
                    start=start,
                    end=end,
                    confidence=self._confidence,
                    mappings=self._mappings,
                )
            )
        return findings
