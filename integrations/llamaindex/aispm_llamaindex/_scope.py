"""Whether the code running now is inside one of this package's enforcing wrappers.

The instrumentation handler reports what LlamaIndex emits anywhere in an app; the events of a
model, tool or retriever called *through* a guarded wrapper have already been decided on by the
wrapper, so the handler skips them rather than report each decision twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from contextvars import ContextVar
from typing import TypeVar

__all__ = ["aguarded_steps", "guarded_steps", "guarding", "is_guarded"]

_T = TypeVar("_T")

_GUARDED: ContextVar[bool] = ContextVar("aispm_llamaindex_guarded", default=False)


@contextlib.contextmanager
def guarding() -> Iterator[None]:
    """Mark the block as running inside a guarded wrapper (never hold it across a ``yield``)."""
    token = _GUARDED.set(True)
    try:
        yield
    finally:
        _GUARDED.reset(token)


def is_guarded() -> bool:
    """Whether a guarded wrapper is running the current call."""
    return _GUARDED.get()


def guarded_steps(items: Iterator[_T]) -> Generator[_T, None, None]:
    """The items of an inner stream, each step of it (and its closing) run inside `guarding()`.

    The wrappers' streams are generators: the mark is set around each step of the inner stream,
    never across one of their own ``yield``s, where the consumer's code runs. Use it with
    `contextlib.closing`, so the inner stream is closed as soon as the wrapper's stream is.
    """
    try:
        while True:
            with guarding():
                try:
                    item = next(items)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            with guarding():
                close()


async def aguarded_steps(items: AsyncIterator[_T]) -> AsyncGenerator[_T, None]:
    """Async twin of `guarded_steps`; use it with `contextlib.aclosing`."""
    try:
        while True:
            with guarding():
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    return
            yield item
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            with guarding():
                await aclose()
