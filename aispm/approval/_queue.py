"""The reviewer queue: the `ApprovalStore` protocol, its in-memory store, and `QueueApprover`."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ._errors import AlreadyAnsweredError, ApprovalError, ApprovalTimeoutError, UnknownApprovalError
from ._request import ApprovalRequest, ApprovalResponse
from ._running import _bounded, _wake

if TYPE_CHECKING:
    import asyncio  # imported where used: it costs more than the rest of aispm together


class ApprovalStore(Protocol):
    """Where queued requests wait for their answers: in memory here, Redis or a database later.

    A request is *pending* until it is answered, withdrawn by its requester, or
    its deadline passes. Only the waits are long, so only they have an async twin;
    ``submit``, ``answer`` and ``withdraw`` must be short.
    """

    def submit(self, request: ApprovalRequest) -> None:
        """Queue ``request``. Raises `ApprovalError` when full or the id is taken."""

    def pending(self) -> list[ApprovalRequest]:
        """The pending requests, oldest first."""

    def answer(self, request_id: str, response: ApprovalResponse) -> None:
        """Record the answer. Raises `UnknownApprovalError` or `AlreadyAnsweredError`."""

    def withdraw(self, request_id: str) -> None:
        """The requester stopped waiting: later answers are rejected. Never raises for unknown ids."""

    def wait_answer(self, request_id: str, timeout: float) -> ApprovalResponse | None:
        """Block until answered (and take the answer) or ``timeout`` seconds passed (``None``)."""

    async def await_answer(self, request_id: str, timeout: float) -> ApprovalResponse | None:
        """Async twin of ``wait_answer``; does not block the event loop."""


@dataclass(slots=True)
class _Entry:
    request: ApprovalRequest
    response: ApprovalResponse | None = None
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(default_factory=list)


class InMemoryApprovalStore:
    """A thread-safe `ApprovalStore` for one process; reviewers answer from any thread or task.

    Args:
        clock: Decides when a request has expired.
        max_pending: Submitting beyond this many pending requests raises `ApprovalError`.
        max_closed: How many closed request ids are remembered, so that a late or
            second answer gets the right error.
    """

    def __init__(self, *, clock: Clock = utc_now, max_pending: int = 1_000, max_closed: int = 10_000) -> None:
        for value, what in ((max_pending, "max_pending"), (max_closed, "max_closed")):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
                raise PolicyError(f"{what} must be an int in [1, 1000000]")
        self._clock, self._max_pending, self._max_closed = clock, max_pending, max_closed
        self._changed = threading.Condition(threading.Lock())
        self._open: dict[str, _Entry] = {}
        self._closed: OrderedDict[str, bool] = OrderedDict()  # id -> was it answered?

    def _close(self, request_id: str, answered: bool) -> None:
        entry = self._open.pop(request_id, None)
        self._closed[request_id] = answered
        while len(self._closed) > self._max_closed:
            self._closed.popitem(last=False)
        self._changed.notify_all()
        for loop, future in entry.waiters if entry is not None else ():
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_wake, future)

    def _expire(self) -> None:
        now = self._clock()
        for rid in [rid for rid, e in self._open.items() if e.response is None and e.request.deadline <= now]:
            self._close(rid, answered=False)

    def submit(self, request: ApprovalRequest) -> None:
        """Queue ``request``. Raises `ApprovalError` when full or the id is taken."""
        if not isinstance(request, ApprovalRequest):
            raise PolicyError("request must be an ApprovalRequest")
        with self._changed:
            self._expire()
            if request.id in self._open or request.id in self._closed:
                raise ApprovalError("an approval request with this id exists already")
            if len(self._open) >= self._max_pending:
                raise ApprovalError(f"the approval queue is full ({self._max_pending} pending)")
            self._open[request.id] = _Entry(request)

    def pending(self) -> list[ApprovalRequest]:
        """The pending requests, oldest first; expired ones are dropped."""
        with self._changed:
            self._expire()
            found = [e.request for e in self._open.values() if e.response is None]
        return sorted(found, key=lambda r: r.created_at)

    def answer(self, request_id: str, response: ApprovalResponse) -> None:
        """Record the answer. Raises `UnknownApprovalError` or `AlreadyAnsweredError`."""
        if not isinstance(response, ApprovalResponse):
            raise PolicyError("response must be an ApprovalResponse")
        with self._changed:
            self._expire()
            entry = self._open.get(request_id) if isinstance(request_id, str) else None
            if (entry is not None and entry.response is not None) or self._closed.get(request_id) is True:
                raise AlreadyAnsweredError("this approval request was answered already")
            if entry is None:
                raise UnknownApprovalError("no pending approval request has this id (unknown, expired or withdrawn)")
            entry.response = response
            self._changed.notify_all()
            for loop, future in entry.waiters:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_wake, future)

    def withdraw(self, request_id: str) -> None:
        """Stop waiting for ``request_id``: later answers are rejected."""
        with self._changed:
            entry = self._open.get(request_id)
            if entry is not None:
                self._close(request_id, answered=entry.response is not None)

    def _take(self, request_id: str) -> tuple[bool, ApprovalResponse | None]:
        """``(closed, answer)``: the answer is taken once; an expired or withdrawn request has none."""
        entry = self._open.get(request_id)
        if entry is None:
            if request_id in self._closed:
                return True, None
            raise UnknownApprovalError("no approval request has this id")
        if entry.response is None:
            return False, None
        self._close(request_id, answered=True)
        return True, entry.response

    def wait_answer(self, request_id: str, timeout: float) -> ApprovalResponse | None:
        """Block until answered or ``timeout`` seconds passed (``None``)."""
        limit = time.monotonic() + max(0.0, timeout)
        with self._changed:
            while True:
                closed, response = self._take(request_id)
                left = limit - time.monotonic()
                if closed or left <= 0:
                    return response
                self._changed.wait(left)

    async def await_answer(self, request_id: str, timeout: float) -> ApprovalResponse | None:
        """Async twin of ``wait_answer``; does not block the event loop."""
        import asyncio

        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        with self._changed:
            closed, response = self._take(request_id)
            if closed:
                return response
            entry = self._open[request_id]
            entry.waiters.append((loop, woken))
        try:
            await _bounded(woken, time.monotonic() + max(0.0, timeout))
        finally:
            with self._changed, contextlib.suppress(ValueError):
                entry.waiters.remove((loop, woken))
        with self._changed:
            return self._take(request_id)[1]


class QueueApprover:
    """A handler whose requests wait in a queue until a reviewer answers them.

    The requesting side blocks (sync) or awaits without blocking the loop
    (`aresolve` uses ``aask``) until an answer or the request's deadline, then
    withdraws the request so that a late answer is rejected. The reviewer side
    calls ``pending()`` and ``answer(...)``, from any thread or task; another
    process needs a shared `ApprovalStore`.

    Args:
        store: Where requests wait (default: a new `InMemoryApprovalStore`).
        clock: For the deadline and the answer's timestamp.
    """

    def __init__(self, store: ApprovalStore | None = None, *, clock: Clock = utc_now) -> None:
        self.store: ApprovalStore = InMemoryApprovalStore(clock=clock) if store is None else store
        self._clock = clock

    def _left(self, request: ApprovalRequest) -> float:
        return (request.deadline - self._clock()).total_seconds()

    def __call__(self, request: ApprovalRequest) -> ApprovalResponse:
        """Queue ``request`` and block until it is answered.

        Raises:
            ApprovalTimeoutError: Nobody answered before the deadline.
            ApprovalError: The store refused the request.
        """
        self.store.submit(request)
        response = None
        try:
            response = self.store.wait_answer(request.id, self._left(request))
        finally:
            if response is None:
                self.store.withdraw(request.id)
        if response is None:
            raise ApprovalTimeoutError("no answer before the deadline")
        return response

    async def aask(self, request: ApprovalRequest) -> ApprovalResponse:
        """Async twin of calling the approver: awaits the answer without blocking the loop."""
        self.store.submit(request)
        response = None
        try:
            response = await self.store.await_answer(request.id, self._left(request))
        finally:  # also when aresolve cancels us at its timeout
            if response is None:
                self.store.withdraw(request.id)
        if response is None:
            raise ApprovalTimeoutError("no answer before the deadline")
        return response

    def pending(self) -> list[ApprovalRequest]:
        """The requests waiting for an answer, oldest first."""
        return self.store.pending()

    def answer(self, request_id: str, approved: bool, approver: str, reason: str | None = None) -> ApprovalResponse:
        """Answer a pending request as ``approver``.

        Raises:
            UnknownApprovalError: No pending request has this id (unknown, expired or withdrawn).
            AlreadyAnsweredError: It was answered already.
            PolicyError: ``approved``, ``approver`` or ``reason`` has the wrong type or size.
        """
        response = ApprovalResponse(approved, approver, reason, self._clock())
        self.store.answer(request_id, response)
        return response
