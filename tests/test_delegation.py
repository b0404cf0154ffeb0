"""Delegation chains: issuing, attenuation, verification, revocation, caching, and every attack on them."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aispm.constraints import ArgConstraint
from aispm.delegation import (
    Delegation,
    DelegationError,
    DelegationVerifier,
    InMemoryRevocations,
    Revocations,
    Scope,
    VerifiedDelegation,
)
from aispm.errors import PolicyError
from aispm.identity import AgentIdentity, KeyRing, SignedMessage, verify
from aispm.testing import ManualClock

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
AUDIENCE = "payments-api"


@pytest.fixture(scope="module")
def ids() -> dict[str, AgentIdentity]:
    return {name: AgentIdentity.generate(name) for name in ("root", "planner", "mailer", "helper", "mallory")}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def keys(ids: dict[str, AgentIdentity]) -> KeyRing:
    return KeyRing([ids["mallory"]], roots=[ids["root"]])


@pytest.fixture
def revocations(clock: ManualClock) -> InMemoryRevocations:
    return InMemoryRevocations(clock=clock)


@pytest.fixture
def verifier(keys: KeyRing, clock: ManualClock, revocations: InMemoryRevocations) -> DelegationVerifier:
    return DelegationVerifier(keys, audience=AUDIENCE, clock=clock, revocations=revocations)


def send(**constraints: Any) -> Scope:
    return Scope("send_email", {name: ArgConstraint(**c) for name, c in constraints.items()})


ROOT_SCOPES = (
    Scope("send_*", {"amount": ArgConstraint(max=100), "to": ArgConstraint(email_domains=("example.com",))}),
    Scope("read_*"),
)
MID_SCOPES = (
    send(amount={"max": 50}, to={"email_domains": ["example.com"]}),
    Scope("read_inbox"),
)
LEAF_SCOPES = (
    send(amount={"min": 0, "max": 10}, to={"email_domains": ["example.com"]}),
    Scope("read_inbox"),
)


def chain(
    ids: dict[str, AgentIdentity], clock: ManualClock, *, depth: int = 3, root_depth: int = 3
) -> list[Delegation]:
    """root → planner → mailer → helper, cut to ``depth`` links."""
    links = [
        Delegation.issue(
            ids["root"],
            ids["planner"].public(),
            ROOT_SCOPES,
            ttl=3600,
            max_depth=root_depth,
            audience=AUDIENCE,
            clock=clock,
        )
    ]
    if depth > 1:
        links.append(links[-1].delegate(ids["planner"], ids["mailer"].public(), MID_SCOPES, ttl=1800, clock=clock))
    if depth > 2:
        links.append(links[-1].delegate(ids["mailer"], ids["helper"].public(), LEAF_SCOPES, ttl=600, clock=clock))
    return links


@pytest.fixture
def three(ids: dict[str, AgentIdentity], clock: ManualClock) -> Delegation:
    return chain(ids, clock)[-1]


# --- forging helpers: build grants the API would refuse to issue, signed with real keys ------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def body_of(delegation: Delegation, index: int) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(unb64(delegation.token.split(".")[1 + 2 * index]))
    return fields


def signed_part(fields: Mapping[str, Any], signer: AgentIdentity) -> str:
    body = b64(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    return f"{body}.{b64(signer._sign_bytes(f'aispm-dg1.{body}'.encode()))}"


def forge(base: Delegation, keep: int, extra: Iterable[tuple[Mapping[str, Any], AgentIdentity]]) -> str:
    """The first ``keep`` links of ``base`` plus ``extra`` links, each signed by the given identity."""
    parts = base.token.split(".")[: 1 + 2 * keep]
    return ".".join([*parts, *(signed_part(f, s) for f, s in extra)])


def child_fields(parent: Delegation, subject: AgentIdentity, **changes: Any) -> dict[str, Any]:
    """A well-formed child grant of ``parent``'s leaf, with ``changes`` applied."""
    leaf = parent.grant
    fields = {
        "v": 1,
        "id": "forged-child-id-000001",
        "par": leaf.id,
        "iss": leaf.subject,
        "ikid": leaf.subject_key_id,
        "sub": subject.name,
        "spk": b64(subject.public_key_bytes),
        "scp": [{"t": "read_inbox"}],
        "nbf": int(leaf.not_before.timestamp()),
        "exp": int(leaf.expires_at.timestamp()) - 10,
        "dep": max(leaf.max_depth - 1, 0),
        "aud": leaf.audience,
    }
    fields.update(changes)
    return fields


