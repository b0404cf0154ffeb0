"""Redaction: replace located findings in a text by placeholders."""

from __future__ import annotations

from collections.abc import Iterable

from .decisions import Finding


def placeholder(detector_id: str) -> str:
    """The text that replaces a match: ``pii.email`` → ``[REDACTED:EMAIL]``."""
    return f"[REDACTED:{detector_id.rsplit('.', 1)[-1].upper()}]"


def redact(text: str, findings: Iterable[Finding]) -> str:
    """Return ``text`` with every located finding replaced by its placeholder.

    Overlapping findings are merged; the placeholder of the first one is used.
    """
    spans = sorted((f.start, f.end, f.detector) for f in findings if f.start is not None and f.end is not None)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for start, end, detector in spans:
        if end <= pos:
            continue  # fully inside a span already replaced
        if start < pos:
            pos = end  # overlaps the previous span: extend it
            continue
        parts.append(text[pos:start])
        parts.append(placeholder(detector))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
