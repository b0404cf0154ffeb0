"""Observe-only guards on LlamaIndex's instrumentation: every model call, tool call and retrieval, reported.

``instrument(guard)`` registers two handlers on LlamaIndex's root instrumentation dispatcher, so
what any engine, agent or workflow of the app does is checked and reported as aispm spans in the
caller's trace, with no change to the app::

    with aispm_llamaindex.instrument(guard), guard.session(user="alice", groups=["staff"]):
        index.as_query_engine().query(question)

| LlamaIndex emits | guard | reported |
|---|---|---|
| ``LLMChatStartEvent`` | ``guard.prompt.check``, each message with its source | once per text and session |
| ``LLMCompletionStartEvent`` | ``guard.prompt.check``, the prompt as ``user`` text | once per text and session |
| ``LLMChatEndEvent``, ``LLMCompletionEndEvent`` | ``guard.output.scan``, the final text | per call (a stream: once) |
| ``RetrievalEndEvent`` | ``guard.retrieval.filter``, the nodes | per retrieval |
| a tool's ``call``/``acall``/``__call__`` span | ``guard.tools.check``, name and arguments | per call |

**It cannot enforce.** LlamaIndex swallows every exception an instrumentation handler raises, and
changing an event's objects in place is a fragile hack that leaks into the caller's data: these
handlers never raise and never change an event. A denied prompt still reaches the model, a secret
in an answer still reaches the caller, a denied tool still runs. Enforcement lives in this
package's wrappers: `AispmNodePostprocessor` (retrieval), `GuardedTool` and the guarded agents
(tools), `GuardedLLM` (model inputs and outputs), the guarded query and chat engines (query and
response). What runs inside one (`aispm_llamaindex._scope.is_guarded`, or a `GuardedLLM`'s or
`GuardedTool`'s own span) is theirs to decide and is not reported again; nor is a model call a
model makes to itself (``chat`` running ``complete``): one call, one report.

Side effects, so that observing never does more than enforcing would:

- **Retrieval.** The filter runs in the caller's session (read rights depend on it). A node it
  quarantines taints the session (high-risk tool calls then need approval) and adds its
  findings' risk, as `AispmNodePostprocessor` does on the same nodes; nothing is dropped here, so
  the node does reach the model, which is what the taint records. A retrieval by a component
  whose ``node_postprocessors`` hold an `AispmNodePostprocessor` is left to it (one span, one
  risk increment).
- **Tool calls.** ``check`` counts the call against rate limits and the session's call budget, as
  ``authorize`` does; calls an enforcing wrapper saw are skipped, so each call is counted once.
  The check never asks the guard's approver (``check(..., ask=False)``): the call runs whatever a
  human would answer, so a call that needs approval is reported as ``require_approval``.
- **Prompts.** Decisions are remembered per session (`aispm_llamaindex._memo`): an agent's history
  is not reported again at every step. Decisions an enforcing wrapper would pass the text with
  (allow, redact; any in monitor mode) are shared with the wrappers; denies stay this handler's.

A failure inside a handler is caught and logged once per kind (a warning on the ``aispm`` logger
naming the kind of check and the exception type, never content); the app goes on unchecked.
Events and spans fire in the caller's context: the session and the current OpenTelemetry span are
the caller's. The guards run on the thread that emits the event, an event loop's included (a
remote document authorizer blocks it while it answers).
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.event_handlers import BaseEventHandler
from llama_index_instrumentation.span import BaseSpan
from llama_index_instrumentation.span_handlers import BaseSpanHandler
from pydantic import PrivateAttr

import aispm

from . import _memo
from ._scope import is_guarded

__all__ = ["AispmEventHandler", "AispmSpanHandler", "Instrumentation", "instrument"]

_log = logging.getLogger("aispm")

MAX_PENDING: Final = 10_000
"""Model calls whose end event is awaited at once; the oldest are forgotten first (streams never consumed)."""

_ENFORCING: Final = {
    "llm": ("aispm_llamaindex.llm", "GuardedLLM"),
    "tool": ("aispm_llamaindex.tools", "GuardedTool"),
    "postprocessor": ("aispm_llamaindex.postprocessor", "AispmNodePostprocessor"),
}
"""This package's enforcing wrappers, found by module and name (no instance exists before its module is imported)."""

