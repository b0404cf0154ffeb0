"""Personal data detectors (output scanner, redaction).

Every detector validates what it matches instead of trusting a bare pattern:
checksums (Luhn, IBAN mod-97, the ABA 3-7-1 sum), issuer, country and
numbering-plan tables, and context words where a format alone is ambiguous.
They read the ``data`` view (fullwidth digits and at signs folded, invisible
characters removed) and report offsets into ``original``.

Speed: numeric detectors look only at ``ScanText.data_digit_runs`` (found once
per text and shared), so prose without numbers costs them one attribute read.
Every regular expression is bounded and runs inside one run (or at one
anchor character), and context checks read a fixed window before a match, so
scanning stays linear in the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ..decisions import Finding, Severity
from ._findings import ATLAS_DATA_LEAKAGE, OWASP_SENSITIVE_INFORMATION, located
from ._normalize import ScanText
from ._protocol import Detector

__all__ = [
    "aba_routing",
    "aba_valid",
    "credit_card",
    "email",
    "iban",
    "iban_valid",
    "ip_address",
    "luhn_valid",
    "phone",
    "uk_nino",
    "us_ssn",
]

_MAPPINGS = (OWASP_SENSITIVE_INFORMATION, ATLAS_DATA_LEAKAGE)

_Spans = list[tuple[int, int, float]]


def _findings(text: ScanText, detector_id: str, severity: Severity, spans: _Spans) -> list[Finding]:
    """Findings for spans of ``data``: sorted, overlaps dropped, offsets mapped to ``original``."""
    return located(text, spans, detector=detector_id, category="pii", severity=severity, mappings=_MAPPINGS)


# A label saying what else a number is: the numbers after it are not cards or phone numbers.
_OTHER_LABEL = (
    r"\b(?:order|invoice|tracking|shipment|parcel|ref|reference|transaction|txn|isbn|serial|imei|po|sku|ticket|case)"
    r"\W{0,3}(?:(?:number|no|num|nr|id|#)\W{0,3})?\Z"
)


def _before(data: str, start: int, width: int = 40) -> str:
    """The lower-cased window of ``data`` that ends where a match starts (context words)."""
    return data[max(0, start - width) : start].lower()


# --- pii.email --------------------------------------------------------------------------------

_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}"
_DOMAIN_TLD = _DOMAIN + r"\.[A-Za-z]{2,24}(?![\w-])"


class Email:
    """``pii.email``: e-mail addresses (also with a fullwidth at sign), confidence 0.95.

    Anchored on each ``@``: the local part is read backwards (at most 64
    characters, as RFC 5321 allows) and the domain matched forwards, so the
    cost is linear in the text however many ``@`` it holds.
    """

    id = "pii.email"
    category = "pii"

    def __init__(self) -> None:
        self._domain = re.compile(_DOMAIN_TLD)

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per address."""
        original = text.original
        # Non-ASCII text is read in ``data`` (NFKC folds U+FF20 and U+FE6B), but only when an at sign
        # is there at all: normalising costs more than three memchr calls.
        if "@" not in original and (text.is_ascii or ("\uff20" not in original and "\ufe6b" not in original)):
            return []
        haystack = text.data
        spans: _Spans = []
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
            domain = self._domain.match(haystack, at + 1) if local_ok else None
            if domain is not None:
                spans.append((start, domain.end(), 0.95))
                last_end = domain.end()
            at = haystack.find("@", max(at + 1, last_end))
        return _findings(text, self.id, Severity.MEDIUM, spans)


def email() -> Email:
    """``pii.email`` detector."""
    return Email()


# --- pii.credit_card -------------------------------------------------------------------------


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


