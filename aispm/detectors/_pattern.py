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
3. On the ``skeleton`` view, the whole words a pattern's every match must
   contain (derived from the regex, see `required_words`) must all be in
   ``ScanText.words``: text dense with anchor words (random dictionary words)
   would otherwise run many patterns that cannot match. Likewise per start word
   (`_start_needs`): "pay" in a lead "pay no attention to|stop following|..."
   is searched for only if the text holds "attention".

A regex is compiled (and analysed) the first time a text gets past its cheap
checks, not when the detector is built: most patterns never run for a given
text, and a guard holds a few hundred.

Patterns must be linear-time: bounded quantifiers, no nested unbounded
repetition. The test suite checks every built-in one on adversarial input.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

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


class _Compiled:
    """One pattern of a detector, compiled and analysed on first use."""

    __slots__ = ("ascii_starts", "ascii_words", "gates", "regex", "required", "score", "source", "starts", "words")
    starts: tuple[tuple[str, frozenset[str] | None], ...]
    ascii_starts: tuple[tuple[str, frozenset[str] | None], ...]
    words: _StartWords
    ascii_words: _StartWords

    def __init__(self, source: str, starts: tuple[tuple[str, str | None], ...], score: float | None) -> None:
        self.source = source
        self.score = score
        self._set_starts(tuple((word, None if gate is None else frozenset((gate,))) for word, gate in starts))
        self.regex: re.Pattern[str] | None = None
        self.required: tuple[frozenset[str], ...] | None = None

    def _set_starts(
        self, starts: tuple[tuple[str, frozenset[str] | None], ...], needs: dict[str, frozenset[str]] | None = None
    ) -> None:
        self.starts = starts
        # An ASCII text (every view of it is ASCII) holds no non-ASCII start word: not searched for.
        self.ascii_starts = tuple(s for s in starts if s[0].isascii())
        self.words = _StartWords(starts, needs)
        self.ascii_words = _StartWords(self.ascii_starts, needs)
        # The tokens of all start words, when every start word has some: then the pattern cannot
        # match unless one of them is in `ScanText.words` (one set operation for the pattern).
        gates: set[str] = set()
        for _, gate in starts:
            if gate is None:
                self.gates: frozenset[str] | None = None
                return
            gates.update(gate)
        self.gates = frozenset(gates) if starts else None

    def analyse(self) -> tuple[frozenset[str], ...]:
        """The pattern's required words (skeleton view), and a token gate for each start word.

        A match found at a start word begins with one of the regex's leading tokens, so a start
        word runs only when a leading token it is a prefix of (or that is a prefix of it) occurs.
        """
        required, leading = required_words(self.source, leading=True)
        if leading:
            needs = _start_needs(self.source, tuple(word for word, _ in self.starts))
            self._set_starts(
                tuple(
                    (word, frozenset(t for t in leading if t.startswith(word) or word.startswith(t)))
                    if gate is None
                    else (word, gate)
                    for word, gate in self.starts
                ),
                needs,
            )
            # A start word runs only if its need (or else its gate) meets the text's words: together
            # they are one more clause, so that an index of word sets skips the pattern uncalled.
            either = [(needs or {}).get(word) or gate for word, gate in self.starts]
            if either and all(either):
                required = (*required, frozenset().union(*cast(list[frozenset[str]], either)))
        self.required = required
        return required

    def compiled(self) -> re.Pattern[str]:
        regex = self.regex
        if regex is None:
            regex = self.regex = re.compile(self.source)
        return regex


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
        lazy: Compile each pattern when a text first reaches it rather than now (an
            invalid pattern then raises at that first use instead of here).

    Raises:
        re.error: A pattern is not a valid regular expression (unless ``lazy``).
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
        lazy: bool = False,
    ) -> None:
        self._id = id
        self._in_digit_runs = in_digit_runs
        self._category = category
        self._severity = severity
        compiled: list[_Compiled] = []
        for p in patterns:
            pattern = Pattern(p) if isinstance(p, str) else p
            score = pattern.confidence if pattern.confidence is not None else confidence
            starts = tuple((word, _gate(word) if pattern.whole else None) for word in pattern.starts)
            compiled.append(_Compiled(pattern.regex, starts, score))
            if not lazy:
                compiled[-1].compiled()
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

    @property
    def non_ascii(self) -> bool:
        """True when every pattern starts with a non-ASCII word, so ASCII text cannot match."""
        return all(p.starts and not p.ascii_starts for p in self._patterns)

    def word_clauses(self) -> tuple[frozenset[str], ...]:
        """Word sets each of which must meet ``ScanText.words`` for any pattern to run.

        Cheap checks only (``words``, start words, and, once a single pattern has been
        analysed, its required words), so that a caller holding many detectors can index
        them by word and skip most with a few set operations per text.
        """
        clauses = [self._words] if self._words else []
        if len(self._patterns) == 1:
            [pattern] = self._patterns
            if pattern.gates is not None:
                clauses.append(pattern.gates)
            clauses.extend(pattern.required or ())
            return tuple(clauses)
        gates: set[str] = set()
        for pattern in self._patterns:
            if pattern.gates is None:
                return tuple(clauses)
            gates.update(pattern.gates)
        if gates:
            clauses.append(frozenset(gates))
        return tuple(clauses)

    @property
    def settled(self) -> bool:
        """True once `word_clauses` is final (every pattern analysed, or nothing to analyse)."""
        return self._view != "skeleton" or all(p.required is not None for p in self._patterns)

    @property
    def requires(self) -> tuple[str, ...]:
        """Substrings one of which must occur in `view` for any pattern to run."""
        return self._requires

    @property
    def view(self) -> str:
        """The `ScanText` view the patterns match."""
        return self._view

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
        return self._search(text, haystack, text.words, text.is_ascii, True)

    def search(self, text: ScanText, words: frozenset[str]) -> list[Finding]:
        """`detect` for a caller that has already checked `requires` and the word sets of `word_clauses`.

        The start-word gates and required words are not checked again: they are necessary
        conditions of a match (derived from the regex, or enforced again per start word), so
        leaving them out never changes the findings. For `settled` detectors.
        """
        if self._words and self._words.isdisjoint(words):  # an explicit condition, not a mere prefilter
            return []
        return self._search(text, text.view(self._view), words, text.is_ascii, False)

    def _search(
        self, text: ScanText, haystack: str, words: frozenset[str], ascii_only: bool, check: bool
    ) -> list[Finding]:
        view = self._view
        spans: list[tuple[int, int, float | None]] = []
        validate = self._validate
        for pattern in self._patterns:
            starts = pattern.ascii_starts if ascii_only else pattern.starts
            if pattern.starts and not starts:
                continue
            if check:
                gates = pattern.gates
                if gates is not None and gates.isdisjoint(words):
                    continue  # one set operation instead of a search of the whole text per start word
                if view == "skeleton":
                    required = pattern.required
                    if required is None:
                        required = pattern.analyse()
                        starts = pattern.ascii_starts if ascii_only else pattern.starts
                    if required and _misses(required, words):
                        continue
            regex = pattern.compiled()
            score = pattern.score
            if not starts:
                # Windows to search: the digit runs (each extended by one character, so a
                # look-ahead sees the real next character), or the whole text.
                windows = (
                    [(start, end + 1) for start, end in text.digit_runs]
                    if self._in_digit_runs
                    else [(0, len(haystack))]
                )
                for lo, hi in windows:
                    spans.extend(
                        (m.start(), m.end(), score)
                        for m in regex.finditer(haystack, lo, hi)
                        if validate is None or validate(m.group())
                    )
                continue
            for word in (pattern.ascii_words if ascii_only else pattern.words).present(words):
                for at in text.occurrences(word, view):
                    anchored = regex.match(haystack, at)
                    if anchored is not None and (validate is None or validate(anchored.group())):
                        spans.append((anchored.start(), anchored.end(), score))
        if not spans:
            return []
        return located(
            text,
            spans,
            detector=self._id,
            category=self._category,
            severity=self._severity,
            mappings=self._mappings,
            view=view,
        )


