"""The approval errors: a request that cannot be submitted, is unknown, answered already or timed out."""

from __future__ import annotations

from ..errors import AispmError


class ApprovalError(AispmError):
    """An approval request could not be submitted or answered (for example, the queue is full)."""


class UnknownApprovalError(ApprovalError):
    """No pending request has this id: it never existed, expired, or its requester stopped waiting."""


class AlreadyAnsweredError(ApprovalError):
    """The request was answered already; the first answer stands."""


class ApprovalTimeoutError(ApprovalError):
    """Raised by a handler that got no answer before the deadline; recorded as ``timeout``."""
