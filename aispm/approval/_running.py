"""Bounded waits: a handler runs in a daemon thread or on the loop, and nobody waits past the limit."""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from ._errors import ApprovalError
from ._request import ApprovalRequest

if TYPE_CHECKING:
    import asyncio  # imported where used: it costs more than the rest of aispm together

MAX_HANDLER_THREADS: Final = 64
"""How many handler threads may run at once, abandoned (timed-out) ones included."""
_THREADS = threading.BoundedSemaphore(MAX_HANDLER_THREADS)  # a process-wide cap on a process-wide resource
_EXPIRED: Final = object()  # a bounded wait ran out of time


async def _bounded(awaitable: Awaitable[Any], limit: float) -> Any:
    """Await until the monotonic time ``limit``; `_EXPIRED` if it passed first."""
    import asyncio

    scope = asyncio.timeout(limit - time.monotonic())
    try:
        async with scope:
            result = await awaitable
    except TimeoutError:
        if scope.expired():
            return _EXPIRED
        raise
    return _EXPIRED if scope.expired() else result  # a handler that swallowed its cancellation


class _Slot:
    __slots__ = ("answer", "error")

    def __init__(self) -> None:
        self.answer: object = _EXPIRED
        self.error: BaseException | None = None


def _in_thread(call: Callable[[], object], limit: float, done: Callable[[], None]) -> _Slot:
    """Run ``call`` in a daemon thread, awaiting what it returns in a fresh event loop there."""
    threads = _THREADS  # release the very semaphore acquired
    if not threads.acquire(blocking=False):
        raise ApprovalError(f"more than {MAX_HANDLER_THREADS} approval handlers are running")
    slot = _Slot()

    def run() -> None:
        try:
            answer = call()
            if inspect.isawaitable(answer):  # this thread has no loop, so asyncio.run is safe here
                import asyncio

                answer = asyncio.run(_bounded(answer, limit))
            slot.answer = answer
        except BaseException as exc:  # even SystemExit: the thread must report, not vanish
            slot.error = exc
        finally:
            threads.release()
            done()

    # Daemon threads, not an executor: a hung handler must neither block interpreter exit
    # nor tie up the loop's default executor (which asyncio.run waits for at shutdown).
    thread = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="aispm-approval", daemon=True)
    try:
        thread.start()
    except BaseException:
        threads.release()
        raise
    return slot


async def _threaded(call: Callable[[], object], limit: float) -> tuple[object, BaseException | None]:
    """Run ``call`` in a daemon thread and await it without blocking the loop: ``(answer, error)``."""
    import asyncio

    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def done() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_wake, finished)

    slot = _in_thread(call, limit, done)
    expired = await _bounded(finished, limit) is _EXPIRED
    return (_EXPIRED, None) if expired else (slot.answer, slot.error)


def _async_entry(handler: object) -> Callable[[ApprovalRequest], Awaitable[Any]] | None:
    aask = getattr(handler, "aask", None)
    if callable(aask):
        return aask  # type: ignore[no-any-return]  # duck-typed twin, checked by callable()
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
        return handler  # type: ignore[return-value]  # an async callable, checked above
    return None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
