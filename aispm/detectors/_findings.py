"""What every detector does last: turn matched spans into findings, and the framework ids they carry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..decisions import Finding, Severity
from ._normalize import ScanText

# OWASP Top 10 for LLM Applications 2025, and MITRE ATLAS techniques (docs/detectors.md).
OWASP_PROMPT_INJECTION = "OWASP-LLM01:2025"
OWASP_SENSITIVE_INFORMATION = "OWASP-LLM02:2025"
OWASP_IMPROPER_OUTPUT = "OWASP-LLM05:2025"
OWASP_SYSTEM_PROMPT_LEAKAGE = "OWASP-LLM07:2025"
ATLAS_PROMPT_INJECTION = "AML.T0051"
ATLAS_JAILBREAK = "AML.T0054"
ATLAS_UNSECURED_CREDENTIALS = "AML.T0055"
ATLAS_SYSTEM_PROMPT_EXTRACTION = "AML.T0056"
ATLAS_DATA_LEAKAGE = "AML.T0057"
ATLAS_PROMPT_OBFUSCATION = "AML.T0068"
ATLAS_RESPONSE_RENDERING = "AML.T0077"  # exfiltration through rendered links and images
ATLAS_AGENT_TOOL_POISONING = "AML.T0110"  # AI Agent Tool Poisoning: orders hidden in a tool's description


def located(
    text: ScanText,
    spans: Iterable[tuple[int, int, float | None]],
    *,
    detector: str,
    category: str,
    severity: Severity,
    mappings: Sequence[str],
    view: str = "data",
) -> list[Finding]:
    """Findings for ``(start, end, confidence)`` spans of a view of ``text``.

    Sorted by position; a span that overlaps one already reported is dropped;
    offsets are mapped to ``text.original`` unless ``view`` is ``original``.
    """
    ordered = sorted(spans)
    if not ordered:
        return []
    mapped = view != "original"
    mappings = tuple(mappings)
    findings: list[Finding] = []
    last_end = -1
    for start, end, confidence in ordered:
        if start < last_end:
            continue
        last_end = end
        if mapped:
            start, end = text.span_to_original(start, end)
        findings.append(
            Finding(
                detector=detector,
                category=category,
                severity=severity,
                start=start,
                end=end,
                confidence=confidence,
                mappings=mappings,
            )
        )
    return findings