def reason_of(verifier: DelegationVerifier, token: Any, presenter: Any = "helper") -> str:
    with pytest.raises(DelegationError) as info:
        verifier.verify(token, presenter=presenter)
    return info.value.reason


# --- the happy path --------------------------------------------------------------------------------


def test_three_level_chain_verifies(verifier, three):
    result = verifier.verify(three.token, presenter="helper")
    assert isinstance(result, VerifiedDelegation)
    assert result.chain == (("root", "planner"), ("planner", "mailer"), ("mailer", "helper"))
    assert result.grant_ids == tuple(g.id for g in three.chain)
    assert result.id == three.id
    assert result.subject == "helper"
    assert result.scopes == LEAF_SCOPES
    assert result.expires_at == T0 + timedelta(seconds=600)
    assert result.not_before == T0
    assert result.remaining_depth == 1
    assert result.audience == AUDIENCE
    assert len({*result.grant_ids}) == 3


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("send_email", {"amount": 5, "to": "bob@example.com"}, []),
        ("send_email", {"amount": 11, "to": "bob@example.com"}, ["delegation.args.amount.above_max"]),
        ("send_email", {"amount": -1}, ["delegation.args.amount.below_min"]),
        ("send_email", {"to": "eve@evil.example"}, ["delegation.args.to.domain_not_allowed"]),
        ("send_email", {"amount": "5"}, ["delegation.args.amount.not_a_number"]),
        ("read_inbox", {"anything": "goes"}, []),
        ("read_outbox", {}, ["delegation.tool_not_in_scope"]),
        ("send_sms", {}, ["delegation.tool_not_in_scope"]),
        ("SEND_EMAIL", {}, ["delegation.tool_not_in_scope"]),
    ],
)
def test_permits_checks_tool_and_arguments(verifier, three, tool, args, expected):
    assert verifier.verify(three.token, presenter="helper").permits(tool, args) == expected


def test_token_is_compact_ascii_and_parses_back(three):
    token = three.token
    assert token.isascii()
    assert token.startswith("aispm-dg1.")
    assert len(token) <= 2048, len(token)  # fits an HTTP header or MCP _meta
    parsed = Delegation.parse(token)
    assert parsed.chain == three.chain
    assert parsed.token == token
    assert "helper" in repr(parsed)
    assert token not in repr(parsed)


def test_delegate_defaults_to_one_less_depth(ids, clock):
    root, planner_grant = chain(ids, clock, depth=2)
    assert root.max_depth == 3
    assert planner_grant.max_depth == 2
    assert planner_grant.grant.parent_id == root.id


def test_presented_by_signed_message_of_the_subject(verifier, three, ids, clock):
    message = verify(
        ids["helper"].sign({"call": "send_email"}, audience=AUDIENCE, clock=clock), ids["helper"], audience=AUDIENCE
    )
    assert verifier.verify(three.token, presenter=message).subject == "helper"


def test_verify_message_proves_possession(verifier, three, ids, clock):
    request = ids["helper"].sign({"call": "send_email"}, audience=AUDIENCE, ttl=30, clock=clock)
    result, message = verifier.verify_message(three.token, request)
    assert result.subject == "helper"
    assert message.payload == {"call": "send_email"}


# --- attacks: signatures ---------------------------------------------------------------------------


