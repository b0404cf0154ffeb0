"""LCEL guards: runnables that check what enters the model and scan what leaves it, streams included.

Compose them with ``|``::

    chain = prompt_guard(guard) | prompt | model | output_guard(guard)

`PromptGuardRunnable` checks every text of its input (a string, a `PromptValue`, messages, or
a dict of them) with ``guard.prompt`` and passes the input on, redacted where the policy
redacts. `OutputGuardRunnable` scans the model's answer with ``guard.output``; streamed
(``stream``/``astream``), it scans chunk by chunk and holds back a tail, so a secret split
across chunks never reaches the caller. Agents streamed with ``stream_mode="messages"`` emit
the model's raw tokens before any middleware can redact them: stream them through
`guarded_agent_stream` instead.

In enforce mode a deny raises `aispm.Blocked`; in monitor mode every decision is reported and
the data passes unchanged. The principal comes from the run's config (see
`aispm_langchain._config`) or from the current ``guard.session(...)``.

Only the caller's stream is guarded: ``astream_events``/``astream_log`` and tracing callbacks
also see the model's own (raw) chunks.

The texts of answers and the scanned streams of their chunks live in
`aispm_langchain._output_streams`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForChainRun, CallbackManagerForChainRun
from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import ChatPromptValue, PromptValue, StringPromptValue
from langchain_core.runnables import Runnable, RunnableConfig

import aispm

from ._config import session_from_config
from ._messages import ROLE_SOURCES, role_source, source_of
from ._output_streams import AgentStreams, ChunkStream, text_of, with_text

__all__ = [
    "OutputGuardRunnable",
    "PromptGuardRunnable",
    "aguarded_agent_stream",
    "guarded_agent_stream",
    "output_guard",
    "prompt_guard",
]


# A text to check, where it came from, and the tool it came from (origin).
_Text = tuple[str, str, str | None]
# Maps one text to what replaces it: (text, source, origin) -> new text.
_Mapper = Callable[[str, str, str | None], str]


class PromptGuardRunnable(Runnable[Any, Any]):
    """Checks every text of its input with the prompt guard; passes the input on (redacted) or blocks.

    Accepts a ``str``, a `PromptValue`, one message, a list of messages, or a dict whose values
    are any of those (a prompt template's variables, or a graph state's ``messages``); other
    dict values pass unchecked. Messages are checked by role: system messages as
    ``system``, tool results as ``tool`` (untrusted, with the tool's name as origin), AI
    messages as ``model``, and everything else as ``source``.

    Args:
        guard: The guard whose prompt guard decides.
        source: Where plain text and human messages come from (default ``user``).

    Raises:
        PolicyError: ``source`` is not a source the prompt guard knows (when checking).
        Blocked: ``invoke``/``ainvoke``: a text is denied (enforce mode).
        TypeError: The input is of none of the accepted kinds.
    """

    def __init__(self, guard: aispm.Guard, *, source: str = "user") -> None:
        """Guard what enters the model with ``guard.prompt``."""
        self.guard = guard
        self.source = source

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Check ``input``; return it unchanged, or with redacted text.

        Raises:
            Blocked: A text is denied (enforce mode).
        """
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async twin of `invoke`."""
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _invoke(self, value: Any, run_manager: CallbackManagerForChainRun, config: RunnableConfig) -> Any:
        texts = _collect(value, self.source)
        with session_from_config(self.guard, config):
            results = [_enforce(self.guard, self.guard.prompt.check(t, source=s, origin=o)) for t, s, o in texts]
        return _replace(value, self.source, results)

    async def _ainvoke(self, value: Any, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig) -> Any:
        texts = _collect(value, self.source)
        with session_from_config(self.guard, config):
            results = [_enforce(self.guard, await self.guard.prompt.acheck(t, source=s, origin=o)) for t, s, o in texts]
        return _replace(value, self.source, results)


class OutputGuardRunnable(Runnable[Any, Any]):
    """Scans the model's answer with the output scanner: redacts it, or blocks it.

    Takes an `AIMessage` (any message) or a ``str`` and returns the same kind, with redacted
    text. Streamed, it takes message chunks or strings and yields the same kind, with only
    scanned text: the last characters are held back until more arrives (or the stream ends),
    so a secret split across chunks is still caught. One decision (one span) covers a stream.
    Text content is scanned; tool-call chunks and non-text content blocks pass on (tool calls
    are the tool authorizer's to judge).

    Args:
        guard: The guard whose output scanner decides.

    Raises:
        Blocked: The answer is denied (enforce mode); mid-stream, after the text released so far.
        TypeError: The input is not a message or a ``str``.
    """

    def __init__(self, guard: aispm.Guard) -> None:
        """Guard what leaves the model with ``guard.output``."""
        self.guard = guard

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Scan a whole answer; return it with redacted text.

        Raises:
            Blocked: The answer is denied (enforce mode).
        """
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async twin of `invoke`."""
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _invoke(self, value: Any, run_manager: CallbackManagerForChainRun, config: RunnableConfig) -> Any:
        text = text_of(value)
        with session_from_config(self.guard, config):
            return with_text(value, _enforce(self.guard, self.guard.output.scan(text)))

    async def _ainvoke(self, value: Any, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig) -> Any:
        text = text_of(value)
        with session_from_config(self.guard, config):
            return with_text(value, _enforce(self.guard, await self.guard.output.ascan(text)))

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Scan one answer as a stream of one chunk."""
        return self.transform(iter([input]), config, **kwargs)

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):
            yield chunk

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Yield the chunks of ``input`` with only scanned text, as it flows.

        Raises:
            Blocked: The stream is denied (enforce mode).
        """
        yield from self._transform_stream_with_config(input, self._transform, config, **kwargs)

    async def atransform(
        self,
        input: AsyncIterator[Any],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        async for chunk in self._atransform_stream_with_config(input, self._atransform, config, **kwargs):
            yield chunk

    def _transform(
        self, chunks: Iterator[Any], run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Iterator[Any]:
        stream = ChunkStream(self.guard, config)
        try:
            for chunk in chunks:
                yield from stream.feed(chunk)
            yield from stream.close()
        finally:
            stream.abandon()

    async def _atransform(
        self, chunks: AsyncIterator[Any], run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig
    ) -> AsyncIterator[Any]:
        stream = ChunkStream(self.guard, config)
        try:
            async for chunk in chunks:
                for out in stream.feed(chunk):
                    yield out
            for out in stream.close():
                yield out
        finally:
            stream.abandon()


def prompt_guard(guard: aispm.Guard, *, source: str = "user") -> PromptGuardRunnable:
    """A `PromptGuardRunnable` for ``guard``: put it before the prompt or the model."""
    return PromptGuardRunnable(guard, source=source)


def output_guard(guard: aispm.Guard) -> OutputGuardRunnable:
    """An `OutputGuardRunnable` for ``guard``: put it after the model."""
    return OutputGuardRunnable(guard)


def guarded_agent_stream(
    agent: Runnable[Any, Any],
    input: Any,
    guard: aispm.Guard,
    config: RunnableConfig | None = None,
    stream_mode: str | Sequence[str] = "messages",
) -> Iterator[Any]:
    """Stream an agent (a LangGraph graph, such as ``create_agent``'s) with its model's tokens scanned.

    A graph streamed with ``stream_mode="messages"`` yields the model's raw tokens as they
    are generated, before any middleware could redact the answer. This wraps
    ``agent.stream(input, config, stream_mode=stream_mode)`` and passes every AI message
    through the output scanner (one scan, one span, per message), holding back a tail as
    `OutputGuardRunnable` does. Items keep their shape: ``(chunk, metadata)``, or
    ``(mode, payload)`` when ``stream_mode`` is a list. Other messages (tool results) and the
    payloads of other modes (``updates``, ``values``: graph state, which the agent middleware
    redacts) pass unchanged.

    Raises:
        Blocked: A message is denied (enforce mode); the agent's stream is closed.
    """
    streams = AgentStreams(guard, config, stream_mode)
    try:
        for item in agent.stream(input, config, stream_mode=stream_mode):
            yield from streams.feed(item)
        yield from streams.close()
    finally:
        streams.abandon()


async def aguarded_agent_stream(
    agent: Runnable[Any, Any],
    input: Any,
    guard: aispm.Guard,
    config: RunnableConfig | None = None,
    stream_mode: str | Sequence[str] = "messages",
) -> AsyncIterator[Any]:
    """Async twin of `guarded_agent_stream`, over ``agent.astream``."""
    streams = AgentStreams(guard, config, stream_mode)
    try:
        async for item in agent.astream(input, config, stream_mode=stream_mode):
            for out in streams.feed(item):
                yield out
        for out in streams.close():
            yield out
    finally:
        streams.abandon()


# --- texts in inputs -------------------------------------------------------------------------


def _walk(value: Any, source: str, fn: _Mapper) -> Any:
    """Map every text of a prompt input through ``fn``; rebuild only what changed."""
    if isinstance(value, str):
        return fn(value, source, None)
    if isinstance(value, BaseMessage):
        role, origin = source_of(value, source)
        content = _map_content(value.content, lambda text: fn(text, role, origin))
        return value if content is value.content else value.model_copy(update={"content": content})
    if isinstance(value, StringPromptValue):
        text = fn(value.text, source, None)
        return value if text == value.text else StringPromptValue(text=text)
    if isinstance(value, ChatPromptValue):
        messages = _walk(value.messages, source, fn)
        return value if messages is value.messages else ChatPromptValue(messages=messages)
    if isinstance(value, PromptValue):
        raise TypeError(f"unsupported prompt value {type(value).__name__}; convert it to messages first")
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ROLE_SOURCES:  # ("human", content)
        role = role_source(value[0], source)
        content = _map_content(value[1], lambda text: fn(text, role, None))
        return value if content is value[1] else (value[0], content)
    if isinstance(value, Mapping) and isinstance(value.get("role"), str) and "content" in value:  # a message dict
        role = role_source(value["role"], source)
        content = _map_content(value["content"], lambda text: fn(text, role, None))
        return value if content is value["content"] else {**value, "content": content}
    if isinstance(value, Mapping):
        items = {key: _walk_item(item, source, fn) for key, item in value.items()}
        return value if all(items[k] is value[k] for k in items) else {**value, **items}
    if isinstance(value, list | tuple):
        new = [_walk(item, source, fn) for item in value]
        return value if all(a is b for a, b in zip(new, value, strict=True)) else type(value)(new)
    raise TypeError(f"cannot check a prompt of type {type(value).__name__}")


def _walk_item(value: Any, source: str, fn: _Mapper) -> Any:
    """A dict value: texts and messages are checked, anything else passes unchecked."""
    if (
        _is_message_like(value)
        or isinstance(value, PromptValue)
        or (isinstance(value, list) and all(_is_message_like(m) for m in value))
    ):
        return _walk(value, source, fn)
    return value


def _is_message_like(value: Any) -> bool:
    """A text, a message, a ``(role, content)`` pair or a ``{"role": ..., "content": ...}`` dict."""
    if isinstance(value, str | BaseMessage):
        return True
    if isinstance(value, tuple):
        return len(value) == 2 and value[0] in ROLE_SOURCES
    return isinstance(value, Mapping) and isinstance(value.get("role"), str) and "content" in value


def _map_content(content: str | list[str | dict[str, Any]], fn: Callable[[str], str]) -> Any:
    """Map the text of message content (a string, or text blocks); ``content`` itself when unchanged."""
    if isinstance(content, str):
        text = fn(content)
        return content if text == content else text
    blocks: list[str | dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            blocks.append(fn(block))
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            text = fn(block["text"])
            blocks.append(block if text == block["text"] else {**block, "text": text})
        else:
            blocks.append(block)
    return content if all(a is b or a == b for a, b in zip(blocks, content, strict=True)) else blocks


def _collect(value: Any, source: str) -> list[_Text]:
    texts: list[_Text] = []

    def record(text: str, role: str, origin: str | None) -> str:
        texts.append((text, role, origin))
        return text

    _walk(value, source, record)
    return texts


def _replace(value: Any, source: str, results: list[str | None]) -> Any:
    """``value`` with the checked texts in place (``None``: keep the original)."""
    if all(r is None for r in results):
        return value
    it = iter(results)

    def put(text: str, role: str, origin: str | None) -> str:
        new = next(it)
        return text if new is None else new

    return _walk(value, source, put)


def _enforce(guard: aispm.Guard, decision: aispm.TextDecision) -> str | None:
    """The text a decision lets pass (``None``: unchanged); raise `Blocked` on a deny in enforce mode."""
    if guard.mode == "monitor":
        return None
    if not decision.allowed:
        raise aispm.Blocked(decision)
    return decision.text if decision.action is aispm.Action.REDACT else None