_BASE_TOOL: Final = ("llama_index.core.tools.types", "BaseTool")
_TOOL_METHODS: Final = frozenset({"call", "acall", "__call__"})
_OBSERVED: Final = "observed:"
"""Memo source prefix for decisions this handler keeps to itself (the enforcing wrappers never read them)."""


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


_LAZY: Final = {"astream_chat": "stream_chat", "astream_complete": "stream_complete"}
_LazyKey = tuple[int, str, tuple[int, ...]]
_Call = tuple[bool, _LazyKey | None]
"""What a model call's start decided (check its end?), and the sync call an async stream makes when consumed."""


class AispmEventHandler(BaseEventHandler):
    """Checks model inputs and outputs and retrievals as LlamaIndex reports them; observes only.

    Args:
        guard: The guard whose policy, mode and telemetry apply.
        spans: The span handler registered beside it, whose open spans tell a `GuardedLLM`'s own
            events and a retrieval an `AispmNodePostprocessor` decides on; without one, only
            calls inside an enforcing wrapper's body are skipped.
    """

    _guard: aispm.Guard = PrivateAttr()
    _spans: AispmSpanHandler | None = PrivateAttr()
    _failures: _Failures = PrivateAttr()
    _pending: OrderedDict[str, _Call] = PrivateAttr()
    _lazy: dict[_LazyKey, str] = PrivateAttr()
    _lock: threading.Lock = PrivateAttr()

    def __init__(self, guard: aispm.Guard, *, spans: AispmSpanHandler | None = None) -> None:
        super().__init__()
        self._guard = guard
        self._spans = spans
        self._failures = _Failures()
        self._pending = OrderedDict()  # model call span id -> what its start decided
        self._lazy = {}  # async streams awaiting the sync call they make when consumed -> span id
        self._lock = threading.Lock()

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "AispmEventHandler"

    @property
    def guard(self) -> aispm.Guard:
        """The guard this handler reports to."""
        return self._guard

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        """Check what the event carries and report the decision; never raises, never changes the event."""
        kind = type(event).class_name()
        method = _EVENTS.get(kind)
        if method is None:
            return
        try:
            method(self, event)
        except Exception as exc:
            self._failures.log(kind, type(exc).__name__)

    # -- which events are already decided ------------------------------------------

    def _span(self, event: BaseEvent) -> _Span | None:
        return self._spans.flags(event.span_id) if self._spans is not None else None

    def _observes(self, span: _Span | None) -> bool:
        """Whether a model call is checked here: not inside an enforcing wrapper, nor inside a call already seen."""
        if span is None:
            return not is_guarded()
        observe = not is_guarded() and not span.in_llm and not span.in_call
        span.in_call = True  # the calls it makes to itself are this call
        return observe

    def _starts(self, event: BaseEvent) -> bool:
        """Whether to check a model call; remembered for its end event, which may come after its span closed.

        A `CustomLLM`'s ``astream_chat``/``astream_complete`` call their sync twin only when the stream
        is consumed, outside their own span: that call (same model, same messages) is the same call.
        """
        span = self._span(event)
        observe = self._observes(span)
        if event.span_id is None or span is None:
            return observe
        messages = getattr(event, "messages", None)
        payload = tuple(map(id, messages)) if messages is not None else (id(getattr(event, "prompt", None)),)
        twin = _LAZY.get(span.method)
        key = (span.owner, twin, payload) if twin is not None else None
        with self._lock:
            if (span.owner, span.method, payload) in self._lazy:
                observe = False
            if key is not None:
                self._lazy[key] = event.span_id
            self._pending[event.span_id] = (observe, key)
            while len(self._pending) > MAX_PENDING:
                self._unlazy(self._pending.popitem(last=False)[1])
        return observe

    def _unlazy(self, call: _Call | None) -> None:
        if call is not None and call[1] is not None:
            self._lazy.pop(call[1], None)

    def _ends(self, event: BaseEvent) -> bool:
        with self._lock:
            call = self._pending.pop(event.span_id, None) if event.span_id is not None else None
            self._unlazy(call)
        if call is None:  # its start came before this handler was registered
            return self._observes(self._span(event))
        return call[0]

    # -- events --------------------------------------------------------------------

    def _start(self, event: Any) -> None:
        if not self._starts(event):
            return
        messages = getattr(event, "messages", None)
        texts: list[tuple[str, str | None, str]]
        if messages is None:
            texts = [("user", None, event.prompt)]
        else:
            from ._messages import message_texts  # imports llama_index.core, which the event came from

            texts = message_texts(messages)
        for source, origin, text in texts:
            if text:
                self._prompt(source, origin, text)

    def _prompt(self, source: str, origin: str | None, text: str) -> None:
        guard = self._guard
        for memo_source in (source, _OBSERVED + source):
            if _memo.recall(guard, memo_source, origin, text) is not None:
                return
        decision = guard.prompt.check(text, source=source, origin=origin)
        if "guard.failed" in decision.rule_ids:
            return  # decided again next time
        shared = decision.allowed or guard.mode == "monitor"  # what the enforcing wrappers remember too
        _memo.remember(guard, source if shared else _OBSERVED + source, origin, text, decision)

    def _end(self, event: Any) -> None:
        response = event.response
        if self._ends(event) and response is not None:
            message = getattr(response, "message", None)  # a chat response, else a completion
            text = message.content if message is not None else response.text
            if text:
                self._guard.output.scan(text)

    def _retrieval_end(self, event: Any) -> None:
        span = self._span(event)
        if is_guarded() or (span is not None and span.postprocessed):
            return
        origin = _method(event.span_id)[0] if event.span_id else ""
        self._guard.retrieval.filter(event.nodes, origin=origin or None)