def test_forged_root_signature(verifier, three, ids):
    fields = body_of(three, 0)
    token = forge(three, 0, [(fields, ids["mallory"])])
    assert reason_of(verifier, token, "planner") == "bad_signature"


def test_forged_child_signature(verifier, three, ids):
    parent = chain(ids, ManualClock(), depth=1)[0]
    fields = child_fields(parent, ids["mallory"], scp=[{"t": "send_*"}])
    token = forge(parent, 1, [(fields, ids["mallory"])])  # signed by mallory, claims planner's key
    assert reason_of(verifier, token, "mallory") == "bad_signature"


@pytest.mark.parametrize("index", [0, 1, 2])
def test_payload_edited_after_signing(verifier, three, index):
    parts = three.token.split(".")
    body = unb64(parts[1 + 2 * index])
    edited = body.replace(b'"max":10.0', b'"max":1e6').replace(b'"max":50.0', b'"max":1e6')
    edited = edited.replace(b'"max":100.0', b'"max":1e6')
    assert edited != body
    parts[1 + 2 * index] = b64(edited)
    assert reason_of(verifier, ".".join(parts)) == "bad_signature"


def test_flipping_any_byte_of_any_part_is_detected(verifier, three):
    parts = three.token.split(".")
    for part in range(1, len(parts)):
        raw = unb64(parts[part])
        for index in range(0, len(raw), 5):
            mutated = bytearray(raw)
            mutated[index] ^= 0x20
            tampered = [*parts]
            tampered[part] = b64(bytes(mutated))
            with pytest.raises(DelegationError):
                verifier.verify(".".join(tampered), presenter="helper")


def test_unknown_root_key(clock, three, ids):
    verifier = DelegationVerifier(KeyRing(roots=[ids["mallory"]]), audience=AUDIENCE, clock=clock)
    assert reason_of(verifier, three.token) == "unknown_key"


def test_trusted_key_that_is_not_a_root_cannot_issue_roots(verifier, ids, clock):
    rogue = Delegation.issue(ids["mallory"], ids["mallory"], [Scope("*")], ttl=60, max_depth=0, audience=AUDIENCE)
    assert reason_of(verifier, rogue.token, "mallory") == "untrusted_root"


def test_rotated_out_root_key_after_a_cached_success(verifier, keys, three, ids):
    verifier.verify(three.token, presenter="helper")
    keys.remove(ids["root"].key_id)
    assert reason_of(verifier, three.token) == "unknown_key"


def test_root_issuer_name_must_match_the_trusted_name(keys, clock, ids):
    impostor = AgentIdentity.from_pem(ids["root"].private_pem(), name="not-root")
    grant = Delegation.issue(
        impostor, ids["planner"], [Scope("*")], ttl=60, max_depth=0, audience=AUDIENCE, clock=clock
    )
    verifier = DelegationVerifier(keys, audience=AUDIENCE, clock=clock)
    assert reason_of(verifier, grant.token, "planner") == "untrusted_root"


def test_child_spliced_onto_another_parent(verifier, ids, clock):
    first = chain(ids, clock, depth=2)
    second = chain(ids, clock, depth=2)
    token = ".".join([*second[0].token.split(".")[:3], *first[1].token.split(".")[3:]])
    assert reason_of(verifier, token, "mailer") == "broken_chain"


def test_root_with_a_parent_reference(verifier, three, ids):
    fields = body_of(three, 0) | {"par": "someone"}
    assert reason_of(verifier, forge(three, 0, [(fields, ids["root"])]), "planner") == "broken_chain"


# --- attacks: time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("advance", "skew", "reason"),
    [
        (599, 0, None),
        (600, 0, "expired"),
        (629, 30, None),
        (630, 30, "expired"),
        (-1, 0, "not_yet_valid"),
        (-30, 30, None),
        (-31, 30, "not_yet_valid"),
    ],
)
def test_expired_and_not_yet_valid(keys, three, clock, advance, skew, reason):
    clock.advance(advance)
    verifier = DelegationVerifier(keys, audience=AUDIENCE, clock=clock, skew_seconds=skew)
    if reason is None:
        verifier.verify(three.token, presenter="helper")
    else:
        assert reason_of(verifier, three.token) == reason


