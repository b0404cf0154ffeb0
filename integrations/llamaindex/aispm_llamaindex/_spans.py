"""`AispmSpanHandler`: the tool calls LlamaIndex's spans show, checked, and the open spans tracked.

LlamaIndex 0.14 emits no tool-call event, so `aispm_llamaindex.instrumentation` sees tool calls
as spans; this module holds the span handler it registers, what it remembers of each open span
(`_Span`, read by `AispmEventHandler` to tell calls an enforcing wrapper decides), how this
package's enforcing wrappers are recognised without importing them, and the once-per-kind
failure log both handlers share. See `aispm_llamaindex.instrumentation` for what is reported
and why it cannot enforce.
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
from typing import Any, Final

from llama_index_instrumentation.span import BaseSpan
from llama_index_instrumentation.span_handlers import BaseSpanHandler
from pydantic import PrivateAttr

import aispm

from ._scope import is_guarded

_log = logging.getLogger("aispm")


_ENFORCING: Final = {
    "llm": ("aispm_llamaindex.llm", "GuardedLLM"),
    "tool": ("aispm_llamaindex.tools", "GuardedTool"),
    "postprocessor": ("aispm_llamaindex.postprocessor", "AispmNodePostprocessor"),
}
"""This package's enforcing wrappers, found by module and name (no instance exists before its module is imported)."""

_BASE_TOOL: Final = ("llama_index.core.tools.types", "BaseTool")
_TOOL_METHODS: Final = frozenset({"call", "acall", "__call__"})


def _class(where: tuple[str, str]) -> type | None:
    """The class named ``where[1]`` in module ``where[0]`` if that module is imported, else ``None``."""
    module = sys.modules.get(where[0])
    found = getattr(module, where[1], None) if module is not None else None
    return found if isinstance(found, type) else None


def _is(instance: object, kind: str) -> bool:
    cls = _class(_ENFORCING[kind])
    return cls is not None and isinstance(instance, cls)


def _method(span_id: str) -> tuple[str, str]:
    """``(class, method)`` from a LlamaIndex span id (``"<Class>.<method>-<uuid4>"``)."""
    owner, _, method = span_id.split("-", 1)[0].rpartition(".")
    return owner, method


_FAILED: Final = "aispm instrumentation: checking a %s failed (%s); the app went on unchecked"


class _Failures:
    """Logs what a handler could not check: a warning the first time per kind and reason, then debug."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def log(self, what: str, why: str, message: str = _FAILED) -> None:
        with self._lock:
            first = (what, why) not in self._seen
            self._seen.add((what, why))
        _log.log(logging.WARNING if first else logging.DEBUG, message, what, why)


class _Span(BaseSpan):
    """What the span handler remembers of one open LlamaIndex span (flags inherited by its children)."""

    in_tool: bool = False  # inside a tool call already reported, or decided by an enforcing wrapper
    in_llm: bool = False  # inside a `GuardedLLM` call
    in_call: bool = False  # inside a model call already seen (``chat`` may run ``complete``)
    postprocessed: bool = False  # inside a component whose node postprocessors include an aispm one
    owner: int = 0  # id() of the object whose method the span is
    method: str = ""


_INHERITED: Final = ("in_tool", "in_llm", "in_call", "postprocessed")
_NO_SPAN: Final = _Span.model_construct()


def _postprocessed(instance: object) -> bool:
    processors = getattr(instance, "_node_postprocessors", None)
    return isinstance(processors, list) and any(_is(p, "postprocessor") for p in processors)


def _arguments(bound: inspect.BoundArguments, instance: object) -> dict[str, Any]:
    """A tool call's arguments as the tool receives them, without the workflow ``Context`` it may inject."""
    params = bound.signature.parameters
    found: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = params[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            found.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            found[name] = list(value)  # bound only when given
        else:
            found[name] = value
    ctx = getattr(instance, "ctx_param_name", None)
    if isinstance(ctx, str):
        found.pop(ctx, None)
    return found


def _tool_name(instance: object) -> str:
    name = getattr(getattr(instance, "metadata", None), "name", None)
    return name if isinstance(name, str) and name else type(instance).__name__


class AispmSpanHandler(BaseSpanHandler[_Span]):
    """Checks tool calls as their spans open, and tracks open spans for `AispmEventHandler`.

    LlamaIndex 0.14 emits no tool-call event: a tool call is seen as the span of the tool's
    ``call``, ``acall`` or ``__call__`` (every `BaseTool` subclass gets one). The outermost such
    span of a call is checked with ``guard.tools.check(name, arguments)``; the spans it opens
    (``FunctionTool.__call__`` calls ``call``, an async adapter calls the sync tool) are the same
    call. Calls inside an enforcing wrapper (a guarded agent runs its tools inside one) and the
    spans of `GuardedTool` itself are left to the wrapper. Never raises.

    Args:
        guard: The guard whose policy, mode and telemetry apply.
    """

    _guard: aispm.Guard = PrivateAttr()
    _failures: _Failures = PrivateAttr()

    def __init__(self, guard: aispm.Guard) -> None:
        super().__init__(open_spans={}, completed_spans=[], dropped_spans=[], current_span_ids={})
        self._guard = guard
        self._failures = _Failures()

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "AispmSpanHandler"

    @property
    def guard(self) -> aispm.Guard:
        """The guard this handler reports to."""
        return self._guard

    def flags(self, span_id: str | None) -> _Span | None:
        """The open span ``span_id``, if this handler saw it open."""
        return self.open_spans.get(span_id) if span_id is not None else None

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> _Span | None:
        """Remember the span; check the tool call it starts, if it is the outermost span of one."""
        parent = self.flags(parent_span_id) or _NO_SPAN
        inherited = {name: getattr(parent, name) for name in _INHERITED}
        span = _Span.model_construct(
            id_=id_, parent_id=parent_span_id, tags={}, owner=id(instance), method=_method(id_)[1], **inherited
        )
        if instance is not None:
            try:
                self._classify(span, bound_args, instance)
            except Exception as exc:
                self._failures.log("tool call", type(exc).__name__)
        return span

    def _classify(self, span: _Span, bound_args: inspect.BoundArguments, instance: object) -> None:
        span.in_llm = span.in_llm or _is(instance, "llm")
        span.postprocessed = span.postprocessed or _postprocessed(instance)
        if span.in_tool:
            return
        base = _class(_BASE_TOOL)
        if span.method not in _TOOL_METHODS or base is None or not isinstance(instance, base):
            return
        span.in_tool = True
        if is_guarded() or _is(instance, "tool"):
            return
        self._guard.tools.check(_tool_name(instance), _arguments(bound_args, instance), ask=False)

    def prepare_to_exit_span(self, id_: str, *args: Any, **kwargs: Any) -> _Span | None:
        """Forget the span (the base class drops what this returns)."""
        return self.open_spans.get(id_)

    def prepare_to_drop_span(self, id_: str, *args: Any, **kwargs: Any) -> _Span | None:
        """Forget the span (the base class drops what this returns)."""
        return self.open_spans.get(id_)
