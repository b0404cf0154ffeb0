"""A fake tool-calling chat model for the adapter's tests (langchain-core ships none).

`FakeToolCallingModel` replays scripted `AIMessage`s (with or without tool calls), accepts
``bind_tools`` (returning itself, so ``create_agent`` can use it), records what it was sent in
``seen``, and streams tool calls as ``tool_call_chunks`` instead of dropping them.

Example::

    model = FakeToolCallingModel.script(
        tool_call("lookup", {"user_id": 1}),
        "The user is Alice.",
    )
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import GenericFakeChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field

__all__ = ["FakeToolCallingModel", "tool_call"]


def tool_call(name: str, args: dict[str, Any], call_id: str = "call_1", content: str = "") -> AIMessage:
    """An `AIMessage` that asks for one tool call."""
    return AIMessage(content=content, tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


class FakeToolCallingModel(GenericFakeChatModel):
    """`GenericFakeChatModel` that can be bound to tools and streams its tool calls."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)
    """The messages of every call, in order: what the model was shown."""

    @classmethod
    def script(cls, *replies: AIMessage | str) -> FakeToolCallingModel:
        """A model that answers with ``replies``, one per call."""
        return cls(messages=iter(replies))

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept any tools; the scripted replies decide which are called."""
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, stop=stop, run_manager=run_manager, **kwargs).generations[0].message
        content = message.content if isinstance(message.content, str) else message.text
        tokens = [t for t in re.split(r"(\s)", content) if t]
        calls = message.tool_calls if isinstance(message, AIMessage) else []
        for i, token in enumerate(tokens):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token, id=message.id))
            if run_manager is not None:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
            if i == len(tokens) - 1 and not calls:
                return
        if calls or not tokens:
            chunks = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i, "type": "tool_call_chunk"}
                for i, c in enumerate(calls)
            ]
            last = AIMessageChunk(content="", id=message.id, tool_call_chunks=chunks)  # type: ignore[arg-type]
            last.chunk_position = "last"
            chunk = ChatGenerationChunk(message=last)
            if run_manager is not None:
                run_manager.on_llm_new_token("", chunk=chunk)
            yield chunk