def test_cached_success_expires_with_the_chain(verifier, three, clock):
    verifier.verify(three.token, presenter="helper")
    clock.advance(600 + 30)
    assert reason_of(verifier, three.token) == "expired"


def test_child_extending_ttl_is_refused_at_issue(ids, clock):
    root = chain(ids, clock, depth=1)[0]
    with pytest.raises(DelegationError) as info:
        root.delegate(ids["planner"], ids["mailer"], MID_SCOPES, ttl=3601, clock=clock)
    assert info.value.reason == "outlives_parent"


@pytest.mark.parametrize("change", [{"exp": 1}, {"nbf": -1}], ids=["later-expiry", "earlier-start"])
def test_child_extending_ttl_is_refused_at_verify(verifier, ids, clock, change):
    root = chain(ids, clock, depth=1)[0]
    fields = child_fields(root, ids["mailer"])
    fields.update({k: fields[k] + v + (10 if k == "exp" else 0) for k, v in change.items()})
    assert reason_of(verifier, forge(root, 1, [(fields, ids["planner"])]), "mailer") == "outlives_parent"


def test_delegating_an_expired_or_future_grant_is_refused(ids, clock):
    root = chain(ids, clock, depth=1)[0]
    with pytest.raises(DelegationError) as info:
        root.delegate(ids["planner"], ids["mailer"], MID_SCOPES, ttl=1, clock=ManualClock(T0 + timedelta(hours=2)))
    assert info.value.reason == "expired"
    with pytest.raises(DelegationError) as info:
        root.delegate(ids["planner"], ids["mailer"], MID_SCOPES, ttl=1, clock=ManualClock(T0 - timedelta(hours=2)))
    assert info.value.reason == "not_yet_valid"


# --- attacks: scope --------------------------------------------------------------------------------

WIDENING = {
    "tool-outside-parent": [Scope("delete_repo")],
    "tool-glob-wider": [
        Scope("send_*", {"amount": ArgConstraint(max=10), "to": ArgConstraint(email_domains=("example.com",))})
    ],
    "tool-wildcard": [Scope("*")],
    "arg-bound-raised": [send(amount={"max": 500}, to={"email_domains": ["example.com"]})],
    "dropped-constraint": [send(amount={"max": 10})],
    "domain-added": [send(amount={"max": 10}, to={"email_domains": ["example.com", "evil.example"]})],
}


@pytest.mark.parametrize("scopes", WIDENING.values(), ids=WIDENING.keys())
def test_child_widening_scope_is_refused_at_issue(ids, clock, scopes):
    planner_grant = chain(ids, clock, depth=2)[1]
    with pytest.raises(DelegationError) as info:
        planner_grant.delegate(ids["mailer"], ids["helper"], scopes, ttl=60, clock=clock)
    assert info.value.reason == "scope_widened"


@pytest.mark.parametrize("scopes", WIDENING.values(), ids=WIDENING.keys())
def test_child_widening_scope_is_refused_at_verify(verifier, ids, clock, scopes):
    planner_grant = chain(ids, clock, depth=2)[1]
    fields = child_fields(planner_grant, ids["helper"], scp=[s._to_json() for s in scopes])
    token = forge(planner_grant, 2, [(fields, ids["mailer"])])
    assert reason_of(verifier, token) == "scope_widened"


