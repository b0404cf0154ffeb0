"""Redaction modes (mask, partial, pseudonym, vault), the session vault, and restoring values."""

from __future__ import annotations

import copy
import pickle
import threading
from datetime import UTC, datetime, timedelta

import pytest

import aispm
from aispm import Action, Finding, Severity
from aispm._redact import Redactor, entity
from aispm.testing import SpanCapture
from aispm.vault import SessionVault

EMAIL, OTHER = "bob@example.com", "eve@example.org"
GHP = "ghp_" + "a1B2c3D4e5" * 3 + "a1B2c3"
CARD = "4111 1111 1111 1111"


def found(text: str, value: str, detector: str = "pii.email", category: str = "pii") -> Finding:
    start = text.index(value)
    return Finding(detector=detector, category=category, severity=Severity.MEDIUM, start=start, end=start + len(value))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


# --- Redactor ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detector", "value", "expected"),
    [
        ("pii.email", "john.doe@example.com", "j***@e***.com"),
        ("pii.credit_card", CARD, "****1111"),
        ("pii.phone", "+1-202-555-0143", "****0143"),
        ("pii.us_ssn", "123-45-6789", "***-**-****"),
        ("pii.iban", "DE89 3704 0044 0532 0130 00", "DE****3000"),
        ("pii.ip_address", "192.168.10.20", "192.*.*.*"),
        ("secrets.github_token", GHP, "ghp_****"),
        ("secrets.database_url", "postgres://app:hunter2@db.internal/app", "postgres://****"),
        ("pii.person", "Alice Smith", "[REDACTED:PERSON]"),  # no partial rule: masked
    ],
)
def test_partial_masks_keep_only_a_safe_part(detector: str, value: str, expected: str) -> None:
    category = "secret" if detector.startswith("secrets.") else "pii"
    text = f"value: {value} end"
    out = Redactor("partial").redact(text, [found(text, value, detector, category)])
    assert out == f"value: {expected} end"


def test_partial_mask_of_a_wrong_shape_is_the_placeholder() -> None:
    text = "card 12 end"  # not a card number's shape: the rule must not show what it does not understand
    assert Redactor("partial").redact(text, [found(text, "12", "pii.credit_card")]) == "card [REDACTED:CREDIT_CARD] end"


def test_pseudonyms_are_consistent_within_a_session_and_separate_across_sessions() -> None:
    redactor = Redactor("pseudonym")
    text = f"{EMAIL} wrote to {OTHER}, cc {EMAIL}"
    findings = [
        Finding(detector="pii.email", category="pii", severity=Severity.MEDIUM, start=s, end=s + len(v))
        for v, s in ((EMAIL, 0), (OTHER, text.index(OTHER)), (EMAIL, text.rindex(EMAIL)))
    ]
    assert redactor.redact(text, findings, "s1") == "<EMAIL_1> wrote to <EMAIL_2>, cc <EMAIL_1>"
    later = f"reply to {OTHER}"
    assert redactor.redact(later, [found(later, OTHER)], "s1") == "reply to <EMAIL_2>"
    assert redactor.redact(later, [found(later, OTHER)], "s2") == "reply to <EMAIL_1>"
    # pseudonym mode keeps no value: nothing to restore
    assert redactor.restore("<EMAIL_1>", "s1") == "<EMAIL_1>"


def test_without_a_session_pseudonyms_hold_within_one_text_only() -> None:
    redactor = Redactor("vault")
    text = f"{EMAIL} {EMAIL}"
    findings = [found(text, EMAIL), Finding("pii.email", "pii", Severity.MEDIUM, start=16, end=31)]
    assert redactor.redact(text, findings) == "<EMAIL_1> <EMAIL_1>"
    assert redactor.vault is not None
    assert len(redactor.vault) == 0


def test_per_detector_modes() -> None:
    redactor = Redactor("mask", modes={"secrets.github_token": "partial", "pii.email": "vault"})
    text = f"{EMAIL} {GHP} {CARD}"
    findings = [
        found(text, EMAIL),
        found(text, GHP, "secrets.github_token", "secret"),
        found(text, CARD, "pii.credit_card"),
    ]
    assert redactor.redact(text, findings, "s") == "<EMAIL_1> ghp_**** [REDACTED:CREDIT_CARD]"
    assert redactor.restore("mail <EMAIL_1>", "s") == f"mail {EMAIL}"
    assert redactor.mode_for("pii.email") == "vault"
    assert redactor.mode_for("pii.phone") == "mask"


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "scramble"}, {"modes": {"pii.email": "hash"}}, {"modes": ["pii.email"]}, {"modes": {"": "mask"}}],
)
def test_redactor_rejects_bad_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(aispm.PolicyError):
        Redactor(**kwargs)  # type: ignore[arg-type]


