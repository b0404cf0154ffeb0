"""Where a user prompt hands the model a document: "Summarise this CV:" followed by the CV.

The text after such a request is data the user pasted, not the user's own words:
an instruction addressed to "the AI" inside it is the same signal it would be in a
tool result or a retrieved page, so the guard judges it as untrusted (see
`aispm.policy.UNTRUSTED_DISCOUNT`). The request itself stays direct text.
"""

from __future__ import annotations

import re
from functools import cache

from ._normalize import ScanText

_HEAD = 300
"""Characters of the first line read for the request: bounded work per text."""
MIN_DOCUMENT = 80
"""Characters the pasted text must have after the request to count as a document."""

_TASKS = (
    "summari[sz]e|summary of|tl;?dr|translate|paraphrase|rephrase|rewrite|proofread|edit|correct|"
    "assess|analy[sz]e|review|evaluate|classify|categori[sz]e|check|screen|grade|score|rate|rank|"
    "extract|list|explain|interpret|critique|read|answer (?:questions|the question) (?:about|on|based on)|"
    "what (?:does|do|is) (?:this|the following)|is (?:this|the following)"
)
_DEICTIC = (
    r"this|these|the following|following|below|the attached|attached|the text|the article|the document|"
    r"the email|the e-mail|the page|the report|the resume|the cv|the transcript|the file|the passage|the snippet"
)


_LEAD = re.compile(r"\s{0,64}")


@cache
def _framing() -> re.Pattern[str]:
    # Compiled on first use, not at import. Bounded quantifiers only: linear in the head.
    return re.compile(
        r"(?:(?:please|kindly|can you|could you|would you|i need you to|help me)[ ,]{1,3}){0,2}"
        rf"(?:{_TASKS})\b[^\n:]{{0,160}}?\b(?:{_DEICTIC})\b[^\n]{{0,200}}"
    )


def embedded_start(text: ScanText) -> int | None:
    """Offset in ``text.original`` where a pasted document begins, or ``None``.

    The first line (at most `_HEAD` characters of the folded view) must open with a
    task over a document ("Summarise this article:", "Assess whether the following
    domain is malicious ..."), and at least `MIN_DOCUMENT` characters must follow it.
    The document starts after the first colon that ends the request, else after the line.
    """
    folded = text.folded
    start = _LEAD.match(folded).end()  # type: ignore[union-attr]  # matches the empty string at worst
    head = folded[start : start + _HEAD]
    if _framing().match(head) is None:
        return None
    line_end = head.find("\n")
    colon = head.find(":", 0, line_end if line_end >= 0 else len(head))
    end = colon + 1 if colon >= 0 else line_end
    if end < 0 or len(folded) - (start + end) < MIN_DOCUMENT:
        return None
    return text.span_to_original(start + end, start + end)[0]
