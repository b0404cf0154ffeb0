"""Personal data detectors (output scanner, redaction).

They read ``ScanText.original`` so redaction hits exactly what was found. Every
quantifier is bounded and every pattern starts with a one-character look-behind
that rejects starts inside a token, so scanning stays linear in the input.
"""

from __future__ import annotations

from ..decisions import Severity
from ._pattern import PatternDetector

__all__ = ["credit_card", "email", "luhn_valid", "phone", "us_ssn"]

OWASP_SENSITIVE_INFORMATION = "OWASP-LLM02:2025"
ATLAS_DATA_LEAKAGE = "AML.T0057"
_MAPPINGS = (OWASP_SENSITIVE_INFORMATION, ATLAS_DATA_LEAKAGE)


def luhn_valid(candidate: str) -> bool:
    """True when the digits of ``candidate`` pass the Luhn checksum (13 to 19 digits)."""
    digits = [ord(c) - 48 for c in candidate if "0" <= c <= "9"]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _plausible_phone(candidate: str) -> bool:
    # E.164 numbers have at most 15 digits; fewer than 10 is too short to matter here.
    digits = sum(c.isdigit() for c in candidate)
    return 10 <= digits <= 15 and "  " not in candidate and "--" not in candidate


def email() -> PatternDetector:
    """``pii.email``: e-mail addresses."""
    return PatternDetector(
        "pii.email",
        "pii",
        Severity.MEDIUM,
        (
            r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
            r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24}(?![\w-])",
        ),
        triggers=("@",),
        mappings=_MAPPINGS,
        confidence=0.95,
    )


def phone() -> PatternDetector:
    """``pii.phone``: international (+CC ...) and North American phone numbers."""
    return PatternDetector(
        "pii.phone",
        "pii",
        Severity.MEDIUM,
        (
            # +44 20 7946 0958, +1-202-555-0143, +49 (30) 1234567: one bounded run, then counted
            r"(?<![\w+])\+[1-9][\d .()-]{6,22}\d(?!\w)",
            # (202) 555-0143, 202-555-0143, 202.555.0143
            r"(?<![\w+(-])(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w-])",
        ),
        validate=_plausible_phone,
        mappings=_MAPPINGS,
        confidence=0.7,
    )


def credit_card() -> PatternDetector:
    """``pii.credit_card``: payment card numbers that pass the Luhn checksum."""
    return PatternDetector(
        "pii.credit_card",
        "pii",
        Severity.HIGH,
        (r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])",),
        mappings=_MAPPINGS,
        confidence=0.9,
        validate=luhn_valid,
    )


def us_ssn() -> PatternDetector:
    """``pii.us_ssn``: US social security numbers in the ``123-45-6789`` form."""
    return PatternDetector(
        "pii.us_ssn",
        "pii",
        Severity.HIGH,
        (r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])",),
        triggers=("-",),
        mappings=_MAPPINGS,
        confidence=0.85,
    )
