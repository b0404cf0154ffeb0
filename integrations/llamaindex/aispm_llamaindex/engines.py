"""Guarded query and chat engines: the prompt guard on what the user asks, the output scanner on the answer.

`GuardedQueryEngine` and `GuardedChatEngine` wrap any LlamaIndex query or chat engine (build them
with `guard_query_engine` / `guard_chat_engine`). The query or message is checked with
``guard.prompt`` before the inner engine runs (a deny raises `aispm.Blocked`; a redaction
rewrites what the inner engine gets), and the answer is scanned with ``guard.output`` (a deny
raises `aispm.Blocked`; a redaction rewrites the answer; source nodes and metadata are kept).
Streamed answers (``streaming=True`` query engines, ``stream_chat``/``astream_chat``) yield
only scanned text: the scanner holds back a tail, so a secret split across chunks is still
caught, and one decision (one span) covers a stream. In monitor mode every decision is
reported and nothing is blocked or rewritten.

What they cannot do: they see the user's text and the final answer, not what happens in
between; filter retrieved nodes with `AispmNodePostprocessor` and wrap the model with the
guarded LLM for that. A ``chat_history`` passed to a chat engine is not checked (the guarded
LLM checks every message the model gets). The inner chat engine's memory keeps the model's
raw answer; `GuardedChatEngine.chat_history` shows its assistant messages as the scanner let
them pass.

The stream scanning (and the chat engine's streamed response) lives in
`aispm_llamaindex._engine_streams`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from typing import Final, cast

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.llms.types import ChatMessage, TextBlock
from llama_index.core.base.response.schema import (
    RESPONSE_TYPE,
    AsyncStreamingResponse,
    PydanticResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.chat_engine.types import (
    AGENT_CHAT_RESPONSE_TYPE,
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import QueryBundle
from pydantic import BaseModel

import aispm
from aispm.policy import SOURCES

from ._engine_streams import Scan, ScannedChatResponse, ascanned_stream, scanned_stream
from ._memo import recall, remember
from ._messages import role_source
from ._scope import guarding

__all__ = ["GuardedChatEngine", "GuardedQueryEngine", "guard_chat_engine", "guard_query_engine"]

SHOWN_SIZE: Final = 1024
"""Assistant answers whose shown form a `GuardedChatEngine` remembers for ``chat_history``."""


class GuardedQueryEngine(BaseQueryEngine):
    """A query engine whose queries pass the prompt guard and whose answers pass the output scanner.

    ``query``/``aquery`` check the query text with ``guard.prompt`` (as ``source`` text), run
    the inner engine on it (redacted where the policy redacts) and scan the answer with
    ``guard.output``: a `Response` gets the redacted text (source nodes and metadata kept), a
    `PydanticResponse` a model rebuilt from its redacted JSON, and a `StreamingResponse` /
    `AsyncStreamingResponse` a generator of scanned text only. The principal is the current
    ``guard.session(...)``.

    Args:
        guard: The guard whose prompt guard and output scanner decide.
        engine: The query engine to guard; never changed.
        source: Where the query text comes from (``user``; ``agent`` for an engine an agent calls).

    Raises:
        PolicyError: ``source`` is not a source the prompt guard knows.
    """

    def __init__(self, guard: aispm.Guard, engine: BaseQueryEngine, *, source: str = "user") -> None:
        """Guard ``engine``'s queries and answers with ``guard``."""
        self.guard = guard
        self.engine = engine
        self.source = _source(source)
        super().__init__(callback_manager=getattr(engine, "callback_manager", None))

    def _get_prompt_modules(self) -> PromptMixinType:
        return {"engine": self.engine}

    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        """Check the query, run the inner engine, scan its answer.

        Raises:
            aispm.Blocked: The query or the answer is denied (enforce mode); mid-stream for streams.
        """
        text = _checked(self.guard, query_bundle.query_str, self.source)
        with guarding():
            response = self.engine.query(_with_query(query_bundle, text))
        streamed = self._streamed(response)
        if streamed is not None:
            return streamed
        whole, answer = _whole(response)
        return whole if answer is None else _answered(self.guard, whole, answer, self.guard.output.scan(answer))

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        """Async twin of `_query`."""
        text = await _achecked(self.guard, query_bundle.query_str, self.source)
        with guarding():
            response = await self.engine.aquery(_with_query(query_bundle, text))
        streamed = self._streamed(response)
        if streamed is not None:
            return streamed
        whole, answer = _whole(response)
        if answer is None:
            return whole
        return _answered(self.guard, whole, answer, await self.guard.output.ascan(answer))

    def _streamed(self, response: RESPONSE_TYPE) -> RESPONSE_TYPE | None:
        """A streamed answer whose generator yields scanned text only; ``None`` for a whole answer."""
        if isinstance(response, StreamingResponse):
            chunks = response.response_gen if response.response_txt is None else iter([response.response_txt])
            return StreamingResponse(
                response_gen=scanned_stream(Scan(self.guard), chunks),
                source_nodes=response.source_nodes,
                metadata=response.metadata,
            )
        if isinstance(response, AsyncStreamingResponse):
            # Its own generator, so that closing ours closes it; its text when it was already read.
            achunks = response.response_gen if response.response_txt is None else response.async_response_gen()
            return AsyncStreamingResponse(
                response_gen=ascanned_stream(Scan(self.guard), achunks),
                source_nodes=response.source_nodes,
                metadata=response.metadata,
            )
        return None


