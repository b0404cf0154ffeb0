"""`GuardedRetriever`: any LangChain retriever, returning only what the principal may see.

The wrapper asks the vector store for readable documents only (the pre-filter, where the
retriever takes ``search_kwargs``), then runs the retrieval filter on what comes back: it drops
the documents the session's chain may not read, quarantines poisoned chunks and redacts what the
chain may not see (see docs/retrieval.md). The inner retriever's run nests under the wrapper's,
and the principal can come from the run's ``RunnableConfig`` (see `aispm_langchain._config`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, ensure_config
from pydantic import model_validator

import aispm
from aispm.retrieval import AccessFilter

from ._config import session_from_config

__all__ = ["GuardedRetriever"]

Prefilter = bool | Callable[[AccessFilter], Any]
"""``True`` for `AccessFilter.to_dict` (the Mongo-style ``filter`` most stores take), or a
callable turning the `AccessFilter` into the store's own ``filter`` value (a dict, or for
`InMemoryVectorStore` a ``Document -> bool`` predicate)."""


class GuardedRetriever(BaseRetriever):
    """A retriever that returns only the documents the current principal may see.

    Each call runs the retrieval filter (``guard.retrieval``) on the inner retriever's
    documents and returns ``decision.documents``: unreadable documents left out, poisoned
    ones quarantined, what the chain may not see redacted. With ``prefilter`` set, the inner
    retriever (a ``VectorStoreRetriever``) is first asked, on a copy, with the chain's access
    filter as its ``search_kwargs["filter"]``, so that unreadable chunks never leave the store;
    the post-filter still checks what comes back. In monitor mode the pre-filter is skipped and
    the documents are returned unchanged; the span says what enforcement would have done.

    The session is the one the run's config names (``aispm_user`` and the other keys of
    `aispm_langchain._config.CONFIG_KEYS`), else the current ``guard.session(...)``.

    Example:
        >>> from langchain_core.documents import Document
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> from langchain_core.vectorstores import InMemoryVectorStore
        >>> store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
        >>> _ = store.add_documents([Document("Holidays: 28 days.", metadata={
        ...     "classification": "public", "allowed_groups": ["*"]})])
        >>> retriever = GuardedRetriever(
        ...     inner=store.as_retriever(),
        ...     guard=aispm.Guard(),
        ...     prefilter=lambda where: lambda doc: where.matches(doc.metadata),
        ... )
        >>> [d.page_content for d in retriever.invoke("holidays")]
        ['Holidays: 28 days.']

    Raises:
        ValueError: ``prefilter`` is set but the inner retriever takes no ``search_kwargs``.
    """

    inner: BaseRetriever
    """The retriever whose documents are filtered; never changed."""
    guard: aispm.Guard
    """The guard whose retrieval filter decides."""
    origin: str | None = None
    """Name of the store, for spans and the session taint (``retrieval:<origin>``)."""
    prefilter: Prefilter = False
    """Pass the access filter to the store as ``search_kwargs["filter"]`` (see `Prefilter`)."""

    @model_validator(mode="after")
    def _check_prefilter(self) -> GuardedRetriever:
        if self.prefilter is not False and not isinstance(getattr(self.inner, "search_kwargs", None), dict):
            raise ValueError(
                f"prefilter needs a retriever that takes search_kwargs (a VectorStoreRetriever), "
                f"got {type(self.inner).__name__}; leave prefilter off to post-filter only"
            )
        return self

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        """Retrieve the documents for ``input`` the principal may see.

        Raises:
            aispm.Blocked: The retrieval filter failed closed (enforce mode).
            PolicyError: The config names an invalid principal.
        """
        config = ensure_config(config)
        with session_from_config(self.guard, config):
            return super().invoke(input, config, **kwargs)

    async def ainvoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        """Async twin of `invoke`."""
        config = ensure_config(config)
        with session_from_config(self.guard, config):
            return await super().ainvoke(input, config, **kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        docs = self._searching().invoke(query, config={"callbacks": run_manager.get_child()}, **kwargs)
        return self._kept(self.guard.retrieval.filter(docs, origin=self.origin))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        docs = await self._searching().ainvoke(query, config={"callbacks": run_manager.get_child()}, **kwargs)
        return self._kept(await self.guard.retrieval.afilter(docs, origin=self.origin))

    def _searching(self) -> BaseRetriever:
        """The retriever to ask: the inner one, or a copy of it with the access filter added."""
        if self.prefilter is False or self.guard.mode == "monitor":
            return self.inner
        where = self.guard.retrieval.prefilter()
        value = where.to_dict() if self.prefilter is True else self.prefilter(where)
        search_kwargs: dict[str, Any] = dict(getattr(self.inner, "search_kwargs", {}))
        existing = search_kwargs.get("filter")
        search_kwargs["filter"] = value if existing is None else _both(existing, value)
        return self.inner.model_copy(update={"search_kwargs": search_kwargs})

    def _kept(self, decision: aispm.RetrievalDecision) -> list[Document]:
        if self.guard.mode == "enforce" and not decision.allowed:
            raise aispm.Blocked(decision)
        return list(decision.documents)


def _both(existing: Any, access: Any) -> Any:
    """The caller's own store filter and the access filter, both required."""
    if isinstance(existing, Mapping) and isinstance(access, Mapping):
        return {"$and": [dict(existing), dict(access)]}
    if callable(existing) and callable(access):
        return lambda doc: bool(existing(doc)) and bool(access(doc))
    raise TypeError(
        "the retriever's search_kwargs already hold a filter of another kind than the access filter; "
        "pass prefilter= a callable that combines them"
    )
