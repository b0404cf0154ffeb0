"""`GuardedLLM`: a LlamaIndex LLM whose inputs pass the prompt guard and whose outputs pass the output scanner.

LlamaIndex's instrumentation handlers cannot block (the dispatcher swallows their exceptions),
so wrapping the model is how an app enforces on model calls, whether it calls the LLM itself
or hands it to a query engine, a chat engine or an agent::

    llm = guard_llm(guard, OpenAI(model="..."))
    agent = FunctionAgent(tools=[...], llm=llm)
    with guard.session(user="alice", roles=["analyst"], agent="support-bot"):
        await agent.run(user_msg="Summarise ticket 42")

Before the model is called, the text of every message is checked by ``guard.prompt`` with the
source of its role (see `aispm_llamaindex._messages`: tool results are untrusted ``tool``
text); a completion prompt is ``user`` text. A text already decided in the current session is
not decided again (an agent resends its history on every step). After the model answers, its
text is scanned by ``guard.output``; streams are scanned as they flow and yield only scanned
text. In enforce mode a deny raises `aispm.Blocked` (before the model is called, for the
input) and a redaction rewrites the text, in new message and response objects; in monitor mode
every decision is reported and nothing changes.

What it cannot do: tool-call arguments are not scanned (the tool authorizer sees them, see
`aispm_llamaindex.tools`); non-text content (images, documents, thinking blocks) passes
unchecked; and a response's ``raw`` and ``additional_kwargs`` are the inner model's, kept as
they are (tool calls live there), so they may still hold the unscanned answer. Fields the
wrapper copies from the inner model at construction (system prompt, prompt formatters, output
parser) do not follow later changes to it.

How responses are rewritten and streams scanned is in `aispm_llamaindex._llm_stream`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import LLM, ToolSelection

import aispm

from ._llm_stream import _R, _ascanned, _rebuilt, _scanned, _Stream, _text_of, _with_text
from ._memo import recall, remember
from ._messages import message_texts
from ._scope import guarding

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["GuardedLLM", "guard_llm"]


@dataclass(frozen=True, slots=True)
class _Text:
    """One text that enters the model: its message's index, where it comes from, the text."""

    index: int
    source: str
    origin: str | None
    text: str


