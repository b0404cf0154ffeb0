"""Retrieval for LlamaIndex: a node postprocessor that filters retrieved nodes, and the pre-filter.

`AispmNodePostprocessor` runs the retrieval filter (``guard.retrieval``) on the nodes a
retriever returns, in any query engine, chat engine or retriever pipeline that takes
``node_postprocessors``: it drops the nodes the session's chain may not read, quarantines
poisoned ones (tainting the session), and redacts what the chain may not see, on copies (the
docstore's nodes are never changed). The nodes it keeps are copies whose access metadata is in
``excluded_llm_metadata_keys``, so ACL labels never reach the model's prompt.

`metadata_filters` turns the principal's rights into LlamaIndex ``MetadataFilters`` for the
retriever (``index.as_retriever(filters=...)``), so that unreadable nodes never leave the store.

What it cannot do: it sees only the nodes handed to it (a pipeline that builds the prompt from
nodes it did not pass through the postprocessor is not filtered), it does not scan metadata
values (only the node's own text), and LlamaIndex's ``SimpleVectorStore`` cannot run nested
filters (use ``flat=True`` and one query per filter there).
"""

from __future__ import annotations

from typing import Literal, overload

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters
from pydantic import PrivateAttr

import aispm

__all__ = ["AispmNodePostprocessor", "metadata_filters"]


class AispmNodePostprocessor(BaseNodePostprocessor):
    """Passes on only the retrieved nodes the current principal may see, as the policy lets them.

    Each call runs ``guard.retrieval.filter`` (``afilter`` on the async path) on the nodes and
    returns ``decision.documents``: unreadable nodes left out, poisoned ones quarantined,
    redacted text on new nodes. Every node returned is a copy whose access metadata fields (the
    policy's ``retrieval.fields``: owner, users, groups, tenant, label) are listed in
    ``excluded_llm_metadata_keys``. The principal is the current ``guard.session(...)``.

    In monitor mode the input nodes are returned unchanged (the same objects) and the span says
    what enforcement would have done.

    Args:
        guard: The guard whose retrieval filter decides.
        origin: Name of the index or store, for spans and the session taint (``retrieval:<origin>``).

    Raises:
        aispm.Blocked: The filter failed closed (e.g. a document authorizer raised), in enforce mode.

    Example:
        >>> import aispm
        >>> from llama_index.core.schema import NodeWithScore, TextNode
        >>> guard = aispm.Guard()
        >>> node = TextNode(text="Holidays: 28 days.", metadata={"classification": "public", "allowed_groups": ["*"]})
        >>> [kept] = AispmNodePostprocessor(guard, origin="kb").postprocess_nodes([NodeWithScore(node=node)])
        >>> kept.node.excluded_llm_metadata_keys
        ['owner', 'allowed_users', 'allowed_groups', 'tenant', 'classification']
    """

    origin: str | None = None
    """Name of the index or store the nodes come from."""

    _guard: aispm.Guard = PrivateAttr()
    _hidden: tuple[str, ...] = PrivateAttr()

    def __init__(self, guard: aispm.Guard, *, origin: str | None = None) -> None:
        """Filter retrieved nodes with ``guard.retrieval``."""
        super().__init__()
        self.origin = origin
        self._guard = guard
        fields = guard.policy.retrieval.fields
        names = (fields.owner, fields.users, fields.groups, fields.tenant, fields.label)
        self._hidden = tuple(dict.fromkeys(name for name in names if name is not None))

    @property
    def guard(self) -> aispm.Guard:
        """The guard whose retrieval filter decides."""
        return self._guard

    @classmethod
    def class_name(cls) -> str:
        """The component's name in LlamaIndex serialisation."""
        return "AispmNodePostprocessor"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        return self._kept(nodes, self._guard.retrieval.filter(nodes, origin=self.origin))

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        return self._kept(nodes, await self._guard.retrieval.afilter(nodes, origin=self.origin))

    def _kept(self, nodes: list[NodeWithScore], decision: aispm.RetrievalDecision) -> list[NodeWithScore]:
        """What may reach the model: the decision's nodes with their access metadata hidden from it."""
        if self._guard.mode == "monitor":
            return nodes
        if not decision.allowed:
            raise aispm.Blocked(decision)
        return [self._hide_access(scored) for scored in decision.documents]

    def _hide_access(self, scored: NodeWithScore) -> NodeWithScore:
        """A copy of ``scored`` whose node lists the access fields in ``excluded_llm_metadata_keys``."""
        node = scored.node
        excluded = list(node.excluded_llm_metadata_keys)
        excluded += [name for name in self._hidden if name not in excluded]
        copy = node.model_copy(update={"excluded_llm_metadata_keys": excluded})
        return scored.model_copy(update={"node": copy})


@overload
def metadata_filters(guard: aispm.Guard, *, flat: Literal[False] = False) -> MetadataFilters: ...


@overload
def metadata_filters(guard: aispm.Guard, *, flat: Literal[True]) -> list[MetadataFilters]: ...


@overload
def metadata_filters(guard: aispm.Guard, *, flat: bool) -> MetadataFilters | list[MetadataFilters]: ...


def metadata_filters(guard: aispm.Guard, *, flat: bool = False) -> MetadataFilters | list[MetadataFilters]:
    """The current principal's read rights as LlamaIndex metadata filters (the pre-filter).

    Pass the result as ``index.as_retriever(filters=...)`` or ``index.as_query_engine(filters=...)``
    so that nodes the chain may not read never leave the vector store; keep
    `AispmNodePostprocessor` in the pipeline, which still checks what comes back. On
    well-formed metadata the pre-filter admits exactly what the post-filter keeps (see
    docs/retrieval.md). Build it inside the ``guard.session(...)`` it is for.

    Args:
        guard: The guard whose policy and session give the rights.
        flat: ``False``: one nested filter (an AND of clauses, each an OR) for stores that read
            nested filters. ``True``: a list of flat, AND-only filters whose union is the
            readable set, for stores that do not (LlamaIndex's own ``SimpleVectorStore``): run
            one query per filter and merge the nodes by id; an empty list means nothing is
            readable (run no query: a query without filters returns everything).

    Returns:
        The filter(s). In monitor mode nothing is filtered in the store: an empty
        ``MetadataFilters`` (``[MetadataFilters(filters=[])]`` when flat), so the store returns
        what it would unguarded and the postprocessor reports what enforcement would drop.
    """
    if guard.mode == "monitor":
        everything = MetadataFilters(filters=[])
        return [everything] if flat else everything
    where = guard.retrieval.prefilter()
    return where.to_llamaindex_flat() if flat else where.to_llamaindex()
