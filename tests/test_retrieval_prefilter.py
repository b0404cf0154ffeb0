"""The vector-store pre-filter: it admits what the post-filter admits, on randomised corpora (Hypothesis).

On well-formed metadata the pre-filter (`AccessFilter.matches`) and the reference
(`MetadataAuthorizer`) agree document for document; on any metadata, a document the
post-filter keeps is never excluded by the pre-filter. The LlamaIndex forms are tested
against a real store in tests/frameworks/test_retrieval_prefilter_llamaindex.py.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.errors import MissingExtraError, PolicyError
from aispm.policy import AgentAccess, MetadataFields, RetrievalPolicy
from aispm.principals import Session, open_session, session
from aispm.retrieval import Access, DocumentRef, MetadataAuthorizer, Principal, access_for
from aispm.retrieval._prefilter import AccessFilter, Leaf, _flat_terms, access_filter

SETTINGS = settings(deadline=None, max_examples=200, database=None)

USERS = ("alice", "bob", "carol")
AGENTS = ("bot", "helper")
GROUPS = ("eng", "hr", "ops")
TENANTS = ("acme", "globex")
EVERYONE = "*"
CUSTOM_LABELS = ("low", "mid", "high")
DEFAULT = MetadataFields()
ACL_OFF = {"owner": None, "users": None, "groups": None}

# --- strategies: policies, sessions, corpora ------------------------------------------------


@st.composite
def policies(draw: st.DrawFn) -> RetrievalPolicy:
    """A policy with some checks switched off, default or custom labels, strict or lenient, agents."""
    labels = draw(st.sampled_from([("public", "internal", "confidential", "restricted"), CUSTOM_LABELS]))
    fields = {
        name: draw(st.sampled_from([getattr(DEFAULT, name), getattr(DEFAULT, name), None]))
        for name in ("owner", "users", "groups", "tenant", "label")
    }
    agents = {
        name: AgentAccess(
            clearance=draw(st.none() | st.sampled_from(labels)),
            tenant=draw(st.none() | st.sampled_from(TENANTS)),
            groups=draw(st.none() | st.lists(st.sampled_from(GROUPS), max_size=2, unique=True).map(tuple)),
        )
        for name in draw(st.lists(st.sampled_from(AGENTS), unique=True))
    }
    return RetrievalPolicy(
        fields=MetadataFields(**fields),
        labels=labels,
        missing=draw(st.sampled_from(["deny", "allow"])),
        default_label=draw(st.sampled_from(labels)),
        default_clearance=draw(st.sampled_from(labels)),
        agents=agents,
        reveal={},
    )


@dataclass(frozen=True)
class Who:
    """The arguments of a session (or ``none``: a call outside any session)."""

    none: bool
    user: str | None
    groups: tuple[str, ...]
    clearance_rank: int | None
    tenant: str | None
    agents: tuple[str, ...]

    def session(self, policy: RetrievalPolicy) -> Session | None:
        if self.none:
            return None
        clearance = None if self.clearance_rank is None else policy.labels[self.clearance_rank % len(policy.labels)]
        user, groups, tenant = self.user, self.groups, self.tenant
        if len(self.agents) < 2:
            agent = self.agents[0] if self.agents else None
            return open_session(user=user, groups=groups, clearance=clearance, tenant=tenant, agent=agent)
        with session(user=user, groups=groups, clearance=clearance, tenant=tenant, agent=self.agents[0]):
            return open_session(agent=self.agents[1])  # a chain: user -> agent -> sub-agent


whos = st.builds(
    Who,
    none=st.sampled_from([False, False, False, True]),
    user=st.none() | st.sampled_from(USERS),
    groups=st.lists(st.sampled_from(GROUPS), max_size=3, unique=True).map(tuple),
    clearance_rank=st.none() | st.integers(0, 3),
    tenant=st.sampled_from((None, *TENANTS, *TENANTS)),
    agents=st.lists(st.sampled_from(AGENTS), max_size=2, unique=True).map(tuple),
)

_names = st.sampled_from((*USERS, *AGENTS, EVERYONE))
_groups = st.sampled_from((*GROUPS, EVERYONE))


def well_formed(labels: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Metadata the reference reads without a malformed verdict: known values, or absent."""
    return st.fixed_dictionaries(
        {"title": st.just("a chunk")},
        optional={
            DEFAULT.tenant or "": st.sampled_from(TENANTS),
            DEFAULT.label or "": st.sampled_from(labels),
            DEFAULT.owner or "": st.sampled_from(USERS + AGENTS),
            DEFAULT.users or "": st.lists(_names, max_size=3),
            DEFAULT.groups or "": st.lists(_groups, max_size=3),
        },
    )


