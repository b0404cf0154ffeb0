"""Generators for the leakage and exfiltration detectors (see ``tests/strategies/__init__.py``).

``leakage.canary`` and ``leakage.system_prompt`` find nothing until configured, so ``SAMPLES``
omits them. ``CONFIGURED`` builds configured instances (the fixed token `CANARY`, the fixed
prompt `PROMPT`), ``CONFIGURE`` configures a guard the same way through its public API, and
``CONFIGURED_SAMPLES`` draws what such detectors must find.
"""

from __future__ import annotations

import base64
import string
from collections.abc import Callable

from hypothesis import strategies as st

import aispm
from aispm.detectors import Detector
from aispm.detectors.leakage import CanaryDetector, SystemPromptLeakDetector

CANARY = "AISPM-CANARY-7Q2XKJ4MZ3W6YB5N9RT8FDHLCVPGS"
PROMPT = (
    "You are Orbit, the billing assistant of Northwind Traders. Never quote internal margin tables, never "
    "mention the vendor code VX-Delta, and escalate refunds above 800 euros to the finance desk in Lisbon. "
    "Reply in the customer's language and sign every answer as Orbit from Northwind."
)

_HOST_LABEL = st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True)
_hosts = st.builds(
    "{}.{}{}".format,
    _HOST_LABEL,
    _HOST_LABEL,
    st.sampled_from([".com", ".net", ".io", ".example"]),
)
# Decoded text of 16 characters or more, half of them letters: encoded, 20 characters or more.
_payloads = st.text(st.sampled_from(string.ascii_letters + " "), min_size=16, max_size=60).filter(
    lambda s: sum(c.isalpha() for c in s) >= len(s) / 2
)
_url_safe: list[Callable[[bytes], str]] = [
    lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
    lambda b: b.hex(),
]


@st.composite
def _exfiltration_urls(draw: st.DrawFn) -> str:
    """A bare http(s) URL to an unlisted host whose query or path carries encoded text."""
    host = draw(_hosts)
    if draw(st.booleans()):
        host = host.upper()
    if draw(st.booleans()):
        host = f"{host}:{draw(st.integers(1, 65535))}"
    payload = draw(_payloads).encode()
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    path = draw(st.sampled_from(["", "/pixel.png", "/a/b"]))
    if draw(st.booleans()):  # standard base64 ('+', '/', '=') fits in a query value
        encoded = draw(st.sampled_from([*_url_safe, lambda b: base64.b64encode(b).decode()]))(payload)
        return f"{scheme}://{host}{path}?{draw(_HOST_LABEL)}={encoded}"
    return f"{scheme}://{host}/{draw(st.sampled_from(_url_safe))(payload)}"


_base64_payloads = st.binary(min_size=6, max_size=90).map(lambda b: base64.b64encode(b).decode())
_data_uris = st.one_of(
    st.builds(
        "data:{};base64,{}".format, st.sampled_from(["image/png", "image/gif", "text/plain", ""]), _base64_payloads
    ),
    st.builds(
        "data:text/plain;charset=utf-8,{}".format,
        st.text(st.sampled_from(string.ascii_letters + "%0123456789"), min_size=64, max_size=120),
    ),
)

SAMPLES: dict[str, st.SearchStrategy[str]] = {
    "exfiltration.link": _exfiltration_urls(),
    "exfiltration.data_uri": _data_uris,
}

CONFIGURED: dict[str, Callable[[], Detector]] = {
    "leakage.canary": lambda: CanaryDetector([CANARY]),
    "leakage.system_prompt": lambda: SystemPromptLeakDetector([PROMPT]),
}
"""Configured instances of the detectors whose zero-argument factories find nothing."""

CONFIGURE: dict[str, Callable[[aispm.Guard], object]] = {
    "leakage.canary": lambda guard: guard.canary(CANARY),
    "leakage.system_prompt": lambda guard: guard.register_system_prompt(PROMPT),
}
"""Configure a guard's built-in detector like ``CONFIGURED``."""


def _spaced(token: str, separators: list[str]) -> str:
    return "".join(c + separators[i % len(separators)] for i, c in enumerate(token[:-1])) + token[-1]


CONFIGURED_SAMPLES: dict[str, st.SearchStrategy[str]] = {
    "leakage.canary": st.one_of(
        st.just(CANARY),
        st.just(CANARY.lower()),
        st.lists(st.sampled_from(["-", ".", "\u200b", "_", ""]), min_size=1, max_size=4).map(
            lambda seps: _spaced(CANARY, seps)
        ),
    ),
    # Any stretch of 12 or more consecutive prompt words, in any case.
    "leakage.system_prompt": st.integers(0, len(PROMPT.split()) - 12).flatmap(
        lambda start: st.integers(start + 12, len(PROMPT.split())).map(
            lambda end: " ".join(PROMPT.split()[start:end]).strip(".,")
        )
    ),
}


def _repeat(unit: str, n: int) -> str:
    return unit * max(1, n // len(unit))


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "markdown_image_open": lambda n: _repeat("![", n),
    "markdown_link_close": lambda n: _repeat("](http://", n),
    "markdown_image_url": lambda n: _repeat("![a](https://e.co/?d=", n),
    "protocol_relative": lambda n: _repeat('src="//', n),
    "slashes": lambda n: _repeat("//", n),
    "backslashes": lambda n: _repeat("https:\\\\", n),
    "bare_urls": lambda n: _repeat("https://evil.example/?d=QUJDREVGR0hJSktMTU5PUA ", n),
    "long_url": lambda n: "https://evil.example/?d=" + "A" * (n - 24),
    "long_host": lambda n: "https://" + "a." * ((n - 8) // 2),
    "percent_url": lambda n: "https://e.co/?q=" + _repeat("%41", n - 16),
    "html_attributes": lambda n: _repeat("<img src= ", n),
    "data_prefix": lambda n: _repeat("data:", n),
    "data_header": lambda n: _repeat("data:image/png;x=1", n),
    "data_uri_long": lambda n: "data:;base64," + "A" * (n - 13),
    "canary_anchor": lambda n: _repeat("AISPM-CANARY-", n),
    "canary_spaced": lambda n: _repeat("a i s p m c a n a r y ", n),
    "prompt_words": lambda n: _repeat("never quote internal margin tables never mention ", n),
    "prompt_runs": lambda n: _repeat(" ".join(PROMPT.split()[:9]) + " x ", n),
}