def test_entity_names_are_safe_in_a_pseudonym() -> None:
    assert entity("pii.email") == "EMAIL"
    assert entity("acme.employee-id") == "EMPLOYEE_ID"
    assert entity("x." + "é" * 3) == "___"
    assert len(entity("a." + "z" * 100)) == 48


# --- SessionVault ----------------------------------------------------------------------------------


def test_vault_restores_only_its_own_session_and_reversible_values() -> None:
    vault = SessionVault()
    assert vault.pseudonymize("s1", "EMAIL", EMAIL) == "<EMAIL_1>"
    assert vault.pseudonymize("s1", "EMAIL", OTHER, reversible=False) == "<EMAIL_2>"
    assert vault.restore("<EMAIL_1> <EMAIL_2> <EMAIL_3> <email_1>", "s1") == f"{EMAIL} <EMAIL_2> <EMAIL_3> <email_1>"
    assert vault.restore("<EMAIL_1>", "s2") == "<EMAIL_1>"
    assert vault.restore("<EMAIL_1>", None) == "<EMAIL_1>"


def test_vault_is_bounded_per_session_and_in_sessions() -> None:
    vault = SessionVault(max_sessions=2, max_entries=2, max_chars=40)
    assert vault.pseudonymize("a", "EMAIL", "1@x.io") == "<EMAIL_1>"
    assert vault.pseudonymize("a", "EMAIL", "2@x.io") == "<EMAIL_2>"
    assert vault.pseudonymize("a", "EMAIL", "3@x.io") is None  # full: the caller masks
    assert vault.pseudonymize("a", "EMAIL", "1@x.io") == "<EMAIL_1>"  # known values still map
    assert vault.pseudonymize("b", "SECRET", "x" * 41) is None  # longer than max_chars
    vault.pseudonymize("c", "EMAIL", "1@x.io")  # a third session evicts the least recently used ("a")
    assert "a" not in vault
    assert "b" in vault
    assert "c" in vault
    assert vault.restore("<EMAIL_1>", "a") == "<EMAIL_1>"


def test_vault_drops_idle_sessions_after_the_ttl() -> None:
    clock = Clock()
    vault = SessionVault(ttl=timedelta(minutes=5), clock=clock)
    vault.pseudonymize("s", "EMAIL", EMAIL)
    clock.now += timedelta(minutes=4)
    assert vault.restore("<EMAIL_1>", "s") == EMAIL  # use renews the session
    clock.now += timedelta(minutes=4)
    assert "s" in vault
    clock.now += timedelta(minutes=6)
    assert "s" not in vault
    assert len(vault) == 0
    assert vault.restore("<EMAIL_1>", "s") == "<EMAIL_1>"
    assert vault.pseudonymize("s", "EMAIL", OTHER) == "<EMAIL_1>"  # starts again


def test_vault_never_shows_or_copies_values() -> None:
    vault = SessionVault()
    vault.pseudonymize("s", "SECRET", GHP)
    assert GHP not in repr(vault)
    assert GHP not in str(vault)
    assert GHP not in repr(vault._sessions["s"].values)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(vault)
    with pytest.raises(TypeError):
        copy.deepcopy(vault)


def test_forget_and_clear() -> None:
    vault = SessionVault()
    vault.pseudonymize("a", "EMAIL", EMAIL)
    vault.pseudonymize("b", "EMAIL", EMAIL)
    vault.forget("a")
    vault.forget("never-seen")
    assert "a" not in vault
    assert "b" in vault
    vault.clear()
    assert len(vault) == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda v: v.pseudonymize("", "EMAIL", "x"), ValueError),
        (lambda v: v.pseudonymize(1, "EMAIL", "x"), TypeError),
        (lambda v: v.pseudonymize("s", "email", "x"), ValueError),
        (lambda v: v.pseudonymize("s", "E" * 49, "x"), ValueError),
        (lambda v: v.pseudonymize("s", "EMAIL", b"x"), TypeError),
        (lambda v: v.restore(b"x", "s"), TypeError),
    ],
)
def test_vault_rejects_bad_arguments(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(SessionVault())  # type: ignore[operator]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_sessions": 0}, {"max_entries": -1}, {"max_chars": 1.5}, {"ttl": timedelta(0)}, {"max_entries": 10**9}],
)
def test_vault_rejects_bad_bounds(kwargs: dict[str, object]) -> None:
    with pytest.raises(aispm.PolicyError):
        SessionVault(**kwargs)  # type: ignore[arg-type]