_EVENTS: Final[dict[str, Callable[[AispmEventHandler, Any], None]]] = {
    "LLMChatStartEvent": AispmEventHandler._start,
    "LLMCompletionStartEvent": AispmEventHandler._start,
    "LLMChatEndEvent": AispmEventHandler._end,
    "LLMCompletionEndEvent": AispmEventHandler._end,
    "RetrievalEndEvent": AispmEventHandler._retrieval_end,
}
"""Events checked, by LlamaIndex class name (matched without importing ``llama_index.core``)."""


class Instrumentation:
    """The handlers `instrument` registered for one guard; ``close()`` (or leaving ``with``) removes them."""

    def __init__(self, guard: aispm.Guard) -> None:
        self._guard = guard
        self._spans = AispmSpanHandler(guard)
        self._events = AispmEventHandler(guard, spans=self._spans)
        self._active = False

    @property
    def guard(self) -> aispm.Guard:
        """The guard the handlers report to."""
        return self._guard

    @property
    def event_handler(self) -> AispmEventHandler:
        """The event handler (model calls, retrievals)."""
        return self._events

    @property
    def span_handler(self) -> AispmSpanHandler:
        """The span handler (tool calls)."""
        return self._spans

    @property
    def active(self) -> bool:
        """Whether the handlers are registered."""
        return self._active

    def close(self) -> None:
        """Remove the handlers from the root dispatcher; calling it again does nothing."""
        with _LOCK:
            if not self._active:
                return
            root = get_dispatcher()
            root.event_handlers = [h for h in root.event_handlers if h is not self._events]
            root.span_handlers = [h for h in root.span_handlers if h is not self._spans]
            self._active = False
            _ACTIVE.pop(self._guard, None)  # only the active handle of a guard can be open

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Instrumentation(mode={self._guard.mode!r}, active={self._active})"


_LOCK = threading.Lock()
_ACTIVE: weakref.WeakKeyDictionary[aispm.Guard, Instrumentation] = weakref.WeakKeyDictionary()


def instrument(guard: aispm.Guard) -> Instrumentation:
    """Report what every LlamaIndex component of the app does to ``guard``, observing only.

    Registers an `AispmEventHandler` and an `AispmSpanHandler` on LlamaIndex's root
    instrumentation dispatcher (every component's dispatcher propagates to it). Instrumenting a
    guard that is already instrumented returns the active handle: nothing is reported twice.

    Returns:
        The handle; ``close()`` it, or use it as a context manager, to remove the handlers.

    Raises:
        TypeError: ``guard`` is not an `aispm.Guard`.
    """
    if not isinstance(guard, aispm.Guard):
        raise TypeError(f"instrument() takes an aispm.Guard, got {type(guard).__name__}")
    with _LOCK:
        active = _ACTIVE.get(guard)
        if active is not None:
            return active
        handle = _ACTIVE[guard] = Instrumentation(guard)
        root = get_dispatcher()
        root.add_span_handler(handle.span_handler)
        root.add_event_handler(handle.event_handler)
        handle._active = True
        return handle
