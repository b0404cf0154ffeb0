"""The decision memo adapters keep per session: keyed by session, source, origin and a hash, bounded."""

from __future__ import annotations

import aispm
from aispm._session_memo import DecisionMemo


def test_nothing_is_remembered_outside_a_session() -> None:
    memo = DecisionMemo(4)
    decision = aispm.Guard().prompt.check("hello")
    key = DecisionMemo.key("user", None, "hello")
    assert key is None
    memo.put(key, decision)
    assert memo.get(key) is None


def test_a_text_is_remembered_per_session_source_and_origin_and_the_oldest_go_first() -> None:
    guard = aispm.Guard()
    memo = DecisionMemo(2)
    decision = guard.prompt.check("hello")
    with guard.session(user="ann"):
        one = DecisionMemo.key("tool", "search", "one")
        assert one is not None
        assert "one" not in one  # a hash, never the text
        memo.put(one, decision)
        assert memo.get(one) is decision
        assert memo.get(DecisionMemo.key("tool", "fetch", "one")) is None
        assert memo.get(DecisionMemo.key("user", None, "one")) is None
        memo.put(DecisionMemo.key("user", None, "two"), decision)
        assert memo.get(one) is decision  # used: now the most recent
        memo.put(DecisionMemo.key("user", None, "three"), decision)
        assert memo.get(DecisionMemo.key("user", None, "two")) is None
        assert memo.get(one) is decision
    with guard.session(user="ann"):
        assert memo.get(DecisionMemo.key("tool", "search", "one")) is None  # another session
