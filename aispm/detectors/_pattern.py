"""`PatternDetector`: linear-time regular expressions, run only where cheap literal checks say they can match.

CPython's ``re`` tries an alternation at every position of the text, which is
far too slow for a guard on every model call. Detection therefore runs in
tiers, all in C-speed string operations:

1. ``words``: whole words of which at least one must occur (one set
   operation on ``ScanText.words``), and ``requires``: substrings of which
   at least one must occur anywhere in the text (each checked at most once
   per text, shared by every detector through ``ScanText.memo``). Clean text
   usually stops here.
2. Each `Pattern` names the literal words its matches start with; the pattern
   is matched (anchored) only at occurrences of those words.

Patterns must be linear-time: bounded quantifiers, no nested unbounded
repetition. The test suite checks every built-in one on adversarial input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..decisions import Finding, Severity
from ._findings import located
from ._normalize import ScanText


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression and the literal strings its matches start with.

    With ``starts`` empty, the pattern is searched over the whole text (fine
    for patterns that begin with a rare literal character, which ``re``
    finds with ``memchr``).
    """

    regex: str
    starts: tuple[str, ...] = ()
    confidence: float | None = None  # overrides the detector's for matches of this pattern
    whole: bool = False
    """The start words are whole words (the pattern needs a word boundary after each): a
    start word whose first ASCII letter run is not in ``ScanText.words`` is not searched for."""


class PatternDetector:
    """A detector made of `Pattern` objects.

    Args:
        id: Stable dotted id.
        category: Category of the findings.
        severity: Severity of every finding.
        patterns: The patterns; on a lower-cased view they see lower case.
        requires: Substrings one of which must occur (in the view) for any pattern to run.
        words: Word tokens one of which must occur in ``ScanText.words`` for any
            pattern to run; cheaper than ``requires`` when there are many.
        mappings: Framework references recorded on every finding.
        confidence: Score of every finding, or ``None``.
        folded: Shorthand for ``view="skeleton"`` (English phrases).
        view: The `ScanText` view to match: ``original``, ``data``, ``folded`` or ``skeleton``.
        validate: Extra check on a matched string (e.g. the Luhn checksum).
        in_digit_runs: Search only inside ``ScanText.digit_runs`` (numeric patterns,
            whose matches consist of digits and number punctuation).
    """

    __slots__ = (
        "_category",
        "_id",
        "_in_digit_runs",
        "_mappings",
        "_patterns",
        "_requires",
        "_severity",
        "_validate",
        "_view",
        "_words",
    )

    def __init__(
        self,
        id: str,
        category: str,
        severity: Severity,
        patterns: Sequence[Pattern | str],
        *,
        requires: Sequence[str] = (),
        mappings: Sequence[str] = (),
        confidence: float | None = None,
        folded: bool = False,
        validate: Callable[[str], bool] | None = None,
        in_digit_runs: bool = False,
        words: Sequence[str] = (),
        view: str | None = None,
    ) -> None:
        self._id = id
        self._in_digit_runs = in_digit_runs
        self._category = category
        self._severity = severity
        compiled: list[tuple[re.Pattern[str], tuple[tuple[str, str | None], ...], float | None]] = []
        for p in patterns:
            pattern = Pattern(p) if isinstance(p, str) else p
            score = pattern.confidence if pattern.confidence is not None else confidence
            starts = tuple((word, _gate(word) if pattern.whole else None) for word in pattern.starts)
            compiled.append((re.compile(pattern.regex), starts, score))
        self._patterns = tuple(compiled)
        self._requires = tuple(requires)
        self._mappings = tuple(mappings)
        self._view = view or ("skeleton" if folded else "original")
        if self._view not in ("original", "data", "folded", "skeleton"):
            raise ValueError(f"unknown view {self._view!r}")
        if in_digit_runs and self._view != "original":
            raise ValueError("in_digit_runs searches spans of the original text; use view='original'")
        self._words = frozenset(words)
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
        if self._words and self._words.isdisjoint(text.words):
            return []
        view = self._view
        haystack = text.view(view)
        if self._requires:
            # Inline rather than a call per needle: this loop is most of the cost of clean text.
            memo = text.memo(view=view)
            for needle in self._requires:
                hit = memo.get(needle)
                if hit is None:
                    hit = memo[needle] = needle in haystack
                if hit:
                    break
            else:
                return []
        spans: list[tuple[int, int, float | None]] = []
        validate = self._validate
        words = text.words
        # Windows to search: the digit runs (each extended by one character, so a
        # look-ahead sees the real next character), or the whole text.
        windows = [(start, end + 1) for start, end in text.digit_runs] if self._in_digit_runs else [(0, len(haystack))]
        for regex, starts, score in self._patterns:
            if not starts:
                for lo, hi in windows:
                    spans.extend(
                        (m.start(), m.end(), score)
                        for m in regex.finditer(haystack, lo, hi)
                        if validate is None or validate(m.group())
                    )
                continue
            for word, gate in starts:
                if gate is not None and gate not in words:
                    continue  # one set lookup instead of a search of the whole text
                for at in text.occurrences(word, view):
                    anchored = regex.match(haystack, at)
                    if anchored is not None and (validate is None or validate(anchored.group())):
                        spans.append((anchored.start(), anchored.end(), score))
        return located(
            text,
            spans,
            detector=self._id,
            category=self._category,
            severity=self._severity,
            mappings=self._mappings,
            view=view,
        )


_ASCII_RUN = re.compile(r"[a-z0-9]+")


def _gate(word: str) -> str | None:
    """The token of ``ScanText.words`` a whole start word must produce: its first ASCII letter run.

    ``None`` (always search) when the word does not start with one: non-ASCII words (a CJK run
    is one long token) and words starting with punctuation.
    """
    m = _ASCII_RUN.match(word)
    if m is None or (m.end() < len(word) and not word[m.end()].isascii()):
        return None  # "esqueça": the token is the whole non-ASCII word, not its ASCII head
    return m.group()
