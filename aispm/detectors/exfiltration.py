"""Exfiltration detectors (output scanner): data leaving through links, images and data URIs.

- ``exfiltration.link``: links and images to hosts outside an allowlist whose URL carries data.
- ``exfiltration.data_uri``: ``data:`` URIs with a base64 or long payload.

A markdown image or an HTML ``img`` is fetched by the client when the answer is rendered, so
an injected instruction that makes the model write one with the user's data in its URL
exfiltrates that data without a click (ATLAS AML.T0077, LLM Response Rendering).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from ..decisions import Finding, Severity
from ..errors import PolicyError
from ._findings import (
    ATLAS_DATA_LEAKAGE,
    ATLAS_RESPONSE_RENDERING,
    OWASP_IMPROPER_OUTPUT,
    OWASP_SENSITIVE_INFORMATION,
)
from ._normalize import ScanText
from ._protocol import Detector

__all__ = ["DataUriDetector", "ExfiltrationLinkDetector", "Link"]

_EXFIL_MAPPINGS = (OWASP_SENSITIVE_INFORMATION, OWASP_IMPROPER_OUTPUT, ATLAS_RESPONSE_RENDERING, ATLAS_DATA_LEAKAGE)

# ---------------------------------------------------------------------------------------------
# exfiltration.link
# ---------------------------------------------------------------------------------------------

MAX_URL = 8192
"""Characters of one URL that are read; a longer URL is cut there (and carries data)."""

LinkKind = Literal["image", "link", "bare"]


@dataclass(frozen=True, slots=True)
class Link:
    """One URL in a text.

    Attributes:
        start: Offset of the URL in the scanned text's ``original``.
        end: Offset one past it.
        host: Normalised host: lower case, punycode, no userinfo, port or trailing dot.
        allowed: The host is on the allowlist.
        kind: ``image`` (fetched when rendered: markdown image, HTML ``src``, CSS ``url()``),
            ``link`` (markdown or HTML link, autolink), or ``bare`` (a URL in running text).
        carries_data: The URL holds encoded, high-entropy or unusually long content.
    """

    start: int
    end: int
    host: str
    allowed: bool
    kind: LinkKind
    carries_data: bool


_SCHEMES = frozenset({"http", "https"})
_SLASHES = re.compile(r"[/\\]{2}")
# From after "//": the authority (up to the first / \\ ? #), then the rest; in markdown "(url)" a ")" ends it.
_URL_BARE = re.compile(rf"(?P<authority>[^/\\?#\s<>\"'`]{{0,512}})[^\s<>\"'`]{{0,{MAX_URL}}}")
_URL_MARKDOWN = re.compile(rf"(?P<authority>[^/\\?#\s<>\"'`)]{{0,512}})[^\s<>\"'`)]{{0,{MAX_URL}}}")
_ATTRIBUTE = re.compile(r"([a-z:-]{1,16})\s{0,4}=\s{0,4}[\"']?$")
_REFERENCE = re.compile(r"(?:^|\n) {0,3}\[[^\]\n]{1,99}\]:[ \t]{0,8}<?$")
_FETCHED_ATTRIBUTES = frozenset({"src", "srcset", "poster", "background", "data", "lowsrc", "dynsrc", "formaction"})
_TRAILING = ".,:;!?*_~"
_PARAMETERS = re.compile(r"[&;]")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{20,}")


def _host(authority: str) -> str:
    """Normalise the host of an authority (``user:pw@Host.EXAMPLE:8080``) as browsers do."""
    if authority.isascii() and "@" not in authority and ":" not in authority and "%" not in authority:
        host = authority.lower().rstrip(".")  # the common case: a plain name
        return (_ipv4(host) or host) if host[-1:].isdigit() or "0x" in host else host
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            return host.lower()
    name, colon, port = host.rpartition(":")
    if colon and (port.isdigit() or not port):
        host = name
    if "%" in host:
        host = unquote(host)
    host = host.lower().rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # not a valid IDN: compared as written
            host = host.encode("idna").decode("ascii")
    return (_ipv4(host) or host) if host[-1:].isdigit() or "0x" in host else host


def _ipv4(host: str) -> str:
    """The dotted form of an IPv4 host written in decimal, hex or octal parts (WHATWG), else ``""``."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not host[-1:].isalnum():
        return ""
    numbers = []
    for part in parts:
        try:
            if part[:2] in ("0x", "0X"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return ""
    if any(n < 0 for n in numbers) or any(n > 255 for n in numbers[:-1]):
        return ""
    value = numbers[-1]
    if value >= 256 ** (5 - len(numbers)):
        return ""
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return str(ipaddress.IPv4Address(value))


def _entropy(token: str) -> float:
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _is_text(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    letters = sum(c.isalpha() for c in text)
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return len(text) >= 8 and printable >= 0.95 * len(text) and letters >= 0.3 * len(text)


def _decodes_to_text(token: str) -> bool:
    """A base64, base64url or hex token that decodes to text: what a model writes to smuggle data."""
    if len(token) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in token):
        return _is_text(bytes.fromhex(token))
    body = token.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        body = body[:-1]
    try:
        return _is_text(base64.b64decode(body + "=" * (-len(body) % 4), validate=True))
    except (binascii.Error, ValueError):
        return False


def _data_in(piece: str, *, long: int, random: bool) -> bool:
    """Whether one query value or path segment carries data."""
    if len(piece) >= long:
        return True
    if piece.count("%") >= 5:
        decoded = unquote(piece)
        if len(decoded) >= 32 and decoded != piece:
            return True
    for m in _TOKEN.finditer(piece):
        token = m.group()
        if _decodes_to_text(token):
            return True
        if random and len(token) >= 32 and _entropy(token) >= 4.0:
            return True  # a random-looking credential or session value
    return False


def _carries_data(rest: str) -> bool:
    """Whether a URL, from the end of its host on, carries data in its path, query or fragment."""
    if len(rest) < 20:
        return False  # no piece is long enough to hold data
    path, _, query = rest.partition("?")
    path, hashmark, fragment = path.partition("#")
    if not hashmark:
        query, _, fragment = query.partition("#")
    for segment in path.replace("\\", "/").split("/"):
        if len(segment) >= 20 and _data_in(segment, long=100, random=False):
            return True
    if len(query) < 20 and len(fragment) < 20:
        return False  # no part of them is long enough (the common case: no query at all)
    for part in [*_PARAMETERS.split(query), fragment]:
        value = part.partition("=")[2] or part
        if len(value) >= 20 and _data_in(value, long=64, random=True):
            return True
    return len(query) >= 512  # many short parameters add up


class ExfiltrationLinkDetector:
    r"""``exfiltration.link``: URLs to hosts outside the allowlist that carry data.

    URLs are found at each ``//`` (and ``\\\\``, which browsers read as ``//``): ``http`` and
    ``https`` URLs, and protocol-relative ones (``//host``) where a link or image is expected.
    A URL carries data when a query value, path segment or fragment holds a base64, base64url
    or hex token that decodes to text, a percent-encoded run of 5 or more escapes, a long
    random token (query: 32 characters, about 4 bits of entropy each), or is unusually long
    (query value 64 characters, path segment 100, query 512, URL `MAX_URL`).

    Confidence: 0.9 for images (fetched when the output is rendered: zero-click), 0.75 for
    links, 0.7 for bare URLs in running text.

    Args:
        allowed_hosts: Hosts links may point to. ``docs.example.com`` allows that host only;
            ``*.example.com`` allows every subdomain of ``example.com`` at any depth, but not
            ``example.com`` itself (list both to allow both). Ports and case are ignored;
            internationalised names may be given in Unicode or punycode.
    """

    id = "exfiltration.link"
    category = "exfiltration"

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        exact: set[str] = set()
        wildcards: set[str] = set()
        for entry in allowed_hosts:
            entry = entry.strip()
            if entry.startswith("*."):
                wildcards.add(_host(entry[2:]))
            elif entry and "*" not in entry and "/" not in entry:
                exact.add(_host(f"[{entry}]" if entry.count(":") > 1 and "[" not in entry else entry))  # bare IPv6
            else:
                raise PolicyError("allowed hosts are host names or *.domain wildcards")
        self._exact = frozenset(exact)
        self._wildcards = frozenset(wildcards)

    def __repr__(self) -> str:
        return f"ExfiltrationLinkDetector(allowed_hosts={len(self._exact) + len(self._wildcards)})"

    def allowed(self, host: str) -> bool:
        """Whether a (normalised) host is on the allowlist."""
        if host in self._exact:
            return True
        if self._wildcards:
            dot = host.find(".")
            while dot >= 0:
                if host[dot + 1 :] in self._wildcards:
                    return True
                dot = host.find(".", dot + 1)
        return False

    def links(self, text: ScanText | str) -> list[Link]:
        """Every ``http(s)`` URL in ``text``, with its host and whether it is allowed, by position.

        Offsets point into the text's ``original``; the lead use is escalating a link that
        holds another finding (a secret, an e-mail address) whatever its host.
        """
        scan = text if isinstance(text, ScanText) else ScanText(text)
        data = scan.data
        return [
            Link(
                *scan.span_to_original(start, end),
                host,
                self.allowed(host),
                _kind(data, start),
                end - start >= MAX_URL or _carries_data(data[rest:end]),
            )
            for start, rest, end, host in _urls(data)
        ]

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per data-carrying URL to a host outside the allowlist."""
        data = text.data
        findings = []
        for start, rest, end, host in _urls(data):
            if self.allowed(host) or (end - start < MAX_URL and not _carries_data(data[rest:end])):
                continue
            kind = _kind(data, start)
            findings.append(
                Finding(
                    self.id,
                    self.category,
                    Severity.HIGH if kind == "image" else Severity.MEDIUM,
                    *text.span_to_original(start, end),
                    confidence=_LINK_CONFIDENCE[kind],
                    mappings=_EXFIL_MAPPINGS,
                )
            )
        return findings


def _urls(data: str) -> list[tuple[int, int, int, str]]:
    """``(start, end of host, end, host)`` of each URL in ``data``; linear: each character is read once."""
    backslash = "\\" in data  # browsers read backslashes in a URL as slashes
    found: list[tuple[int, int, int, str]] = []
    covered = 0
    while True:
        # The next "//" (or "\\\\", "/\\"...): single slashes are found with memchr.
        if backslash:
            slashes = _SLASHES.search(data, covered)
            if slashes is None:
                return found
            at = slashes.start()
        else:
            at = data.find("/", covered)
            if at < 0:
                return found
            if data[at + 1 : at + 2] != "/":
                covered = at + 1
                continue
        covered = at + 2
        if at >= 5 and data[at - 1] == ":":
            if at >= 6 and data.startswith("https", at - 6):
                start = at - 6
            elif data.startswith("http", at - 5):
                start = at - 5
            else:  # upper or mixed case, rare
                scheme = data[at - 6 if at >= 6 else 0 : at - 1].lower()
                if scheme.endswith("https"):
                    start = at - 6
                elif scheme.endswith("http"):
                    start = at - 5
                else:
                    continue
        elif at and data[at - 1] in "(<\"'=":
            start = at  # protocol-relative, where a link is expected
        else:
            continue
        previous = data[start - 1] if start else ""
        markdown = (previous == "(" and start >= 2 and data.startswith("](", start - 2)) or (
            previous == "<" and start >= 3 and data.startswith("](<", start - 3)
        )
        match = (_URL_MARKDOWN if markdown else _URL_BARE).match(data, at + 2)
        if match is None:  # pragma: no cover - both patterns match the empty string
            continue
        end = match.end()
        if end - start > MAX_URL:
            end = start + MAX_URL
        if not markdown:
            while end > at + 2 and data[end - 1] in _TRAILING:
                end -= 1
            if data[end - 1] == ")" and data.count("(", start, end) < data.count(")", start, end):
                end -= 1
        host_end = match.end("authority")
        if host_end > end:
            host_end = end
        host = _host(data[at + 2 : host_end])
        if host:
            found.append((start, host_end, end, host))
            covered = end


_LINK_CONFIDENCE: Mapping[str, float] = {"image": 0.9, "link": 0.75, "bare": 0.7}


def _kind(data: str, start: int) -> LinkKind:
    """How a URL starting at ``start`` is used, from the (bounded) text just before it."""
    previous = data[start - 1] if start else " "
    if previous not in "(<\"'= \t:":
        return "bare"  # the common case, decided without slicing
    before = data[max(0, start - 128) : start]
    if before.endswith(("](", "](<")):
        # A markdown image if "![" opens the bracket: the nearest "![" with no "](" after it.
        bang = before.rfind("![")
        return "image" if bang >= 0 and before.find("](", bang, len(before) - 2) < 0 else "link"
    if previous in "\"'=":
        attribute = _ATTRIBUTE.search(before[-40:].lower())
        if attribute is not None:
            return "image" if attribute.group(1) in _FETCHED_ATTRIBUTES else "link"
    if previous in "(\"'" and before[-5:].lower().endswith(("url(", "url('", 'url("')):
        return "image"  # CSS background: url(...)
    if before.rstrip(" \t<").endswith("]:") and _REFERENCE.search(before) is not None:
        return "image" if "![" in data else "link"  # a reference definition, used by an image or a link
    return "link" if previous == "<" else "bare"


# ---------------------------------------------------------------------------------------------
# exfiltration.data_uri
# ---------------------------------------------------------------------------------------------

_DATA_URI = re.compile(
    r"data:(?P<mime>[a-z0-9!#$&^_.+-]{1,127}/[a-z0-9!#$&^_.+-]{1,127})?"
    r"(?P<params>(?:;[a-z0-9!#$&^_.+-]{1,64}(?:=[^;,\s\"'<>()]{0,128})?){0,16}),"
)
_PAYLOAD = re.compile(r"[^\s\"'<>()`]*")
_SCRIPT_PAYLOAD = re.compile(r"[^\s\"'`]*")
_MARKDOWN_SCRIPT_PAYLOAD = re.compile(r"[^\s\"'`)]*")
_SCRIPTABLE = frozenset(
    {"text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "application/javascript", "text/xml"}
)


class DataUriDetector:
    """``exfiltration.data_uri``: ``data:`` URIs that can carry content.

    Reported: a base64 payload of 8 characters or more, any payload of 64 characters or more,
    or a scriptable type (HTML, SVG, XML, JavaScript), which a renderer may execute.

    Confidence 0.8; severity high for scriptable types, else medium. The finding spans the URI.
    """

    id = "exfiltration.data_uri"
    category = "exfiltration"

    def __init__(self) -> None:
        self._scheme = re.compile("data:")  # `re` scans for a literal faster than `str.find`

    def detect(self, text: ScanText) -> list[Finding]:
        """Return one finding per data URI, ordered by position."""
        if ":" not in text.data:  # memchr; "data:" is a pass over the text
            return []
        folded = text.folded
        scheme = self._scheme.search(folded)
        findings = []
        while scheme is not None:
            at = scheme.start()
            nxt = at + 1
            match = _DATA_URI.match(folded, at) if at == 0 or not folded[at - 1].isalnum() else None
            if match is not None:
                scriptable = match["mime"] in _SCRIPTABLE
                if not scriptable:
                    payload = _PAYLOAD.match(folded, match.end())
                elif folded.endswith("](", 0, at):  # in a markdown link, ")" ends it
                    payload = _MARKDOWN_SCRIPT_PAYLOAD.match(folded, match.end())
                else:
                    payload = _SCRIPT_PAYLOAD.match(folded, match.end())
                end = payload.end() if payload is not None else match.end()
                size = end - match.end()
                if scriptable or size >= 64 or (size >= 8 and ";base64" in match["params"]):
                    lo, hi = text.span_to_original(at, end)
                    findings.append(
                        Finding(
                            self.id,
                            self.category,
                            Severity.HIGH if scriptable else Severity.MEDIUM,
                            lo,
                            hi,
                            confidence=0.8,
                            mappings=_EXFIL_MAPPINGS,
                        )
                    )
                nxt = max(nxt, end)
            scheme = self._scheme.search(folded, nxt)
        return findings


DETECTORS: Mapping[str, Callable[[], Detector]] = {
    "exfiltration.link": ExfiltrationLinkDetector,
    "exfiltration.data_uri": DataUriDetector,
}
"""This module's detector factories by id (merged into ``aispm.detectors.BUILTIN``)."""
