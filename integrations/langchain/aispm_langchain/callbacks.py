"""`AispmCallbackHandler`: aispm's guards on LangChain's callback events.

Add it to a run's callbacks and every model call, tool call and retrieval in the run is
checked, and reported as a span, with no change to the chain::

    handler = AispmCallbackHandler(guard)
    chain.invoke(question, config={"callbacks": [handler], "metadata": {"aispm_user": "alice"}})

| event | guard | in enforce mode |
|---|---|---|
| chat model / LLM start | ``guard.prompt.check``, every message | a deny raises `aispm.Blocked`; the model never runs |
| LLM new token / v3 stream event | ``guard.output`` stream scan | a deny raises mid-stream |
| LLM end | ``guard.output.scan`` on each generation | a deny raises; the caller gets no output |
| tool start | ``guard.tools.authorize`` (approvals go to the guard's approver) | a deny raises; the tool never runs |
| retriever end | ``guard.retrieval.filter`` | raises when a document was left out for access |

Message sources (`aispm_langchain._messages.source_of`, shared with the runnables and the
middleware): human messages are ``user``, system and developer messages ``system``, AI messages
``model``; tool and function messages (tool results re-entering the context) are untrusted
``tool`` text with the tool's name as origin, and messages of any other role untrusted ``agent`` text.

What a callback cannot do (LangChain gives callbacks no way to change data):

- **Rewrite.** A redaction decided on a prompt, an output or a retrieved document is reported
  (its span says ``redact``) but not applied: the model or the caller sees the original. To
  redact, use the output runnable / guarded retriever / agent middleware of this package.
- **Drop documents.** The retrieval filter's decision is reported; a document left out for
  *access* (ACL, label, tenant, metadata, an authorizer) makes the handler raise `Blocked`,
  so the chain stops rather than show it. A *quarantined* document (planted instructions) is
  only reported: the filter taints the session, so later high-risk tool calls need approval,
  and the document's text is judged again as the prompt guard sees it in the model's input.
- **Stop a stream before text leaks.** Streamed text is scanned as it flows (`StreamScan`),
  but the scanner holds back only its own copy: tokens reach the consumer as the model emits
  them, so a secret can be partly delivered before the scan that denies it. Wrap the stream
  (the output runnable's ``stream``/``astream``) to never leak.

Sessions: a run names its principal in ``config["metadata"]`` under the ``aispm_*`` keys of
`aispm_langchain._config.CONFIG_KEYS` (callbacks do not see ``configurable``). Child runs
inherit their parent's principal; each guard call runs inside that session (nested in one the
caller opened with ``guard.session(...)``, if any).

Only a sync handler can block LangChain's sync paths, so this is a sync
``BaseCallbackHandler``; under ``ainvoke``/``astream`` LangChain runs it in a worker thread
(with the caller's context), where it blocks just the same.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

import aispm
from aispm.output import StreamScan

from ._config import CONFIG_KEYS, session_from_config
from ._messages import source_of

__all__ = ["AispmCallbackHandler"]

_T = TypeVar("_T")

_NOT_ACCESS: Final = frozenset({"retrieval.quarantined", "retrieval.unredactable"})
"""Rule ids of documents the filter leaves out for their content, not for who is asking."""

_CONFIG_KEYS: Final = frozenset(CONFIG_KEYS)

MAX_RUNS: Final = 10_000
"""Runs remembered at once; the oldest are forgotten first (runs whose end event never came)."""


@dataclass(slots=True)
class _Root:
    """What one top-level run shares with its children: the prompts already checked."""

    seen: set[tuple[str, str | None, str]] = field(default_factory=set)


@dataclass(slots=True)
class _Run:
    """One LangChain run the handler follows."""

    config: dict[str, Any]
    root: _Root
    origin: str | None = None
    stream: StreamScan | None = None
    stream_kind: str = ""  # "token" or "event": the first to carry text wins (no double counting)
    stream_done: bool = False


class AispmCallbackHandler(BaseCallbackHandler):
    """Applies a `aispm.Guard` to a LangChain run through its callback events.

    In enforce mode (``guard.mode == "enforce"``) ``raise_error`` is true, so a denied
    prompt, output, tool call or retrieval raises `aispm.Blocked` out of ``invoke``,
    ``ainvoke``, ``stream`` and ``astream`` (unwrapped: LangChain re-raises the handler's own
    exception). In monitor mode every decision is reported and nothing is raised.

    One handler can serve many concurrent runs; it keeps a little state per run (at most
    `MAX_RUNS` runs) and forgets it when the run ends.

    Args:
        guard: The guard whose policy, mode and telemetry apply.

    Example:
        >>> import aispm
        >>> from langchain_core.language_models import GenericFakeChatModel
        >>> from langchain_core.messages import AIMessage
        >>> guard = aispm.Guard()
        >>> model = GenericFakeChatModel(messages=iter([AIMessage("Hello!")]))
        >>> model.invoke("Hi", config={"callbacks": [AispmCallbackHandler(guard)]}).content
        'Hello!'
    """

    def __init__(self, guard: aispm.Guard) -> None:
        super().__init__()
        self._guard = guard
        self._enforce = guard.mode == "enforce"
        self.raise_error = self._enforce
        self._runs: OrderedDict[UUID, _Run] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def guard(self) -> aispm.Guard:
        """The guard this handler applies."""
        return self._guard

    def __repr__(self) -> str:
        return f"AispmCallbackHandler(mode={self._guard.mode!r})"

    # -- runs and sessions ------------------------------------------------------

    def _track(
        self, run_id: UUID, parent_run_id: UUID | None, metadata: Mapping[str, Any] | None, origin: str | None = None
    ) -> _Run:
        """Remember a starting run: its principal (its own, else its parent's) and its top-level run."""
        named = (
            {k: metadata[k] for k in CONFIG_KEYS if metadata.get(k) is not None}
            if metadata and not _CONFIG_KEYS.isdisjoint(metadata)
            else None
        )
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
            config = {"metadata": named} if named else parent.config if parent is not None else {}
            run = _Run(config, parent.root if parent is not None else _Root(), origin)
            self._runs[run_id] = run
            while len(self._runs) > MAX_RUNS:
                self._runs.popitem(last=False)
        return run

    def _run(self, run_id: UUID, parent_run_id: UUID | None) -> _Run:
        """The run's state; a run that started before the handler saw it is tracked now."""
        run = self._runs.get(run_id)
        return run if run is not None else self._track(run_id, parent_run_id, None)

    def _forget(self, run_id: UUID) -> _Run | None:
        with self._lock:
            return self._runs.pop(run_id, None)

    def _in_session(self, run: _Run, call: Callable[[], _T]) -> _T:
        if not run.config:  # no principal named: the current session (if any) applies as it is
            return call()
        with session_from_config(self._guard, run.config):
            return call()

    def _enforce_decision(self, decision: aispm.Decision[Any]) -> None:
        if self._enforce and not decision.allowed:
            raise aispm.Blocked(decision)

    # -- chains (for the principal and the parent links) ---------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember the run's principal for the runs it starts."""
        self._track(run_id, parent_run_id, metadata)

    def on_chain_end(
        self, outputs: dict[str, Any], *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Forget the run."""
        self._forget(run_id)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Forget the run."""
        self._forget(run_id)

    # -- prompts ----------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Check every message about to reach the chat model.

        Raises:
            Blocked: A message is denied (enforce mode).
        """
        run = self._track(run_id, parent_run_id, metadata)
        texts = [(*source_of(m), str(m.text)) for batch in messages for m in batch]
        self._check_prompts(run, texts)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Check every prompt about to reach the (text completion) model, as ``user`` text.

        Raises:
            Blocked: A prompt is denied (enforce mode).
        """
        run = self._track(run_id, parent_run_id, metadata)
        self._check_prompts(run, [("user", None, p) for p in prompts])

    def _check_prompts(self, run: _Run, texts: Sequence[tuple[str, str | None, str]]) -> None:
        """Check each text once per top-level run: an agent re-sends its whole history on every step."""
        seen = run.root.seen
        todo = [t for t in dict.fromkeys(texts) if t[2] and t not in seen]
        if not todo:
            return

        def check() -> None:
            for key in todo:
                source, origin, text = key
                decision = self._guard.prompt.check(text, source=source, origin=origin)
                self._enforce_decision(decision)
                seen.add(key)  # denied texts are not remembered: checked (and blocked) again

        self._in_session(run, check)

    # -- outputs ----------------------------------------------------------------

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Scan streamed text as it flows (v1 streaming).

        Raises:
            Blocked: The stream is denied (enforce mode).
        """
        text = token if isinstance(token, str) else "".join(t for t in token if isinstance(t, str))
        self._feed(self._run(run_id, parent_run_id), "token", text)

    def on_stream_event(
        self,
        event: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Scan streamed text as it flows (``stream_events(version="v3")``); text deltas only.

        A run that also reports the same text as tokens is scanned once, from whichever
        event carried text first.

        Raises:
            Blocked: The stream is denied (enforce mode).
        """
        if not isinstance(event, Mapping) or event.get("event") != "content-block-delta":
            return
        delta = event.get("delta")
        if isinstance(delta, Mapping) and delta.get("type") == "text-delta" and isinstance(delta.get("text"), str):
            self._feed(self._run(run_id, parent_run_id), "event", delta["text"])

    def _feed(self, run: _Run, kind: str, text: str) -> None:
        if not text or run.stream_done:
            return
        if not run.stream_kind:
            run.stream_kind = kind
        elif run.stream_kind != kind:
            return  # the same text, reported by the other kind of event
        stream = run.stream
        if stream is None:
            stream = run.stream = self._in_session(run, self._guard.output.open_stream)
        try:
            stream.feed(text)
        except aispm.Blocked:
            run.stream_done = True  # the scan has reported its one decision
            raise

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Scan the model's answer: the rest of a streamed one, else every generation.

        Raises:
            Blocked: The answer is denied (enforce mode).
        """
        run = self._forget(run_id) or _Run({}, _Root())
        if run.stream is not None:
            if not run.stream_done:
                run.stream_done = True
                run.stream.close()
            return
        texts = [g.text for batch in response.generations for g in batch if g.text]

        def scan() -> None:
            for text in texts:
                self._enforce_decision(self._guard.output.scan(text))

        if texts:
            self._in_session(run, scan)

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Report what a failed stream delivered so far; the run's own error is what the caller gets."""
        run = self._forget(run_id)
        if run is not None and run.stream is not None and not run.stream_done:
            run.stream_done = True
            with contextlib.suppress(aispm.Blocked):
                run.stream.close()

    # -- tools ------------------------------------------------------------------

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Authorise the tool call with its parsed arguments, before the tool runs.

        A tool called with a plain string (no parsed arguments) is authorised with
        ``{"input": input_str}``. A call that needs approval goes to the guard's approver.

        Raises:
            Blocked: The call is not permitted (enforce mode).
        """
        run = self._track(run_id, parent_run_id, metadata)
        name = serialized.get("name") or kwargs.get("name") or ""
        args: Mapping[str, Any] = inputs if isinstance(inputs, Mapping) else {"input": input_str}
        self._in_session(run, lambda: self._guard.tools.authorize(str(name), args))

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """Forget the run (its result is checked when it re-enters the model's context)."""
        self._forget(run_id)

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Forget the run."""
        self._forget(run_id)

    # -- retrieval --------------------------------------------------------------

    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember the retriever's principal and name (the origin of what it returns)."""
        name = kwargs.get("name") or (serialized or {}).get("name")
        self._track(run_id, parent_run_id, metadata, name if isinstance(name, str) else None)

    def on_retriever_end(
        self, documents: Sequence[Any], *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Filter the retrieved documents, reporting only (a callback cannot drop them).

        Raises:
            Blocked: In enforce mode, when a document was left out because the chain may not
                read it (not when it was only quarantined or redacted), or the filter failed.
        """
        run = self._forget(run_id) or _Run({}, _Root())
        decision = self._in_session(run, lambda: self._guard.retrieval.filter(documents, origin=run.origin))
        self._enforce_decision(decision)
        if self._enforce and any(d.rule_id not in _NOT_ACCESS for d in decision.dropped):
            raise aispm.Blocked(decision)

    def on_retriever_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Forget the run."""
        self._forget(run_id)
