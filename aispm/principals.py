"""Who is acting on whose behalf: the session and its on-behalf-of chain.

A session is opened for a user (a human or a service) and an agent; a nested
session adds a sub-agent to the chain (user → agent → sub-agent). The current
session lives in a ``ContextVar``, so it follows the code that opened it into
asyncio tasks and never leaks between concurrent tasks or threads.

A nested session can only narrow what it inherits: it keeps the user, may
drop roles and groups but never add them, keeps the clearance and tenant,
and only appends agents.
"""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import PolicyError

__all__ = ["Session", "current_session", "resume_session", "session"]


@dataclass(frozen=True, slots=True)
class Session:
    """An immutable view of who is acting.

    Attributes:
        id: Random session id (shared by nested sessions).
        user: The human or service at the start of the chain, or ``None``.
        roles: The user's roles.
        agents: The agents acting for the user, outermost first.
        delegation: The signed delegation token the acting agent holds (see `aispm.delegation`),
            or ``None``. A nested session inherits it unless given its own: a sub-agent
            without a grant of its own cannot act under its parent's.
        groups: The user's groups, for document access control (see `aispm.retrieval`).
        clearance: The user's clearance: the highest classification label they may read,
            or ``None`` for the policy's ``retrieval.default_clearance``.
        tenant: The tenant the user belongs to, or ``None``.
    """

    id: str
    user: str | None = None
    roles: frozenset[str] = frozenset()
    agents: tuple[str, ...] = ()
    delegation: str | None = None
    groups: frozenset[str] = frozenset()
    clearance: str | None = None
    tenant: str | None = None

    @property
    def agent(self) -> str | None:
        """The agent acting now: the last one in the chain."""
        return self.agents[-1] if self.agents else None

    @property
    def chain(self) -> tuple[str, ...]:
        """The on-behalf-of chain, user first: ``("user:alice", "agent:support-bot")``."""
        head = (f"user:{self.user}",) if self.user is not None else ()
        return head + tuple(f"agent:{a}" for a in self.agents)


_current: contextvars.ContextVar[Session | None] = contextvars.ContextVar("aispm_session", default=None)


def current_session() -> Session | None:
    """The session of the running code, or ``None`` outside any session."""
    return _current.get()


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise PolicyError(f"{what} must be a non-empty string of at most 256 characters")
    return value


def _names(values: Iterable[str] | None, what: str) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise PolicyError(f"{what}s must be a collection of strings, not one string")
    return frozenset(_name(v, what) for v in values)


def open_session(
    *,
    user: str | None = None,
    roles: Iterable[str] | None = None,
    agent: str | None = None,
    delegation: str | None = None,
    groups: Iterable[str] | None = None,
    clearance: str | None = None,
    tenant: str | None = None,
) -> Session:
    """Build the session that ``session(...)`` would enter, without entering it.

    Raises:
        PolicyError: The arguments are not strings, or a nested session tries
            to change the user, clearance or tenant, or to add roles or groups.
    """
    parent = _current.get()
    if delegation is not None and (not isinstance(delegation, str) or not delegation):
        raise PolicyError("delegation must be a non-empty token string")
    for value, what in ((user, "user"), (agent, "agent"), (clearance, "clearance"), (tenant, "tenant")):
        if value is not None:
            _name(value, what)
    role_set = _names(roles, "role")
    group_set = _names(groups, "group")
    if parent is None:
        return Session(
            id=secrets.token_hex(8),
            user=user,
            roles=role_set or frozenset(),
            agents=(agent,) if agent is not None else (),
            delegation=delegation,
            groups=group_set or frozenset(),
            clearance=clearance,
            tenant=tenant,
        )
    if user is not None and user != parent.user:
        raise PolicyError("a nested session cannot change the user; open a new top-level session")
    if role_set is not None and not role_set <= parent.roles:
        raise PolicyError("a nested session can drop roles but not add them")
    if group_set is not None and not group_set <= parent.groups:
        raise PolicyError("a nested session can drop groups but not add them")
    for value, inherited, what in ((clearance, parent.clearance, "clearance"), (tenant, parent.tenant, "tenant")):
        if value is not None and value != inherited:
            raise PolicyError(f"a nested session cannot change the {what}; open a new top-level session")
    return Session(
        id=parent.id,
        user=parent.user,
        roles=parent.roles if role_set is None else role_set,
        agents=parent.agents + ((agent,) if agent is not None else ()),
        delegation=parent.delegation if delegation is None else delegation,
        groups=parent.groups if group_set is None else group_set,
        clearance=parent.clearance,
        tenant=parent.tenant,
    )


@contextmanager
def session(
    *,
    user: str | None = None,
    roles: Iterable[str] | None = None,
    agent: str | None = None,
    delegation: str | None = None,
    groups: Iterable[str] | None = None,
    clearance: str | None = None,
    tenant: str | None = None,
) -> Iterator[Session]:
    """Enter a session for ``user`` served by ``agent``, or extend the current one.

    Raises:
        PolicyError: See `open_session`.
    """
    entered = open_session(
        user=user, roles=roles, agent=agent, delegation=delegation, groups=groups, clearance=clearance, tenant=tenant
    )
    token = _current.set(entered)
    try:
        yield entered
    finally:
        _current.reset(token)


@contextmanager
def resume_session(existing: Session) -> Iterator[Session]:
    """Make ``existing`` the current session again for the block (the same id, chain and rights).

    For adapters whose framework calls back once per step of one run (a LangChain agent's
    model and tool calls): each step resumes the run's session, so its taint, risk and budgets
    carry from step to step. Inside another session it is refused: that would swap who acts.

    Raises:
        TypeError: ``existing`` is not a `Session`.
        PolicyError: A different session is current.
    """
    if not isinstance(existing, Session):
        raise TypeError(f"expected a Session, got {type(existing).__name__}")
    current = _current.get()
    if current is not None and current is not existing:
        raise PolicyError("another session is current; resume a session only outside any session")
    token = _current.set(existing)
    try:
        yield existing
    finally:
        _current.reset(token)
