"""Leakage detectors (output scanner); exfiltration links are in `aispm.detectors.exfiltration`.

- ``leakage.canary``: canary tokens (`new_canary_token`) in any output.
- ``leakage.system_prompt``: verbatim or near-verbatim reproduction of a registered system prompt.

Both need configuring (``CanaryDetector.add``, ``SystemPromptLeakDetector.register``);
their zero-argument factories find nothing and cost next to nothing. Configuration may change
while other threads scan: each detector keeps its index in one immutable value and replaces it
whole (copy on write), so a scan sees either the old index or the new one.

Encoded forms (base64, hex, URL-encoding, ROT13) need no code here: the engine decodes them
(``_layers``) and runs every detector again on the decoded text.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import compress

from ..decisions import Finding, Severity
from ..errors import PolicyError
from ._findings import ATLAS_DATA_LEAKAGE, ATLAS_SYSTEM_PROMPT_EXTRACTION, OWASP_SYSTEM_PROMPT_LEAKAGE
from ._normalize import _LEET, _WORD_BYTES, _WORD_RE, ScanText
from ._protocol import Detector

__all__ = [
    "CANARY_PREFIX",
    "CanaryDetector",
    "SystemPromptLeakDetector",
    "new_canary_token",
]

_LEAK_MAPPINGS = (OWASP_SYSTEM_PROMPT_LEAKAGE, ATLAS_SYSTEM_PROMPT_EXTRACTION, ATLAS_DATA_LEAKAGE)
_PROMPT_MAPPINGS = (OWASP_SYSTEM_PROMPT_LEAKAGE, ATLAS_SYSTEM_PROMPT_EXTRACTION)

# ---------------------------------------------------------------------------------------------
# leakage.canary
# ---------------------------------------------------------------------------------------------

CANARY_PREFIX = "AISPM-CANARY-"
"""Readable prefix of every `new_canary_token`; all generated tokens share one anchor."""

_ANCHOR = 8  # compact characters a token is anchored on: tokens sharing them cost one search
_ANCHOR_DISTINCT = 5
_MIN_TOKEN = 12  # shorter tokens (letters and digits) are guessable and collide with prose
_MAX_TOKEN = 256

# The compact view: the skeleton (lower case, leetspeak and look-alikes mapped) with every
# character but ASCII letters and digits dropped, so "A I S P M", "a.i.s.p.m" and "aispm" are one.
# For ASCII text it is one bytes.translate of the original: drop, then map like the skeleton.
_ASCII_KEEP = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@$"
_ASCII_DROP = bytes(b for b in range(256) if b not in _ASCII_KEEP)
_ASCII_TABLE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "".join(_LEET).encode(),
    b"abcdefghijklmnopqrstuvwxyz" + "".join(_LEET.values()).encode(),
)
_ASCII_MASK = bytes(1 if b in _ASCII_KEEP else 0 for b in range(256))
_SKELETON_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_SKELETON_DROP = bytes(b for b in range(256) if chr(b) not in _SKELETON_KEEP)


def _compact(text: ScanText) -> str:
    """Letters and digits of the skeleton, everything else dropped (C-speed for ASCII)."""
    if text.is_ascii:
        return text.original.encode("ascii").translate(_ASCII_TABLE, _ASCII_DROP).decode("ascii")
    return text.skeleton.encode("ascii", "ignore").translate(None, _SKELETON_DROP).decode("ascii")


def _compact_positions(text: ScanText) -> list[int]:
    """Offset in the skeleton of each compact character (computed only when something matched)."""
    if text.is_ascii:
        return list(compress(range(len(text.original)), text.original.encode("ascii").translate(_ASCII_MASK)))
    return [i for i, c in enumerate(text.skeleton) if c in _SKELETON_KEEP]


def _canary_key(token: str) -> tuple[str, str, int]:
    """A token's compact form, its anchor and the anchor's offset in it."""
    compact = _compact(ScanText(token))
    if not _MIN_TOKEN <= len(compact) <= _MAX_TOKEN:
        raise PolicyError(f"a canary token needs {_MIN_TOKEN} to {_MAX_TOKEN} letters and digits")
    # The anchor: the first 8 characters with 5 different ones among them. Such a string
    # cannot overlap itself closer than 5 characters apart, which bounds the places to check.
    for offset in range(len(compact) - _ANCHOR + 1):
        if len(set(compact[offset : offset + _ANCHOR])) >= _ANCHOR_DISTINCT:
            return compact, compact[offset : offset + _ANCHOR], offset
    raise PolicyError("a canary token needs 5 different letters or digits within 8 in a row")


def new_canary_token() -> str:
    """Return a new canary token: `CANARY_PREFIX` and 128 random bits in base32.

    Put it in a system prompt (or a document, a tool description) and register it with
    `CanaryDetector.add`; its appearance in an output proves that the text leaked.
    """
    return CANARY_PREFIX + base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


class CanaryDetector:
    """``leakage.canary``: canary tokens in an output, however spaced, cased or punctuated.

    A token is compared on the compact view (letters and digits of the skeleton), so
    ``aispm-canary-ab12``, ``AISPM CANARY AB12`` and the token split by zero-width spaces all
    match. The text is searched once per distinct token anchor (its first 8 compact characters
    with 5 different ones among them): tokens from `new_canary_token` share one anchor, so any
    number of them costs one search.

    Tokens may be added and discarded while other threads scan, in constant time: the anchors
    are an immutable tuple replaced whole when one is added (rarely: generated tokens share
    one), and each anchor's tokens are a set whose single-element operations are atomic.

    Args:
        tokens: Tokens to watch for from the start (see `add`).
    """

    id = "leakage.canary"
    category = "leakage"

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        # (anchor, its offset in the tokens, token lengths, tokens); replaced whole, never changed.
        self._anchors: tuple[tuple[str, int, tuple[int, ...], set[str]], ...] = ()
        for token in tokens:
            self.add(token)

    def __repr__(self) -> str:
        return f"CanaryDetector(tokens={len(self)})"  # never the tokens themselves

    def __len__(self) -> int:
        return sum(len(tokens) for *_, tokens in self._anchors)

    def add(self, token: str) -> None:
        """Watch for ``token``; safe while other threads scan.

        Raises:
            PolicyError: The token has fewer than 12 or more than 256 letters and digits, or
                no 8 of them in a row with 5 different ones (``1111-2222-...`` is too regular).
        """
        compact, anchor, offset = _canary_key(token)
        with self._lock:
            anchors = self._anchors
            for i, (known, at, lengths, tokens) in enumerate(anchors):
                if (known, at) == (anchor, offset):
                    if len(compact) not in lengths:  # before the token: a scan never misses it
                        widened = (anchor, offset, tuple(sorted({*lengths, len(compact)})), tokens)
                        self._anchors = (*anchors[:i], widened, *anchors[i + 1 :])
                    tokens.add(compact)
                    return
            self._anchors = (*anchors, (anchor, offset, (len(compact),), {compact}))

    def discard(self, token: str) -> None:
        """Stop watching for ``token`` (for example when the session that used it ends)."""
        compact, anchor, offset = _canary_key(token)
        with self._lock:
            for known, at, _, tokens in self._anchors:
                if (known, at) == (anchor, offset):
                    tokens.discard(compact)

    def new_token(self) -> str:
        """Make a token with `new_canary_token`, watch for it, and return it."""
        token = new_canary_token()
        self.add(token)
        return token

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per token occurrence, ordered by position."""
        anchors = self._anchors
        if not anchors:
            return []
        compact = _compact(text)
        spans: set[tuple[int, int]] = set()
        for anchor, offset, lengths, tokens in anchors:
            at = compact.find(anchor, offset)
            while at >= 0:
                start = at - offset
                spans.update((start, start + n) for n in lengths if compact[start : start + n] in tokens)
                at = compact.find(anchor, at + 1)
        if not spans:
            return []
        positions = _compact_positions(text)
        findings = []
        for start, end in sorted(spans):
            lo, hi = text.span_to_original(positions[start], positions[end - 1] + 1)
            findings.append(
                Finding(self.id, self.category, Severity.CRITICAL, lo, hi, confidence=1.0, mappings=_LEAK_MAPPINGS)
            )
        return findings


