"""How a ``injection.tool_poisoning`` cue is written: phrase patterns and the words that gate them.

`_phrase` builds a `Pattern` from ``|``-separated phrases (a space matches a short gap
of non-word characters, quantifiers are bounded); `_cue` pairs it with the words every
match holds, so that `aispm.detectors.tool_poisoning.ToolPoisoning` runs a pattern only
when the text has them. The cues themselves are in `._tool_poisoning_cues`.
"""

from __future__ import annotations

from typing import NamedTuple

from ._normalize import ScanText
from ._pattern import Pattern

_GAP = r"\W{1,8}+"  # between two words: bounded, possessive, disjoint from word characters
_WORD = r"\w{1,40}+"


def _alt(words: str) -> str:
    """An alternation of ``|``-separated phrases, longest first; a space matches a short run of non-word characters."""
    phrases = sorted(dict.fromkeys(words.split("|")), key=len, reverse=True)
    return "(?:" + "|".join(p.replace(" ", _GAP) for p in phrases) + ")"


def _upto(most: int) -> str:
    """Up to ``most`` arbitrary words, each followed by a gap."""
    return f"(?:{_WORD}{_GAP}){{0,{most}}}"


def _phrase(lead: str, rest: str) -> Pattern:
    """A pattern that starts with one of the ``|``-separated phrases of ``lead``, at a word start.

    The start words (each phrase's first word) are whole words of the text when ``rest``
    begins with a non-word boundary and no phrase continues a start word with a letter;
    then a start word absent from ``ScanText.words`` is not even searched for.
    """
    phrases = lead.split("|")
    starts = tuple(dict.fromkeys(p.split(" ", 1)[0] for p in phrases))
    whole = rest.startswith((_GAP, r"\b")) and not any(
        p.startswith(s) and len(p) > len(s) and p[len(s)].isalnum() for p in phrases for s in starts
    )
    return Pattern(r"\b" + _alt(lead) + rest, starts, whole=whole)


def _tokens(*texts: str) -> frozenset[str]:
    """The `ScanText.words` tokens of ``texts`` (so that "id_ed25519" gives what a text would)."""
    return frozenset().union(*(ScanText(t).words for t in texts))


class _Cue(NamedTuple):
    """A pattern and the words its every match holds: one of ``needs``, and one of ``also`` (if any)."""

    pattern: Pattern
    needs: frozenset[str]
    also: frozenset[str]
    view: str


def _cue(pattern: Pattern, needs: str | frozenset[str], also: str = "", *, view: str = "skeleton") -> _Cue:
    words = needs if isinstance(needs, frozenset) else frozenset(needs.split("|"))
    return _Cue(pattern, words, frozenset(also.split("|")) if also else frozenset(), view)
