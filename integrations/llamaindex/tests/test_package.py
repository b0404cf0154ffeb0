"""The package's shared pieces: lazy exports, the message-to-source mapping, the session memo."""

from __future__ import annotations

import aispm_llamaindex
import pytest
from aispm_llamaindex import _memo
from aispm_llamaindex._messages import message_texts, role_source
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, ToolCallBlock

import aispm


def test_exports_are_lazy_and_listed() -> None:
    assert set(aispm_llamaindex.__all__) <= set(dir(aispm_llamaindex))
    assert aispm_llamaindex.guard_tool.__name__ == "guard_tool"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = aispm_llamaindex.nope


def test_roles_map_to_sources() -> None:
    assert [role_source(r) for r in ("user", "SYSTEM", "developer", "assistant", "tool", "function", "critic", 3)] == [
        "user",
        "system",
        "system",
        "model",
        "tool",
        "tool",
        "agent",
        "agent",
    ]


def test_tool_results_are_named_by_the_call_they_answer() -> None:
    messages = [
        ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_call_id="a", tool_name="search", tool_kwargs={})]),
        ChatMessage(
            role="assistant",
            content="",
            additional_kwargs={
                "tool_calls": [
                    {"id": "b", "function": {"name": "fetch", "arguments": "{}"}},
                    {"id": "c", "name": "lookup"},
                    {"id": 7, "name": "ignored"},
                ]
            },
        ),
        ChatMessage(role="tool", content="from search", additional_kwargs={"tool_call_id": "a"}),
        ChatMessage(role="tool", content="from fetch", additional_kwargs={"tool_call_id": "b"}),
        ChatMessage(role="tool", content="from lookup", additional_kwargs={"tool_call_id": "c"}),
        ChatMessage(role="function", content="named", additional_kwargs={"name": "calc"}),
        ChatMessage(role="tool", content="unknown call", additional_kwargs={"tool_call_id": "zzz"}),
        ChatMessage(role="user", blocks=[ImageBlock(url="https://example.com/x.png")]),
    ]
    assert message_texts(messages) == [
        ("tool", "search", "from search"),
        ("tool", "fetch", "from fetch"),
        ("tool", "lookup", "from lookup"),
        ("tool", "calc", "named"),
        ("tool", None, "unknown call"),
    ]


def test_the_memo_keeps_the_most_recent_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = aispm.Guard()
    monkeypatch.setattr(_memo, "MEMO_SIZE", 2)
    decision = guard.prompt.check("hello")
    assert _memo.recall(guard, "user", None, "one") is None  # nothing outside a session
    _memo.remember(guard, "user", None, "one", decision)
    with guard.session(user="ann"):
        for text in ("one", "two", "three"):
            _memo.remember(guard, "user", None, text, decision)
        assert _memo.recall(guard, "user", None, "one") is None  # the oldest went first
        assert _memo.recall(guard, "user", None, "three") is decision
        assert _memo.recall(guard, "tool", "search", "three") is None  # another source is another text