class GuardedLLM(FunctionCallingLLM):
    """An LLM that checks what goes into ``llm`` with the prompt guard and scans what comes out.

    Build it with `guard_llm`. It is a function-calling LLM whose metadata (``is_chat_model``,
    ``is_function_calling_model``, context window) are the inner model's, so it can be the
    ``llm`` of a ``FunctionAgent``, ``ReActAgent``, ``AgentWorkflow``, query engine or chat
    engine. Extra keyword arguments (``tools``, ``tool_choice``, ...) go to the inner model.

    Tool calling is the inner model's: ``chat_with_tools`` and its siblings prepare the request
    and read tool calls with the inner model's methods. When the inner model is not a
    `FunctionCallingLLM` (``metadata.is_function_calling_model`` is then false, so agents use it
    as a ReAct model), the tools are not sent to it, and `get_tool_calls_from_response` finds
    no tool call (or raises ``ValueError`` if one is required).

    The principal is the caller's ``guard.session(...)``; outside a session every text is
    decided (and reported) on every call.
    """

    _guard: aispm.Guard = PrivateAttr()
    _inner: LLM = PrivateAttr()

    def __init__(self, guard: aispm.Guard, llm: LLM) -> None:
        """Guard ``llm`` with ``guard``; see `guard_llm`."""
        super().__init__(
            callback_manager=llm.callback_manager,
            system_prompt=llm.system_prompt,
            messages_to_prompt=llm.messages_to_prompt,
            completion_to_prompt=llm.completion_to_prompt,
            output_parser=llm.output_parser,
            pydantic_program_mode=llm.pydantic_program_mode,
            query_wrapper_prompt=llm.query_wrapper_prompt,
        )
        self._guard = guard
        self._inner = llm

    @classmethod
    def class_name(cls) -> str:
        """The class name LlamaIndex records for this component."""
        return "GuardedLLM"

    @property
    def guard(self) -> aispm.Guard:
        """The guard that decides."""
        return self._guard

    @property
    def inner(self) -> LLM:
        """The model that answers once the input passed."""
        return self._inner

    @property
    def metadata(self) -> LLMMetadata:
        """The inner model's metadata."""
        return self._inner.metadata

    def __repr__(self) -> str:
        return f"GuardedLLM({self._guard!r}, {type(self._inner).__name__})"

    # -- chat ------------------------------------------------------------------------------------

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Check ``messages``, ask the inner model, scan its answer.

        Raises:
            Blocked: A message or the answer is denied (enforce mode).
        """
        texts = _texts(messages)
        sent = self._messages(messages, texts, [self._check(t) for t in texts])
        with guarding():
            response = self._inner.chat(sent, **kwargs)
        return self._answer(response, self._guard.output.scan(_text_of(response)))

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async twin of `chat`."""
        texts = _texts(messages)
        sent = self._messages(messages, texts, [await self._acheck(t) for t in texts])
        with guarding():
            response = await self._inner.achat(sent, **kwargs)
        return self._answer(response, await self._guard.output.ascan(_text_of(response)))

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Check ``messages`` (now), then stream the inner model's answer with only scanned text.

        Each response carries ``delta``, the text released with it, and ``message.content``,
        all the text released so far; the last one carries the rest and the inner model's last
        tool-call blocks and kwargs. One decision (one span) covers the stream.

        Raises:
            Blocked: A message is denied (when called), or the stream is (while iterating).
        """
        texts = _texts(messages)
        sent = self._messages(messages, texts, [self._check(t) for t in texts])
        with guarding():
            chunks = self._inner.stream_chat(sent, **kwargs)
        return _scanned(_Stream(self._guard), chunks)

    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        """Async twin of `stream_chat`."""
        texts = _texts(messages)
        sent = self._messages(messages, texts, [await self._acheck(t) for t in texts])
        with guarding():
            chunks = await self._inner.astream_chat(sent, **kwargs)
        return _ascanned(_Stream(self._guard), chunks)

    # -- completion ------------------------------------------------------------------------------

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Check ``prompt`` (as ``user`` text, formatted or not), ask the inner model, scan its answer.

        Raises:
            Blocked: The prompt or the answer is denied (enforce mode).
        """
        text = self._prompt(prompt, self._check(_Text(0, "user", None, prompt)))
        with guarding():
            response = self._inner.complete(text, formatted=formatted, **kwargs)
        return self._answer(response, self._guard.output.scan(response.text))

    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Async twin of `complete`."""
        text = self._prompt(prompt, await self._acheck(_Text(0, "user", None, prompt)))
        with guarding():
            response = await self._inner.acomplete(text, formatted=formatted, **kwargs)
        return self._answer(response, await self._guard.output.ascan(response.text))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """Check ``prompt`` (now), then stream the answer with only scanned text (as `stream_chat`)."""
        text = self._prompt(prompt, self._check(_Text(0, "user", None, prompt)))
        with guarding():
            chunks = self._inner.stream_complete(text, formatted=formatted, **kwargs)
        return _scanned(_Stream(self._guard), chunks)

    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        """Async twin of `stream_complete`."""
        text = self._prompt(prompt, await self._acheck(_Text(0, "user", None, prompt)))
        with guarding():
            chunks = await self._inner.astream_complete(text, formatted=formatted, **kwargs)
        return _ascanned(_Stream(self._guard), chunks)

    # -- tool calling: the inner model's -----------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The inner model's request for a chat with tools; only the messages for a model without tools."""
        if isinstance(self._inner, FunctionCallingLLM):
            return self._inner._prepare_chat_with_tools_compat(
                tools,
                user_msg=user_msg,
                chat_history=chat_history,
                verbose=verbose,
                allow_parallel_tool_calls=allow_parallel_tool_calls,
                tool_required=tool_required,
                **kwargs,
            )
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role="user", content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        return {"messages": messages}

    def _validate_chat_with_tools_response(
        self, response: ChatResponse, tools: Sequence[BaseTool], allow_parallel_tool_calls: bool = False, **kwargs: Any
    ) -> ChatResponse:
        """The inner model's validation of a (scanned) response to a chat with tools."""
        if isinstance(self._inner, FunctionCallingLLM):
            return self._inner._validate_chat_with_tools_response(
                response, tools, allow_parallel_tool_calls=allow_parallel_tool_calls, **kwargs
            )
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The tool calls in ``response``, read by the inner model.

        Raises:
            ValueError: The inner model is not a function-calling model (it calls no tools)
                and ``error_on_no_tool_call`` is true.
        """
        if isinstance(self._inner, FunctionCallingLLM):
            return self._inner.get_tool_calls_from_response(
                response, error_on_no_tool_call=error_on_no_tool_call, **kwargs
            )
        if error_on_no_tool_call:
            raise ValueError(f"{type(self._inner).__name__} is not a function-calling model: no tool calls")
        return []

    # -- shared logic ----------------------------------------------------------------------------

    def _check(self, text: _Text) -> aispm.TextDecision:
        """The session's decision on ``text``: remembered, else made now (and remembered if it passes)."""
        decision = recall(self._guard, text.source, text.origin, text.text)
        if decision is None:
            decision = self._remember(text, self._guard.prompt.check(text.text, source=text.source, origin=text.origin))
        return decision

    async def _acheck(self, text: _Text) -> aispm.TextDecision:
        decision = recall(self._guard, text.source, text.origin, text.text)
        if decision is None:
            checked = await self._guard.prompt.acheck(text.text, source=text.source, origin=text.origin)
            decision = self._remember(text, checked)
        return decision

    def _remember(self, text: _Text, decision: aispm.TextDecision) -> aispm.TextDecision:
        """Remember a decision the text passes with (any, in monitor mode; a deny blocks, so it is decided again)."""
        if decision.allowed or self._guard.mode == "monitor":
            remember(self._guard, text.source, text.origin, text.text, decision)
        return decision

    def _enforced(self, decisions: Sequence[aispm.TextDecision]) -> bool:
        """Whether ``decisions`` are to be applied (enforce mode); raise `Blocked` for the first deny."""
        if self._guard.mode == "monitor":
            return False
        for decision in decisions:
            if not decision.allowed:
                raise aispm.Blocked(decision)
        return True

    def _messages(
        self, messages: Sequence[ChatMessage], texts: list[_Text], decisions: list[aispm.TextDecision]
    ) -> Sequence[ChatMessage]:
        """What the model is sent: ``messages``, or new messages with redacted text; raise on a deny."""
        if not self._enforced(decisions):
            return messages
        changed = {t.index: d.text for t, d in zip(texts, decisions, strict=True) if d.text != t.text}
        return (
            [_with_text(m, changed[i]) if i in changed else m for i, m in enumerate(messages)] if changed else messages
        )

    def _prompt(self, prompt: str, decision: aispm.TextDecision) -> str:
        """What the model is prompted with: ``prompt``, or its redacted text; raise on a deny."""
        return decision.text if self._enforced([decision]) else prompt

    def _answer(self, response: _R, decision: aispm.TextDecision) -> _R:
        """What the caller gets: ``response``, or a new one with redacted text; raise on a deny."""
        if not self._enforced([decision]) or decision.text == _text_of(response):
            return response
        return _rebuilt(response, decision.text if response.delta is not None else None, decision.text)


