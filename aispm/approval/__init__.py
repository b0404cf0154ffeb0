"""Human approval: ask someone before a risky call runs, and deny when nobody answers.

A ``require_approval`` decision becomes an `ApprovalRequest`, which an approval
handler answers. A handler is any callable ``handler(request)`` that returns an
`ApprovalResponse` or a bare ``bool``, sync or async. `resolve` and `aresolve`
run it under a timeout and turn whatever happens into an `ApprovalOutcome`:
``approved``, ``denied``, ``timeout`` or ``error``. Only ``approved`` lets the
call through: no answer in time, an exception or a malformed answer is a deny.

Built-in handlers: `ConsoleApprover` (a y/N prompt), `QueueApprover` (a
reviewer in another thread, task or process answers from a queue, behind the
`ApprovalStore` protocol), and `retrying`, which wraps a remote handler and
retries its transient failures within the request's deadline.

A sync handler cannot be interrupted: when it times out, the decision is made
without it and its daemon thread runs on until the handler returns; its late
answer is discarded. At most `MAX_HANDLER_THREADS` such threads exist at once;
beyond that, requests fail closed with ``error``.
"""

from __future__ import annotations

from ._console import ConsoleApprover
from ._errors import AlreadyAnsweredError, ApprovalError, ApprovalTimeoutError, UnknownApprovalError
from ._queue import ApprovalStore, InMemoryApprovalStore, QueueApprover
from ._request import MAX_TIMEOUT as MAX_TIMEOUT
from ._request import Answer as Answer
from ._request import ApprovalHandler, ApprovalOutcome, ApprovalRequest, ApprovalResponse, ApprovalStatus
from ._resolve import aresolve, resolve
from ._retry import TRANSIENT_ERRORS, RetryingApprover, retrying
from ._running import MAX_HANDLER_THREADS

__all__ = [
    "MAX_HANDLER_THREADS",
    "AlreadyAnsweredError",
    "ApprovalError",
    "ApprovalHandler",
    "ApprovalOutcome",
    "ApprovalRequest",
    "ApprovalResponse",
    "ApprovalStatus",
    "ApprovalStore",
    "ApprovalTimeoutError",
    "ConsoleApprover",
    "InMemoryApprovalStore",
    "QueueApprover",
    "RetryingApprover",
    "TRANSIENT_ERRORS",
    "UnknownApprovalError",
    "aresolve",
    "resolve",
    "retrying",
]