# (prefix length, first prefix, last prefix, valid lengths): the issuer identification numbers
# of the card schemes in use (ISO/IEC 7812 as published by the schemes).
_ISSUERS: tuple[tuple[int, int, int, range | tuple[int, ...]], ...] = (
    (1, 4, 4, (16, 19)),  # Visa (13-digit Visa numbers are long gone; 13-digit EANs are everywhere)
    (2, 51, 55, (16,)),  # Mastercard
    (4, 2221, 2720, (16,)),  # Mastercard 2-series
    (2, 34, 34, (15,)),  # American Express
    (2, 37, 37, (15,)),
    (4, 6011, 6011, range(16, 20)),  # Discover
    (3, 644, 649, range(16, 20)),
    (2, 65, 65, range(16, 20)),  # Discover, RuPay
    (6, 622126, 622925, range(16, 20)),
    (4, 3528, 3589, range(16, 20)),  # JCB
    (4, 2131, 2131, (15,)),
    (4, 1800, 1800, (15,)),
    (3, 300, 305, range(14, 20)),  # Diners Club
    (4, 3095, 3095, range(14, 20)),
    (2, 36, 36, range(14, 20)),
    (2, 38, 39, range(14, 20)),
    (2, 62, 62, range(16, 20)),  # UnionPay
    (2, 81, 81, range(16, 20)),
    (2, 50, 50, range(16, 20)),  # Maestro (5018, 5020, 5038, ...); shorter ones collide with EAN-13
    (2, 56, 58, range(16, 20)),
    (3, 639, 639, range(16, 20)),
    (2, 67, 67, range(16, 20)),
    (4, 2200, 2204, range(16, 20)),  # Mir
    (2, 60, 60, (16,)),  # RuPay
    (3, 508, 508, (16,)),
)


def _issued(digits: str) -> bool:
    """True when a scheme issues card numbers with this prefix and length."""
    n = len(digits)
    return any(lo <= int(digits[:width]) <= hi and n in lengths for width, lo, hi, lengths in _ISSUERS)


def _card_number(digits: str) -> bool:
    return luhn_valid(digits) and _issued(digits)


def _holds_card(candidate: str) -> bool:
    # The pattern takes the longest run of digits and single separators, so a card next to a
    # short number is one candidate: "4111111111111111 123" (card, CVV), "cvv 123 4111...".
    # Without its first and/or last group of digits, the run may still be a card number;
    # then the whole run is redacted. Written cards come in groups of at least three digits
    # (4-4-4-4, 4-6-5, 4-4-4-4-3); ISBNs and part numbers (978-3-16-148410-0) do not.
    groups = candidate.replace("-", " ").split(" ")
    if len(groups) == 1:
        return _card_number(candidate)
    if len(groups) > 7:
        return False
    n = len(groups)
    for lo, hi in ((0, n), (1, n), (0, n - 1), (1, n - 1)):
        part = groups[lo:hi]
        if part and all(len(g) >= 3 for g in part) and _card_number("".join(part)):
            return True
    return False


class CreditCard:
    """``pii.credit_card``: payment card numbers, confidence 0.95.

    A candidate must pass the Luhn checksum and match a card scheme's issuer
    range and length (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
    Maestro, Mir, RuPay). A number right after "order", "invoice",
    "tracking", "ref", "ISBN", "IMEI" and the like is not reported.
    """

    id = "pii.credit_card"
    category = "pii"

    def __init__(self) -> None:
        self._pattern = re.compile(r"[0-9](?<![\w-][0-9])(?:[ -]?[0-9]){12,18}(?![0-9-])")
        # One random number in ten passes Luhn: a number labelled as something else is not a card.
        self._not_card = re.compile(_OTHER_LABEL)

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per card number (with a CVV or month written next to it)."""
        runs = text.data_digit_runs
        if not runs:
            return []
        data = text.data
        spans: _Spans = []
        for lo, hi in runs:
            if hi - lo < 13:
                continue  # too short for a card number (cutting a glued run only shortens it)
            if lo and data[lo].isdigit() and (data[lo - 1].isalnum() or data[lo - 1] == ":"):
                # A run glued to the token before it: "2001:db8::d0 4111 ..." ends an IPv6 address, whose
                # last group is not the card's; "DE00 3000 0000 0000 1499 00" is an IBAN, whose groups
                # are not a card's either, up to a wider gap (a card is written with single separators).
                if ":" in data[max(0, lo - 40) : lo]:
                    cut = min((i for i in (data.find(" ", lo, hi), data.find("-", lo, hi)) if i >= 0), default=-1)
                else:
                    cut = data.find("  ", lo, hi)
                if cut < 0:
                    continue
                lo = cut + 1
            if hi - lo >= 13:
                spans.extend(
                    (m.start(), m.end(), 0.95)
                    for m in self._pattern.finditer(data, lo, hi + 1)
                    if _holds_card(m.group()) and self._not_card.search(_before(data, m.start(), 24)) is None
                )
        return _findings(text, self.id, Severity.HIGH, spans)


def credit_card() -> CreditCard:
    """``pii.credit_card`` detector."""
    return CreditCard()


# --- pii.us_ssn ---------------------------------------------------------------------------------


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    # Never issued: area 000, 666 and 900-999 (ITINs), group 00, serial 0000.
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


class UsSsn:
    """``pii.us_ssn``: US social security numbers.

    ``123-45-6789`` anywhere (confidence 0.85, 0.95 after a context word such as
    "SSN" or "social security number"); ``123 45 6789`` and ``123456789`` only
    right after such a word (0.9). Areas 000, 666 and 900-999, group 00 and
    serial 0000 are never issued and not reported.
    """

    id = "pii.us_ssn"
    category = "pii"

    def __init__(self) -> None:
        self._pattern = re.compile(r"(?<![\w.-])([0-9]{3})([ -]?)([0-9]{2})\2([0-9]{4})(?![\w-]|[.,][0-9])")
        self._context = re.compile(
            r"(?:\bssn|\bss#|\bsocial security|\bsoc\.? sec\.?)s?"
            r"(?:\W{0,3}(?:number|no|num|nr|#|is|was|:)){0,3}\W{0,3}\Z"
        )

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per social security number."""
        runs = text.data_digit_runs
        if not runs:
            return []
        data = text.data
        spans: _Spans = []
        for lo, hi in runs:
            if hi - lo < 9:
                continue
            for m in self._pattern.finditer(data, lo, hi + 1):
                if not _ssn_valid(m.group(1), m.group(3), m.group(4)):
                    continue
                after_word = self._context.search(_before(data, m.start(), 32)) is not None
                if m.group(2) == "-":
                    spans.append((m.start(), m.end(), 0.95 if after_word else 0.85))
                elif after_word:
                    spans.append((m.start(), m.end(), 0.9))
        return _findings(text, self.id, Severity.HIGH, spans)