_junk = st.one_of(
    st.none(),
    st.integers(-2, 2),
    st.sampled_from(["", "alice", "eng", "*", "acme", "public", "secret", "restricted"]),
    st.lists(st.one_of(_names, _groups, st.integers(0, 1), st.none()), max_size=3),
    st.tuples(_names),
    st.frozensets(_groups, max_size=2),
    st.just({"alice": 1}),
)


def any_metadata(labels: Sequence[str]) -> st.SearchStrategy[Any]:
    """Anything a document may carry: well-formed, malformed values, no metadata, not a mapping."""
    keys = [DEFAULT.tenant, DEFAULT.label, DEFAULT.owner, DEFAULT.users, DEFAULT.groups]
    malformed = st.dictionaries(st.sampled_from([k for k in keys if k]), _junk, max_size=5)
    return st.one_of(
        well_formed(labels),
        malformed,
        st.builds(lambda a, b: {**a, **b}, well_formed(labels), malformed),
        st.none(),
        st.sampled_from([[], "classification", 3]),
    )


@st.composite
def cases(draw: st.DrawFn, *, malformed: bool) -> tuple[RetrievalPolicy, Access, list[Any]]:
    policy = draw(policies())
    access = access_for(draw(whos).session(policy), policy)
    metadata = any_metadata(policy.labels) if malformed else well_formed(policy.labels)
    return policy, access, draw(st.lists(metadata, max_size=12))


def kept(policy: RetrievalPolicy, access: Access, corpus: Sequence[Any]) -> list[bool]:
    """The reference: which documents the post-filter keeps."""
    verdicts = MetadataAuthorizer(policy).authorize(access, [DocumentRef(str(i), m) for i, m in enumerate(corpus)])
    return [verdict is None for verdict in verdicts]


def acl_free(policy: RetrievalPolicy) -> RetrievalPolicy:
    return policy.model_copy(update={"fields": policy.fields.model_copy(update=ACL_OFF)})


def has_acl(policy: RetrievalPolicy) -> bool:
    f = policy.fields
    return f.owner is not None or f.users is not None or f.groups is not None


# --- (1) equivalence with the reference -----------------------------------------------------


@SETTINGS
@given(cases(malformed=False))
def test_prefilter_equals_postfilter_on_well_formed_metadata(case: tuple[RetrievalPolicy, Access, list[Any]]) -> None:
    policy, access, corpus = case
    pre = access_filter(access, policy)
    matched = [pre.matches(m) for m in corpus]
    if policy.missing == "allow" and has_acl(policy):
        # Lenient: a document without an ACL is readable, which the filter cannot say, so it
        # leaves the ACL out: it equals the reference without ACL checks, a superset of it.
        assert matched == kept(acl_free(policy), access, corpus)
        assert all(pre for pre, post in zip(matched, kept(policy, access, corpus), strict=True) if post)
    else:
        assert matched == kept(policy, access, corpus)


@SETTINGS
@given(cases(malformed=True))
def test_prefilter_never_excludes_what_the_postfilter_keeps(case: tuple[RetrievalPolicy, Access, list[Any]]) -> None:
    policy, access, corpus = case
    pre = access_filter(access, policy)
    for metadata, post in zip(corpus, kept(policy, access, corpus), strict=True):
        if metadata is None and policy.missing == "allow":
            # The reference reads a document with no metadata at all as readable, even when
            # the default label is above the chain's clearance; a store cannot tell it from
            # one with empty metadata, which gets the default label. Reported, not pinned.
            continue
        if post:
            assert pre.matches(metadata)