def guard_llm(guard: aispm.Guard, llm: LLM) -> GuardedLLM:
    """Wrap ``llm`` so its inputs are checked by ``guard.prompt`` and its outputs scanned by ``guard.output``.

    Args:
        guard: The guard that decides (its mode says whether to enforce or only report).
        llm: Any LlamaIndex LLM; it is not changed. A function-calling model stays one.

    Returns:
        The guarded LLM, usable wherever ``llm`` was (``Settings.llm``, engines, agents).

    Raises:
        TypeError: ``llm`` is not a LlamaIndex ``LLM``.

    Example::

        llm = guard_llm(guard, MockLLM())
        with guard.session(user="alice"):
            llm.complete("Hello")  # raises aispm.Blocked on a denied prompt (enforce mode)
    """
    if not isinstance(llm, LLM):
        raise TypeError(f"guard_llm needs a LlamaIndex LLM, got {type(llm).__name__}")
    return GuardedLLM(guard, llm)


# --- messages -------------------------------------------------------------------------------------


def _texts(messages: Sequence[ChatMessage]) -> list[_Text]:
    """Every text of ``messages`` that enters the model, with the index of its message."""
    carriers = [i for i, message in enumerate(messages) if message.content]  # as `message_texts` keeps them
    found = message_texts(messages)
    return [_Text(i, s, o, t) for i, (s, o, t) in zip(carriers, found, strict=True)]