def _misses(required: tuple[frozenset[str], ...], words: frozenset[str]) -> bool:
    """Whether a required word set has no word in ``words`` (a loop: cheaper than `any` on a generator)."""
    for clause in required:  # noqa: SIM110 (a generator costs more than the work)
        if clause.isdisjoint(words):
            return True
    return False


class _StartWords:
    """A pattern's start words by the tokens that gate them, to find those worth searching for.

    A word runs when its gate (a set of tokens) meets ``ScanText.words``, or always without one.
    A start list can be long (~30 verbs) while prose holds one or two of its tokens: one set
    intersection and a loop over the tokens present replace a set operation per start word.
    """

    __slots__ = ("_by_token", "_needs", "_tokens", "_ungated")

    def __init__(
        self, starts: tuple[tuple[str, frozenset[str] | None], ...], needs: dict[str, frozenset[str]] | None = None
    ) -> None:
        # Per start word, words one of which a match starting there holds (see `_start_needs`).
        self._needs = {word: needs[word] for word, _ in starts if word in needs} if needs else None
        by_token: dict[str, list[str]] = {}
        self._ungated = tuple(word for word, gate in starts if gate is None)
        for word, gate in starts:
            for token in gate or ():
                by_token.setdefault(token, []).append(word)
        self._by_token = {token: tuple(found) for token, found in by_token.items()}
        self._tokens = frozenset(by_token)

    def present(self, words: frozenset[str]) -> Iterable[str]:
        """The start words to search for, each once (in no particular order: `located` sorts)."""
        hits = self._tokens.intersection(words)
        found: Iterable[str]
        if not hits:
            found = self._ungated
        elif len(hits) == 1 and not self._ungated:
            [token] = hits
            found = self._by_token[token]
        else:
            found = set(self._ungated)
            for token in hits:
                found.update(self._by_token[token])
        needs = self._needs
        if needs is None:
            return found
        return [word for word in found if word not in needs or not needs[word].isdisjoint(words)]


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


