"""Generators of valid PII values (for the shared property tests and tests/test_pii.py).

Every value is valid for its detector (checksums, issuer and country tables,
numbering plans), so each must be found and wholly redacted. ``LOOKALIKES``
gives values of the same shapes that must NOT be reported.
"""

from __future__ import annotations

import string
from collections.abc import Callable

from hypothesis import strategies as st

from aispm.detectors import luhn_valid
from aispm.detectors.pii import aba_valid

DIGITS = st.sampled_from(string.digits)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


def _luhn_complete(partial: str) -> str:
    return next(partial + d for d in string.digits if luhn_valid(partial + d))


def _grouped(number: str, sizes: tuple[int, ...], sep: str) -> str:
    out, at = [], 0
    for size in sizes:
        out.append(number[at : at + size])
        at += size
    if at < len(number):
        out.append(number[at:])
    return sep.join(out)


# (prefix, length, grouping when written with separators)
_CARD_KINDS = [
    ("4", 16, (4, 4, 4, 4)),  # Visa
    ("51", 16, (4, 4, 4, 4)),  # Mastercard
    ("55", 16, (4, 4, 4, 4)),
    ("2221", 16, (4, 4, 4, 4)),
    ("2720", 16, (4, 4, 4, 4)),
    ("34", 15, (4, 6, 5)),  # Amex
    ("37", 15, (4, 6, 5)),
    ("6011", 16, (4, 4, 4, 4)),  # Discover
    ("65", 16, (4, 4, 4, 4)),
    ("3528", 16, (4, 4, 4, 4)),  # JCB
    ("36", 14, (4, 6, 4)),  # Diners
    ("2131", 15, (4, 6, 5)),  # JCB, 15 digits
    ("62", 16, (4, 4, 4, 4)),  # UnionPay
    ("6759", 16, (4, 4, 4, 4)),  # Maestro
    ("4", 19, (4, 4, 4, 4, 3)),
]


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix, length, sizes = draw(st.sampled_from(_CARD_KINDS))
    body = draw(_digits(length - len(prefix) - 1))
    number = _luhn_complete(prefix + body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return number if not sep else _grouped(number, sizes, sep)


def _nanp_number() -> st.SearchStrategy[str]:
    return st.builds(
        "{}{:02d}{}{:02d}{:04d}".format,
        st.integers(2, 9),
        st.integers(0, 99).filter(lambda n: n != 11),
        st.integers(2, 9),
        st.integers(0, 99),
        st.integers(0, 9999),
    )


phones = st.one_of(
    _nanp_number().map(lambda n: f"+1-{n[:3]}-{n[3:6]}-{n[6:]}"),
    _nanp_number().map(lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}"),
    _nanp_number().map(lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}"),
    _digits(8).map(lambda d: f"+44 20 {d[:4]} {d[4:]}"),  # UK, international
    _digits(8).map(lambda d: f"020 {d[:4]} {d[4:]}"),  # UK, national
    _digits(6).map(lambda d: f"07700 {d}"),
    _digits(8).map(lambda d: f"01 {d[:2]} {d[2:4]} {d[4:6]} {d[6:]}"),  # France
    _digits(8).map(lambda d: f"+33 6 {d[:2]} {d[2:4]} {d[4:6]} {d[6:]}"),
    _digits(8).map(lambda d: f"030 {d}"),  # Germany
    _digits(7).map(lambda d: f"+49 171 {d}"),
)

ssns = st.builds(
    "{:03d}-{:02d}-{:04d}".format,
    st.integers(1, 899).filter(lambda a: a != 666),
    st.integers(1, 99),
    st.integers(1, 9999),
)

_IBAN_BBAN = {  # country -> BBAN alphabet per position ("A" letter, "9" digit, "X" either)
    "GB": "AAAA99999999999999",
    "DE": "999999999999999999",
    "FR": "9999999999XXXXXXXXXXX99",
    "NL": "AAAA9999999999",
    "ES": "99999999999999999999",
    "IT": "A9999999999XXXXXXXXXXXX",
    "NO": "99999999999",
    "CH": "99999XXXXXXXXXXXX",
}


def iban_check(country: str, bban: str) -> str:
    """The two IBAN check digits for ``country`` and ``bban``."""
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{98 - number % 97:02d}"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(_IBAN_BBAN)))
    alphabet = {"A": string.ascii_uppercase, "9": string.digits, "X": string.ascii_uppercase + string.digits}
    bban = "".join(draw(st.sampled_from(alphabet[kind])) for kind in _IBAN_BBAN[country])
    compact = country + iban_check(country, bban) + bban
    if draw(st.booleans()):
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


# Public address blocks only: a private address scores 0.5, under the default threshold.
_PUBLIC_FIRST = [8, 23, 34, 45, 52, 64, 81, 93, 104, 151, 185, 199, 212]
ipv4s = st.builds(
    "{}.{}.{}.{}".format,
    st.sampled_from(_PUBLIC_FIRST),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(1, 254),
)
ipv6s = st.builds(
    "2001:{:x}:{:x}::{:x}".format,
    st.integers(0x4000, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(1, 0xFFFF),
)

_NINO_FIRST = [c for c in string.ascii_uppercase if c not in "DFIQUV"]
_NINO_SECOND = [c for c in string.ascii_uppercase if c not in "DFIQUVO"]
ninos = st.builds(
    lambda a, b, d, s, spaced: f"{a}{b} {d[:2]} {d[2:4]} {d[4:]} {s}" if spaced else f"{a}{b}{d}{s}",
    st.sampled_from(_NINO_FIRST),
    st.sampled_from(_NINO_SECOND),
    _digits(6),
    st.sampled_from("ABCD"),
    st.booleans(),
).filter(lambda n: n[:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _aba_complete(eight: str) -> str:
    return next(eight + d for d in string.digits if aba_valid(eight + d))


routing_numbers = st.builds(
    lambda prefix, rest: _aba_complete(f"{prefix:02d}{rest}"),
    st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 26, 31, 32, 61, 67, 72]),
    _digits(6),
)

emails = st.builds(
    "{}{}{}".format,
    st.from_regex(r"[A-Za-z0-9]{1,10}(?:[._+-][A-Za-z0-9]{1,8}){0,2}", fullmatch=True),
    st.sampled_from(["@", "@", "@", "\uff20"]),  # the fullwidth at sign folds to "@"
    st.from_regex(r"[a-z0-9]{1,10}(?:-[a-z0-9]{1,5})?(?:\.[a-z0-9]{1,10}){0,2}\.[a-z]{2,6}", fullmatch=True),
)

SAMPLES: dict[str, st.SearchStrategy[str]] = {
    "pii.aba_routing": routing_numbers.map(lambda n: f"\u2446{n}\u2446"),  # MICR transit symbols: context
    "pii.credit_card": cards(),
    "pii.email": emails,
    "pii.iban": ibans(),
    "pii.ip_address": st.one_of(ipv4s, ipv6s),
    "pii.phone": phones,
    "pii.uk_nino": ninos,
    "pii.us_ssn": ssns,
}

# Same shapes, but not PII: each must pass every PII detector unreported.
LOOKALIKES: dict[str, st.SearchStrategy[str]] = {
    "date": st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 28)),
    "date_dotted": st.builds(
        "{:02d}.{:02d}.{:04d}".format, st.integers(1, 28), st.integers(1, 12), st.integers(1990, 2030)
    ),
    "timestamp": st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format,
        st.integers(1990, 2030),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
    ),
    "unix_time": st.integers(1_000_000_000, 1_999_999_999).map(str),
    "time": st.builds("{:02d}:{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
    "version": st.builds("v{}.{}.{}.{}".format, *(st.integers(0, 20) for _ in range(4))),
    "version_word": st.builds("version {}.{}.{}.{}".format, *(st.integers(0, 20) for _ in range(4))),
    "oid": st.builds("1.3.6.1.4.1.{}.{}".format, st.integers(1, 60000), st.integers(1, 99)),
    "order": _digits(9).map(lambda d: f"order #{d}"),
    "tracking_ups": st.text(st.sampled_from(string.ascii_uppercase + string.digits), min_size=16, max_size=16).map(
        lambda s: f"1Z{s}"
    ),
    "tracking_usps": _digits(18).map(lambda d: f"9400 {d[:4]} {d[4:8]} {d[8:12]} {d[12:16]} {d[16:]}"),
    "uuid": st.uuids().map(str),
    "git_sha": st.text(st.sampled_from("0123456789abcdef"), min_size=40, max_size=40),
    "price": st.builds("${:,}.{:02d}".format, st.integers(1000, 9_999_999), st.integers(0, 99)),
    "isbn": _digits(9).map(lambda d: f"ISBN 978-{d[0]}-{d[1:3]}-{d[3:]}-{d[8]}"),
    "isbn10": _digits(8).map(lambda d: f"0-{d[:2]}-{d[2:]}-{d[7]}"),
    "ean13": _digits(11).map(lambda d: f"50{d}"),
    # (19-digit numbers are left out: without their last group they may be valid 16-digit ones)
    "luhn_invalid_card": cards()
    .filter(lambda c: len(c.replace(" ", "").replace("-", "")) <= 16)
    .map(lambda c: c[:-1] + str((int(c[-1]) + 1) % 10)),
    "zip_plus_four": st.builds("{:05d}-{:04d}".format, st.integers(10000, 99999), st.integers(0, 9999)),
    "invalid_ssn": st.builds(
        "9{:02d}-{:02d}-{:04d}".format, st.integers(0, 99), st.integers(1, 99), st.integers(1, 9999)
    ),
    "bare_nine_digits": st.integers(100_000_000, 999_999_999).map(str),
    "decimal": st.builds("{}.{:03d}".format, st.integers(0, 999), st.integers(0, 999)),
    "loopback": st.sampled_from(["127.0.0.1", ".".join("0000"), "::1", "255.255.255.0", "localhost:8080"]),
    "slice": st.builds("items[{}::{}]".format, st.integers(0, 99), st.integers(1, 9)),
    "mac": st.text(st.sampled_from("0123456789ABCDEF"), min_size=12, max_size=12).map(
        lambda h: ":".join(h[i : i + 2] for i in range(0, 12, 2))
    ),
    "nino_bad_prefix": _digits(6).map(lambda d: f"QQ{d}C"),
    "iban_bad_check": ibans().map(lambda i: i[:2] + ("00" if i[2:4] != "00" else "01") + i[4:]),
}


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: unit * max(1, n // len(unit))


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "pii_digit_groups": _repeat("12 34 56 78 "),
    "pii_phone_groups": _repeat("+1 202 555 "),
    "pii_trunk_zero": _repeat("020 7946 "),
    "pii_card_groups": _repeat("4111 1111 1111 111 "),
    "pii_context_words": _repeat("phone ssn routing 123 45 "),
    "pii_iban_groups": _repeat("GB82 WEST "),
    "pii_nino_like": _repeat("AB 12 34 56 "),
    "pii_dotted": _repeat("1.2.3."),
    "pii_colons": _repeat("fe80:"),
    "pii_double_colons": _repeat("a::"),
    "pii_fullwidth_at": _repeat("a\uff20"),
    "pii_fullwidth_digits": _repeat("\uff11\uff12 "),
}
