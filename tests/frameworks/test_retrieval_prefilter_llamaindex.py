"""The pre-filter in a real LlamaIndex store: what comes out of the store is what the post-filter keeps.

Random corpora go into a real ``SimpleVectorStore`` as ``TextNode``s (``MockEmbedding``, all
offline); one query per flat filter, the union of the ids is compared with the reference
(`MetadataAuthorizer`). Skipped when llama-index-core is not installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.policy import AgentAccess, RetrievalPolicy
from aispm.principals import open_session, session
from aispm.retrieval import Access, access_for
from aispm.retrieval._prefilter import AccessFilter, access_filter

from ..test_retrieval_prefilter import DEFAULT, acl_free, any_metadata, has_acl, kept, policies, well_formed, whos

try:
    from llama_index.core import MockEmbedding
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores import SimpleVectorStore, VectorStoreQuery
    from llama_index.core.vector_stores.types import (
        FilterCondition,
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
    )
    from llama_index.core.vector_stores.utils import build_metadata_filter_fn
except ImportError:  # the core session, or another framework's
    pytest.skip("llama-index-core is not installed", allow_module_level=True)

SETTINGS = settings(deadline=None, max_examples=75, database=None)
EMBED = MockEmbedding(embed_dim=8)
LIST_FIELDS = (DEFAULT.users, DEFAULT.groups)


def store_with(corpus: Sequence[Mapping[str, Any]]) -> SimpleVectorStore:
    """A real in-memory store holding one ``TextNode`` per metadata, ids ``"0"``, ``"1"``, ..."""
    nodes = []
    for i, metadata in enumerate(corpus):
        node = TextNode(id_=str(i), text=f"chunk {i}", metadata=dict(metadata))
        node.embedding = EMBED.get_text_embedding(node.get_content())
        nodes.append(node)
    store = SimpleVectorStore()
    store.add(nodes)
    return store


def retrieved(store: SimpleVectorStore, pre: AccessFilter, size: int) -> set[str]:
    """What the store hands out: one query per flat filter, merged by node id."""
    ids: set[str] = set()
    for filters in pre.to_llamaindex_flat():
        query = VectorStoreQuery(
            query_embedding=EMBED.get_query_embedding("who may read this?"),
            similarity_top_k=max(size, 1),
            filters=filters,
        )
        ids.update(store.query(query).ids or ())
    return ids


def readable(flags: Sequence[bool]) -> set[str]:
    return {str(i) for i, flag in enumerate(flags) if flag}


def store_safe(metadata: Any) -> bool:
    """Metadata a store can hold and LlamaIndex can filter (``"x" in 3`` raises inside it)."""
    return isinstance(metadata, Mapping) and not any(
        isinstance(metadata.get(field), int) for field in LIST_FIELDS if field
    )


@st.composite
def cases(draw: st.DrawFn, *, malformed: bool) -> tuple[RetrievalPolicy, Access, list[Mapping[str, Any]]]:
    policy = draw(policies())
    access = access_for(draw(whos).session(policy), policy)
    metadata = any_metadata(policy.labels).filter(store_safe) if malformed else well_formed(policy.labels)
    return policy, access, draw(st.lists(metadata, min_size=1, max_size=12))


# --- the store hands out what the post-filter keeps -------------------------------------------------


@SETTINGS
@given(cases(malformed=False))
def test_store_returns_exactly_what_the_postfilter_keeps(
    case: tuple[RetrievalPolicy, Access, list[Mapping[str, Any]]],
) -> None:
    policy, access, corpus = case
    pre = access_filter(access, policy)
    out = retrieved(store_with(corpus), pre, len(corpus))
    post = readable(kept(policy, access, corpus))
    assert post <= out
    if policy.missing == "allow" and has_acl(policy):
        # Lenient: ACL clauses left out (see access_filter); exact without ACL checks.
        assert out == readable(kept(acl_free(policy), access, corpus))
    else:
        assert out == post


@SETTINGS
@given(cases(malformed=True))
def test_store_agrees_with_matches_on_any_metadata(
    case: tuple[RetrievalPolicy, Access, list[Mapping[str, Any]]],
) -> None:
    """`AccessFilter.matches` is the store's own reading, odd values included.

    Compared on the metadata as the store keeps it: it serialises nodes, so a tuple or a
    frozenset comes back as a list.
    """
    policy, access, corpus = case
    pre = access_filter(access, policy)
    store = store_with(corpus)
    stored = [store.data.metadata_dict[str(i)] for i in range(len(corpus))]
    assert retrieved(store, pre, len(corpus)) == readable([pre.matches(m) for m in stored])


@SETTINGS
@given(cases(malformed=True))
def test_nested_filters_read_by_llamaindex_agree_with_matches(
    case: tuple[RetrievalPolicy, Access, list[Mapping[str, Any]]],
) -> None:
    """Each part of the nested form, run through LlamaIndex's own filter function, and AND-ed."""
    policy, access, corpus = case
    pre = access_filter(access, policy)
    nested = pre.to_llamaindex()
    assert MetadataFilters.model_validate(nested.model_dump()) == nested  # pydantic accepts the nesting
    parts = [p if isinstance(p, MetadataFilters) else MetadataFilters(filters=[p]) for p in nested.filters]
    checks = [build_metadata_filter_fn(lambda i: corpus[int(i)], part) for part in parts]
    for i, metadata in enumerate(corpus):
        assert all(check(str(i)) for check in checks) == pre.matches(metadata)