@SETTINGS
@given(cases(malformed=True))
def test_flat_terms_are_the_same_filter(case: tuple[RetrievalPolicy, Access, list[Any]]) -> None:
    """The union of the flat AND terms (one store query each) admits what the CNF admits."""
    policy, access, corpus = case
    pre = access_filter(access, policy)
    terms = [AccessFilter(tuple((leaf,) for leaf in term)) for term in _flat_terms(pre.clauses)]
    for metadata in corpus:
        assert any(term.matches(metadata) for term in terms) == pre.matches(metadata)


@SETTINGS
@given(cases(malformed=False))
def test_to_dict_means_the_same_on_well_formed_metadata(case: tuple[RetrievalPolicy, Access, list[Any]]) -> None:
    """Read as MongoDB/Pinecone read it, the dict admits what `matches` admits."""
    policy, access, corpus = case
    pre = access_filter(access, policy)
    where = pre.to_dict()
    for metadata in corpus:
        assert mongo_match(where, metadata) == pre.matches(metadata)


def mongo_match(where: Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
    """A minimal MongoDB-style evaluator: ``$in``/``$eq`` on a list field match any element."""
    if "$and" in where:
        return all(mongo_match(part, metadata) for part in where["$and"])
    if "$or" in where:
        return any(mongo_match(part, metadata) for part in where["$or"])
    results = []
    for field, condition in where.items():
        [(op, operand)] = condition.items()
        present = field in metadata
        value = metadata.get(field)
        items = value if isinstance(value, list) else [value]
        if op == "$exists":
            results.append(present == operand)
        elif op == "$eq":
            results.append(present and operand in items)
        else:
            assert op == "$in"
            results.append(present and any(item in operand for item in items))
    return all(results)


# --- (2) what the filter looks like ---------------------------------------------------------


def test_anonymous_reads_public_documents_shared_with_everyone() -> None:
    policy = RetrievalPolicy()
    assert access_filter(access_for(None, policy), policy).to_dict() == {
        "$and": [
            {"classification": {"$in": ["public"]}},
            {"$or": [{"allowed_users": {"$in": ["*"]}}, {"allowed_groups": {"$in": ["*"]}}]},
        ]
    }


def test_a_chain_gets_tenant_labels_and_one_acl_clause_per_subject() -> None:
    policy = RetrievalPolicy(agents={"bot": AgentAccess(clearance="internal", groups=("support",))})
    access = access_for(
        open_session(user="alice", groups=["hr", "eng"], clearance="restricted", tenant="acme", agent="bot"), policy
    )
    pre = access_filter(access, policy)
    assert pre.clauses == (
        (Leaf("tenant", "eq", "acme"),),
        (Leaf("classification", "in", ("internal", "public")),),
        (
            Leaf("owner", "eq", "alice"),
            Leaf("allowed_users", "any", ("*", "alice")),
            Leaf("allowed_groups", "any", ("*", "eng", "hr")),
        ),
        (
            Leaf("owner", "eq", "bot"),
            Leaf("allowed_users", "any", ("*", "bot")),
            Leaf("allowed_groups", "any", ("*", "support")),
        ),
    )
    assert pre.to_dict() == {
        "$and": [
            {"tenant": {"$eq": "acme"}},
            {"classification": {"$in": ["internal", "public"]}},
            {
                "$or": [
                    {"owner": {"$eq": "alice"}},
                    {"allowed_users": {"$in": ["*", "alice"]}},
                    {"allowed_groups": {"$in": ["*", "eng", "hr"]}},
                ]
            },
            {
                "$or": [
                    {"owner": {"$eq": "bot"}},
                    {"allowed_users": {"$in": ["*", "bot"]}},
                    {"allowed_groups": {"$in": ["*", "support"]}},
                ]
            },
        ]
    }


def test_lenient_policy_admits_missing_tenant_and_label_and_leaves_the_acl_to_the_postfilter() -> None:
    policy = RetrievalPolicy(missing="allow", default_label="public")
    access = access_for(open_session(user="alice", tenant="acme"), policy)
    assert access_filter(access, policy).to_dict() == {
        "$and": [
            {"$or": [{"tenant": {"$eq": "acme"}}, {"tenant": {"$exists": False}}]},
            {"$or": [{"classification": {"$in": ["public"]}}, {"classification": {"$exists": False}}]},
        ]
    }
    # The default label above the clearance: a document without a label is not readable.
    policy = RetrievalPolicy(missing="allow", default_label="internal")
    access = access_for(open_session(user="alice"), policy)
    assert access_filter(access, policy).to_dict() == {"classification": {"$in": ["public"]}}


def test_tenant_conflict_matches_nothing() -> None:
    policy = RetrievalPolicy(agents={"bot": AgentAccess(tenant="globex")}, fields=MetadataFields(label=None))
    access = access_for(open_session(user="alice", tenant="acme", agent="bot"), policy)
    assert access.conflict
    pre = access_filter(access, policy)
    assert pre.clauses[0] == (Leaf("tenant", "in", ()),)
    assert pre.to_dict()["$and"][0] == {"tenant": {"$in": []}}
    assert not pre.matches({"tenant": "acme", "allowed_users": ["*"]})
    assert _flat_terms(pre.clauses) == []  # no query to run at all
    lenient = policy.model_copy(update={"missing": "allow"})
    assert access_filter(access, lenient).clauses == ((Leaf("tenant", "in", ()), Leaf("tenant", "empty", None)),)


def test_owner_only_policy_gives_an_anonymous_caller_nothing() -> None:
    policy = RetrievalPolicy(fields=MetadataFields(users=None, groups=None, label=None, tenant=None))
    pre = access_filter(access_for(None, policy), policy)
    assert pre.clauses == ((Leaf("owner", "in", ()),),)
    assert not pre.matches({"owner": "alice"})
    assert _flat_terms(pre.clauses) == []


def test_single_clause_and_single_leaf_are_inlined_and_no_clause_is_no_condition() -> None:
    off = MetadataFields(owner=None, users=None, groups=None, tenant=None, label=None)
    policy = RetrievalPolicy(fields=off)
    pre = access_filter(access_for(None, policy), policy)
    assert pre == AccessFilter(())
    assert pre.to_dict() == {}
    assert pre.matches({})
    assert pre.matches(None)
    assert _flat_terms(pre.clauses) == [()]  # one query, without a filter
    policy = RetrievalPolicy(fields=off.model_copy(update={"label": "level"}))
    assert access_filter(access_for(None, policy), policy).to_dict() == {"level": {"$in": ["public"]}}


def test_equal_rights_give_equal_filters() -> None:
    policy = RetrievalPolicy()
    first = access_filter(access_for(open_session(user="alice", groups=["ops", "eng", "hr"]), policy), policy)
    second = access_filter(access_for(open_session(user="alice", groups=["hr", "ops", "eng"]), policy), policy)
    assert first == second
    assert hash(first) == hash(second)
    assert first.to_dict() == second.to_dict()


def test_duplicate_subject_clauses_are_merged() -> None:
    access = Access(
        subjects=(Principal("user", "alice"), Principal("user", "alice")),
        chain=("user:alice",),
        clearance="public",
        labels=frozenset({"public", "unknown"}),
    )
    pre = access_filter(access, RetrievalPolicy())
    assert len(pre.clauses) == 2
    assert pre.clauses[0] == (Leaf("classification", "in", ("public",)),)  # only the policy's labels


# --- (3) flat terms: pruning -------------------------------------------------------------------


def test_flat_terms_drop_contradictions_duplicates_and_implied_terms() -> None:
    owner_a, owner_b = Leaf("owner", "eq", "alice"), Leaf("owner", "eq", "bot")
    shared = Leaf("allowed_groups", "any", ("*",))
    clauses = ((owner_a, shared), (owner_b, shared))
    # alice AND bot as owner: impossible; shared AND shared: one leaf; owner AND shared: implied by shared.
    assert _flat_terms(clauses) == [(shared,)]
    label = Leaf("classification", "in", ("public",))
    nothing = Leaf("classification", "in", ())
    assert _flat_terms(((label, nothing), (owner_a,))) == [(label, owner_a)]


# --- (4) matches: the stores' reading of odd values ----------------------------------------------


@pytest.mark.parametrize(
    ("leaf", "metadata", "expected"),
    [
        (Leaf("f", "empty", None), {}, True),
        (Leaf("f", "empty", None), {"f": None}, True),
        (Leaf("f", "empty", None), {"f": ""}, True),
        (Leaf("f", "empty", None), {"f": []}, True),
        (Leaf("f", "empty", None), {"f": ()}, False),  # LlamaIndex compares with [] only
        (Leaf("f", "empty", None), {"f": "x"}, False),
        (Leaf("f", "eq", "x"), {"f": "x"}, True),
        (Leaf("f", "eq", "x"), {"f": ["x"]}, False),
        (Leaf("f", "eq", "x"), {}, False),
        (Leaf("f", "in", ["y", "x"]), {"f": "x"}, True),
        (Leaf("f", "in", ["x"]), {"f": ["x"]}, False),
        (Leaf("f", "in", []), {"f": "x"}, False),
        (Leaf("f", "any", ["x", "z"]), {"f": ["a", "x"]}, True),
        (Leaf("f", "any", ["x"]), {"f": ("x",)}, True),
        (Leaf("f", "any", ["x"]), {"f": []}, False),
        (Leaf("f", "any", ["x"]), {"f": "xy"}, True),  # a string: substring, as LlamaIndex reads it
        (Leaf("f", "any", ["x"]), {"f": 3}, False),  # LlamaIndex raises: nothing comes back
        (Leaf("f", "any", ["x"]), {}, False),
    ],
)
def test_leaf_semantics_follow_llamaindex(leaf: Leaf, metadata: dict[str, Any], expected: bool) -> None:
    assert AccessFilter(((leaf,),)).matches(metadata) is expected


def test_metadata_that_is_not_a_mapping_matches_nothing_and_none_reads_as_empty() -> None:
    pre = AccessFilter(((Leaf("tenant", "empty", None),),))
    assert pre.matches(None)
    assert not pre.matches(["tenant"])  # type: ignore[arg-type]  # malformed on purpose


# --- (5) construction errors and the missing extra -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value"),
    [
        ("", "eq", "x"),
        ("f", "eq", 3),
        ("f", "in", "x"),
        ("f", "any", [1, "x"]),
        ("f", "any", None),
        ("f", "empty", "x"),
        ("f", "like", "x"),
    ],
)
def test_invalid_leaves_are_rejected(field: str, op: Any, value: Any) -> None:
    with pytest.raises(PolicyError):
        Leaf(field, op, value)


def test_leaf_values_are_sorted_and_distinct() -> None:
    assert Leaf("f", "any", ["b", "a", "b"]).value == ("a", "b")


def test_empty_clauses_are_rejected_because_stores_read_an_empty_or_as_no_condition() -> None:
    with pytest.raises(PolicyError, match="at least one leaf"):
        AccessFilter(((),))
    with pytest.raises(PolicyError, match="Leaf values only"):
        AccessFilter(((("f", "eq", "x"),),))  # type: ignore[arg-type]  # wrong on purpose


def test_llamaindex_forms_need_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_index.core.vector_stores", None)
    pre = AccessFilter(((Leaf("tenant", "eq", "acme"),),))
    with pytest.raises(MissingExtraError, match=r"aispm\[llamaindex\]") as raised:
        pre.to_llamaindex()
    assert raised.value.extra == "llamaindex"
    with pytest.raises(MissingExtraError):
        pre.to_llamaindex_flat()
