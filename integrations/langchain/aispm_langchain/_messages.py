"""What a LangChain message is to the prompt guard: where its text comes from, and its texts.

One mapping for the callback handler, the LCEL guards and the agent middleware, so a message
is judged the same way wherever aispm meets it.
"""

from __future__ import annotations

from typing import Any, Final

from langchain_core.messages import BaseMessage

__all__ = ["content_texts", "role_source", "source_of"]

ROLE_SOURCES: Final = {
    "human": "user",
    "user": "user",
    "system": "system",
    "developer": "system",
    "ai": "model",
    "assistant": "model",
    "tool": "tool",
    "function": "tool",
}
"""Prompt-guard source per message ``type`` or ``ChatMessage.role``."""


def source_of(message: BaseMessage, user: str = "user") -> tuple[str, str | None]:
    """The prompt guard's ``source`` for a message, and its ``origin`` (a tool result's tool name).

    Human messages are ``user`` (or the ``user`` given: a runnable may say its input is tool
    text); system and developer messages ``system``; AI messages ``model``; tool and function
    results ``tool``. A message of any other kind or role is untrusted ``agent`` text.
    """
    kind = message.type
    role = getattr(message, "role", None) if kind == "chat" else kind
    source = role_source(role, user) if isinstance(role, str) else "agent"
    name = message.name
    origin = name if source in ("tool", "agent") and isinstance(name, str) and name else None
    return source, origin


def role_source(role: str, user: str = "user") -> str:
    """The source of a message ``type`` or role name (``("human", ...)`` pairs and role dicts too), as above."""
    source = ROLE_SOURCES.get(role.lower(), "agent")
    return user if source == "user" else source


def content_texts(content: str | list[str | dict[str, Any]]) -> list[str]:
    """The texts of a message's content: the string, or its text blocks in order (other blocks have none)."""
    if isinstance(content, str):
        return [content] if content else []
    texts = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
    return texts
