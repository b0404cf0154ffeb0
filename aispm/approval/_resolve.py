"""`resolve` and `aresolve`: ask a handler under a timeout and record what happened as an outcome."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ._errors import ApprovalTimeoutError
from ._request import (
    _MAX_NAME,
    ApprovalHandler,
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ApprovalStatus,
    _seconds,
    _text,
)
from ._retry import RetryingApprover
from ._running import _EXPIRED, _async_entry, _bounded, _in_thread, _threaded

_log = logging.getLogger("aispm")


def _budget(request: ApprovalRequest, timeout: float | None, clock: Clock, approver: str | None) -> float:
    if not isinstance(request, ApprovalRequest):
        raise PolicyError("request must be an ApprovalRequest")
    if approver is not None:
        _text(approver, "approver")
    left = (request.deadline - clock()).total_seconds()
    return left if timeout is None else min(_seconds(timeout, "timeout"), left)


def _name(handler: object) -> str:
    if isinstance(handler, RetryingApprover):
        return _name(handler.handler)
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"handler:{name}"[:_MAX_NAME]


def _settle(
    request: ApprovalRequest,
    answer: object,
    error: BaseException | None,
    started: int,
    clock: Clock,
    approver: str | None,
    handler: object,
) -> ApprovalOutcome:
    """Turn what a handler did into an outcome; shared by `resolve` and `aresolve`."""
    status, who, reason, answered_at, detail = ApprovalStatus.ERROR, None, None, None, ""
    if isinstance(error, ApprovalTimeoutError) or (error is None and answer is _EXPIRED):
        status, detail = ApprovalStatus.TIMEOUT, "no answer before the deadline"
    elif error is not None:
        detail = f"the handler raised {type(error).__name__}"
        _log.warning("approval handler failed closed for request %s: %s", request.id, type(error).__name__)
    elif answer is True or answer is False:
        status = ApprovalStatus.APPROVED if answer else ApprovalStatus.DENIED
        who = approver or _name(handler)
    elif isinstance(answer, ApprovalResponse) and type(answer.approved) is bool:
        status = ApprovalStatus.APPROVED if answer.approved else ApprovalStatus.DENIED
        who, reason, answered_at = answer.approver, answer.reason, answer.answered_at
    else:
        detail = f"the handler returned {type(answer).__name__}, not an ApprovalResponse or bool"
        _log.warning("approval handler failed closed for request %s: %s", request.id, detail)
    return ApprovalOutcome(
        request.id, status, who, reason, answered_at, clock(), time.perf_counter_ns() - started, detail, error
    )


def resolve(
    handler: ApprovalHandler | Callable[..., Any],
    request: ApprovalRequest,
    *,
    timeout: float | None = None,
    clock: Clock = utc_now,
    approver: str | None = None,
) -> ApprovalOutcome:
    """Ask ``handler`` and wait for its answer, at most ``timeout`` seconds and never past the deadline.

    The handler runs in a worker thread (an async one in a fresh event loop there),
    so the wait is bounded even when the handler is not. Use `aresolve` in async code.

    Args:
        handler: A sync or async approval handler.
        request: What to approve.
        timeout: Seconds to wait; ``None`` waits until ``request.deadline``.
        clock: The clock for the deadline and timestamps.
        approver: Who is recorded when the handler answers with a bare bool
            (default: ``handler:<its qualified name>``).

    Returns:
        The outcome; never raises for anything the handler does.

    Raises:
        PolicyError: ``request``, ``timeout`` or ``approver`` is invalid.
    """
    seconds = _budget(request, timeout, clock, approver)
    started = time.perf_counter_ns()
    if seconds <= 0:
        return _settle(request, _EXPIRED, None, started, clock, approver, handler)
    done = threading.Event()
    try:
        slot = _in_thread(lambda: handler(request), time.monotonic() + seconds, done.set)
    except Exception as exc:
        return _settle(request, None, exc, started, clock, approver, handler)
    if not done.wait(seconds):
        return _settle(request, _EXPIRED, None, started, clock, approver, handler)
    return _settle(request, slot.answer, slot.error, started, clock, approver, handler)


async def aresolve(
    handler: ApprovalHandler | Callable[..., Any],
    request: ApprovalRequest,
    *,
    timeout: float | None = None,
    clock: Clock = utc_now,
    approver: str | None = None,
) -> ApprovalOutcome:
    """Async twin of `resolve`: async handlers run on this loop, sync ones in a thread.

    The event loop is never blocked: a sync handler runs in a daemon thread
    and this task awaits its result; an async handler is cancelled at the timeout.

    Raises:
        PolicyError: ``request``, ``timeout`` or ``approver`` is invalid.
        asyncio.CancelledError: The calling task was cancelled.
    """
    import asyncio

    seconds = _budget(request, timeout, clock, approver)
    started = time.perf_counter_ns()
    if seconds <= 0:
        return _settle(request, _EXPIRED, None, started, clock, approver, handler)
    limit = time.monotonic() + seconds
    entry = _async_entry(handler)
    answer: object = None
    error: BaseException | None = None
    try:
        if entry is not None:
            answer = await _bounded(entry(request), limit)
        else:
            answer, error = await _threaded(lambda: handler(request), limit)
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # our caller cancelled us; a handler's own CancelledError is just an error
        return _settle(request, None, exc, started, clock, approver, handler)
    except Exception as exc:
        return _settle(request, None, exc, started, clock, approver, handler)
    return _settle(request, answer, error, started, clock, approver, handler)
