"""The values of an approval: the request, the answer, how it ended, and the handler protocol."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Protocol, runtime_checkable

from .._clock import Clock, utc_now
from ..errors import PolicyError

MAX_TIMEOUT: Final = 86_400.0
"""The longest approval timeout accepted, in seconds (one day)."""
_MAX_NAME: Final = 256
_MAX_ITEMS: Final = 64
_MAX_ARGUMENTS: Final = 256
_MAX_REASON: Final = 1_000


def _text(value: object, what: str, limit: int = _MAX_NAME) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise PolicyError(f"{what} must be a non-empty string of at most {limit} characters")
    return value


def _texts(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, tuple | list) or len(values) > _MAX_ITEMS:
        raise PolicyError(f"{what} must be a tuple of at most {_MAX_ITEMS} strings")
    return tuple(_text(v, f"each of {what}") for v in values)


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise PolicyError(f"{what} must be an aware datetime")
    return value


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TIMEOUT:
        raise PolicyError(f"{what} must be a number of seconds in (0, {MAX_TIMEOUT:g}]")
    return float(value)


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What a human is asked to approve. Build one with `ApprovalRequest.create`.

    Attributes:
        id: Random, unguessable request id.
        tool: The tool to be called.
        arguments: Its arguments, already redacted by the caller (a read-only
            shallow copy; never shown in ``repr``).
        chain: The on-behalf-of chain, user first: ``("user:alice", "agent:planner")``.
        delegation_id: The id of the delegation the acting agent holds, if any.
        risk: The tool's risk level.
        reasons: The rule ids that asked for approval.
        created_at: When the request was made (aware UTC).
        deadline: When an unanswered request becomes a deny.
    """

    id: str
    tool: str
    arguments: Mapping[str, Any] = field(repr=False, compare=False)
    chain: tuple[str, ...]
    delegation_id: str | None
    risk: str
    reasons: tuple[str, ...]
    created_at: datetime
    deadline: datetime

    def __post_init__(self) -> None:
        _text(self.id, "id")
        _text(self.tool, "tool")
        _text(self.risk, "risk")
        if self.delegation_id is not None:
            _text(self.delegation_id, "delegation_id")
        object.__setattr__(self, "chain", _texts(self.chain, "chain"))
        object.__setattr__(self, "reasons", _texts(self.reasons, "reasons"))
        args = self.arguments
        if not isinstance(args, Mapping) or len(args) > _MAX_ARGUMENTS:
            raise PolicyError(f"arguments must be a mapping of at most {_MAX_ARGUMENTS} entries")
        for key in args:
            _text(key, "each argument name")
        object.__setattr__(self, "arguments", MappingProxyType(dict(args)))
        if _aware(self.deadline, "deadline") < _aware(self.created_at, "created_at"):
            raise PolicyError("deadline must not be before created_at")

    @classmethod
    def create(
        cls,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        chain: tuple[str, ...] = (),
        delegation_id: str | None = None,
        risk: str = "write",
        reasons: tuple[str, ...] = (),
        clock: Clock = utc_now,
    ) -> ApprovalRequest:
        """A new request with a random id, made now and due ``timeout`` seconds from now.

        Raises:
            PolicyError: An argument has the wrong type or is too large.
        """
        now = clock()
        return cls(
            id=secrets.token_urlsafe(16),
            tool=tool,
            arguments={} if arguments is None else arguments,
            chain=chain,
            delegation_id=delegation_id,
            risk=risk,
            reasons=reasons,
            created_at=now,
            deadline=now + timedelta(seconds=_seconds(timeout, "timeout")),
        )


@dataclass(frozen=True, slots=True)
class ApprovalResponse:
    """A human's answer.

    Attributes:
        approved: ``True`` only for an explicit yes.
        approver: Who answered (``"alice"``, ``"slack:U123"``).
        reason: Their comment, if any (at most 1000 characters).
        answered_at: When they answered (aware UTC).
    """

    approved: bool
    approver: str
    reason: str | None
    answered_at: datetime

    def __post_init__(self) -> None:
        if type(self.approved) is not bool:
            raise PolicyError("approved must be a bool")
        _text(self.approver, "approver")
        if self.reason is not None:
            _text(self.reason, "reason", _MAX_REASON)
        _aware(self.answered_at, "answered_at")


class ApprovalStatus(enum.Enum):
    """How an approval ended. Only ``APPROVED`` lets the call through."""

    APPROVED = "approved"
    DENIED = "denied"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ApprovalOutcome:
    """What `resolve` recorded: the status, who answered, and how long it took.

    Attributes:
        request_id: The request's id.
        status: ``approved``, ``denied``, ``timeout`` or ``error``.
        approver: Who answered, or ``None`` when nobody did.
        reason: The approver's comment, if any.
        answered_at: When the approver says they answered, or ``None``.
        decided_at: When the outcome was decided (by the injected clock).
        duration_ns: How long resolving took (monotonic).
        detail: A short explanation that is safe to log; names types, never values.
        error: The exception the handler raised, if any (not in ``repr``); chain
            it with ``raise aispm.GuardFailed(...) from outcome.error``.
    """

    request_id: str
    status: ApprovalStatus
    approver: str | None
    reason: str | None
    answered_at: datetime | None
    decided_at: datetime
    duration_ns: int
    detail: str = ""
    error: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def approved(self) -> bool:
        """Whether the call may go ahead."""
        return self.status is ApprovalStatus.APPROVED

    @property
    def rule_id(self) -> str:
        """The rule id for the decision: ``approval.approved``, ``approval.timeout``, ..."""
        return f"approval.{self.status.value}"

    def to_record(self) -> dict[str, str | int | None]:
        """A JSON-ready record for spans and the audit trail."""
        return {
            "request_id": self.request_id,
            "outcome": self.status.value,
            "approver": self.approver,
            "reason": self.reason,
            "answered_at": None if self.answered_at is None else self.answered_at.isoformat(),
            "decided_at": self.decided_at.isoformat(),
            "duration_ms": self.duration_ns // 1_000_000,
        }


Answer = ApprovalResponse | bool


@runtime_checkable
class ApprovalHandler(Protocol):
    """Anything callable as ``handler(request)`` returning an answer, or an awaitable of one.

    An object that can also wait without a thread defines ``async aask(request)``;
    `aresolve` prefers it.
    """

    def __call__(self, request: ApprovalRequest, /) -> Answer | Awaitable[Answer]:
        """Answer ``request``: ``True``/``False`` or an `ApprovalResponse`, possibly awaitable."""
