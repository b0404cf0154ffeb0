"""The shared normalisation pass: built once per checked text, read by every detector.

A `ScanText` offers one text in several views, each computed lazily, at most once:

- ``original``: what the caller passed. Every finding's offsets point into it.
- ``data``: NFKC-normalised, with zero-width, bidi-control, tag characters and
  lone surrogates removed; case kept. Data detectors (PII, secrets, links)
  search it, so a fullwidth at sign or a zero-width space inside a key hides nothing.
- ``folded``: ``data`` lower-cased. Phrase detectors written for a language
  with its own script (Russian, Chinese, ...) read it.
- ``skeleton``: ``folded`` with leetspeak digits and symbols (``1gn0r3``) and
  Latin look-alikes from other scripts (Cyrillic and Greek letters) mapped to
  the Latin letters they imitate. English phrase detectors read it.
- ``words``: the set of word tokens of ``skeleton`` (and, for non-ASCII text,
  of ``folded``): one C-speed split, after which "does any of these words
  occur?" costs one set operation however many words a detector asks about.

``data``, ``folded`` and ``skeleton`` have the same length, so one offset map
(``span_to_original``) serves all three. ASCII text, by far the common case,
takes a fast path: it cannot contain invisible characters and NFKC leaves it
unchanged, so ``data`` is ``original`` and offsets map one to one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

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
# Digit runs: one C-speed translate maps digits to "0", number punctuation to itself
# and everything else to NUL; then memchr finds digits, and each run's ends are the
# NULs around it (``rfind``/``find``). About 1 µs per KB of prose. Non-ASCII text is
# encoded with "?" for each non-ASCII character first, which keeps offsets.
_RUN_BYTES = bytes(ord("0") if chr(b).isdigit() and b < 128 else b if chr(b) in " ().+/-" else 0 for b in range(256))

# Leetspeak: digits and symbols standing for the letters they resemble. Only
# symbols that cannot end a sentence ('!' and '|' can, so they stay).
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
# Latin look-alikes (a subset of Unicode's confusables.txt covering the letters
# used in practice: Cyrillic and Greek lower case, after NFKC and lower-casing).
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",  # noqa: RUF001
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",  # noqa: RUF001
    "ɡ": "g", "ԛ": "q", "ԝ": "w", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k",  # noqa: RUF001
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ɑ": "a",  # noqa: RUF001
    "ı": "i", "ɩ": "i", "ʏ": "y", "ᴄ": "c", "ᴏ": "o", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z",  # noqa: RUF001
}  # fmt: skip
_SKELETON_BYTES = bytes.maketrans(b"".join(k.encode() for k in _LEET), b"".join(v.encode() for v in _LEET.values()))
_CONFUSABLE_MAP = str.maketrans(_CONFUSABLES)
_CONFUSABLE_RE = re.compile("[" + "".join(_CONFUSABLES) + "]")
# Word tokens: ASCII punctuation becomes a space, then `split()`. Leetspeak
# symbols are letters by then; apostrophes split ("don't" -> "don", "t").
# ASCII control characters split too: every character a pattern's ``\W`` matches ends a token
# (``PatternDetector`` relies on it to skip patterns whose whole words are absent).
_PUNCTUATION = b"!\"#%&'()*+,-./:;<=>?[\\]^_`{|}~" + bytes(range(32)) + b"\x7f"
_WORD_BYTES = bytes.maketrans(_PUNCTUATION, b" " * len(_PUNCTUATION))
_WORD_RE = re.compile(r"[^\W_]+")

_VIEWS = ("original", "data", "folded", "skeleton")


class ScanText:
    """One text as every detector sees it. Each view is computed lazily, at most once."""

    __slots__ = (
        "_ascii",
        "_bits",
        "_data",
        "_data_digit_runs",
        "_digit_runs",
        "_folded",
        "_lookalikes",
        "_memos",
        "_occurrences",
        "_offsets",
        "_searches",
        "_skeleton",
        "_words",
        "original",
    )

    def __init__(self, original: str) -> None:
        self.original = original
        self._ascii = original.isascii()
        self._data: str | None = None
        self._folded: str | None = None
        self._skeleton: str | None = None
        self._lookalikes = False  # the skeleton folded Cyrillic or Greek look-alikes
        self._words: frozenset[str] | None = None
        self._offsets: list[int] | None = None  # None: offsets map one to one
        self._memos: dict[str, dict[str, bool]] = {}
        self._bits: tuple[dict[str, int], int] | None = None
        self._occurrences: dict[tuple[str, str], list[int]] = {}
        self._searches: dict[tuple[str, re.Pattern[str]], bool] = {}
        self._digit_runs: list[tuple[int, int]] | None = None
        self._data_digit_runs: list[tuple[int, int]] | None = None

    @property
    def is_ascii(self) -> bool:
        """True when the text is plain ASCII (every view then maps offsets one to one)."""
        return self._ascii

    @property
    def data(self) -> str:
        """NFKC text without invisible characters, case kept, for data detectors."""
        data = self._data
        if data is None:
            if self._ascii:
                data = self.original
            else:
                data, self._folded, self._offsets = _normalize(self.original)
            self._data = data
        return data

    @property
    def folded(self) -> str:
        """``data`` lower-cased, for phrase detectors of languages with their own script."""
        folded = self._folded
        if folded is None:
            if self._ascii:
                folded = self.original.lower()
            else:
                self._data, folded, self._offsets = _normalize(self.original)
            self._folded = folded
        return folded

    @property
    def skeleton(self) -> str:
        """``folded`` with leetspeak and Latin look-alikes mapped to letters, for English phrase detectors."""
        skeleton = self._skeleton
        if skeleton is None:
            folded = self.folded
            if self._ascii:
                skeleton = folded.encode("ascii").translate(_SKELETON_BYTES).decode("ascii")
            else:
                # Leetspeak symbols are ASCII, so a bytes.translate of the UTF-8 maps them at C speed
                # without touching multi-byte characters; `str.translate` with a dict costs ~80 ns a
                # character, so it runs only on texts that hold a look-alike letter.
                utf8 = folded.encode("utf-8", "surrogatepass").translate(_SKELETON_BYTES)
                skeleton = utf8.decode("utf-8", "surrogatepass")
                if _CONFUSABLE_RE.search(skeleton) is not None:
                    skeleton = skeleton.translate(_CONFUSABLE_MAP)
                    self._lookalikes = True
            self._skeleton = skeleton
        return skeleton

    @property
    def words(self) -> frozenset[str]:
        """Word tokens of ``skeleton`` (plus those of ``folded`` for non-ASCII text)."""
        words = self._words
        if words is None:
            skeleton = self.skeleton
            if self._ascii:
                words = frozenset(skeleton.encode("ascii").translate(_WORD_BYTES).decode("ascii").split())
            elif not self._lookalikes:
                # As for ASCII, then the few tokens holding non-ASCII punctuation split by `\w` runs.
                spaced = skeleton.encode("utf-8", "surrogatepass").translate(_WORD_BYTES)
                found = set(spaced.decode("utf-8", "surrogatepass").split())
                for token in [t for t in found if not t.isalnum()]:
                    found.discard(token)
                    found.update(_WORD_RE.findall(token))
                words = frozenset(found)
            else:
                # Look-alikes were folded: keep the tokens of the unfolded text too (Cyrillic words).
                words = frozenset(_WORD_RE.findall(skeleton)).union(_WORD_RE.findall(self.folded))
            self._words = words
        return words

    def word_bits(
        self,
        table: dict[str, int],
        vocabulary: frozenset[str],
        free: int,
        finish: Callable[[int, bool], int] | None = None,
    ) -> int:
        """``free`` OR'd with ``table[w]`` for each word ``w`` of the text in ``vocabulary``.

        Then, if given, passed to ``finish`` with `is_ascii` (the caller's reduction of the bits,
        done once too). Remembered for the last table asked about: the injection detectors of a
        guard share one table (a bit per word set of each of their patterns), so a text pays for
        one pass.
        """
        known = self._bits
        if known is not None and known[0] is table:
            return known[1]
        bits = free
        for word in vocabulary.intersection(self.words):
            bits |= table[word]
        if finish is not None:
            bits = finish(bits, self._ascii)
        self._bits = (table, bits)
        return bits

    def view(self, name: str) -> str:
        """One view by name: ``original``, ``data``, ``folded`` or ``skeleton``."""
        if name == "skeleton":
            return self.skeleton
        if name == "folded":
            return self.folded
        if name == "data":
            return self.data
        if name == "original":
            return self.original
        raise ValueError(f"unknown view {name!r}; expected one of {_VIEWS}")

    @property
    def invisible_count(self) -> int:
        """How many invisible characters ``data`` drops."""
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
        text is scanned for digits once, not once per detector. A run starts
        with a digit, ``(`` or ``+``. In non-ASCII text the runs are found in
        ``data`` (fullwidth digits, digits split by invisible characters) and
        mapped back, so a span may also hold what normalisation removed.
        """
        runs = self._digit_runs
        if runs is None:
            if self._ascii:
                runs = _digit_runs_of(self.original.encode("ascii"))
            else:
                runs = [self.span_to_original(s, e) for s, e in self.data_digit_runs]
            self._digit_runs = runs
        return runs

    @property
    def data_digit_runs(self) -> list[tuple[int, int]]:
        """`digit_runs` as spans of ``data`` (the same list for ASCII text)."""
        runs = self._data_digit_runs
        if runs is None:
            # NFKC made fullwidth digits and punctuation ASCII; other characters end runs.
            runs = self.digit_runs if self._ascii else _digit_runs_of(self.data.encode("ascii", "replace"))
            self._data_digit_runs = runs
        return runs

    def memo(self, *, folded: bool = False, view: str | None = None) -> dict[str, bool]:
        """Which substrings occur in a view, as far as detectors have asked.

        Detectors share it, so a substring is searched for at most once per
        view and text. ``folded=True`` is the ``skeleton`` view, ``False``
        ``original``, unless ``view`` names one.
        """
        name = view or ("skeleton" if folded else "original")
        memo = self._memos.get(name)
        if memo is None:
            memo = self._memos[name] = {}
        return memo

    def contains(self, needle: str, *, folded: bool = True, view: str | None = None) -> bool:
        """Whether ``needle`` occurs in a view (see `memo`); memoised."""
        name = view or ("skeleton" if folded else "original")
        memo = self.memo(view=name)
        found = memo.get(needle)
        if found is None:
            found = memo[needle] = needle in self.view(name)
        return found

    def matches(self, pattern: re.Pattern[str], view: str) -> bool:
        """Whether ``pattern`` matches anywhere in a view; memoised per text.

        For gates several detectors share (a family of token formats, an option flag):
        the text is searched once, whichever detector asks first.
        """
        key = (view, pattern)
        found = self._searches.get(key)
        if found is None:
            found = self._searches[key] = pattern.search(self.view(view)) is not None
        return found

    def occurrences(self, needle: str, view: str) -> list[int]:
        """Every offset of ``needle`` in a view (overlapping ones too); memoised per text.

        Pattern detectors anchor on the words their matches start with, and many patterns
        share a word: each is searched for once per text, whatever the number of patterns.
        """
        key = (view, needle)
        found = self._occurrences.get(key)
        if found is None:
            haystack = self.view(view)
            found = []
            sentinel = sentinel_of(needle)
            at = haystack.find(needle) if sentinel is None or sentinel in haystack else -1
            while at >= 0:
                found.append(at)
                at = haystack.find(needle, at + 1)
            self._occurrences[key] = found
        return found

    def to_original(self, index: int) -> int:
        """Map an offset in ``data``/``folded``/``skeleton`` to one in ``original``."""
        _ = self.data  # computes the offset map
        offsets = self._offsets
        if offsets is None:
            return index
        if index >= len(offsets):
            return len(self.original)
        return offsets[index]

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``data``/``folded``/``skeleton`` to the ``original`` span that covers it."""
        _ = self.data  # computes the offset map
        offsets = self._offsets
        if offsets is None:
            return start, end
        if end <= start:
            o = self.to_original(start)
            return o, o
        # The last character may come from a multi-character expansion; end
        # after the original character it came from.
        return self.to_original(start), offsets[end - 1] + 1


@functools.lru_cache(maxsize=4096)
def sentinel_of(needle: str) -> str | None:
    """A character of ``needle`` rare in text, to look for first; ``None`` if it has none or is one character.

    Looking for one character is memchr-fast; for several, CPython's search costs about a
    nanosecond per character of the text. So ``'"role"'`` is looked for only in a text that
    holds a double quote, and a needle with a non-ASCII character costs nothing in ASCII text.
    """
    if len(needle) < 2:
        return None
    for c in needle:
        if not (c.isascii() and (c.isalnum() or c == " ")):
            return c
    return None


def _digit_runs_of(text: bytes) -> list[tuple[int, int]]:
    """Runs of digits, spaces and ``( ) . + / -`` that hold a digit and start with a digit, ``(`` or ``+``."""
    marked = text.translate(_RUN_BYTES)
    runs: list[tuple[int, int]] = []
    at = marked.find(b"0")
    while at >= 0:
        start = marked.rfind(b"\0", 0, at) + 1
        end = marked.find(b"\0", at)
        if end < 0:
            end = len(marked)
        if start < at:  # a run starts with a digit, "(" or "+": drop leading " ).-/"
            lead = marked[start:at]
            start += len(lead) - len(lead.lstrip(b" ).-/"))
        runs.append((start, end))
        at = marked.find(b"0", end)
    return runs


def _normalize(text: str) -> tuple[str, str, list[int] | None]:
    """Return ``(data, folded, offsets)`` for non-ASCII text."""
    stripped = _INVISIBLE_RE.sub("", text)
    data = unicodedata.normalize("NFKC", stripped)
    folded = data.lower()
    if len(stripped) == len(text) and len(data) == len(text) and len(folded) == len(text):
        return data, folded, None  # each character became exactly one
    return _normalize_with_offsets(text)


def _normalize_with_offsets(text: str) -> tuple[str, str, list[int]]:
    # Slow path, taken only when normalising changes the length: one character
    # at a time, to keep an offset map. Per-character NFKC can differ from
    # whole-string NFKC for combining sequences; acceptable for detection.
    data: list[str] = []
    folded: list[str] = []
    offsets: list[int] = []
    normalize = unicodedata.normalize
    for i, ch in enumerate(text):
        if ch < "\u00ad":
            data.append(ch)
            folded.append(ch.lower())
            offsets.append(i)
            continue
        if _INVISIBLE_RE.match(ch):
            continue
        normal = normalize("NFKC", ch)
        lower = normal.lower()
        if len(lower) != len(normal):  # e.g. "İ": keep the views the same length
            lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in normal)
        data.append(normal)
        folded.append(lower)
        offsets.extend([i] * len(normal))
    return "".join(data), "".join(folded), offsets