class GuardedChatEngine(BaseChatEngine):
    """A chat engine whose messages pass the prompt guard and whose answers pass the output scanner.

    ``chat``/``achat`` check the message with ``guard.prompt`` (as ``source`` text), run the
    inner engine on it (redacted where the policy redacts) and return its answer with the
    scanned text. ``stream_chat``/``astream_chat`` return a `StreamingAgentChatResponse` whose
    ``response_gen``, ``async_response_gen()`` and final ``response`` hold scanned text only.
    The principal is the current ``guard.session(...)``.

    Args:
        guard: The guard whose prompt guard and output scanner decide.
        engine: The chat engine to guard; its memory holds the conversation.
        source: Where the message text comes from (``user``).

    Raises:
        PolicyError: ``source`` is not a source the prompt guard knows.
    """

    def __init__(self, guard: aispm.Guard, engine: BaseChatEngine, *, source: str = "user") -> None:
        """Guard ``engine``'s messages and answers with ``guard``."""
        self.guard = guard
        self.engine = engine
        self.source = _source(source)
        self._shown: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AGENT_CHAT_RESPONSE_TYPE:
        """Check ``message``, run the inner engine, scan its answer.

        Raises:
            aispm.Blocked: The message or the answer is denied (enforce mode).
        """
        text = _checked(self.guard, message, self.source)
        with guarding():
            response = self.engine.chat(text, chat_history)
        if isinstance(response, StreamingAgentChatResponse):
            return ScannedChatResponse(self.guard, self._record, response)
        return self._answered(response, self.guard.output.scan(response.response))

    async def achat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AGENT_CHAT_RESPONSE_TYPE:
        """Async twin of `chat`."""
        text = await _achecked(self.guard, message, self.source)
        with guarding():
            response = await self.engine.achat(text, chat_history)
        if isinstance(response, StreamingAgentChatResponse):
            return ScannedChatResponse(self.guard, self._record, response)
        return self._answered(response, await self.guard.output.ascan(response.response))

    def stream_chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> StreamingAgentChatResponse:
        """Check ``message``, start the inner engine's stream; the response yields scanned text only.

        Raises:
            aispm.Blocked: The message is denied (enforce mode); from the response's generators,
                the answer is denied (after the text released so far).
        """
        text = _checked(self.guard, message, self.source)
        with guarding():  # the inner engine's writer thread or task copies this context
            response = self.engine.stream_chat(text, chat_history)
        return ScannedChatResponse(self.guard, self._record, response)

    async def astream_chat(
        self, message: str, chat_history: list[ChatMessage] | None = None
    ) -> StreamingAgentChatResponse:
        """Async twin of `stream_chat`; consume it with ``async_response_gen()``."""
        text = await _achecked(self.guard, message, self.source)
        with guarding():
            response = await self.engine.astream_chat(text, chat_history)
        return ScannedChatResponse(self.guard, self._record, response)

    def reset(self) -> None:
        """Reset the inner engine's conversation."""
        self.engine.reset()
        with self._lock:
            self._shown.clear()

    @property
    def chat_history(self) -> list[ChatMessage]:
        """The inner engine's history, its assistant messages as the output scanner lets them pass.

        An answer this wrapper returned shows as it was returned (redacted; empty when
        denied). Any other assistant message is scanned once, when first seen here. In
        monitor mode the history is the inner engine's, unchanged.
        """
        history = self.engine.chat_history
        if self.guard.mode == "monitor":
            return history
        return [self._shown_message(message) for message in history]

    def _answered(self, response: AgentChatResponse, decision: aispm.TextDecision) -> AgentChatResponse:
        if self.guard.mode == "enforce":
            self._record(response.response, decision.text if decision.allowed else "")
        text = _enforced(self.guard, decision, response.response)
        return response if text == response.response else dataclasses.replace(response, response=text)

    def _record(self, raw: str, shown: str) -> None:
        """Remember how an answer was shown, for ``chat_history`` (keyed by a hash of its raw text)."""
        key = _digest(raw.strip())
        with self._lock:
            self._shown[key] = shown.strip()
            self._shown.move_to_end(key)
            while len(self._shown) > SHOWN_SIZE:
                self._shown.popitem(last=False)

    def _shown_message(self, message: ChatMessage) -> ChatMessage:
        content = message.content
        if role_source(message.role) != "model" or not content:
            return message
        with self._lock:
            shown = self._shown.get(_digest(content.strip()))
        if shown is None:
            decision = self.guard.output.scan(content)
            shown = decision.text if decision.allowed else ""
            self._record(content, shown)
        if shown == content.strip():
            return message
        rest = [block for block in message.blocks if not isinstance(block, TextBlock)]
        return message.model_copy(update={"blocks": ([TextBlock(text=shown)] if shown else []) + rest})