# ---------------------------------------------------------------------------------------------
# leakage.system_prompt
# ---------------------------------------------------------------------------------------------

SHINGLE_WORDS = 8
"""Consecutive words an output must share with a prompt for a finding (fewer for shorter prompts)."""
MIN_PROMPT_WORDS = 4
"""Shortest prompt that can be registered: shorter ones match ordinary sentences."""
MERGE_GAP = 3
"""Words of difference (edits, insertions) bridged when merging matched windows into one region."""
_MAX_VOCABULARY = 0x10FFFF - 0x800

# Words that carry no evidence of a leak: function words and the stock phrases every system prompt
# starts with. A window of prompt words is indexed only with two distinct other words in it.
_BOILERPLATE = frozenset((
    "a", "about", "above", "after", "again", "all", "also", "always", "am", "an", "and", "any", "are", "as", "ask",
    "asked", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "cannot", "could", "did", "do", "does", "doing", "don", "down", "during", "each", "every", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if",
    "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "must", "my", "never", "no", "nor",
    "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "please",
    "s", "same", "shall", "she", "should", "so", "some", "such", "t", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours", "yourself", "ai", "assistant", "assistants", "chatbot", "helpful", "harmless",
    "honest", "language", "large", "llm", "model", "respond", "response", "responses", "answer", "answers",
    "question", "questions", "user", "users",
))  # fmt: skip
_ASCII_WORD = re.compile(r"""[^\s!"#%&'()*+,\-./:;<=>?\[\\\]^_`{|}~]+""")  # the tokens of ScanText.words (ASCII)


