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

The span handler, `AispmSpanHandler`, lives in `aispm_llamaindex._spans` (re-exported here); this
module holds the event handler, the handle and `instrument`.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.event_handlers import BaseEventHandler
from pydantic import PrivateAttr

import aispm

from . import _memo
from ._scope import is_guarded
from ._spans import AispmSpanHandler, _Failures, _method, _Span

__all__ = ["AispmEventHandler", "AispmSpanHandler", "Instrumentation", "instrument"]

MAX_PENDING: Final = 10_000
"""Model calls whose end event is awaited at once; the oldest are forgotten first (streams never consumed)."""

_OBSERVED: Final = "observed:"
"""Memo source prefix for decisions this handler keeps to itself (the enforcing wrappers never read them)."""


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