# --- the nested form, by example ----------------------------------------------------------------------


def test_nested_filters_have_one_or_per_multi_leaf_clause() -> None:
    policy = RetrievalPolicy(missing="allow", default_label="public")
    access = access_for(open_session(user="alice", tenant="acme"), policy)
    assert access_filter(access, policy).to_llamaindex() == MetadataFilters(
        filters=[
            MetadataFilters(
                filters=[
                    MetadataFilter(key="tenant", value="acme", operator=FilterOperator.EQ),
                    MetadataFilter(key="tenant", value=None, operator=FilterOperator.IS_EMPTY),
                ],
                condition=FilterCondition.OR,
            ),
            MetadataFilters(
                filters=[
                    MetadataFilter(key="classification", value=["public"], operator=FilterOperator.IN),
                    MetadataFilter(key="classification", value=None, operator=FilterOperator.IS_EMPTY),
                ],
                condition=FilterCondition.OR,
            ),
        ],
        condition=FilterCondition.AND,
    )


def test_chain_filters_nest_acl_clauses_and_inline_single_leaves() -> None:
    policy = RetrievalPolicy(agents={"bot": AgentAccess(clearance="internal", groups=("support",))})
    access = access_for(open_session(user="alice", groups=["eng"], clearance="restricted", agent="bot"), policy)
    nested = access_filter(access, policy).to_llamaindex()
    assert nested.condition == FilterCondition.AND
    label, alice, bot = nested.filters
    assert label == MetadataFilter(key="classification", value=["internal", "public"], operator=FilterOperator.IN)
    assert isinstance(alice, MetadataFilters)
    assert alice.condition == FilterCondition.OR
    assert alice.filters == [
        MetadataFilter(key="owner", value="alice", operator=FilterOperator.EQ),
        MetadataFilter(key="allowed_users", value=["*", "alice"], operator=FilterOperator.ANY),
        MetadataFilter(key="allowed_groups", value=["*", "eng"], operator=FilterOperator.ANY),
    ]
    assert isinstance(bot, MetadataFilters)
    assert [f.value for f in bot.filters if isinstance(f, MetadataFilter)] == ["bot", ["*", "bot"], ["*", "support"]]


def test_simple_vector_store_rejects_nested_filters_so_flat_ones_exist() -> None:
    policy = RetrievalPolicy()
    pre = access_filter(access_for(open_session(user="alice"), policy), policy)
    store = store_with([{"classification": "public", "owner": "alice"}])
    query = VectorStoreQuery(query_embedding=EMBED.get_query_embedding("q"), similarity_top_k=1)
    query.filters = pre.to_llamaindex()
    with pytest.raises(ValueError, match="Nested MetadataFilters are not supported"):
        store.query(query)
    assert retrieved(store, pre, 1) == {"0"}


def test_flat_filters_for_a_chain_stay_few() -> None:
    policy = RetrievalPolicy(
        agents={"bot": AgentAccess(groups=("support",)), "helper": AgentAccess(groups=("ops",))}, missing="deny"
    )
    with session(user="alice", groups=["eng", "hr"], tenant="acme", agent="bot"):
        access = access_for(open_session(agent="helper"), policy)
    flat = access_filter(access, policy).to_llamaindex_flat()
    # Three subjects of three leaves each: 27 combinations, less the 7 naming two owners.
    assert len(flat) == 20
    for filters in flat:
        assert filters.condition == FilterCondition.AND
        assert [f.key for f in filters.filters if isinstance(f, MetadataFilter)][:2] == ["tenant", "classification"]


def test_nothing_readable_means_no_query_and_no_clause_means_one_unfiltered_query() -> None:
    policy = RetrievalPolicy(agents={"bot": AgentAccess(tenant="globex")})
    access = access_for(open_session(user="alice", tenant="acme", agent="bot"), policy)
    assert access_filter(access, policy).to_llamaindex_flat() == []
    assert AccessFilter(()).to_llamaindex_flat() == [MetadataFilters(filters=[], condition=FilterCondition.AND)]
    store = store_with([{}, {"tenant": "acme"}])
    assert retrieved(store, AccessFilter(()), 2) == {"0", "1"}