@pytest.mark.parametrize(
    ("child", "parent", "within"),
    [
        ("send_email", "send_email", True),
        ("send_email", "send_*", True),
        ("send_email", "*", True),
        ("send_*", "*", True),
        ("send_*", "send_*", True),
        ("send_mail_*", "send_*", True),
        ("send_[ab]*", "send_*", True),
        ("send_*", "send_email", False),
        ("*", "send_*", False),
        ("se*", "send_*", False),
        ("send_?", "send_?", True),
        ("send_a", "send_?", True),
        ("send_?", "send_[a-z]", False),
        ("read_*", "send_*", False),
        ("Send_email", "send_*", False),
    ],
)
def test_tool_glob_containment_is_conservative(child, parent, within):
    assert Scope(child).within(Scope(parent)) is within


@pytest.mark.parametrize(
    "tool", ["", "x" * 129, "has space", "new\nline", 5], ids=["empty", "long", "space", "control", "not-str"]
)
def test_bad_scope_tools_are_refused(tool):
    with pytest.raises(PolicyError):
        Scope(tool)


def test_bad_scope_args_are_refused():
    with pytest.raises(PolicyError):
        Scope("x", {"a": {"max": 1}})  # type: ignore[dict-item]
    with pytest.raises(PolicyError):
        Scope("x", {f"a{i}": ArgConstraint() for i in range(65)})


def test_non_finite_bounds_cannot_be_issued(ids, clock):
    with pytest.raises(PolicyError, match="finite"):
        Delegation.issue(
            ids["root"], ids["planner"], [send(amount={"max": float("inf")})], ttl=60, max_depth=0, audience=AUDIENCE
        )


# --- attacks: depth --------------------------------------------------------------------------------


def test_delegation_beyond_remaining_depth_is_refused_at_issue(ids, clock):
    root, planner_grant = chain(ids, clock, depth=2, root_depth=1)
    assert planner_grant.max_depth == 0
    with pytest.raises(DelegationError) as info:
        planner_grant.delegate(ids["mailer"], ids["helper"], LEAF_SCOPES, ttl=60, clock=clock)
    assert info.value.reason == "depth_exceeded"
    with pytest.raises(DelegationError) as info:
        root.delegate(ids["planner"], ids["mailer"], MID_SCOPES, ttl=60, max_depth=1, clock=clock)
    assert info.value.reason == "depth_exceeded"


@pytest.mark.parametrize("dep", [0, 1], ids=["no-depth-left", "depth-not-reduced"])
def test_delegation_beyond_remaining_depth_is_refused_at_verify(verifier, ids, clock, dep):
    planner_grant = chain(ids, clock, depth=2, root_depth=1 + dep)[1]
    fields = child_fields(planner_grant, ids["helper"], dep=dep)
    assert reason_of(verifier, forge(planner_grant, 2, [(fields, ids["mailer"])])) == "depth_exceeded"


def test_chain_longer_than_the_verifier_allows(keys, clock, three):
    verifier = DelegationVerifier(keys, audience=AUDIENCE, clock=clock, max_depth=2)
    assert reason_of(verifier, three.token) == "too_deep"


def test_chain_of_many_links_is_refused_before_any_work(verifier):
    token = "aispm-dg1" + ".e30.AA" * 1000
    assert reason_of(verifier, token) in {"too_deep", "too_large"}


# --- attacks: revocation ---------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2], ids=["root", "middle", "leaf"])
def test_revoked_ancestor_revokes_descendants(verifier, revocations, three, index):
    grant = three.chain[index]
    revocations.revoke(grant.id, until=grant.expires_at)
    assert reason_of(verifier, three.token) == "revoked"


def test_revoking_after_a_cached_success(verifier, revocations, three):
    verifier.verify(three.token, presenter="helper")
    revocations.revoke(three.chain[0].id, until=three.chain[0].expires_at)
    assert reason_of(verifier, three.token) == "revoked"


def test_revoking_a_child_leaves_the_parent_valid(verifier, revocations, ids, clock):
    links = chain(ids, clock)
    revocations.revoke(links[2].id, until=links[2].expires_at)
    assert verifier.verify(links[1].token, presenter="mailer").subject == "mailer"