# --- texts in, answers out ---------------------------------------------------------------------


def _source(source: str) -> str:
    if source not in SOURCES:
        raise aispm.PolicyError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return source


def _checked(guard: aispm.Guard, text: str, source: str) -> str:
    """``text`` as it may reach the inner engine (redacted); raise `Blocked` on a deny (enforce mode)."""
    decision = recall(guard, source, None, text)
    if decision is None:
        decision = _remembered(guard, source, text, guard.prompt.check(text, source=source))
    return _enforced(guard, decision, text)


async def _achecked(guard: aispm.Guard, text: str, source: str) -> str:
    """Async twin of `_checked`."""
    decision = recall(guard, source, None, text)
    if decision is None:
        decision = _remembered(guard, source, text, await guard.prompt.acheck(text, source=source))
    return _enforced(guard, decision, text)


def _remembered(guard: aispm.Guard, source: str, text: str, decision: aispm.TextDecision) -> aispm.TextDecision:
    if decision.allowed:  # a denied text is decided (and reported) again
        remember(guard, source, None, text, decision)
    return decision


def _enforced(guard: aispm.Guard, decision: aispm.TextDecision, text: str) -> str:
    """The text a decision lets pass (``text`` itself in monitor mode); raise `Blocked` on a deny."""
    if guard.mode == "monitor":
        return text
    if not decision.allowed:
        raise aispm.Blocked(decision)
    return decision.text if decision.action is aispm.Action.REDACT else text


def _with_query(bundle: QueryBundle, text: str) -> QueryBundle:
    """``bundle`` asking ``text`` instead (a new bundle; its embedding was of the old text)."""
    if text == bundle.query_str:
        return bundle
    embed = bundle.custom_embedding_strs
    if embed is not None:
        embed = [text if s == bundle.query_str else s for s in embed]
    return dataclasses.replace(bundle, query_str=text, custom_embedding_strs=embed, embedding=None)


def _whole(response: RESPONSE_TYPE) -> tuple[Response | PydanticResponse, str | None]:
    """A whole answer and the text to scan in it (``None`` when it has none)."""
    if isinstance(response, Response):
        return response, response.response
    if isinstance(response, PydanticResponse):
        return response, None if response.response is None else response.response.model_dump_json()
    raise TypeError(f"cannot scan a query engine response of type {type(response).__name__}")


def _answered(
    guard: aispm.Guard, response: Response | PydanticResponse, answer: str, decision: aispm.TextDecision
) -> RESPONSE_TYPE:
    """``response`` with the scanned answer in place; raise `Blocked` on a deny (enforce mode)."""
    text = _enforced(guard, decision, answer)
    if text == answer:
        return response
    if isinstance(response, Response):
        return dataclasses.replace(response, response=text)
    model = cast(BaseModel, response.response)  # it had JSON to scan
    try:
        rebuilt = type(model).model_validate_json(text)
    except ValueError as exc:  # the redacted JSON no longer fits the model: nothing safe to return
        raise aispm.Blocked(decision, "output guard: redact (the structured answer cannot hold the redaction)") from exc
    return dataclasses.replace(response, response=rebuilt)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def guard_query_engine(guard: aispm.Guard, engine: BaseQueryEngine, *, source: str = "user") -> GuardedQueryEngine:
    """A `GuardedQueryEngine` around ``engine``: use it wherever ``engine`` was used."""
    return GuardedQueryEngine(guard, engine, source=source)


def guard_chat_engine(guard: aispm.Guard, engine: BaseChatEngine, *, source: str = "user") -> GuardedChatEngine:
    """A `GuardedChatEngine` around ``engine``: use it wherever ``engine`` was used."""
    return GuardedChatEngine(guard, engine, source=source)
