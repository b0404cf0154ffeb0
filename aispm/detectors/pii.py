"""Personal data detectors (output scanner, redaction).

They read ``ScanText.original`` so redaction hits exactly what was found. Every
quantifier is bounded and every pattern starts with a one-character look-behind
that rejects starts inside a token, so scanning stays linear in the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ..decisions import Finding, Severity
from ._normalize import ScanText
from ._pattern import PatternDetector
from ._protocol import Detector

__all__ = ["credit_card", "email", "luhn_valid", "phone", "us_ssn"]

OWASP_SENSITIVE_INFORMATION = "OWASP-LLM02:2025"
ATLAS_DATA_LEAKAGE = "AML.T0057"
_MAPPINGS = (OWASP_SENSITIVE_INFORMATION, ATLAS_DATA_LEAKAGE)
# Single characters are found with memchr: text without digits skips the numeric patterns
# for about half a microsecond per KB (shared by every detector through ScanText.memo).
_DIGITS = tuple("0123456789")


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


_SEPARATOR = re.compile("[ -]")


def _holds_card(candidate: str) -> bool:
    # The pattern takes the longest run of digits and single separators, so a card next to a
    # short number is one candidate: "4111111111111111 123" (card, CVV), "cvv 123 4111...".
    # Without its first and/or last group of digits, the run may still be a card number;
    # then the whole run is redacted. Cards are written in at most five groups (4-4-4-4-3).
    if luhn_valid(candidate):
        return True
    groups = _SEPARATOR.split(candidate)
    if not 2 <= len(groups) <= 7:
        return False
    digits = "".join(groups)
    first, last = len(groups[0]), len(digits) - len(groups[-1])
    return any(
        len(part) >= 13 and luhn_valid(part)
        for part in (digits[first:], digits[:last], digits[first:last] if len(groups) > 2 else "")
    )


def _plausible_phone(candidate: str) -> bool:
    # E.164 numbers have at most 15 digits; fewer than 10 is too short to matter here. The
    # greedy run can carry on into a neighbouring number ("+1-201-555-0143 ) 001-01-0001"):
    # a leading run of whole digit groups that is a phone number is enough (the whole run
    # is then redacted, as for card numbers next to a CVV).
    digits = 0
    for i, ch in enumerate(candidate):
        if "0" <= ch <= "9":
            digits += 1
            if digits > 15:
                return False
            if digits >= 10 and not candidate[i + 1 : i + 2].isdigit():
                return True
    return False


_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)


class Email:
    """``pii.email``: e-mail addresses.

    Anchored on each ``@``: the local part is read backwards (at most 64
    characters, as RFC 5321 allows) and the domain matched forwards, so the
    cost is linear in the text however many ``@`` it holds.
    """

    id = "pii.email"
    category = "pii"

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per address."""
        haystack = text.original
        findings: list[Finding] = []
        at = haystack.find("@")
        last_end = 0
        while at >= 0:
            start = at
            while start > last_end and at - start < 65 and haystack[start - 1] in _LOCAL_CHARS:
                start -= 1
            # The run must not have been cut short (by the length limit or the previous address);
            # checked before skipping leading punctuation, so ".alice@example.com" is still found.
            whole_run = start == 0 or haystack[start - 1] not in _LOCAL_CHARS
            while start < at and not haystack[start].isalnum():
                start += 1  # a local part starts with a letter or digit
            local_ok = whole_run and start < at and at - start <= 64
            domain = _DOMAIN.match(haystack, at + 1) if local_ok else None
            if domain is not None:
                findings.append(
                    Finding(
                        detector=self.id,
                        category=self.category,
                        severity=Severity.MEDIUM,
                        start=start,
                        end=domain.end(),
                        confidence=0.95,
                        mappings=_MAPPINGS,
                    )
                )
                last_end = domain.end()
            at = haystack.find("@", max(at + 1, last_end))
        return findings


def email() -> Email:
    """``pii.email`` detector."""
    return Email()


def phone() -> PatternDetector:
    """``pii.phone``: international (+CC ...) and North American phone numbers."""
    return PatternDetector(
        "pii.phone",
        "pii",
        Severity.MEDIUM,
        (
            # +44 20 7946 0958, +1-202-555-0143, +49 (30) 1234567: one bounded run, then counted.
            # The run stops at a double space or dash: a greedy run through "+1-202-555-0143  0"
            # would fail the check below and lose the number.
            r"\+(?<![\w+]\+)[1-9](?:[\d.()]|-(?!-)| (?! )){6,22}\d(?!\w)",
            # (202) 555-0143, 202-555-0143, 202.555.0143; a plain leading character class lets
            # `re` skip every position that is not a digit or "(" before trying more
            r"[(0-9](?:(?<=\()(?<![\w+(-]\()\d{3}\) ?|(?<=[0-9])(?<![\w+(-][0-9])\d\d[.-])\d{3}[.-]\d{4}(?![\w-])",
        ),
        requires=_DIGITS,
        in_digit_runs=True,
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
        (r"[0-9](?<![0-9-][0-9])(?:[ -]?[0-9]){12,18}(?![0-9-])",),
        requires=_DIGITS,
        in_digit_runs=True,
        mappings=_MAPPINGS,
        confidence=0.9,
        validate=_holds_card,
    )


def us_ssn() -> PatternDetector:
    """``pii.us_ssn``: US social security numbers in the ``123-45-6789`` form."""
    return PatternDetector(
        "pii.us_ssn",
        "pii",
        Severity.HIGH,
        (r"[0-8](?<![\w-][0-8])\d\d(?<!000)(?<!666)-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])",),
        requires=("-",),
        in_digit_runs=True,
        mappings=_MAPPINGS,
        confidence=0.85,
    )


DETECTORS: Mapping[str, Callable[[], Detector]] = {
    "pii.credit_card": credit_card,
    "pii.email": email,
    "pii.phone": phone,
    "pii.us_ssn": us_ssn,
}
"""This module's detector factories by id (merged into ``aispm.detectors.BUILTIN``)."""
