"""Who may read which document: the effective rights of a session's chain, and the built-in metadata checks.

The effective right is the intersection along the on-behalf-of chain: a document is readable
only if every member of the chain may read it. The user (or, in a session without one, an
anonymous principal) is always an ACL subject; an agent is one when the policy gives it
``groups``. Clearance is the lowest along the chain (an agent with ``internal`` clearance
serving a ``restricted`` user reads ``internal`` at most), and every member bound to a
tenant must be bound to the document's tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from .._retrieval_policy import RetrievalPolicy
from ..principals import Session

__all__ = ["Access", "DocumentAuthorizer", "DocumentRef", "MetadataAuthorizer", "Principal", "access_for"]

ACL = "retrieval.acl"
TENANT = "retrieval.tenant"
LABEL = "retrieval.label"
MISSING = "retrieval.missing_metadata"
MALFORMED = "retrieval.malformed_metadata"
NOT_AUTHORIZED = "retrieval.not_authorized"


@dataclass(frozen=True, slots=True)
class Principal:
    """One member of the chain as an ACL subject.

    Attributes:
        kind: ``user``, ``agent``, or ``anonymous`` (a session without a user).
        name: The user's or agent's name; ``None`` for the anonymous principal.
        groups: Its groups (an agent's are the policy's ``retrieval.agents.<name>.groups``).
    """

    kind: Literal["user", "agent", "anonymous"]
    name: str | None
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Access:
    """The effective read rights of the current chain, computed once per filter call.

    Attributes:
        subjects: The members every document's ACL must admit, user (or anonymous) first.
        chain: The whole on-behalf-of chain, as in spans (``user:alice``, ``agent:bot``).
        clearance: The highest label the chain may read (the lowest clearance along it).
        labels: The labels it may read: ``clearance`` and every label below it.
        tenant: The tenant every document must belong to, or ``None`` when no member is
            bound to one.
        conflict: Members are bound to different tenants: no document is readable.
    """

    subjects: tuple[Principal, ...]
    chain: tuple[str, ...]
    clearance: str
    labels: frozenset[str]
    tenant: str | None = None
    conflict: bool = False


def access_for(session: Session | None, policy: RetrievalPolicy) -> Access:
    """The effective rights of ``session`` (``None``: a call outside any session) under ``policy``."""
    levels = policy.labels
    ceilings: list[int] = []
    tenants: set[str] = set()
    subjects: list[Principal] = []
    if session is not None and session.user is not None:
        subjects.append(Principal("user", session.user, session.groups))
        ceilings.append(levels.index(session.clearance or policy.default_clearance))
    if session is not None:
        if session.tenant is not None:
            tenants.add(session.tenant)
        for name in session.agents:
            agent = policy.agents.get(name)
            if agent is None:
                continue
            if agent.clearance is not None:
                ceilings.append(levels.index(agent.clearance))
            if agent.tenant is not None:
                tenants.add(agent.tenant)
            if agent.groups is not None:
                subjects.append(Principal("agent", name, frozenset(agent.groups)))
    if not subjects or subjects[0].kind != "user":
        # No user: an agent that is an ACL subject reads on its own account; otherwise the
        # caller is anonymous and reads only what is shared with everyone.
        if not subjects:
            subjects.append(Principal("anonymous", None))
        if not ceilings:
            ceilings.append(levels.index(policy.default_clearance))
    ceiling = min(ceilings)
    return Access(
        subjects=tuple(subjects),
        chain=session.chain if session is not None else (),
        clearance=levels[ceiling],
        labels=frozenset(levels[: ceiling + 1]),
        tenant=next(iter(tenants)) if len(tenants) == 1 else None,
        conflict=len(tenants) > 1,
    )


class DocumentRef(NamedTuple):
    """What an authorizer sees of one document: its id (``""`` when unknown) and metadata (``None`` when none)."""

    id: str
    metadata: Mapping[str, Any] | None


@runtime_checkable
class DocumentAuthorizer(Protocol):
    """Decides, for a batch of documents, which ones the chain may read.

    It sees each document's metadata (and id), never its text, and answers for the whole
    batch at once, so a relationship-based system is asked once per retrieval, not once per
    document. A document is kept only if every authorizer of the filter admits it.
    """

    def authorize(self, access: Access, documents: Sequence[DocumentRef]) -> list[str | None]:
        """Per document, in order: ``None`` if the chain may read it, else the rule id that says no."""

    async def aauthorize(self, access: Access, documents: Sequence[DocumentRef]) -> list[str | None]:
        """Async twin of `authorize`."""


_LISTS = (list, tuple, set, frozenset)
_STR = repeat(str)  # endless: `map(isinstance, value, _STR)` checks every item at C speed, and can be reused


def _names(value: object) -> bool:
    """Whether ``value`` is a collection of strings (a single string is not: it would match by substring)."""
    return isinstance(value, _LISTS) and all(map(isinstance, value, _STR))


class MetadataAuthorizer:
    """The built-in model: tenant, classification label and ACL read from each document's metadata.

    Field names, labels and what missing or malformed metadata means come from the
    policy's ``retrieval`` section. Checks run tenant, label, then ACL; the first that
    fails names the rule. Cost: a few dictionary and set operations per document.
    """

    __slots__ = ("_labels", "_policy")

    def __init__(self, policy: RetrievalPolicy) -> None:
        self._policy = policy
        self._labels = frozenset(policy.labels)

    def authorize(self, access: Access, documents: Sequence[DocumentRef]) -> list[str | None]:
        """See `DocumentAuthorizer.authorize`."""
        check = self._checker(access)
        return [check(doc[1]) for doc in documents]

    async def aauthorize(self, access: Access, documents: Sequence[DocumentRef]) -> list[str | None]:
        """See `DocumentAuthorizer.aauthorize`."""
        return self.authorize(access, documents)

    def _checker(self, access: Access) -> Callable[[object], str | None]:
        """The check of one document's metadata for ``access``, with everything it reads bound once per batch."""
        policy = self._policy
        fields = policy.fields
        lenient = policy.missing == "allow"
        missing = None if lenient else MISSING  # an ACL-less document, when lenient, is readable
        known = self._labels
        visible = access.labels
        default_label = policy.default_label
        tenant_key = fields.tenant if access.tenant is not None or access.conflict else None
        want_tenant = None if access.conflict else access.tenant
        label_key, owner_key, users_key, groups_key = fields.label, fields.owner, fields.users, fields.groups
        acl = owner_key is not None or users_key is not None or groups_key is not None
        everyone = policy.everyone
        subjects = tuple((s.name, s.groups) for s in access.subjects)

        def check(metadata: object) -> str | None:  # a mapping or None, unless a caller erred: then malformed
            if type(metadata) is not dict and not isinstance(metadata, Mapping):  # the ABC check is slow
                if metadata is not None:
                    return MALFORMED
                if not lenient:
                    return MISSING
                metadata = {}  # no metadata at all reads as every field missing (the default label applies)
            if tenant_key is not None:
                tenant = metadata.get(tenant_key)
                if tenant is None:
                    if not lenient:
                        return MISSING
                elif type(tenant) is not str and not isinstance(tenant, str):
                    return MALFORMED
                elif tenant != want_tenant:
                    return TENANT
            if label_key is not None:
                label = metadata.get(label_key)
                if label is None:
                    if not lenient:
                        return MISSING
                    label = default_label
                elif not isinstance(label, str) or label not in known:
                    return MALFORMED
                if label not in visible:
                    return LABEL
            if not acl:
                return None
            owner = metadata.get(owner_key) if owner_key is not None else None
            users = metadata.get(users_key) if users_key is not None else None
            groups = metadata.get(groups_key) if groups_key is not None else None
            if owner is None and users is None and groups is None:
                return missing
            if owner is not None and not isinstance(owner, str):
                return MALFORMED
            if (users is not None and not _names(users)) or (groups is not None and not _names(groups)):
                return MALFORMED
            users = users or ()
            groups = groups or ()
            if everyone in users or everyone in groups:
                return None
            for name, member_of in subjects:
                if name is not None and (owner == name or name in users):
                    continue
                if member_of and not member_of.isdisjoint(groups):
                    continue
                return ACL
            return None

        return check