# --- required words -----------------------------------------------------------------------------
#
# A literal run of word characters in a regex, with a non-word character (or a ``\b``, or the
# text's edge) guaranteed on both sides of it in every match, is a whole token of the text: the
# `ScanText.words` tokenisation splits at every character ``\W`` matches and at ``_``. Such
# tokens make a conjunction of clauses (an alternation contributes one clause: the union of
# one clause of each alternative); a pattern runs only when every clause meets the text's words.
# Analysed on the parsed regex, so it is exact for what it keeps and keeps only what is sure.

_WORD_RUN = r"[^\W_]+"  # a `ScanText.words` token (compiled on first use, by `re`'s cache)


def _non_word(c: str) -> bool:
    return not (c.isalnum() or c == "_")  # what ``\W`` matches in a str pattern


_Clauses = list[frozenset[str]]
_Ctx = bool | str  # what precedes/follows: True (a non-word character or the edge), "b" (a \b), False


@functools.lru_cache(maxsize=2048)  # pure; each detector instance (and each guard) asks again
def required_words(regex: str, *, leading: bool = False) -> tuple[tuple[frozenset[str], ...], frozenset[str] | None]:
    r"""Whole words every match of ``regex`` contains, and (if ``leading``) those it starts with.

    Returns clauses (every match holds a word of each clause) and the set of words one of
    which every match starts with (``None`` when unknown or not asked for). Sound for the
    ``skeleton`` view and ``ScanText.words`` (lower case, split wherever ``\W`` matches);
    empty when nothing is sure (flags that change ``\w`` or case, local flags, or no
    bounded literal word).
    """
    parser: Any = importlib.import_module("re._parser")  # private, but stable in 3.11-3.13; typed Any
    try:
        parsed = parser.parse(regex)
        sre: Any = importlib.import_module("re._constants")
        if parsed.state.flags & (sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_ASCII | sre.SRE_FLAG_LOCALE):
            return (), None
        analysis = _Analysis(sre)
        clauses = analysis.sequence(parsed, False, False)[0]
        first = analysis.leading(parsed, False, False) if leading else None
    except (_Unsure, re.error, AttributeError, TypeError, ValueError):
        return (), None  # analysis is an optimisation: when unsure, the pattern simply always runs
    return tuple(dict.fromkeys(clauses)), first


@functools.lru_cache(maxsize=2048)
def _start_needs(regex: str, starts: tuple[str, ...]) -> dict[str, frozenset[str]] | None:
    """Per start word, whole words one of which every match starting at that word holds.

    For a regex whose first consuming part is an alternation of phrases (a lead such as
    "pay no attention to|stop following|..."): a match found at an occurrence of "pay" took one
    of the alternatives that start with "pay", so it holds a word of each of their clauses. Per
    alternative one clause is kept (not its first word), and the union over the word's
    alternatives is the word's need. ``None`` when nothing is sure.
    """
    parser: Any = importlib.import_module("re._parser")
    try:
        parsed = parser.parse(regex)
        sre: Any = importlib.import_module("re._constants")
        if parsed.state.flags & (sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_ASCII | sre.SRE_FLAG_LOCALE):
            return None
        known = set(required_words(regex, leading=True)[0])  # checked for every match anyway
        analysis = _Analysis(sre)
        elements = analysis.elements(parsed)
        shapes = [analysis.shape(e) for e in elements]
        at = next((i for i, shape in enumerate(shapes) if shape[0] not in ("zero", "b", "begin")), None)
        if at is None or elements[at][0] != "node" or elements[at][1][0] is not sre.BRANCH:
            return None
        # Each alternative in the alternation's context, as `_Analysis.element` and `leading` see it.
        left, right = analysis.before(shapes, at, False), analysis.after(shapes, at, False)
        alternatives: list[tuple[frozenset[str], frozenset[str] | None]] = []
        for alternative in elements[at][1][1][1]:
            first = analysis.leading(alternative, left, right)
            if first is None:
                return None  # an alternative that may start anywhere: no start word is sure
            # The clause most telling: not checked already, few words, long ones (rarer in prose).
            clauses = [c for c in analysis.sequence(alternative, left, right)[0] if first.isdisjoint(c)]
            best = min(clauses, key=lambda c: (c in known, len(c), -min(map(len, c))), default=None)
            alternatives.append((first, best))
    except (_Unsure, re.error, AttributeError, TypeError, ValueError):
        return None
    needs: dict[str, frozenset[str]] = {}
    for word in starts:
        union: set[str] = set()
        for first, clause in alternatives:
            if any(t.startswith(word) or word.startswith(t) for t in first):
                if clause is None:
                    break  # this alternative needs no word but its first
                union.update(clause)
        else:
            if union:
                needs[word] = frozenset(union)
    return needs