def us_ssn() -> UsSsn:
    """``pii.us_ssn`` detector."""
    return UsSsn()


# --- pii.iban -----------------------------------------------------------------------------------

# IBAN length per country (SWIFT IBAN registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(compact: str) -> bool:
    """True when ``compact`` (no spaces, upper case) has its country's length and passes mod-97."""
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not "02" <= compact[2:4] <= "98":
        return False  # check digits are 02-98 ("00" would pass mod-97 for what should read "97")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


class Iban:
    """``pii.iban``: international bank account numbers, confidence 0.95.

    Compact (``GB82WEST12345698765432``) or in groups of four
    (``GB82 WEST 1234 5698 7654 32``); the country's length and the mod-97
    check digits must match. Anchored on the two check digits, which always
    start a digit run after the country code.
    """

    id = "pii.iban"
    category = "pii"

    def __init__(self) -> None:
        self._pattern = re.compile(
            r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}"
            r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])"
        )

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per IBAN."""
        runs = text.data_digit_runs
        if not runs:
            return []
        data = text.data
        spans: _Spans = []
        for lo, _ in runs:
            country = data[lo - 2 : lo] if lo >= 2 else ""
            if country not in _IBAN_LENGTHS:
                continue
            m = self._pattern.match(data, lo - 2)
            if m is None:
                continue
            end = self._end(m.group(), m.start())
            if end is not None and iban_valid(data[m.start() : end].replace(" ", "")):
                spans.append((m.start(), end, 0.95))
        return _findings(text, self.id, Severity.HIGH, spans)

    @staticmethod
    def _end(candidate: str, start: int) -> int | None:
        """End of the IBAN in a match that may run on into a following group ("... 32 1234")."""
        length = _IBAN_LENGTHS[candidate[:2]]
        seen = 0
        for i, ch in enumerate(candidate):
            if ch != " ":
                seen += 1
                if seen == length:
                    after = candidate[i + 1 : i + 2]
                    return start + i + 1 if after in ("", " ") else None
        return None


def iban() -> Iban:
    """``pii.iban`` detector."""
    return Iban()


# --- pii.uk_nino --------------------------------------------------------------------------------

_NINO_BAD_FIRST = frozenset("DFIQUV")
_NINO_BAD_SECOND = frozenset("DFIQUVO")
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


class UkNino:
    """``pii.uk_nino``: UK National Insurance numbers (``AB 12 34 56 C``).

    Two prefix letters under HMRC's rules (first not D, F, I, Q, U, V; second
    not D, F, I, O, Q, U, V; not BG, GB, KN, NK, NT, TN, ZZ), six digits and a
    suffix A-D: confidence 0.8, 0.95 after "national insurance" or "NINO".
    Without the suffix, only after such a word (0.9).
    """

    id = "pii.uk_nino"
    category = "pii"

    def __init__(self) -> None:
        self._pattern = re.compile(
            r"(?<![A-Za-z0-9])([A-Z]{2}) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2})(?: ?([A-D]))?(?![A-Za-z0-9])"
        )
        self._context = re.compile(r"\b(?:national insurance|nino|ni)\b[^0-9\n]{0,24}\Z")

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per National Insurance number."""
        runs = text.data_digit_runs
        if not runs:
            return []
        data = text.data
        spans: _Spans = []
        for lo, hi in runs:
            if hi - lo < 6:
                continue  # the six digits (and the spaces between them) lie in one run
            # The digits start a run; the prefix letters are just before it (maybe with a space).
            previous = data[lo - 1 : lo]
            if not ("A" <= previous <= "Z" or previous == " "):
                continue
            start = lo - 3 if previous == " " else lo - 2
            if start < 0:
                continue
            m = self._pattern.match(data, start)
            if m is None:
                continue
            prefix = m.group(1)
            if prefix[0] in _NINO_BAD_FIRST or prefix[1] in _NINO_BAD_SECOND or prefix in _NINO_BAD_PREFIX:
                continue
            after_word = self._context.search(_before(data, start)) is not None
            if m.group(5):
                spans.append((m.start(), m.end(), 0.95 if after_word else 0.8))
            elif after_word:
                spans.append((m.start(), m.end(), 0.9))
        return _findings(text, self.id, Severity.HIGH, spans)


