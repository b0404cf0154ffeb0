"""Agent identities, key rings and signed agent-to-agent messages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.errors import PolicyError
from aispm.identity import AgentIdentity, KeyRing, SignatureError, SignedMessage, verify
from aispm.testing import ManualClock

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def alice() -> AgentIdentity:
    return AgentIdentity.generate("alice-agent")


@pytest.fixture(scope="module")
def mallory() -> AgentIdentity:
    return AgentIdentity.generate("mallory")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- identities and PEM ----------------------------------------------------------------------------


def test_key_id_is_stable_and_derived_from_the_public_key(alice):
    assert alice.key_id.startswith("ed25519:")
    assert len(alice.key_id) == len("ed25519:") + 22
    assert alice.public().key_id == alice.key_id
    assert AgentIdentity.from_public_bytes(alice.public_key_bytes, name="other").key_id == alice.key_id
    assert AgentIdentity.generate("alice-agent").key_id != alice.key_id


def test_private_pem_round_trip(alice):
    loaded = AgentIdentity.from_pem(alice.private_pem(), name="alice-agent")
    assert loaded.has_private_key
    assert loaded == alice
    assert verify(loaded.sign({"x": 1}), alice).payload == {"x": 1}


def test_encrypted_private_pem_round_trip(alice):
    pem = alice.private_pem(password=b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert AgentIdentity.from_pem(pem, name="alice-agent", password=b"correct horse") == alice


@pytest.mark.parametrize("password", [None, b"wrong"], ids=["missing", "wrong"])
def test_encrypted_pem_with_wrong_or_missing_password_is_refused(alice, password):
    pem = alice.private_pem(password=b"correct horse")
    with pytest.raises(PolicyError, match="could not load"):
        AgentIdentity.from_pem(pem, name="alice-agent", password=password)


def test_public_pem_round_trip_has_no_private_key(alice):
    public = AgentIdentity.from_pem(alice.public_pem(), name="alice-agent")
    assert not public.has_private_key
    assert public.public_key_bytes == alice.public_key_bytes
    assert public == alice.public()


@pytest.mark.parametrize(
    "data",
    [b"", b"not a pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"x" * 20_000, "str"],
    ids=["empty", "garbage", "truncated", "huge", "not-bytes"],
)
def test_malformed_pem_is_refused(data):
    with pytest.raises(PolicyError):
        AgentIdentity.from_pem(data, name="x")


def test_non_ed25519_keys_are_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for pem in (private, public):
        with pytest.raises(PolicyError, match="Ed25519"):
            AgentIdentity.from_pem(pem, name="ec")


def test_public_only_identity_cannot_sign_or_export_a_private_key(alice):
    public = alice.public()
    with pytest.raises(PolicyError, match="only a public key"):
        public.sign({})
    with pytest.raises(PolicyError, match="only a public key"):
        public.private_pem()


def test_empty_password_is_refused(alice):
    with pytest.raises(PolicyError, match="password"):
        alice.private_pem(password=b"")


def test_repr_shows_no_key_material(alice):
    text = repr(alice) + repr(alice.public()) + repr(KeyRing([alice]))
    pem_body = b"".join(alice.private_pem().splitlines()[1:-1]).decode()
    assert pem_body not in text
    assert b64(alice.public_key_bytes) not in text
    assert "alice-agent" in text


@pytest.mark.parametrize("name", ["", "x" * 300, "tab\there", 7], ids=["empty", "long", "control", "not-str"])
def test_bad_names_are_refused(name):
    with pytest.raises(PolicyError, match="name"):
        AgentIdentity.generate(name)


def test_from_public_bytes_needs_32_bytes():
    with pytest.raises(PolicyError, match="32 bytes"):
        AgentIdentity.from_public_bytes(b"short", name="x")


# --- key ring --------------------------------------------------------------------------------------


def test_key_ring_add_remove_and_roots(alice, mallory):
    ring = KeyRing([mallory], roots=[alice])
    assert alice.key_id in ring
    assert len(ring) == 2
    assert ring.trusted_roots == {alice.key_id}
    assert ring.is_root(alice.key_id)
    assert not ring.is_root(mallory.key_id)
    stored = ring.get(alice.key_id)
    assert stored is not None
    assert not stored.has_private_key  # only the public key is kept
    epoch = ring.epoch
    ring.remove(alice.key_id)
    assert alice.key_id not in ring
    assert ring.epoch != epoch
    assert not ring.is_root(alice.key_id)
    ring.remove("ed25519:unknown")  # ignored
    assert {i.name for i in ring} == {"mallory"}


def test_key_ring_only_holds_identities():
    with pytest.raises(PolicyError):
        KeyRing().add("not an identity")  # type: ignore[arg-type]


# --- messages --------------------------------------------------------------------------------------


def test_sign_and_verify_round_trip(alice):
    clock = ManualClock()
    token = alice.sign({"action": "transfer", "amount": 10.5}, audience="bank", ttl=60, clock=clock)
    message = verify(token, KeyRing([alice]), audience="bank", clock=clock)
    assert isinstance(message, SignedMessage)
    assert message.payload == {"action": "transfer", "amount": 10.5}
    assert message.signer == "alice-agent"
    assert message.key_id == alice.key_id
    assert message.issued_at == T0
    assert message.expires_at == T0 + timedelta(seconds=60)
    assert message.audience == "bank"
    assert message.public_key == alice.public_key_bytes
    assert len(message.id) == 22
    assert token.isascii()


def test_every_message_has_a_unique_id(alice):
    ids = {verify(alice.sign({}), alice).id for _ in range(20)}
    assert len(ids) == 20


def test_body_is_canonical_json(alice):
    token = alice.sign({"b": 1, "a": "é"}, clock=ManualClock())
    body = unb64(token.split(".")[1])
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_forged_signature_is_refused(alice, mallory):
    token = mallory.sign({"from": "alice"})
    prefix, body, _ = token.split(".")
    header = json.loads(unb64(body))
    header.update(iss="alice-agent", kid=alice.key_id)
    forged_body = b64(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    forged = f"{prefix}.{forged_body}." + b64(mallory._sign_bytes(f"{prefix}.{forged_body}".encode()))
    with pytest.raises(SignatureError) as info:
        verify(forged, KeyRing([alice]))
    assert info.value.reason == "bad_signature"


def test_payload_edited_after_signing_is_refused(alice):
    token = alice.sign({"amount": 10})
    prefix, body, signature = token.split(".")
    edited = b64(unb64(body).replace(b'"amount":10', b'"amount":99'))
    with pytest.raises(SignatureError) as info:
        verify(f"{prefix}.{edited}.{signature}", alice)
    assert info.value.reason == "bad_signature"


@pytest.mark.parametrize("part", [1, 2], ids=["body", "signature"])
def test_flipped_byte_is_refused(alice, part):
    token = alice.sign({"amount": 10})
    parts = token.split(".")
    raw = bytearray(unb64(parts[part]))
    for index in range(0, len(raw), 7):
        mutated = bytearray(raw)
        mutated[index] ^= 0x01
        parts_copy = list(parts)
        parts_copy[part] = b64(bytes(mutated))
        with pytest.raises(SignatureError) as info:
            verify(".".join(parts_copy), alice)
        assert info.value.reason in {"bad_signature", "malformed", "unknown_key", "signer_mismatch"}


def test_unknown_key_is_refused(alice, mallory):
    with pytest.raises(SignatureError) as info:
        verify(mallory.sign({}), KeyRing([alice]))
    assert info.value.reason == "unknown_key"
    with pytest.raises(SignatureError) as info:
        verify(mallory.sign({}), alice)
    assert info.value.reason == "unknown_key"


def test_rotated_out_key_is_refused(alice):
    ring = KeyRing([alice])
    token = alice.sign({})
    verify(token, ring)
    ring.remove(alice.key_id)
    with pytest.raises(SignatureError) as info:
        verify(token, ring)
    assert info.value.reason == "unknown_key"


def test_signer_name_must_match_the_trusted_name(alice):
    renamed = AgentIdentity.from_public_bytes(alice.public_key_bytes, name="someone-else")
    with pytest.raises(SignatureError) as info:
        verify(alice.sign({}), renamed)
    assert info.value.reason == "signer_mismatch"


@pytest.mark.parametrize(
    ("advance", "skew", "reason"),
    [
        (59, 0, None),
        (60, 0, "expired"),
        (60 + 29, 30, None),
        (60 + 30, 30, "expired"),
        (-1, 0, "not_yet_valid"),
        (-30, 30, None),
        (-31, 30, "not_yet_valid"),
    ],
)
def test_expiry_and_not_yet_valid_with_skew(alice, advance, skew, reason):
    clock = ManualClock()
    token = alice.sign({}, ttl=60, clock=clock)
    clock.advance(advance)
    if reason is None:
        verify(token, alice, clock=clock, skew_seconds=skew)
    else:
        with pytest.raises(SignatureError) as info:
            verify(token, alice, clock=clock, skew_seconds=skew)
        assert info.value.reason == reason


def test_max_age_refuses_old_messages_without_exp(alice):
    clock = ManualClock()
    token = alice.sign({}, clock=clock)
    clock.advance(100)
    verify(token, alice, clock=clock, max_age=120, skew_seconds=0)
    with pytest.raises(SignatureError) as info:
        verify(token, alice, clock=clock, max_age=60, skew_seconds=0)
    assert info.value.reason == "expired"


@pytest.mark.parametrize(
    ("signed_for", "verified_as"),
    [("bank", "shop"), ("bank", None), (None, "bank")],
)
def test_replay_to_another_audience_is_refused(alice, signed_for, verified_as):
    token = alice.sign({}, audience=signed_for)
    with pytest.raises(SignatureError) as info:
        verify(token, alice, audience=verified_as)
    assert info.value.reason == "wrong_audience"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed"),
        ("aispm-msg1", "malformed"),
        ("aispm-msg1..", "malformed"),
        ("aispm-msg1.e30.AAAA", "malformed"),
        ("aispm-msg1.e30=." + "A" * 86, "malformed"),
        ("aispm-msg1.é." + "A" * 86, "malformed"),
        ("aispm-dg1.e30." + "A" * 86, "malformed"),
        ("aispm-msg1.e30." + "A" * 86, "malformed"),  # {} : no header fields
        ("aispm-msg1." + b64(b"[1]") + "." + "A" * 86, "malformed"),
        ("aispm-msg1." + b64(b'{"v":NaN}') + "." + "A" * 86, "malformed"),
        ("aispm-msg1." + b64(b'{"v":1e999}') + "." + "A" * 86, "malformed"),
        ("aispm-msg1." + b64(b'{"v":1,"v":1}') + "." + "A" * 86, "malformed"),
        ("aispm-msg1." + b64(b"[" * 50_000) + "." + "A" * 86, "malformed"),
        ("aispm-msg1." + b64(b"\xff\xfe") + "." + "A" * 86, "malformed"),
        ("aispm-msg1." + "A" * 200_000 + "." + "A" * 86, "too_large"),
        (b"aispm-msg1", "malformed"),
        (None, "malformed"),
    ],
)
def test_malformed_tokens_are_refused_with_a_clear_error(alice, token, reason):
    with pytest.raises(SignatureError) as info:
        verify(token, alice)
    assert info.value.reason == reason


def test_body_over_64_kib_is_too_large(alice):
    token = "aispm-msg1." + b64(b"x" * (64 * 1024 + 1)) + ".AA"
    with pytest.raises(SignatureError) as info:
        verify(token, alice)
    assert info.value.reason == "too_large"


def test_identities_compare_by_name_and_key(alice):
    assert alice == alice.public()
    assert hash(alice) == hash(alice.public())
    assert alice != AgentIdentity.from_public_bytes(alice.public_key_bytes, name="other")
    assert alice != "alice-agent"


def test_non_canonical_base64_is_refused(alice):
    token = alice.sign({})
    prefix, body, signature = token.split(".")
    # The last character of a 64-byte signature carries 4 unused bits: setting one decodes to the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    tweaked = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert unb64(tweaked) == unb64(signature)
    with pytest.raises(SignatureError) as info:
        verify(f"{prefix}.{body}.{tweaked}", alice)
    assert info.value.reason == "malformed"


@pytest.mark.parametrize(
    "payload",
    [
        {"x": float("nan")},
        {"x": float("inf")},
        {1: "int key"},
        {"x": [{2: "nested"}]},
        {"x": object()},
        {"x": "y" * 70_000},
        ["list"],
    ],
    ids=["nan", "inf", "int-key", "nested-int-key", "object", "too-large", "not-mapping"],
)
def test_unsignable_payloads_are_refused(alice, payload):
    with pytest.raises(PolicyError):
        alice.sign(payload)


def test_cyclic_payload_is_refused_without_hanging(alice):
    payload: dict[str, object] = {}
    payload["self"] = payload
    with pytest.raises(PolicyError):
        alice.sign(payload)


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf"), True, "60"])
def test_bad_ttl_is_refused(alice, ttl):
    with pytest.raises(PolicyError, match="ttl"):
        alice.sign({}, ttl=ttl)


def test_naive_clock_is_refused(alice):
    with pytest.raises(PolicyError, match="aware"):
        alice.sign({}, clock=lambda: datetime(2026, 1, 1))  # naive: the point of the test


def test_verified_payload_is_read_only(alice):
    message = verify(alice.sign({"x": 1}), alice)
    with pytest.raises(TypeError):
        message.payload["x"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    "kwargs",
    [{"skew_seconds": float("nan")}, {"skew_seconds": -1}, {"max_age": float("nan")}, {"max_age": True}],
    ids=str,
)
def test_verify_arguments_are_validated(alice, kwargs):
    with pytest.raises(PolicyError):
        verify(alice.sign({}), alice, **kwargs)


def test_verify_needs_keys(alice):
    with pytest.raises(PolicyError):
        verify(alice.sign({}), "alice-agent")  # type: ignore[arg-type]


MESSAGE_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=é\x00 ")
SIGNER = AgentIdentity.generate("fuzzed")
FIXED_MESSAGE = SIGNER.sign({"amount": 10, "to": "bob@example.com"}, audience="bank")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.text(MESSAGE_CHARS, max_size=300).map(lambda t: "aispm-msg1." + t)))
def test_arbitrary_text_only_raises_signature_error(text):
    with pytest.raises(SignatureError):
        verify(text, SIGNER, audience="bank")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_messages_are_never_accepted(data):
    token = FIXED_MESSAGE
    at = data.draw(st.integers(0, len(token) - 1))
    kind = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
    if kind == "replace":
        mutated = token[:at] + data.draw(MESSAGE_CHARS.filter(lambda c: c != token[at])) + token[at + 1 :]
    elif kind == "delete":
        mutated = token[:at] + token[at + 1 :]
    elif kind == "insert":
        mutated = token[:at] + data.draw(MESSAGE_CHARS) + token[at:]
    else:
        mutated = token[:at]
    with pytest.raises(SignatureError):
        verify(mutated, SIGNER, audience="bank")