def test_vault_restore_is_linear_on_adversarial_text() -> None:
    vault = SessionVault()
    vault.pseudonymize("s", "EMAIL", EMAIL)
    text = "<" * 200_000 + "<EMAIL_1>" + "<A" * 100_000
    assert vault.restore(text, "s").count(EMAIL) == 1


def test_vault_is_consistent_under_threads() -> None:
    vault = SessionVault()
    tokens: list[str | None] = []

    def work() -> None:
        for i in range(200):
            tokens.append(vault.pseudonymize("s", "EMAIL", f"user{i}@example.com"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 200  # each value one pseudonym, whichever thread saw it first


# --- through a Guard ---------------------------------------------------------------------------------


def test_guard_pseudonyms_flow_from_prompt_to_output_and_restore() -> None:
    guard = aispm.Guard(
        {
            "prompt": {
                "detectors": ["pii.email"],
                "detector_actions": {"pii.email": "redact"},
                "redaction": {"mode": "vault"},
            },
            "output": {"redaction": {"mode": "vault"}},
        }
    )
    with guard.session(user="alice"):
        prompt = guard.prompt.check(f"Email {EMAIL} and {OTHER}.")
        assert prompt.action is Action.REDACT
        assert prompt.text == "Email <EMAIL_1> and <EMAIL_2>."
        # the model answers with a value it saw, and the pseudonym: both end up as the same pseudonym
        answer = guard.output.scan(f"Sent to {OTHER}; copy to <EMAIL_1>.")
        assert answer.text == "Sent to <EMAIL_2>; copy to <EMAIL_1>."
        assert guard.output.restore(answer.text) == f"Sent to {OTHER}; copy to {EMAIL}."
    # another session cannot restore them; nor can code outside a session
    with guard.session(user="mallory"):
        assert guard.output.restore("<EMAIL_1>") == "<EMAIL_1>"
    assert guard.output.restore("<EMAIL_1>") == "<EMAIL_1>"


def test_guard_in_pseudonym_mode_cannot_restore() -> None:
    guard = aispm.Guard({"output": {"redaction": {"mode": "pseudonym"}}})
    with guard.session(user="alice"):
        assert guard.output.scan(f"to {EMAIL}").text == "to <EMAIL_1>"
        assert guard.output.restore("<EMAIL_1>") == "<EMAIL_1>"


def test_default_guard_masks_and_has_no_vault() -> None:
    guard = aispm.Guard()
    with guard.session(user="alice"):
        assert guard.output.scan(f"to {EMAIL}").text == "to [REDACTED:EMAIL]"
        assert guard.output.restore("<EMAIL_1>") == "<EMAIL_1>"
    with pytest.raises(TypeError):
        guard.output.restore(None)  # type: ignore[arg-type]


def test_vault_bounds_come_from_the_policy() -> None:
    guard = aispm.Guard({"vault": {"max_entries": 1}, "output": {"redaction": {"mode": "vault"}}})
    with guard.session(user="alice"):
        assert guard.output.scan(f"{EMAIL} {OTHER}").text == "<EMAIL_1> [REDACTED:EMAIL]"


def test_stream_pseudonyms_match_the_one_shot_scan() -> None:
    guard = aispm.Guard({"output": {"redaction": {"mode": "pseudonym"}}})
    text = " ".join(f"mail user{i % 7}@example.com now, then wait a little while" for i in range(40))
    one_shot = guard.output.scan(text).text
    for size in (1, 7, 50, 300):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert "".join(guard.output.scan_stream(chunks)) == one_shot
    with guard.session(user="alice"):
        streamed = "".join(guard.output.scan_stream([text[i : i + 9] for i in range(0, len(text), 9)]))
        assert streamed == guard.output.scan(text).text == one_shot


def test_vaulted_values_never_reach_spans(capture: SpanCapture) -> None:
    guard = aispm.Guard({"output": {"redaction": {"mode": "vault"}}}, tracer_provider=capture.tracer_provider)
    with guard.session(user="alice"):
        guard.output.scan(f"to {EMAIL}")
        "".join(guard.output.scan_stream([f"to {EMAIL[:5]}", EMAIL[5:]]))
    spans = capture.finished_spans()
    assert len(spans) == 2
    for span in spans:
        assert EMAIL not in span.to_json()


def test_invalid_redaction_policy_is_a_clear_error() -> None:
    with pytest.raises(aispm.PolicyError, match="redaction"):
        aispm.Guard({"output": {"redaction": {"mode": "scramble"}}})
    with pytest.raises(aispm.PolicyError, match="vault"):
        aispm.Guard({"vault": {"max_sessions": 0}})


def test_streams_read_released_text_again_as_context() -> None:
    # The key name that makes the value a secret is released before the value arrives.
    guard = aispm.Guard()
    text = (
        "Config follows. "
        + "Nothing to see here. " * 8
        + "aws_secret_key: 'hlkUvNGBeu3YV4IedU7OW2vwEDdwPwrUx51UTU5u' ok"
    )
    one_shot = guard.output.scan(text).text
    assert "hlkUv" not in one_shot
    for size in (1, 4, 33, 180):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert "".join(guard.output.scan_stream(chunks)) == one_shot


# --- edges of the Redactor and the vault ----------------------------------------------------------


def test_redactor_describes_itself_and_checks_its_arguments() -> None:
    redactor = Redactor("partial", modes={"pii.email": "vault"})
    assert redactor.mode == "partial"
    assert redactor.modes == {"pii.email": "vault"}
    assert redactor.vault is not None
    assert repr(redactor) == "Redactor(mode='partial', modes={'pii.email': 'vault'})"
    assert Redactor().vault is None
    assert Redactor().restore("<EMAIL_1>", "s") == "<EMAIL_1>"  # no vault: nothing to restore
    with pytest.raises(aispm.PolicyError, match="SessionVault"):
        Redactor("vault", vault=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Redactor("pseudonym").redact("x", [], "")
    assert Redactor("pseudonym").redact("nothing here", []) == "nothing here"


@pytest.mark.parametrize(
    ("detector", "value"),
    [
        ("pii.iban", "XX"),  # too short for an IBAN
        ("pii.ip_address", "zz:1"),  # not hex before the colon
        ("pii.ip_address", "1.2.3"),  # three parts
        ("secrets.github_token", "ghp_short"),  # prefix and too little after it
        ("secrets.password", "hunter2hunter2"),  # no prefix, no scheme
        ("pii.email", "not-an-address"),
    ],
)
def test_partial_masks_of_unrecognised_shapes_are_placeholders(detector: str, value: str) -> None:
    category = "secret" if detector.startswith("secrets.") else "pii"
    text = f"v {value} end"
    out = Redactor("partial").redact(text, [found(text, value, detector, category)])
    assert out == f"v [REDACTED:{detector.rsplit('.', 1)[-1].upper()}] end"


def test_partial_masks_of_ipv6_and_fullwidth_values() -> None:
    text = "ip 2001:db8::1 card \uff14\uff11\uff11\uff11 1111 1111 \u200b1111 end"
    card = text[text.index("\uff14") : text.index(" end")]
    findings = [found(text, "2001:db8::1", "pii.ip_address"), found(text, card, "pii.credit_card")]
    assert Redactor("partial").redact(text, findings) == "ip 2001:**** card ****1111 end"


def test_merged_findings_are_masked_in_partial_mode() -> None:
    text = "x alice@example.com y"
    a = found(text, "alice@example.com")
    b = Finding("secrets.password", "secret", Severity.HIGH, start=a.start, end=(a.end or 0) - 4)
    assert Redactor("partial").redact(text, [a, b]) == "x [REDACTED:PASSWORD] y"  # named after the first


def test_vault_edges() -> None:
    with pytest.raises(aispm.PolicyError, match="clock"):
        SessionVault(clock=42)  # type: ignore[arg-type]
    vault = SessionVault()
    assert vault.restore("no pseudonyms here", "s") == "no pseudonyms here"
    assert 42 not in vault
    vault.pseudonymize("s", "EMAIL", EMAIL)
    assert "entries=1" in repr(vault._sessions["s"])
    assert "max_sessions=1000" in repr(vault)


def test_vault_drops_a_session_whose_clock_went_backwards() -> None:
    clock = Clock()
    vault = SessionVault(ttl=timedelta(minutes=5), clock=clock)
    vault.pseudonymize("old", "EMAIL", EMAIL)
    clock.now -= timedelta(hours=1)  # the clock went back: "new" is used before "old" was
    vault.pseudonymize("new", "EMAIL", OTHER)
    clock.now += timedelta(hours=1, minutes=6)  # "new" expired; "old" expired too
    assert vault.restore("<EMAIL_1>", "old") == "<EMAIL_1>"
    assert "old" not in vault
