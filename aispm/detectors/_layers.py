r"""Decoding layers: text hidden inside a text, decoded so every detector can read it.

Attackers hide instructions and data from keyword-level checks by encoding
them: base64 (``aWdub3JlIGFsbC4uLg==``), base32, hex, URL-encoding, ``\x`` escapes,
ROT13, Unicode tag characters ("ASCII smuggling"), or letters spaced apart
(``i g n o r e``). `derive` finds such stretches cheaply and decodes them; the
engine runs every detector again on each decoded text and reports what it
finds there against the whole encoded stretch of the original.

Clean text pays almost nothing: candidates come from ``ScanText.words``
(computed once anyway) and from memchr-fast checks for ``%`` and ``\x``.
Decoding is bounded: at most `MAX_DEPTH` nested layers, `MAX_LAYERS`
layers per text, and decoded text totalling at most `budget` characters. A
decoded candidate is kept only if it is printable UTF-8 text, so ordinary long
words and identifiers cost one failed decode each.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from urllib.parse import unquote

from ._normalize import ScanText

MAX_DEPTH = 3
"""How deeply encodings are unwrapped (base64 of hex of ROT13 is depth 3)."""

MAX_LAYERS = 32
"""At most this many decoded layers per text."""

MIN_ENCODED = 16
"""Shortest base64 or hex token worth decoding: shorter ones hide too little to matter."""

_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")  # starts with a literal: `re` finds it with memchr
_SPACE = re.compile(r"\s")
_ESCAPE_RUN = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){4,}")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")
_HEX = frozenset("0123456789abcdefABCDEF")
_B32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
# Letters spaced apart ("i g n o r e", "i.g.n.o.r.e"): runs of single word
# characters with one separator between them, then collapsed to words.
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W_][ .*_-]){2,}[^\W_](?![^\W_])")
_SPACED_SEPARATORS = str.maketrans("", "", " .*_-")
_LETTERS = frozenset("bcdefghjklmnpqrstuvwxyz")  # single-letter tokens other than a, i, o are rare in prose
# Byte masks for C-speed prefilters (`bytes.translate`, then `find`, which uses memchr-like search):
# ASCII letters and digits become "a"; for spaced letters, their separators a space and anything else "#".
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_RUN_MASK = bytes(0x61 if b in _ALNUM else 0x20 for b in range(256))
_LONG_RUN = b"a" * MIN_ENCODED
_SPACED_MASK = bytes(0x61 if b in _ALNUM else 0x20 if b in b" .*_-" else 0x23 for b in range(256))
# ROT13 of words that carry most attacks (and of the canary prefix); a text holding one is worth a ROT13 pass.
_ROT13_WORDS = frozenset(
    codecs.encode(w, "rot13")
    for w in (
        "ignore", "instructions", "previous", "prompt", "system", "disregard", "forget", "password",
        "secret", "reveal", "jailbreak", "rules", "assistant", "developer", "canary",
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Layer:
    """One decoded stretch of a text.

    Attributes:
        kind: How it was encoded (``base64``, ``base32``, ``hex``, ``url``, ``rot13``, ``tags``, ``spaced``);
            nested layers are joined outermost first: ``base64>rot13``.
        text: The decoded text, ready for the detectors.
        start: Offset of the encoded stretch in the root text's ``original``.
        end: Offset one past it.
    """

    kind: str
    text: ScanText
    start: int
    end: int


def derive(scan: ScanText, *, budget: int | None = None) -> list[Layer]:
    """Return the decoded layers hidden in ``scan``, nested ones included (bounded; see module doc)."""
    remaining = [max(4096, 2 * len(scan.original)) if budget is None else budget]
    layers: list[Layer] = []
    _derive(scan, "", 0, len(scan.original), 1, remaining, layers)
    return layers


def _derive(
    scan: ScanText, prefix: str, start: int, end: int, depth: int, remaining: list[int], out: list[Layer]
) -> None:
    nested = bool(prefix)
    for kind, decoded, lo, hi in _candidates(scan, rot13=not prefix.endswith("rot13")):
        if len(out) >= MAX_LAYERS or remaining[0] < len(decoded):
            return
        remaining[0] -= len(decoded)
        # A nested layer's offsets are relative to its parent's decoded text: report the parent's span.
        span = (start, end) if nested else (lo, hi)
        layer = Layer(prefix + kind, ScanText(decoded), *span)
        out.append(layer)
        if depth < MAX_DEPTH:
            _derive(layer.text, layer.kind + ">", layer.start, layer.end, depth + 1, remaining, out)


def _candidates(scan: ScanText, *, rot13: bool) -> list[tuple[str, str, int, int]]:
    """Decoded candidates of one text: ``(kind, decoded, start, end)`` with offsets into its original."""
    found: list[tuple[str, str, int, int]] = []
    original = scan.original
    if scan.has_tag_characters:
        for m in _TAG_RUN.finditer(original):
            hidden = "".join(chr(ord(c) - 0xE0000) for c in m.group() if 0xE0020 <= ord(c) <= 0xE007E)
            if hidden.strip():
                found.append(("tags", hidden, m.start(), m.end()))
    words = scan.words
    # A long token holds a run of 16 letters or digits: one translate and one find rule it out.
    if scan.skeleton.encode("utf-8", "surrogatepass").translate(_RUN_MASK).find(_LONG_RUN) >= 0:
        long_words = [w for w in words if len(w) >= MIN_ENCODED]
        if long_words:
            found.extend(_encoded_tokens(scan, long_words))
    data = scan.data
    if "%" in data:
        found.extend(_url_encoded(scan))
    if "\\" in data and "\\x" in data:  # a one-character search is memchr-fast, a two-character one is not
        for m in _ESCAPE_RUN.finditer(data):
            decoded = _text_or_empty(bytes.fromhex(m.group().replace("\\x", "")))
            if decoded:
                found.append(("hex", decoded, *scan.span_to_original(*m.span())))
    if rot13 and not words.isdisjoint(_ROT13_WORDS):
        found.append(("rot13", codecs.encode(scan.data, "rot13"), 0, len(original)))
    if len(words & _LETTERS) >= 4 and _may_be_spaced(scan):
        collapsed = _SPACED.sub(lambda m: m.group().translate(_SPACED_SEPARATORS), scan.folded)
        if collapsed != scan.folded:
            found.append(("spaced", collapsed, 0, len(original)))
    return found


def _may_be_spaced(scan: ScanText) -> bool:
    """Whether ``_SPACED`` can match: ASCII text needs three single characters one separator apart.

    A superset test at C speed (code and lists trip the single-letter gate, and the regex
    costs ~25 µs a kilobyte); non-ASCII text goes straight to the regex.
    """
    if not scan.is_ascii:
        return True
    mask = scan.folded.encode("ascii").translate(_SPACED_MASK)
    at = mask.find(b"a a a")
    while at >= 0:
        if at == 0 or mask[at - 1] != 0x61:  # the first of them starts a token
            return True
        at = mask.find(b"a a a", at + 1)
    return False


def _encoded_tokens(scan: ScanText, long_words: list[str]) -> list[tuple[str, str, int, int]]:
    # Tokens come from the skeleton (lower case, leetspeak mapped); the same
    # offsets in ``data`` hold them as written. Widen each to the whole run of
    # base64 characters around it ('+', '/', '=' split tokens), decode once per run.
    data, skeleton = scan.data, scan.skeleton
    seen: set[tuple[int, int]] = set()
    found: list[tuple[str, str, int, int]] = []
    for word in long_words[:MAX_LAYERS]:
        at = skeleton.find(word)
        if at < 0:
            continue
        lo, hi = at, at + len(word)
        while lo > 0 and data[lo - 1] in _B64 and at - lo < 65536:
            lo -= 1
        while hi < len(data) and data[hi] in _B64 and hi - at < 65536:
            hi += 1
        if (lo, hi) in seen:
            continue
        seen.add((lo, hi))
        token = data[lo:hi].rstrip("=")
        kind, decoded = _decode_token(token)
        if decoded:
            found.append((kind, decoded, *scan.span_to_original(lo, hi)))
    return found


def _url_encoded(scan: ScanText) -> list[tuple[str, str, int, int]]:
    # Each whitespace-delimited token holding at least three escapes is decoded
    # once; escapes inside a token already handled are skipped, so this is linear.
    data = scan.data
    found: list[tuple[str, str, int, int]] = []
    covered = -1
    for m in _URL_ESCAPE.finditer(data):
        if m.start() < covered:
            continue
        floor = max(covered, 0)  # never look back past the previous token: linear
        lo = max(floor, *(data.rfind(ws, floor, m.start()) + 1 for ws in " \n\t"))
        space = _SPACE.search(data, m.end())
        hi = space.start() if space is not None else len(data)
        covered = hi
        token = data[lo:hi]
        if token.count("%") < 3 or not _utf8_escapes(token):
            continue
        decoded = unquote(token, errors="strict")
        if _is_text(decoded):
            found.append(("url", decoded, *scan.span_to_original(lo, hi)))
    return found


def _decode_token(token: str) -> tuple[str, str]:
    if len(token) % 2 == 0 and all(c in _HEX for c in token):
        return "hex", _text_or_empty(bytes.fromhex(token))
    if _B32.issuperset(token):  # upper case and 2-7 only: base32 (as base64 it would rarely be text)
        try:
            decoded = _text_or_empty(base64.b32decode(token + "=" * (-len(token) % 8)))
        except (binascii.Error, ValueError):
            decoded = ""
        if decoded:
            return "base32", decoded
    token = token.replace("-", "+").replace("_", "/")
    token = token[: len(token) - len(token) % 4] if len(token) % 4 == 1 else token
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return "", ""
    return "base64", _text_or_empty(raw)


def _utf8_escapes(run: str) -> bool:
    try:
        unquote(run, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _text_or_empty(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return text if _is_text(text) else ""


def _is_text(text: str) -> bool:
    """Printable text with some letters: what a hidden instruction or credential looks like."""
    if len(text) < 4:
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    letters = sum(1 for c in text if c.isalpha())
    return printable >= 0.95 * len(text) and letters >= 0.3 * len(text)