def uk_nino() -> UkNino:
    """``pii.uk_nino`` detector."""
    return UkNino()


# --- pii.aba_routing ----------------------------------------------------------------------------

_TRANSIT = "\u2446"  # the MICR transit symbol printed around routing numbers on cheques


def aba_valid(digits: str) -> bool:
    """True for nine digits with a Federal Reserve prefix and a valid ABA (3-7-1) checksum."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return False
    prefix = int(digits[:2])
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    d = [int(c) for c in digits]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


class AbaRouting:
    """``pii.aba_routing``: US bank routing (ABA transit) numbers, confidence 0.9.

    Nine digits with a valid prefix and checksum, reported only after
    "routing", "ABA", "RTN" or "transit" (within a few words), or between
    MICR transit symbols (``⑆021000021⑆``): one random nine-digit number in
    ten passes the checksum.
    """

    id = "pii.aba_routing"
    category = "pii"

    def __init__(self) -> None:
        self._pattern = re.compile(r"(?<![\w.-])[0-9]{9}(?![\w-]|[.,][0-9])")
        self._context = re.compile(r"\b(?:routing|aba|rtn|transit)\b[^0-9\n]{0,24}\Z")

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per routing number."""
        runs = text.data_digit_runs
        if not runs:
            return []
        data = text.data
        spans: _Spans = []
        for lo, hi in runs:
            if hi - lo < 9:
                continue
            for m in self._pattern.finditer(data, lo, hi + 1):
                start, end = m.span()
                if not aba_valid(m.group()):
                    continue
                if data[start - 1 : start] == _TRANSIT:
                    spans.append((start - 1, end + 1 if data[end : end + 1] == _TRANSIT else end, 0.9))
                elif self._context.search(_before(data, start)) is not None:
                    spans.append((start, end, 0.9))
        return _findings(text, self.id, Severity.HIGH, spans)


def aba_routing() -> AbaRouting:
    """``pii.aba_routing`` detector."""
    return AbaRouting()


# --- pii.ip_address -----------------------------------------------------------------------------

_HEX_COLON = frozenset("0123456789abcdefABCDEF:.")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
GLOBAL_IP_CONFIDENCE = 0.85
INTERNAL_IP_CONFIDENCE = 0.5


# Words after which a dotted number is a version, a section or an OID, not an address; the
# abbreviations only with their dot ("fig. 1.2.3.4"), since "no" or "ch" may be any word.
_NUMBERED_WORDS = frozenset(
    {"version", "release", "build", "revision", "section", "chapter", "clause", "article", "paragraph"}
    | {"step", "part", "item", "figure", "table", "appendix", "rule", "oid"}
)
_NUMBERED_ABBREVIATIONS = frozenset({"v", "ver", "rel", "rev", "sect", "sec", "ch", "art", "para", "fig", "no"})