class _Unsure(Exception):
    pass


class _Analysis:
    """One walk over a parsed regex (``re._parser`` items: ``(opcode, argument)`` pairs)."""

    def __init__(self, sre: Any) -> None:
        self.sre = sre
        self.repeats = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
        # Per node, by id (each entry keeps its node alive, so ids stay unique): edges, joined elements.
        self.memo: dict[int, tuple[Any, tuple[bool, bool]]] = {}
        self.joined: dict[int, tuple[Any, list[tuple[str, Any]]]] = {}

    def sequence(self, items: Any, left: _Ctx, right: _Ctx) -> tuple[_Clauses, bool, bool]:
        """Clauses of a sequence, and whether every match starts / ends with a non-word character."""
        elements = self.elements(items)
        shapes = [self.shape(e) for e in elements]
        clauses: _Clauses = []
        for i, element in enumerate(elements):
            if shapes[i][0] == "cons":
                clauses.extend(self.element(element, self.before(shapes, i, left), self.after(shapes, i, right)))
        consuming = [s for s in shapes if s[0] in ("cons", "opt")]
        starts = bool(consuming) and consuming[0][0] == "cons" and consuming[0][1]
        ends = bool(consuming) and consuming[-1][0] == "cons" and consuming[-1][2]
        return clauses, starts, ends

    def leading(self, items: Any, left: _Ctx, right: _Ctx) -> frozenset[str] | None:
        """The whole words one of which every match of a sequence starts with, or ``None``."""
        sre = self.sre
        elements = self.elements(items)
        shapes = [self.shape(e) for e in elements]
        for i, element in enumerate(elements):
            kind = shapes[i][0]
            if kind in ("zero", "b", "begin"):
                continue
            if kind != "cons":
                return None
            before, after = self.before(shapes, i, left), self.after(shapes, i, right)
            if element[0] == "lit":
                text = element[1]
                m = re.match(_WORD_RUN, text)
                if m is None or not before or not (m.end() < len(text) or after):
                    return None
                return frozenset((m.group(),))
            op, av = element[1]
            if op is sre.SUBPATTERN and not (av[1] or av[2]):
                return self.leading(av[3], before, after)
            if op is sre.ATOMIC_GROUP:
                return self.leading(av, before, after)
            if op is sre.BRANCH:
                union: set[str] = set()
                for alternative in av[1]:
                    first = self.leading(alternative, before, after)
                    if first is None:
                        return None
                    union.update(first)
                return frozenset(union)
            return None
        return None

    def elements(self, items: Any) -> list[tuple[str, Any]]:
        """A sequence's items with literal characters joined into strings (``("lit", text)``)."""
        known = self.joined.get(id(items))
        if known is None:
            known = self.joined[id(items)] = (items, self._elements(items))
        return known[1]

    def _elements(self, items: Any) -> list[tuple[str, Any]]:
        sre = self.sre
        elements: list[tuple[str, Any]] = []  # ("lit", text) or ("node", (op, av))
        for op, av in items:
            if op is sre.LITERAL:
                if elements and elements[-1][0] == "lit":
                    elements[-1] = ("lit", elements[-1][1] + chr(av))
                else:
                    elements.append(("lit", chr(av)))
            elif op is sre.BRANCH and elements and elements[-1][0] == "lit":
                # The parser moves a prefix common to all alternatives before them: put it back,
                # so "ign(?:ore|oring)" still yields whole words.
                prefix = [(sre.LITERAL, ord(c)) for c in elements.pop()[1]]
                elements.append(("node", (op, (None, [prefix + list(alt) for alt in av[1]]))))
            else:
                elements.append(("node", (op, av)))
        return elements

    @staticmethod
    def before(shapes: list[tuple[str, bool, bool]], i: int, left: _Ctx) -> _Ctx:
        for kind, _, ends in reversed(shapes[:i]):
            if kind == "zero" or (kind == "opt" and ends):
                continue  # zero-width, or optional and ending in a non-word character either way
            return "b" if kind == "b" else kind == "begin" or (kind == "cons" and ends)
        return left

    @staticmethod
    def after(shapes: list[tuple[str, bool, bool]], i: int, right: _Ctx) -> _Ctx:
        for kind, starts, _ in shapes[i + 1 :]:
            if kind == "zero" or (kind == "opt" and starts):
                continue
            return "b" if kind == "b" else kind == "end" or (kind == "cons" and starts)
        return right

    def shape(self, element: tuple[str, Any]) -> tuple[str, bool, bool]:
        """``(kind, starts non-word, ends non-word)``; kind: cons, opt (may be empty), zero, b, begin, end."""
        sre = self.sre
        if element[0] == "lit":
            text = element[1]
            return "cons", _non_word(text[0]), _non_word(text[-1])
        op, av = element[1]
        if op is sre.AT:
            if av is sre.AT_BOUNDARY:
                return "b", False, False
            if av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
                return "begin", False, False
            if av in (sre.AT_END, sre.AT_END_STRING):
                return "end", False, False
            return "zero", False, False
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            return "zero", False, False
        if op in self.repeats and av[0] == 0:
            return "opt", *self.edges(av[2])
        starts, ends = self.node_edges(op, av)
        return "cons", starts, ends

    def edges(self, items: Any) -> tuple[bool, bool]:
        known = self.memo.get(id(items))
        if known is None:
            elements = self.elements(items)
            consuming = [s for s in map(self.shape, elements) if s[0] in ("cons", "opt")]
            starts = bool(consuming) and consuming[0][0] == "cons" and consuming[0][1]
            ends = bool(consuming) and consuming[-1][0] == "cons" and consuming[-1][2]
            known = self.memo[id(items)] = (items, (starts, ends))
        return known[1]

    def node_edges(self, op: Any, av: Any) -> tuple[bool, bool]:
        """Whether every match of a node is non-empty and starts / ends with a non-word character."""
        sre = self.sre
        if op is sre.IN:
            if av and av[0][0] is sre.NEGATE:  # [^\w...]: any character but word characters and others
                non_word = any(o is sre.CATEGORY and a is sre.CATEGORY_WORD for o, a in av[1:])
                return non_word, non_word
            non_word = all(
                (o is sre.LITERAL and _non_word(chr(a)))
                or (o is sre.CATEGORY and a in (sre.CATEGORY_NOT_WORD, sre.CATEGORY_SPACE))
                for o, a in av
            )
            return non_word, non_word
        if op in self.repeats:
            return self.edges(av[2]) if av[0] >= 1 else (False, False)
        if op is sre.SUBPATTERN:
            return self.edges(av[3])
        if op is sre.ATOMIC_GROUP:
            return self.edges(av)
        if op is sre.BRANCH:
            alternatives = [self.edges(alt) for alt in av[1]]
            return all(s for s, _ in alternatives), all(e for _, e in alternatives)
        return False, False

    def element(self, element: tuple[str, Any], left: _Ctx, right: _Ctx) -> _Clauses:
        sre = self.sre
        if element[0] == "lit":
            text = element[1]
            return [
                frozenset((m.group(),))
                for m in re.finditer(_WORD_RUN, text)
                if (m.start() > 0 or left) and (m.end() < len(text) or right)
            ]
        op, av = element[1]
        if op is sre.SUBPATTERN:
            if av[1] or av[2]:
                raise _Unsure  # local flags ((?i:...), (?a:...)) change what \w and letters match
            return self.sequence(av[3], left, right)[0]
        if op is sre.ATOMIC_GROUP:
            return self.sequence(av, left, right)[0]
        if op in self.repeats:
            if av[0] < 1:
                return []
            if av[1] != 1:  # later repetitions follow the body itself
                starts, ends = self.edges(av[2])
                left, right = (left if ends else False), (right if starts else False)
            return self.sequence(av[2], left, right)[0]
        if op is sre.BRANCH:
            union: set[str] = set()
            for alternative in av[1]:
                clauses = self.sequence(alternative, left, right)[0]
                if not clauses:
                    return []  # this alternative needs no particular word
                smallest = clauses[0]  # the most selective
                for clause in clauses[1:]:
                    if len(clause) < len(smallest):
                        smallest = clause
                union.update(smallest)
            return [frozenset(union)]
        return []