def _words(text: ScanText) -> list[str]:
    """Word tokens of the skeleton, in order; as a set, a subset of ``ScanText.words``."""
    if text.is_ascii:
        return text.skeleton.encode("ascii").translate(_WORD_BYTES).decode("ascii").split()
    return _WORD_RE.findall(text.skeleton)


def _word_spans(text: ScanText) -> list[tuple[int, int]]:
    """Skeleton span of each token of `_words`, in the same order."""
    regex = _ASCII_WORD if text.is_ascii else _WORD_RE
    return [m.span() for m in regex.finditer(text.skeleton)]


def _symbol(n: int) -> str:
    return chr(n if n < 0xD800 else n + 0x800)  # word ids as characters, skipping surrogates


@dataclass(frozen=True, slots=True)
class _PromptIndex:
    vocabulary: Mapping[str, str]  # word -> one-character id ("\0" is "not a prompt word")
    shingles: Mapping[int, tuple[re.Pattern[str], Mapping[str, tuple[int, int]]]]  # k -> (runs, window -> prompt)
    lengths: tuple[int, ...]  # words per registered prompt
    content: frozenset[str]  # prompt words outside the boilerplate
    registered: frozenset[str]  # the word ids of each prompt, to skip registering one twice


_EMPTY_PROMPTS = _PromptIndex({}, {}, (), frozenset(), frozenset())


