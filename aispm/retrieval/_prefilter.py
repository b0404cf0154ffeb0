"""Pre-filtering: the access rules as a vector-store metadata filter, so unreadable chunks never leave the store.

`access_filter` turns the chain's `Access` into an `AccessFilter`: a conjunction of clauses,
each a disjunction of simple tests on one metadata field (conjunctive normal form). That is
the shape every vector store can run, nested (`AccessFilter.to_llamaindex`,
`AccessFilter.to_dict`) or, for stores that only AND flat conditions, as one query per
combination (`AccessFilter.to_llamaindex_flat`).

On well-formed metadata (a known label or none, a string tenant and owner or none, lists of
strings for users and groups or none) the filter admits exactly what `MetadataAuthorizer`
admits. On malformed metadata it may admit more, never less. It is a way to fetch fewer
chunks, not a replacement for the filter: always post-filter what the store returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._retrieval_policy import RetrievalPolicy
from ..errors import MissingExtraError, PolicyError
from ._access import Access

if TYPE_CHECKING:
    from types import ModuleType

    from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

__all__ = ["AccessFilter", "Leaf", "access_filter"]

Op = Literal["eq", "in", "any", "empty"]

_OPS = {"eq": "==", "in": "in", "any": "any", "empty": "is_empty"}
"""Our operators as LlamaIndex ``FilterOperator`` values."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """One test on one metadata field, read the way LlamaIndex's in-memory store reads it.

    Attributes:
        field: The metadata key.
        op: ``eq``: the value equals ``value`` (a string). ``in``: the value is one of
            ``value``. ``any``: the value (a list) shares an element with ``value``
            (LlamaIndex ``FilterOperator.ANY``). ``empty``: the field is absent, ``None``,
            ``""`` or ``[]`` (LlamaIndex ``IS_EMPTY``). For ``in`` and ``any``, ``value`` is
            stored as a sorted tuple of distinct strings; an empty one matches nothing.
        value: The operand; ``None`` for ``empty``.

    Raises:
        PolicyError: The operand does not fit the operator.
    """

    field: str
    op: Op
    value: Any

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field:
            raise PolicyError("a filter leaf needs a non-empty field name")
        if self.op == "eq":
            if not isinstance(self.value, str):
                raise PolicyError(f"filter leaf {self.field!r}: 'eq' takes a string")
        elif self.op in ("in", "any"):
            value = self.value
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise PolicyError(f"filter leaf {self.field!r}: {self.op!r} takes a collection of strings")
            values = tuple(value)
            if not all(isinstance(v, str) for v in values):
                raise PolicyError(f"filter leaf {self.field!r}: {self.op!r} takes a collection of strings")
            object.__setattr__(self, "value", tuple(sorted(set(values))))
        elif self.op == "empty":
            if self.value is not None:
                raise PolicyError(f"filter leaf {self.field!r}: 'empty' takes no value")
        else:
            raise PolicyError(f"filter leaf {self.field!r}: unknown operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class AccessFilter:
    """Which documents a chain may read, as a metadata filter a vector store can run.

    Attributes:
        clauses: Conjunctive normal form: every clause must hold, and a clause holds when
            one of its leaves does. No clauses: every document passes. A clause may not be
            empty (a store reads an empty OR as "no condition", which would fail open).

    Raises:
        PolicyError: A clause is empty or holds something other than `Leaf`s.
    """

    clauses: tuple[tuple[Leaf, ...], ...]

    def __post_init__(self) -> None:
        clauses = tuple(tuple(clause) for clause in self.clauses)
        for clause in clauses:
            if not clause:
                raise PolicyError("an access filter clause needs at least one leaf")
            if not all(isinstance(leaf, Leaf) for leaf in clause):
                raise PolicyError("an access filter clause holds Leaf values only")
        object.__setattr__(self, "clauses", clauses)

    def matches(self, metadata: Mapping[str, Any] | None) -> bool:
        """Whether a document with ``metadata`` passes, with the stores' semantics.

        ``None`` reads as no metadata at all (as a store sees a document without any);
        anything else that is not a mapping fails.
        """
        if not isinstance(metadata, Mapping):
            return metadata is None and self.matches({})
        return all(any(_holds(leaf, metadata) for leaf in clause) for clause in self.clauses)

    def to_llamaindex(self) -> MetadataFilters:  # pragma: no cover - needs llama-index-core: tests/frameworks
        """The filter as nested LlamaIndex ``MetadataFilters``: an AND of clauses, each an OR.

        A one-leaf clause is inlined as a plain ``MetadataFilter``. Pass it as
        ``VectorStoreQuery(filters=...)`` (or a retriever's ``filters``) to a store that reads
        nested filters; LlamaIndex's ``SimpleVectorStore`` does not, use `to_llamaindex_flat`.

        Raises:
            MissingExtraError: llama-index-core is not installed (extra ``llamaindex``).
        """
        li = _llamaindex("AccessFilter.to_llamaindex")
        return li.all_of([li.leaf(clause[0]) if len(clause) == 1 else li.any_of(clause) for clause in self.clauses])

    def to_llamaindex_flat(self) -> list[MetadataFilters]:  # pragma: no cover - needs llama-index-core
        """The filter as flat AND-only ``MetadataFilters`` whose union is the readable set.

        For stores without nested filters (LlamaIndex's ``SimpleVectorStore``): run one query
        per element and merge the results by node id. An empty list means nothing is
        readable: run no query at all (a query without filters returns everything). The list
        is the product of the clauses' leaves, less the combinations that cannot match or are
        implied by a shorter one, so it stays small for a user and one or two agents.

        Raises:
            MissingExtraError: llama-index-core is not installed (extra ``llamaindex``).
        """
        li = _llamaindex("AccessFilter.to_llamaindex_flat")
        return [li.all_of([li.leaf(leaf) for leaf in term]) for term in _flat_terms(self.clauses)]

    def to_dict(self) -> dict[str, Any]:
        """The filter as a Mongo-style dict, the shape LangChain vector stores take as ``filter=``.

        ``{"$and": [...]}`` of clauses, ``{"$or": [...]}`` of leaves; a single clause or leaf
        is inlined, since Chroma rejects a one-element ``$and``/``$or``. No clauses gives
        ``{}`` (no condition; pass ``None`` to stores that reject an empty dict). ``eq`` is
        ``{"f": {"$eq": v}}``, ``in`` and ``any`` are ``{"f": {"$in": [...]}}`` and ``empty``
        is ``{"f": {"$exists": False}}``, which, unlike `matches`, does not match ``""`` or
        ``[]`` (never a document the post-filter would keep).

        ``$in`` on a list field means "shares an element" in MongoDB and Pinecone. Adapt the
        dict for stores that read it otherwise: PGVector (langchain-postgres) compares ``$in``
        with the field's JSON text, so a list never matches and ``any`` needs another form
        there; Chroma has no ``$exists``, rejects an empty ``$in`` (an ``in`` without values
        matches nothing: skip the query) and wants ``$contains`` per element on list fields;
        a store with scalar fields only needs one query per ``any`` value.
        """
        parts: list[dict[str, Any]] = []
        for clause in self.clauses:
            leaves = [_dict_leaf(leaf) for leaf in clause]
            parts.append(leaves[0] if len(leaves) == 1 else {"$or": leaves})
        if not parts:
            return {}
        return parts[0] if len(parts) == 1 else {"$and": parts}


def access_filter(access: Access, policy: RetrievalPolicy) -> AccessFilter:
    """The pre-filter for ``access`` under ``policy``'s ``retrieval`` section.

    Clauses, in order: the tenant (when the chain is bound to one, or to several, which
    nothing matches), the visible labels, then one ACL clause per subject (its name as owner
    or in the users field, one of its groups in the groups field, or ``everyone`` in either).
    With ``missing="allow"`` a missing tenant or label passes as the post-filter reads it.
    A document with no ACL at all is readable then too, which a clause of single-field tests
    cannot say: the ACL clauses are left out, so the store returns a superset and the
    post-filter drops the rest.

    Leaves and values come in a fixed order, so equal rights give equal filters (and equal
    cache keys).
    """
    f = policy.fields
    lenient = policy.missing == "allow"
    clauses: list[tuple[Leaf, ...]] = []
    if f.tenant is not None and (access.tenant is not None or access.conflict):
        if access.conflict or access.tenant is None:
            tenant = Leaf(f.tenant, "in", ())
        else:
            tenant = Leaf(f.tenant, "eq", access.tenant)
        clauses.append((tenant, Leaf(f.tenant, "empty", None)) if lenient else (tenant,))
    if f.label is not None:
        visible = access.labels & frozenset(policy.labels)
        label = Leaf(f.label, "in", visible)
        clauses.append(
            (label, Leaf(f.label, "empty", None)) if lenient and policy.default_label in visible else (label,)
        )
    acl = [name for name in (f.owner, f.users, f.groups) if name is not None]
    if lenient or not acl:
        return AccessFilter(tuple(clauses))
    everyone = policy.everyone
    for subject in access.subjects:
        name = subject.name
        leaves: list[Leaf] = []
        if f.owner is not None and name is not None:
            leaves.append(Leaf(f.owner, "eq", name))
        if f.users is not None:
            leaves.append(Leaf(f.users, "any", (everyone,) if name is None else (name, everyone)))
        if f.groups is not None:
            leaves.append(Leaf(f.groups, "any", subject.groups | {everyone}))
        if not leaves:
            # Only an owner field, and a subject without a name: no document admits it.
            leaves.append(Leaf(acl[0], "in", ()))
        clause = tuple(leaves)
        if clause not in clauses:
            clauses.append(clause)
    return AccessFilter(tuple(clauses))


def _holds(leaf: Leaf, metadata: Mapping[str, Any]) -> bool:
    """One leaf on one document, as LlamaIndex's ``build_metadata_filter_fn`` evaluates it."""
    value = metadata.get(leaf.field)
    op = leaf.op
    try:
        if op == "empty":
            return value is None or bool(value == "") or bool(value == [])
        if value is None:
            return False
        if op == "eq":
            return bool(value == leaf.value)
        if op == "in":
            return value in leaf.value
        return any(v in value for v in leaf.value)
    except (TypeError, ValueError):
        # A value the store could not compare (LlamaIndex raises): the store returns nothing.
        return False


def _flat_terms(clauses: tuple[tuple[Leaf, ...], ...]) -> list[tuple[Leaf, ...]]:
    """The AND terms whose union equals the CNF: the product of the clauses' leaves, pruned.

    Dropped: terms with a leaf that matches nothing (an empty ``in``/``any``), terms asking
    one field to equal two values, duplicates, and terms that contain another term (those
    match a subset of it).
    """
    possible = [tuple(leaf for leaf in clause if leaf.op not in ("in", "any") or leaf.value) for clause in clauses]
    terms: list[tuple[Leaf, ...]] = []
    seen: set[frozenset[Leaf]] = set()
    for combo in itertools.product(*possible):
        term = tuple(dict.fromkeys(combo))
        key = frozenset(term)
        if key in seen or _contradictory(term):
            continue
        seen.add(key)
        terms.append(term)
    return [term for term in terms if not any(other < frozenset(term) for other in seen)]


def _contradictory(term: tuple[Leaf, ...]) -> bool:
    """Whether ``term`` (distinct leaves) asks one field to equal two values."""
    fields = [leaf.field for leaf in term if leaf.op == "eq"]
    return len(fields) != len(set(fields))


def _dict_leaf(leaf: Leaf) -> dict[str, Any]:
    if leaf.op == "eq":
        return {leaf.field: {"$eq": leaf.value}}
    if leaf.op == "empty":
        return {leaf.field: {"$exists": False}}
    return {leaf.field: {"$in": list(leaf.value)}}


def _llamaindex(feature: str) -> _LlamaIndex:
    try:
        from llama_index.core.vector_stores import types
    except ImportError as exc:
        raise MissingExtraError("llamaindex", "llama_index.core", feature) from exc
    return _LlamaIndex(types)  # pragma: no cover - needs llama-index-core: tests/frameworks/


class _LlamaIndex:  # pragma: no cover - needs llama-index-core: tests/frameworks/
    """Builds LlamaIndex filter objects; takes the framework's module so core imports it only on use."""

    __slots__ = ("_types",)

    def __init__(self, types: ModuleType) -> None:
        self._types = types

    def leaf(self, leaf: Leaf) -> MetadataFilter:
        value = list(leaf.value) if isinstance(leaf.value, tuple) else leaf.value
        t = self._types
        built: MetadataFilter = t.MetadataFilter(key=leaf.field, value=value, operator=t.FilterOperator(_OPS[leaf.op]))
        return built

    def any_of(self, leaves: Iterable[Leaf]) -> MetadataFilters:
        return self._combine([self.leaf(leaf) for leaf in leaves], "or")

    def all_of(self, parts: list[MetadataFilter | MetadataFilters]) -> MetadataFilters:
        return self._combine(parts, "and")

    def _combine(self, parts: list[MetadataFilter | MetadataFilters], condition: str) -> MetadataFilters:
        t = self._types
        built: MetadataFilters = t.MetadataFilters(filters=parts, condition=t.FilterCondition(condition))
        return built
