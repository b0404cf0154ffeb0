"""What a LlamaIndex chat message is to the prompt guard: where its text comes from, and its text.

One mapping for the guarded LLM, the engines and the instrumentation handler, so a message is
judged the same way wherever aispm meets it. A tool result names only its call id, so the tool's
name (the text's origin) is looked up in the assistant messages that made the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock

__all__ = ["ROLE_SOURCES", "message_texts", "role_source"]

ROLE_SOURCES: Final = {
    "user": "user",
    "system": "system",
    "developer": "system",
    "assistant": "model",
    "model": "model",
    "chatbot": "model",
    "tool": "tool",
    "function": "tool",
}
"""Prompt-guard source per `MessageRole` value; any other role is untrusted ``agent`` text."""


def role_source(role: object) -> str:
    """The prompt guard's source for a message role (a `MessageRole` or its value)."""
    value = getattr(role, "value", role)
    return ROLE_SOURCES.get(value.lower(), "agent") if isinstance(value, str) else "agent"


def _call_names(message: ChatMessage, names: dict[str, str]) -> None:
    """Remember the tool name of every call an assistant message makes, by call id."""
    for block in message.blocks:
        if isinstance(block, ToolCallBlock) and block.tool_call_id:
            names[block.tool_call_id] = block.tool_name
    calls: Any = message.additional_kwargs.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        call_id, function = _get(call, "id"), _get(call, "function")
        name = _get(function, "name") if function is not None else _get(call, "name")
        if isinstance(call_id, str) and isinstance(name, str):
            names[call_id] = name


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else getattr(value, key, None)


def message_texts(messages: Iterable[ChatMessage]) -> list[tuple[str, str | None, str]]:
    """``(source, origin, text)`` for every message with text, in order.

    Users are ``user``; system and developer messages ``system``; assistant messages ``model``;
    tool and function results untrusted ``tool`` text whose origin is the tool's name (from the
    call it answers, else the message's ``name``); any other role untrusted ``agent`` text.
    """
    names: dict[str, str] = {}
    found = []
    for message in messages:
        source = role_source(message.role)
        origin = None
        if source == "model":
            _call_names(message, names)
        elif source in ("tool", "agent"):
            extra = message.additional_kwargs
            call_id, name = extra.get("tool_call_id"), extra.get("name")
            origin = names.get(call_id) if isinstance(call_id, str) else None
            origin = origin or (name if isinstance(name, str) and name else None)
        text = message.content
        if text:
            found.append((source, origin, text))
    return found