def test_revocation_records_expire_and_are_bounded(clock):
    store = InMemoryRevocations(clock=clock, max_entries=2)
    assert isinstance(store, Revocations)
    store.revoke("a", T0 + timedelta(seconds=10))
    store.revoke("b", T0 + timedelta(seconds=100))
    epoch = store.epoch
    with pytest.raises(PolicyError, match="too many"):
        store.revoke("c", T0 + timedelta(seconds=10))
    clock.advance(10)
    assert not store.is_revoked("a")
    assert store.is_revoked("b")
    store.revoke("c", T0 + timedelta(seconds=50))  # "a" is pruned to make room
    assert store.epoch > epoch
    assert len(store) == 2
    with pytest.raises(PolicyError):
        store.revoke("d", datetime(2026, 1, 1))  # naive: refused


# --- attacks: audience and presenter ---------------------------------------------------------------


def test_replay_to_another_audience(keys, clock, three):
    verifier = DelegationVerifier(keys, audience="other-api", clock=clock)
    assert reason_of(verifier, three.token) == "wrong_audience"


def test_child_changing_the_audience(verifier, ids, clock):
    root = chain(ids, clock, depth=1)[0]
    fields = child_fields(root, ids["mailer"], aud="other-api")
    assert reason_of(verifier, forge(root, 1, [(fields, ids["planner"])]), "mailer") == "wrong_audience"


@pytest.mark.parametrize("name", ["mailer", "planner", "Helper", "helper ", ""])
def test_presented_by_an_agent_that_is_not_its_subject(verifier, three, name):
    assert reason_of(verifier, three.token, name) == "wrong_presenter"


def test_presented_with_a_message_from_another_agent(verifier, three, ids, clock):
    message = verify(ids["mailer"].sign({}, audience=AUDIENCE, clock=clock), ids["mailer"], audience=AUDIENCE)
    assert reason_of(verifier, three.token, message) == "wrong_presenter"
    # a message object claiming the subject's key id but carrying another key
    spoofed = SignedMessage(
        {}, "helper", three.grant.subject_key_id, T0, None, AUDIENCE, "x", ids["mailer"].public_key_bytes
    )
    assert reason_of(verifier, three.token, spoofed) == "wrong_presenter"
    assert reason_of(verifier, three.token, 42) == "wrong_presenter"


def test_presenter_check_is_not_skipped_by_the_cache(verifier, three):
    verifier.verify(three.token, presenter="helper")
    assert reason_of(verifier, three.token, "mallory") == "wrong_presenter"


@pytest.mark.parametrize(
    ("signer", "audience"), [("mailer", AUDIENCE), ("helper", "other-api")], ids=["other-agent", "other-audience"]
)
def test_verify_message_refuses_a_message_not_from_the_subject(verifier, three, ids, clock, signer, audience):
    request = ids[signer].sign({}, audience=audience, clock=clock)
    with pytest.raises(DelegationError) as info:
        verifier.verify_message(three.token, request)
    assert info.value.reason == "wrong_presenter"


def test_only_the_subject_can_delegate(ids, clock):
    root = chain(ids, clock, depth=1)[0]
    for issuer in (ids["mallory"], AgentIdentity.from_pem(ids["mallory"].private_pem(), name="planner")):
        with pytest.raises(DelegationError) as info:
            root.delegate(issuer, ids["helper"], MID_SCOPES, ttl=60, clock=clock)
        assert info.value.reason == "wrong_issuer"
    with pytest.raises(PolicyError):
        root.delegate(ids["planner"].public(), ids["helper"], MID_SCOPES, ttl=60, clock=clock)


