"""``@guard.protect`` and ``@guard.tool``: one wrapper per kind of callable, chosen at decoration time.

Wrappers keep the wrapped function's name, docstring, signature and type
hints (``functools.wraps`` sets ``__wrapped__``, which ``inspect.signature``
follows), and stay the same kind of callable: a coroutine function stays a
coroutine function, a generator function a generator function, so frameworks
that introspect them see what they expect.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import semconv
from .errors import Blocked
from .output import StreamScan
from .posture.inventory import FunctionRecord, ToolRecord

if TYPE_CHECKING:
    from .guard import Guard

F = TypeVar("F", bound=Callable[..., Any])


def _kind(fn: Callable[..., Any]) -> str:
    if inspect.isasyncgenfunction(fn):
        return "async_generator"
    if inspect.iscoroutinefunction(fn):
        return "async"
    if inspect.isgeneratorfunction(fn):
        return "generator"
    return "sync"


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def protect(guard: Guard, fn: F) -> F:
    """Wrap ``fn``: prompt guard on its string arguments, output scanner on what it returns or yields."""
    if not callable(fn):
        raise TypeError(f"@guard.protect needs a callable, got {type(fn).__name__}")
    kind = _kind(fn)
    name = _qualname(fn)
    guard.inventory.record_function(
        FunctionRecord(getattr(fn, "__qualname__", repr(fn)), getattr(fn, "__module__", "?"), kind)
    )
    prompt_attrs = {semconv.PROMPT_SOURCE: "user", semconv.CODE_FUNCTION_NAME: name}
    output_attrs = {semconv.CODE_FUNCTION_NAME: name}
    prompt = guard.prompt
    output = guard.output

    def guard_input(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not kwargs and len(args) == 1 and type(args[0]) is str:  # the common `answer(question)` call
            return (prompt._run_value(args[0], source="user", attributes=prompt_attrs, objects=False),), kwargs
        checked = prompt._run_value((args, kwargs), source="user", attributes=prompt_attrs, objects=False)
        return cast(tuple[tuple[Any, ...], dict[str, Any]], checked)

    if kind == "sync":

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = guard_input(args, kwargs)
            return output._run_value(fn(*args, **kwargs), source=None, attributes=output_attrs)

        return cast(F, sync_wrapper)

    if kind == "async":

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = guard_input(args, kwargs)
            result = await fn(*args, **kwargs)
            return output._run_value(result, source=None, attributes=output_attrs)

        return cast(F, async_wrapper)

    if kind == "generator":

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            args, kwargs = guard_input(args, kwargs)
            scan = output.open_stream()
            try:
                for chunk in fn(*args, **kwargs):
                    out = _feed(output, scan, chunk, output_attrs)
                    if out is not None:
                        yield out
                tail = scan.close()
                if tail:
                    yield tail
            finally:
                _abandon(scan)

        return cast(F, generator_wrapper)

    @functools.wraps(fn)
    async def async_generator_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        args, kwargs = guard_input(args, kwargs)
        scan = output.open_stream()
        try:
            async for chunk in fn(*args, **kwargs):
                out = _feed(output, scan, chunk, output_attrs)
                if out is not None:
                    yield out
            tail = scan.close()
            if tail:
                yield tail
        finally:
            _abandon(scan)

    return cast(F, async_generator_wrapper)


def _feed(output: Any, scan: StreamScan, chunk: Any, attrs: dict[str, Any]) -> Any:
    # Text chunks go through the stream scanner (which may hold some back);
    # anything else is scanned on its own, like a return value.
    if isinstance(chunk, str):
        out = scan.feed(chunk)
        return out if out or scan.passes_through else None
    return output._run_value(chunk, source=None, attributes=attrs)


def _abandon(scan: StreamScan) -> None:
    # The consumer stopped early (or the function raised): report what was
    # scanned, without emitting anything more.
    with contextlib.suppress(Blocked):
        scan.close()


def tool(guard: Guard, fn: F, *, name: str | None, risk: str | None, description: str | None) -> F:
    """Wrap ``fn`` so every call is authorised with its bound arguments before it runs."""
    if not callable(fn):
        raise TypeError(f"@guard.tool needs a callable, got {type(fn).__name__}")
    tool_name: str = name or str(getattr(fn, "__name__", ""))
    doc = description if description is not None else (inspect.getdoc(fn) or "").split("\n\n", 1)[0]
    guard.tools.register(tool_name, risk=risk, description=doc)
    kind = _kind(fn)
    guard.inventory.record_tool(
        ToolRecord(
            name=tool_name,
            risk=guard.tools.risk_of(tool_name),
            module=getattr(fn, "__module__", "?"),
            qualname=getattr(fn, "__qualname__", repr(fn)),
            kind=kind,
            description=doc,
        )
    )
    signature = inspect.signature(fn)
    authorize = guard.tools.authorize

    def arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    if kind == "sync":

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(tool_name, arguments(args, kwargs))
            return fn(*args, **kwargs)

        return cast(F, sync_wrapper)

    if kind == "async":

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            await guard.tools.aauthorize(tool_name, arguments(args, kwargs))
            return await fn(*args, **kwargs)

        return cast(F, async_wrapper)

    if kind == "generator":

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            authorize(tool_name, arguments(args, kwargs))
            return (yield from fn(*args, **kwargs))

        return cast(F, generator_wrapper)

    @functools.wraps(fn)
    async def async_generator_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        await guard.tools.aauthorize(tool_name, arguments(args, kwargs))
        async for item in fn(*args, **kwargs):
            yield item

    return cast(F, async_generator_wrapper)