class SystemPromptLeakDetector:
    """``leakage.system_prompt``: an output that reproduces a registered system prompt.

    Registration indexes every window of `SHINGLE_WORDS` consecutive words of the prompt
    (its skeleton word tokens: case, punctuation, whitespace, leetspeak and look-alikes do
    not matter). A scan reads the output's words once: words that are not prompt words split
    it into runs, and only runs of at least `SHINGLE_WORDS` prompt words are looked up, window
    by window. Matched windows less than `MERGE_GAP` words apart merge into one region, so an
    edited word does not split a leak; each region is one finding.

    Confidence: 0.6 for one window (and for a whole prompt shorter than a window), rising with
    the words leaked beyond it, to 0.99 at 32 words or at half of the prompt, whichever is less.

    Args:
        prompts: Prompts to watch for from the start (see `register`).
    """

    id = "leakage.system_prompt"
    category = "leakage"

    def __init__(self, prompts: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._index = _EMPTY_PROMPTS
        for prompt in prompts:
            self.register(prompt)

    def __repr__(self) -> str:
        return f"SystemPromptLeakDetector(prompts={len(self._index.lengths)})"

    def register(self, prompt: str) -> None:
        """Watch for ``prompt``; several prompts may be registered; safe while other threads scan.

        Registering the same words again does nothing. A new prompt costs time linear in all
        the registered words (the index is copied, then replaced whole): register each distinct
        prompt once, not on every call.

        Raises:
            PolicyError: The prompt has fewer than `MIN_PROMPT_WORDS` words, or no window of
                it holds two words other than boilerplate ("you are a helpful assistant").
        """
        words = _words(ScanText(prompt))
        if len(words) < MIN_PROMPT_WORDS:
            raise PolicyError(f"a system prompt needs at least {MIN_PROMPT_WORDS} words to be recognised")
        k = min(SHINGLE_WORDS, len(words))
        with self._lock:
            index = self._index
            vocabulary = dict(index.vocabulary)
            for word in words:
                if word not in vocabulary:
                    if len(vocabulary) >= _MAX_VOCABULARY:
                        raise PolicyError("too many distinct words in the registered system prompts")
                    vocabulary[word] = _symbol(len(vocabulary) + 1)
            ids = "".join(vocabulary[w] for w in words)
            if ids in index.registered:
                return
            number = len(index.lengths)
            runs, table = index.shingles.get(k, (re.compile(f"[^\\x00]{{{k},}}"), {}))
            table = dict(table)
            added = 0
            for i in range(len(words) - k + 1):
                if len(set(words[i : i + k]) - _BOILERPLATE) >= 2:
                    table.setdefault(ids[i : i + k], (number, i))
                    added += 1
            if not added:
                raise PolicyError("the system prompt is only boilerplate; use a canary token instead")
            shingles = dict(index.shingles)
            shingles[k] = (runs, table)
            self._index = _PromptIndex(
                vocabulary,
                shingles,
                (*index.lengths, len(words)),
                index.content | (set(words) - _BOILERPLATE),
                index.registered | {ids},
            )

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per leaked region, ordered by position."""
        index = self._index
        # Every indexed window holds two distinct content words: cheap test on the shared word set.
        if not index.shingles or len(index.content.intersection(text.words)) < 2:
            return []
        get = index.vocabulary.get
        ids = "".join([get(w, "\x00") for w in _words(text)])
        windows: list[tuple[int, int, int, int]] = []  # (output word, k, prompt number, prompt word)
        for k, (runs, table) in index.shingles.items():
            for run in runs.finditer(ids):
                base, chunk = run.start(), run.group()
                for j in range(len(chunk) - k + 1):
                    hit = table.get(chunk[j : j + k])
                    if hit is not None:
                        windows.append((base + j, k, *hit))
        if not windows:
            return []
        windows.sort()
        regions: list[tuple[int, int, dict[int, set[int]]]] = []
        for at, k, number, position in windows:
            if regions and at <= regions[-1][1] + MERGE_GAP:
                start, end, covered = regions[-1]
                regions[-1] = (start, max(end, at + k), covered)
            else:
                covered = {}
                regions.append((at, at + k, covered))
            covered.setdefault(number, set()).update(range(position, position + k))
        spans = _word_spans(text)
        findings = []
        for start, end, covered in regions:
            lo, hi = text.span_to_original(spans[start][0], spans[end - 1][1])
            findings.append(
                Finding(
                    self.id,
                    self.category,
                    Severity.HIGH,
                    lo,
                    hi,
                    confidence=self._confidence(covered, index.lengths),
                    mappings=_PROMPT_MAPPINGS,
                )
            )
        return findings

    @staticmethod
    def _confidence(covered: dict[int, set[int]], lengths: tuple[int, ...]) -> float:
        # Words leaked beyond one window, against two scales: 3 more windows, or half the prompt.
        score = 0.0
        for number, positions in covered.items():
            total = lengths[number]
            extra = len(positions) - min(SHINGLE_WORDS, total)
            score = max(score, extra / (3 * SHINGLE_WORDS), extra / max(SHINGLE_WORDS, total / 2 - SHINGLE_WORDS))
        return round(0.6 + 0.39 * min(1.0, score), 2)


DETECTORS: Mapping[str, Callable[[], Detector]] = {
    "leakage.canary": CanaryDetector,
    "leakage.system_prompt": SystemPromptLeakDetector,
}
"""This module's detector factories by id (merged into ``aispm.detectors.BUILTIN``)."""