# --- malformed input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed"),
        ("aispm-dg1", "malformed"),
        ("aispm-dg1.", "malformed"),
        ("aispm-dg1.e30", "malformed"),
        ("aispm-dg1.e30.AAAA", "malformed"),
        ("aispm-msg1.e30." + "A" * 86, "malformed"),
        ("aispm-dg1.e30." + "A" * 86, "malformed"),
        ("aispm-dg1.é30." + "A" * 86, "malformed"),
        ("aispm-dg1.e30=." + "A" * 86, "malformed"),
        ("aispm-dg1." + b64(b"[]") + "." + "A" * 86, "malformed"),
        ("aispm-dg1." + b64(b"[" * 10_000) + "." + "A" * 86, "malformed"),
        ("aispm-dg1." + "A" * 20_000 + "." + "A" * 86, "too_large"),
        (None, "malformed"),
        (b"aispm-dg1.e30", "malformed"),
        (["aispm-dg1"], "malformed"),
    ],
)
def test_malformed_tokens_are_refused(verifier, token, reason):
    assert reason_of(verifier, token) == reason


def test_truncated_tokens_are_refused(verifier, three):
    token = three.token
    for cut in range(0, len(token), 23):
        with pytest.raises(DelegationError):
            verifier.verify(token[:cut], presenter="helper")


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"v": True},
        {"dep": -1},
        {"dep": 1.0},
        {"exp": "later"},
        {"exp": 2**60},
        {"spk": "AAAA"},
        {"scp": []},
        {"scp": [{"t": "x", "a": {"amount": {"max": "lots", "bogus": 1}}}]},
        {"scp": [{"t": 5}]},
        {"scp": [{"t": "x", "z": 1}]},
        {"sub": "bad\nname"},
        {"extra": 1},
    ],
    ids=str,
)
def test_signed_but_ill_formed_grants_are_refused(verifier, three, ids, change):
    fields = body_of(three, 0) | change
    assert reason_of(verifier, forge(three, 0, [(fields, ids["root"])]), "planner") == "malformed"


def test_errors_never_echo_the_token(verifier, three):
    parts = three.token.split(".")
    parts[2] = parts[2][::-1]
    with pytest.raises(DelegationError) as info:
        verifier.verify(".".join(parts), presenter="helper")
    assert all(part not in str(info.value) for part in parts[1:])


TOKEN_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=é\x00 ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=300), st.text(TOKEN_CHARS, max_size=300).map(lambda t: "aispm-dg1." + t)))
def test_arbitrary_text_only_raises_delegation_error(verifier, text):
    with pytest.raises(DelegationError):
        verifier.verify(text, presenter="helper")


@pytest.fixture(scope="module")
def fixed_token(ids: dict[str, AgentIdentity]) -> str:
    return chain(ids, ManualClock())[-1].token


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_tokens_are_never_accepted(keys, fixed_token, data):
    verifier = DelegationVerifier(keys, audience=AUDIENCE, clock=ManualClock(), cache_size=0)
    token = fixed_token
    kind = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swap-parts"]))
    at = data.draw(st.integers(0, len(token) - 1))
    if kind == "replace":
        mutated = token[:at] + data.draw(TOKEN_CHARS.filter(lambda c: c != token[at])) + token[at + 1 :]
    elif kind == "delete":
        mutated = token[:at] + token[at + 1 :]
    elif kind == "insert":
        mutated = token[:at] + data.draw(TOKEN_CHARS) + token[at:]
    elif kind == "truncate":
        mutated = token[:at]
    else:
        parts = token.split(".")
        i, j = data.draw(st.lists(st.integers(1, len(parts) - 1), min_size=2, max_size=2, unique=True))
        parts[i], parts[j] = parts[j], parts[i]
        mutated = ".".join(parts)
    assert mutated != token
    with pytest.raises(DelegationError):
        verifier.verify(mutated, presenter="helper")


# --- cache and threads -----------------------------------------------------------------------------


def test_cache_is_bounded_lru(keys, ids, clock):
    verifier = DelegationVerifier(keys, audience=AUDIENCE, clock=clock, cache_size=2)
    tokens = [chain(ids, clock, depth=1)[0].token for _ in range(3)]
    for token in tokens:
        verifier.verify(token, presenter="planner")
    assert len(verifier._cache) == 2
    assert tokens[0] not in verifier._cache
    verifier.clear_cache()
    assert len(verifier._cache) == 0


