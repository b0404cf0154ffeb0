"""`retrying`: wrap a remote handler so its transient failures are retried within the deadline."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Final

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ._errors import ApprovalError, ApprovalTimeoutError
from ._request import ApprovalHandler, ApprovalRequest, _seconds
from ._running import _EXPIRED, _async_entry, _threaded

TRANSIENT_ERRORS: Final[tuple[type[Exception], ...]] = (ConnectionError, TimeoutError, OSError)
"""What `retrying` retries by default: network and I/O failures."""


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _run_awaitable(awaitable: Awaitable[Any]) -> Any:
    """Await in a fresh event loop; only valid in a thread without one (resolve's worker)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    if inspect.iscoroutine(awaitable):
        awaitable.close()
    raise ApprovalError("an async handler cannot be called synchronously inside an event loop; use aresolve")


class RetryingApprover:
    """Wraps a remote handler and retries its transient failures; build one with `retrying`.

    Retries wait with exponential backoff and full jitter (uniformly random in
    ``[0, min(5, 0.1 * 2**n)]`` seconds), and only while the next attempt would
    start before both ``max_seconds`` from the first attempt and the request's
    deadline. Other errors, and answers of any kind, are passed on at once.
    """

    def __init__(
        self,
        handler: ApprovalHandler | Callable[..., Any],
        *,
        attempts: int = 3,
        max_seconds: float = 10.0,
        retry_on: tuple[type[Exception], ...] = TRANSIENT_ERRORS,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if not callable(handler):
            raise PolicyError("handler must be callable")
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
            raise PolicyError("attempts must be an int in [1, 100]")
        if not isinstance(retry_on, tuple) or not all(
            isinstance(t, type) and issubclass(t, Exception) for t in retry_on
        ):
            raise PolicyError("retry_on must be a tuple of Exception subclasses")
        self.handler = handler
        self.attempts, self.max_seconds, self.retry_on = attempts, _seconds(max_seconds, "max_seconds"), retry_on
        self._clock, self._sleep, self._asleep = clock, sleep, asleep  # None: asyncio.sleep, looked up when used

    def _policy(self, request: ApprovalRequest) -> dict[str, Any]:
        import tenacity  # a core dependency, imported when first needed to keep `import aispm` cheap

        clock, attempts = self._clock, self.attempts
        end = min(clock() + timedelta(seconds=self.max_seconds), request.deadline)

        def stop(state: tenacity.RetryCallState) -> bool:
            return state.attempt_number >= attempts or clock() + timedelta(seconds=state.upcoming_sleep) >= end

        return {
            "stop": stop,
            "wait": tenacity.wait_random_exponential(multiplier=0.1, max=5.0),
            "retry": tenacity.retry_if_exception_type(self.retry_on),
            "reraise": True,  # the caller sees the real error, not tenacity's RetryError
        }

    def _once(self, request: ApprovalRequest) -> Any:
        answer = self.handler(request)
        return _run_awaitable(answer) if inspect.isawaitable(answer) else answer

    def __call__(self, request: ApprovalRequest) -> Any:
        """Ask the wrapped handler, retrying transient failures; the last error is re-raised."""
        import tenacity

        return tenacity.Retrying(sleep=self._sleep, **self._policy(request))(self._once, request)

    async def aask(self, request: ApprovalRequest) -> Any:
        """Async twin: awaits an async handler on this loop, runs a sync one in a thread."""
        import tenacity

        entry = _async_entry(self.handler)
        if entry is None:
            left = max(0.0, (request.deadline - self._clock()).total_seconds())
            answer, error = await _threaded(lambda: self(request), time.monotonic() + left)
            if error is not None:
                raise error
            if answer is _EXPIRED:
                raise ApprovalTimeoutError("no answer before the deadline")
            return answer
        import asyncio

        retrying_ = tenacity.AsyncRetrying(sleep=self._asleep or asyncio.sleep, **self._policy(request))
        return await retrying_(entry, request)


def retrying(
    handler: ApprovalHandler | Callable[..., Any],
    *,
    attempts: int = 3,
    max_seconds: float = 10.0,
    retry_on: tuple[type[Exception], ...] = TRANSIENT_ERRORS,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    asleep: Callable[[float], Awaitable[None]] | None = None,
) -> RetryingApprover:
    """Wrap ``handler`` (sync or async) so its transient failures are retried within bounded time.

    Args:
        handler: The remote handler, for example a function that posts the request
            to a review service and returns its answer.
        attempts: At most this many calls.
        max_seconds: No retry starts later than this after the first call, nor
            after the request's deadline.
        retry_on: The exception types worth retrying; anything else is raised at once.
        clock: Measures the budget; inject a fake clock with ``sleep``/``asleep`` in tests.
        sleep: How a sync retry waits.
        asleep: How an async retry waits (default ``asyncio.sleep``).

    Raises:
        PolicyError: An argument is invalid.
    """
    return RetryingApprover(
        handler,
        attempts=attempts,
        max_seconds=max_seconds,
        retry_on=retry_on,
        clock=clock,
        sleep=sleep,
        asleep=asleep,
    )