def _numbered_thing(data: str, start: int) -> bool:
    """True after "version", "v.", "Section", "§" and the like (string operations, no regex search)."""
    tail = data[max(0, start - 16) : start].rstrip(" :#\t")
    if tail.endswith("§"):
        return True
    dotted = tail.endswith(".")
    tail = tail.rstrip(".")
    word = tail[len(tail.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")) :].lower()
    if len(word) < len(tail) and tail[-len(word) - 1].isalnum():
        return False
    return word in _NUMBERED_WORDS or (dotted and word in _NUMBERED_ABBREVIATIONS)


def _ipv4_confidence(octets: list[int]) -> float | None:
    """Confidence for an IPv4 address, or ``None`` for addresses that identify nothing."""
    a, b = octets[0], octets[1]
    if a in (0, 127) or a >= 224:
        return None  # "this network", loopback, multicast, reserved, broadcast, netmasks (255.x)
    internal = (
        a == 10
        or (a == 172 and 16 <= b <= 31)
        or (a == 192 and b == 168)
        or (a == 100 and 64 <= b <= 127)  # carrier-grade NAT
        or (a == 169 and b == 254)  # link-local
        or (a == 198 and b in (18, 19))  # benchmarking
        or (a, b, octets[2]) in ((192, 0, 2), (198, 51, 100), (203, 0, 113), (192, 0, 0))  # documentation
    )
    return INTERNAL_IP_CONFIDENCE if internal else GLOBAL_IP_CONFIDENCE


class IpAddress:
    """``pii.ip_address``: IPv4 and IPv6 addresses.

    Public addresses score 0.85; private, link-local, carrier-grade NAT,
    unique-local and documentation addresses 0.5 (they reveal internal
    topology, not a person: counted at strict level and in untrusted text).
    Loopback, unspecified, multicast, broadcast and netmask values are not
    reported. Version strings (``v1.2.3.4``, "version 1.2.3.4"), OIDs and
    section numbers are not addresses.
    """

    id = "pii.ip_address"
    category = "pii"

    def __init__(self) -> None:
        self._ipv4 = re.compile(
            r"(?<![\w.])(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            r"\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            r"(?![\w-]|\.[0-9])"
        )
        self._v6_run = re.compile(r"[0-9A-Fa-f:.]*")
        # A colon an address can go on from: `re` skips the others ("https://", "Note: ") in C.
        self._v6_colon = re.compile(r":[0-9A-Fa-f:]")
        import ipaddress  # here, not at import time: only guards that run this detector need it

        self._ipv6_address = ipaddress.IPv6Address

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per address worth reporting."""
        data = text.data
        v6: _Spans = self._ipv6(data) if ":" in data else []
        spans = list(v6)
        for lo, hi in text.data_digit_runs:
            if hi - lo < 7 or data.find(".", lo, hi) < 0:
                continue
            for m in self._ipv4.finditer(data, lo, hi + 1):
                start = m.start()
                if v6 and any(s <= start < e for s, e, _ in v6):
                    continue  # the tail of an IPv4-mapped IPv6 address
                if _numbered_thing(data, start):
                    continue
                score = _ipv4_confidence([int(g) for g in m.groups()])
                if score is not None:
                    spans.append((start, m.end(), score))
        return _findings(text, self.id, Severity.MEDIUM, spans)

    def _ipv6(self, data: str) -> _Spans:
        spans: _Spans = []
        v6_colon = self._v6_colon
        found = v6_colon.search(data)
        while found is not None:
            colon = start = found.start()
            while start > 0 and colon - start < 40 and data[start - 1] in _HEX_COLON:
                start -= 1
            run = self._v6_run.match(data, colon)
            end = run.end() if run is not None else colon + 1
            span = self._ipv6_span(data, start, end)
            if span is not None:
                spans.append(span)
            found = v6_colon.search(data, end)
        return spans

    def _ipv6_span(self, data: str, start: int, end: int) -> tuple[int, int, float] | None:
        while end > start and (data[end - 1] == "." or (data[end - 1] == ":" and data[end - 2 : end] != "::")):
            end -= 1  # sentence punctuation after the address
        if end - start > 45 or (start > 0 and data[start - 1] in _WORD_CHARS):
            return None
        if end < len(data) and data[end] in _WORD_CHARS:
            return None
        candidate = data[start:end]
        if candidate.count(":") < 2 or not any(c.isdigit() for c in candidate):
            return None
        groups = [g for g in candidate.split(":") if g]
        # "1::2" is a slice in code far more often than an address.
        if len(groups) < 4 and not any(len(g) >= 3 for g in groups):
            return None
        try:
            address = self._ipv6_address(candidate)
        except ValueError:
            return None
        mapped = address.ipv4_mapped
        if mapped is not None:
            score = _ipv4_confidence(list(mapped.packed))
        elif address.is_loopback or address.is_unspecified or address.is_multicast:
            score = None
        elif address.is_global:
            score = GLOBAL_IP_CONFIDENCE
        else:
            score = INTERNAL_IP_CONFIDENCE
        return None if score is None else (start, end, score)


def ip_address() -> IpAddress:
    """``pii.ip_address`` detector."""
    return IpAddress()


# --- pii.phone ----------------------------------------------------------------------------------

# National significant number lengths of common country calling codes (ITU-T E.164 plans);
# other codes (1-3 digits) only need a total of 8 to 15 digits.
_NATIONAL_LENGTHS: dict[str, tuple[int, ...]] = {
    "1": (10,), "7": (10,), "20": (9, 10), "27": (9,), "30": (10,), "31": (9,), "32": (8, 9), "33": (9,),
    "34": (9,), "36": (8, 9), "39": (6, 7, 8, 9, 10, 11), "40": (9,), "41": (9,), "43": tuple(range(4, 14)),
    "44": (9, 10), "45": (8,), "46": (7, 8, 9), "47": (8,), "48": (9,), "49": tuple(range(6, 14)),
    "52": (10,), "55": (10, 11), "61": (9,), "64": (8, 9, 10), "65": (8,), "81": (9, 10), "82": (8, 9, 10),
    "86": (10, 11), "90": (10,), "91": (10,), "351": (9,), "353": (7, 8, 9), "358": tuple(range(5, 13)),
}  # fmt: skip
# Country codes never assigned (or spare): the first digits of a "+" number that is no phone number.
_SPARE_CC = ("28", "83", "89", "292", "293", "294", "295", "296")
_DATE_SHAPES = frozenset({(4, 2, 2), (4, 1, 2), (4, 2, 1), (4, 1, 1), (2, 2, 4), (1, 2, 4), (2, 1, 4), (1, 1, 4)})

# A token of a digit run: digits with an optional leading "+" and optional parentheses.
_Token = tuple[int, int, str, bool, bool]  # start, end, digits, has "+", in parentheses


class Phone:
    """``pii.phone``: telephone numbers, international and national.

    A digit run is split into groups; from each group that can start a number,
    the longest sequence of groups forming a valid number is reported:

    - ``+CC`` numbers (and ``00CC`` with at least two groups): a country
      code in use and that plan's length (``+1``: NANP rules): 0.9;
    - North American ``(202) 555-0143``, ``202-555-0143``, ``1-800-555-0199``
      (area code and exchange starting 2-9): 0.8;
    - national numbers with a trunk ``0``: French ``01 23 45 67 89`` (0.8), UK
      ``020 7946 0958``/``07700 900123``, German ``030 12345678``/``089/1234567``: 0.75;
    - a bare trunk-0 number of 10 or 11 digits (``0612345678``): 0.65;
    - after "tel", "phone", "call", "mobile", "cell", "fax" and the like:
      scores rise to 0.9, and bare (``2025550143``) or local (``555-0143``)
      numbers count too (0.85 and 0.7).

    An extension (``x123``, ``ext. 123``) is redacted with its number. Dates,
    version strings, IP addresses, ISBNs, card numbers, bare order numbers,
    digit groups inside codes and hashes, and numbers labelled as something
    else ("order", "invoice", "ticket", ...) are not reported.
    """

    id = "pii.phone"
    category = "pii"

    def __init__(self) -> None:
        self._token = re.compile(r"(\+?)(\(?)([0-9]+)(\)?)")
        # Whatever `_phone_score` accepts without a context word holds one of these.
        self._shape = re.compile(r"\+[1-9]|\([0-9]|(?<![0-9])0[0-9]|[0-9]{3}[-. )]{1,2}[0-9]{3}[-. ][0-9]{4}")
        self._other = re.compile(_OTHER_LABEL)
        self._extension = re.compile(r"(?: ?x| ?ext\.? ?| extension )[0-9]{1,6}(?![\w-])", re.IGNORECASE)
        self._context = re.compile(
            r"\b(?:tel|telephone|phone|ph|call|mobile|mob|cell|cellphone|fax|whatsapp|sms|hotline|helpline)"
            r"\W{0,3}(?:(?:me|us|them|on|at|number|no|nr|num|is|#)\W{1,3}){0,3}\Z"
        )

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per telephone number."""
        runs = text.data_digit_runs
        if not runs:
            return []
        data = text.data
        spans: _Spans = []
        shape, context = self._shape, self._context
        for lo, hi in runs:
            # Most runs (cards, IPs, amounts) have no phone shape: one C-speed search rules them out,
            # unless a context word before them lets bare and local numbers count.
            if hi - lo >= 7 and (
                shape.search(data, lo, hi) is not None or context.search(_before(data, lo, 32)) is not None
            ):
                self._scan_run(data, lo, hi, spans)
        return _findings(text, self.id, Severity.MEDIUM, spans)

    def _scan_run(self, data: str, lo: int, hi: int, spans: _Spans) -> None:
        chain: list[_Token] = []
        seps: list[str] = []  # seps[k]: what comes before chain[k]
        previous_end = lo
        for m in self._token.finditer(data, lo, hi):
            plus, opening, digits, closing = m.groups()
            start, end = m.start(), m.end()
            if bool(opening) != bool(closing):
                # A lone bracket is punctuation around the number ("(020 7946 0958)"), not an area code.
                if opening:
                    start, opening = m.start(3), ""
                else:
                    end, closing = m.end(3), ""
                plus = "" if start > m.start() else plus
            token = (start, end, digits, bool(plus), bool(opening))
            sep = data[previous_end:start]
            bad_token = len(digits) > 15
            joins = bool(chain) and sep in ("", " ", "-", ".", "/", " - ", " / ") and not plus and not bad_token
            if not joins:
                self._scan_chain(data, chain, seps, spans)
                chain, seps = [], []
            if bad_token:
                previous_end = end
                continue
            chain.append(token)
            seps.append(sep)
            previous_end = end
        self._scan_chain(data, chain, seps, spans)

    def _scan_chain(self, data: str, chain: list[_Token], seps: list[str], spans: _Spans) -> None:
        i, n = 0, len(chain)
        after_number = False
        while i < n:
            start = chain[i][0]
            # A number starts a chain of groups, or follows a number just found ("202-555-0143
            # 202-555-0199") or opens a parenthesis after a space; never in the middle of a
            # longer run of groups ("4000 0100 0000 0002", "1234-202-555-0143").
            startable = (
                (i == 0 or (seps[i] == " " and (after_number or chain[i][4])))
                and (start == 0 or not data[start - 1].isalnum())
                # "(202) (303)": a bracketed area code is followed by the local number, never by
                # another bracketed group (this also keeps runs of them from costing a scan each)
                and not (chain[i][4] and i + 1 < n and chain[i + 1][4])
                and not _after_code(data, start)
            )
            best: tuple[int, float] | None = None
            if startable:
                context: bool | None = None
                digits = 0
                for j in range(i, n):
                    digits += len(chain[j][2])
                    if digits > 17:
                        break
                    if j + 1 < n and seps[j + 1] not in (" ", " - ", " / "):
                        continue  # a number ends a run or before a space
                    if digits < 7:
                        continue
                    end = chain[j][1]
                    if data[end : end + 1].isalnum() and self._extension.match(data, end) is None:
                        continue  # glued to a word: "02808078595ab..." is part of a hash
                    if context is None:
                        window = _before(data, start, 32)
                        if self._other.search(window):
                            break  # "order #0325059542", "ticket 020 7946 0958"
                        context = self._context.search(window) is not None
                    score = _phone_score(chain[i : j + 1], seps[i + 1 : j + 1], context)
                    if score is not None:
                        best = (j, score)
            if best is None:
                i += 1
                after_number = False
                continue
            j, score = best
            end = chain[j][1]
            extension = self._extension.match(data, end)  # "x123", " ext. 123": redacted with the number
            spans.append((start, extension.end() if extension else end, score))
            i = j + 1
            after_number = True


def _mixed(word: str) -> bool:
    return 0 < len(word) <= 8 and word.isalnum() and not word.isdigit() and not word.isalpha()


def _after_code(data: str, start: int) -> bool:
    """True when a code comes just before: "90AB 0531 ...", "GB29 NWBK 6016 ...", "a1b2-0988 ..."."""
    if start < 2:
        return False
    before = data[start - 1]
    if before in "-./":
        return data[start - 2].isalnum()  # glued to a word with a hyphen or dot
    if before != " ":
        return False
    words = data[max(0, start - 11) : start - 1].split()
    if not words:
        return False
    last = words[-1]
    return _mixed(last) or (len(words) > 1 and len(last) == 4 and last.isupper() and _mixed(words[-2]))


def _phone_score(tokens: list[_Token], seps: list[str], context: bool) -> float | None:
    """Confidence that these groups (with these separators between them) are one phone number."""
    digits = "".join(t[2] for t in tokens)
    n = len(digits)
    lengths = tuple(len(t[2]) for t in tokens)
    parens = [k for k, t in enumerate(tokens) if t[4]]
    if tokens[0][3]:  # +CC
        # "+44 (0)20 ...": the trunk 0 in parentheses is not dialled from abroad.
        if len(tokens) > 2 and tokens[1][4] and tokens[1][2] == "0":
            digits = digits[: lengths[0]] + digits[lengths[0] + 1 :]
        if (parens and parens not in ([1], [2])) or ("." in seps and len(set(seps)) > 1):
            return None
        return 0.95 if context and _international(digits) else 0.9 if _international(digits) else None
    if parens and parens != [0] and not (parens == [1] and tokens[0][2] == "1"):
        return None
    if lengths in _DATE_SHAPES:
        return None
    # "0044 20 7946 0958": 00, the country code, then groups (not "0-02-565669-4", an ISBN)
    if digits.startswith("00") and 3 <= lengths[0] <= 5 and len(tokens) >= 2 and min(lengths[1:]) >= 2:
        return (0.9 if context else 0.8) if not parens and _international(digits[2:]) else None
    uniform = len(set(seps)) <= 1
    # North American numbering plan: [1] NXX NXX XXXX
    nanp = lengths[-3:] == (3, 3, 4) and (len(tokens) == 3 or (len(tokens) == 4 and tokens[0][2] == "1"))
    if nanp and _nanp(digits[-10:]) and (uniform or "." not in seps):
        return 0.9 if context else 0.8
    if digits[0] == "0" and digits[1] != "0":
        if lengths == (2, 2, 2, 2, 2) and uniform and seps[0] in (" ", ".", "-"):
            return 0.9 if context else 0.8  # France: 01 23 45 67 89
        if 3 <= lengths[0] <= 5 and 2 <= len(tokens) <= 4 and min(lengths[1:]) >= 2 and 10 <= n <= 12:
            return 0.9 if context else 0.75  # UK, Germany and other trunk-0 plans
    if len(tokens) == 1 and digits[0] == "0" and digits[1] != "0" and n in (10, 11):
        return 0.9 if context else 0.65  # "0612345678", "07700900123": a trunk 0, then a national number
    if not context:
        return None
    if len(tokens) == 1 and 10 <= n <= 15:
        return 0.85  # "phone: 2025550143"
    if lengths == (3, 4) and seps[0] in ("-", ".", " ") and digits[0] not in "01":
        return 0.7  # "call 555-0143"
    if 8 <= n <= 15 and min(lengths) >= 2:
        return 0.75
    return None


def _nanp(ten: str) -> bool:
    """NXX-NXX-XXXX with N in 2-9; area codes N11 are service codes."""
    return len(ten) == 10 and ten[0] >= "2" and ten[3] >= "2" and ten[1:3] != "11"


def _international(digits: str) -> bool:
    """Digits after "+": a country code in use followed by a plausible national number."""
    n = len(digits)
    if not 8 <= n <= 15 or digits[0] == "0" or digits.startswith(_SPARE_CC):
        return False
    for width in (1, 2, 3):
        lengths = _NATIONAL_LENGTHS.get(digits[:width])
        if lengths is not None:
            national = digits[width:]
            return n - width in lengths and (width != 1 or digits[0] != "1" or _nanp(national))
    return True


def phone() -> Phone:
    """``pii.phone`` detector."""
    return Phone()


DETECTORS: Mapping[str, Callable[[], Detector]] = {
    "pii.aba_routing": aba_routing,
    "pii.credit_card": credit_card,
    "pii.email": email,
    "pii.iban": iban,
    "pii.ip_address": ip_address,
    "pii.phone": phone,
    "pii.uk_nino": uk_nino,
    "pii.us_ssn": us_ssn,
}
"""This module's detector factories by id (merged into ``aispm.detectors.BUILTIN``)."""