def test_cached_result_is_the_same_object(verifier, three):
    first = verifier.verify(three.token, presenter="helper")
    assert verifier.verify(three.token, presenter="helper") is first


def test_concurrent_verification_and_revocation(verifier, revocations, three):
    errors: list[str] = []
    results: list[VerifiedDelegation] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(200):
            try:
                results.append(verifier.verify(three.token, presenter="helper"))
            except DelegationError as exc:
                errors.append(exc.reason)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    revocations.revoke(three.chain[1].id, until=three.chain[1].expires_at)
    for thread in threads:
        thread.join()
    assert set(errors) <= {"revoked"}
    assert len(results) + len(errors) == 1600
    assert reason_of(verifier, three.token) == "revoked"  # once revoked, never accepted again


# --- construction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"audience": ""},
        {"skew_seconds": -1},
        {"skew_seconds": True},
        {"max_depth": 0},
        {"max_token_bytes": 10},
        {"cache_size": -1},
        {"revocations": object()},
    ],
    ids=str,
)
def test_verifier_arguments_are_validated(keys, kwargs):
    with pytest.raises(PolicyError):
        DelegationVerifier(keys, **{"audience": AUDIENCE, **kwargs})


def test_verifier_needs_a_key_ring(ids):
    with pytest.raises(PolicyError):
        DelegationVerifier(ids["root"], audience=AUDIENCE)


@pytest.mark.parametrize(
    "kwargs",
    [{"ttl": 0}, {"ttl": 0.5}, {"max_depth": -1}, {"max_depth": 65}, {"audience": ""}, {"scopes": []}],
    ids=str,
)
def test_issue_arguments_are_validated(ids, kwargs):
    args: dict[str, Any] = {"ttl": 60, "max_depth": 1, "audience": AUDIENCE, "scopes": [Scope("*")]} | kwargs
    scopes = args.pop("scopes")
    with pytest.raises(PolicyError):
        Delegation.issue(ids["root"], ids["planner"], scopes, clock=ManualClock(), **args)


def test_a_single_scope_and_properties(ids, clock):
    grant = Delegation.issue(
        ids["root"], ids["planner"], Scope("read_*"), ttl=60, max_depth=0, audience=AUDIENCE, clock=clock
    )
    assert grant.scopes == (Scope("read_*"),)
    assert grant.subject == "planner"
    assert grant.expires_at == T0 + timedelta(seconds=60)
    with pytest.raises(PolicyError):
        Delegation.issue(ids["root"], "planner", [Scope("*")], ttl=60, max_depth=0, audience=AUDIENCE)  # type: ignore[arg-type]


def test_permits_tries_every_matching_scope(verifier, ids, clock):
    scopes = [Scope("pay", {"amount": ArgConstraint(max=10)}), Scope("pay", {"amount": ArgConstraint(min=1000)})]
    grant = Delegation.issue(ids["root"], ids["planner"], scopes, ttl=60, max_depth=0, audience=AUDIENCE, clock=clock)
    result = verifier.verify(grant.token, presenter="planner")
    assert result.permits("pay", {"amount": 5}) == []
    assert result.permits("pay", {"amount": 5000}) == []
    assert result.permits("pay", {"amount": 500}) == ["delegation.args.amount.above_max"]
    assert result.permits("pay") == []


def test_without_cache_every_call_verifies(keys, clock, three):
    verifier = DelegationVerifier(keys, audience=AUDIENCE, clock=clock, cache_size=0)
    assert verifier.audience == AUDIENCE
    first = verifier.verify(three.token, presenter="helper")
    assert verifier.verify(three.token, presenter="helper") == first
    assert verifier.verify(three.token, presenter="helper") is not first
