"""The shared normalisation pass: built once per checked text, read by every detector.

Detectors that look for phrasing (prompt injection, jailbreaks) read
``ScanText.folded``: NFKC-normalised, lower-cased, with zero-width, bidi-control
and Unicode tag characters removed. Detectors that must redact (PII, secrets)
read ``ScanText.original``. ``to_original`` maps an offset in ``folded`` back
to ``original`` so every finding points into the text the caller passed.

ASCII text, by far the common case, takes a fast path: it cannot contain
invisible characters and NFKC leaves it unchanged, so folding is one
``str.lower()`` and offsets map one to one.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and joiner characters, bidi embeddings/overrides/isolates, the
# soft hyphen, the Mongolian vowel separator, the BOM, and the Unicode tag block
# (U+E0000..U+E007F, used for "ASCII smuggling"). Invisible to a human reader,
# they are used to split trigger words and to hide instructions.
_INVISIBLE = (
    "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f"
    "\ud800-\udfff"  # lone surrogates (invalid Unicode) are invisible too, and split words the same way
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_TAG_RE = re.compile("[\U000e0000-\U000e007f]")
# One character class (so `re` skips other characters fast), then one greedy
# class: no backtracking, linear time. Runs without a digit are dropped after.
_DIGIT_RUN = re.compile(r"[0-9(+][0-9 ().+/-]*")
_DIGIT = re.compile(r"[0-9]")


class ScanText:
    """One text as every detector sees it. Each view is computed lazily, at most once."""

    __slots__ = ("_ascii", "_digit_runs", "_folded", "_memo_folded", "_memo_original", "_offsets", "original")

    def __init__(self, original: str) -> None:
        self.original = original
        self._ascii = original.isascii()
        self._folded: str | None = None
        self._offsets: list[int] | None = None  # None: offsets map one to one
        self._memo_folded: dict[str, bool] = {}
        self._memo_original: dict[str, bool] = {}
        self._digit_runs: list[tuple[int, int]] | None = None

    @property
    def folded(self) -> str:
        """Lower-cased NFKC text without invisible characters, for phrase detectors."""
        folded = self._folded
        if folded is None:
            if self._ascii:
                folded = self.original.lower()
            else:
                folded, self._offsets = _fold(self.original)
            self._folded = folded
        return folded

    @property
    def invisible_count(self) -> int:
        """How many invisible characters ``folded`` drops."""
        if self._ascii:
            return 0
        return sum(1 for _ in _INVISIBLE_RE.finditer(self.original))

    @property
    def has_tag_characters(self) -> bool:
        """True when the text carries Unicode tag characters (ASCII smuggling)."""
        return not self._ascii and _TAG_RE.search(self.original) is not None

    @property
    def digit_runs(self) -> list[tuple[int, int]]:
        """Spans of ``original`` made of digits and number punctuation (space, ``( ) . + / -``).

        Numeric detectors (phone, card, SSN) search only inside these, so the
        text is scanned for digits once, not once per detector.
        """
        runs = self._digit_runs
        if runs is None:
            text = self.original
            runs = self._digit_runs = [
                m.span() for m in _DIGIT_RUN.finditer(text) if _DIGIT.search(text, m.start(), m.end())
            ]
        return runs

    def memo(self, *, folded: bool) -> dict[str, bool]:
        """Which substrings occur in ``folded`` (or ``original``), as far as detectors have asked.

        Detectors share it, so a substring is searched for at most once per text.
        """
        return self._memo_folded if folded else self._memo_original

    def contains(self, needle: str, *, folded: bool = True) -> bool:
        """Whether ``needle`` occurs in ``folded`` (or ``original``); memoised in `memo`."""
        memo = self.memo(folded=folded)
        found = memo.get(needle)
        if found is None:
            found = memo[needle] = needle in (self.folded if folded else self.original)
        return found

    def to_original(self, index: int) -> int:
        """Map an offset in ``folded`` (``0..len(folded)``) to one in ``original``."""
        _ = self.folded  # computes the offset map
        offsets = self._offsets
        if offsets is None:
            return index
        if index >= len(offsets):
            return len(self.original)
        return offsets[index]

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``folded`` span to the ``original`` span that covers it."""
        _ = self.folded  # computes the offset map
        offsets = self._offsets
        if offsets is None:
            return start, end
        if end <= start:
            o = self.to_original(start)
            return o, o
        # The last folded character may come from a multi-character expansion;
        # end after the original character it came from.
        return self.to_original(start), offsets[end - 1] + 1


def _fold(text: str) -> tuple[str, list[int] | None]:
    stripped = _INVISIBLE_RE.sub("", text)
    folded = unicodedata.normalize("NFKC", stripped).lower()
    if len(stripped) == len(text) and len(folded) == len(text):
        # Same length throughout: each character folded to exactly one.
        return folded, None
    return _fold_with_offsets(text)


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    # Slow path, taken only when folding changes the length: fold runs of
    # visible characters one character at a time to keep an offset map.
    # Per-character NFKC can differ from whole-string NFKC for combining
    # sequences; that only matters for phrase matching, never for redaction,
    # which works on the original text.
    parts: list[str] = []
    offsets: list[int] = []
    normalize = unicodedata.normalize
    for i, ch in enumerate(text):
        if ch < "\u00ad":
            parts.append(ch.lower())
            offsets.append(i)
            continue
        if _INVISIBLE_RE.match(ch):
            continue
        folded = normalize("NFKC", ch).lower()
        parts.append(folded)
        offsets.extend([i] * len(folded))
    return "".join(parts), offsets
