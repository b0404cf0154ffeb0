"""The principal of a run from its config, and one session per principal and conversation."""

from __future__ import annotations

import pytest
from aispm_langchain import _config
from aispm_langchain._config import principal_of, session_from_config

import aispm

from .conftest import GuardFactory


def test_the_principal_comes_from_configurable_then_metadata() -> None:
    config = {
        "configurable": {"aispm_user": "alice", "thread_id": "t1"},
        "metadata": {"aispm_user": "mallory", "aispm_roles": ["analyst"], "other": 1},
    }
    assert principal_of(config) == {"user": "alice", "roles": ["analyst"]}
    assert principal_of(None) == {}
    assert principal_of({"metadata": "not a mapping"}) == {}


def test_steps_of_one_conversation_share_a_session(make_guard: GuardFactory) -> None:
    guard = make_guard()
    one = {"metadata": {"aispm_user": "alice", "aispm_agent": "bot"}, "configurable": {"thread_id": "t1"}}
    other = {"metadata": {"aispm_user": "alice", "aispm_agent": "bot"}, "configurable": {"thread_id": "t2"}}
    with session_from_config(guard, one) as first:
        assert first is not None
        assert first.chain == ("user:alice", "agent:bot")
    with session_from_config(guard, one) as again:
        assert again is first  # the same session: its taint and budgets carry over
    with session_from_config(guard, other) as elsewhere:
        assert elsewhere is not None
        assert elsewhere.id != first.id
    with session_from_config(guard, {}) as none:
        assert none is None


def test_inside_the_callers_session_the_named_agent_extends_it(make_guard: GuardFactory) -> None:
    guard = make_guard()
    with guard.session(user="alice") as outer:
        with session_from_config(guard, {"metadata": {"aispm_user": "alice", "aispm_agent": "bot"}}) as inner:
            assert inner is not None
            assert inner.id == outer.id
            assert inner.chain == ("user:alice", "agent:bot")
            with session_from_config(guard, {"metadata": {"aispm_user": "alice", "aispm_agent": "bot"}}) as same:
                assert same is inner  # already there: not "agent:bot" twice
        with pytest.raises(aispm.PolicyError), session_from_config(guard, {"metadata": {"aispm_user": "bob"}}):
            pass


def test_kept_sessions_are_bounded(make_guard: GuardFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_config, "MAX_SESSIONS", 2)
    guard = make_guard()
    ids = []
    for user in ("a", "b", "c", "a"):
        with session_from_config(guard, {"metadata": {"aispm_user": user}}) as entered:
            assert entered is not None
            ids.append(entered.id)
    assert ids[0] != ids[3]  # "a" was dropped (least recently used) and opened again
    assert len(_config._SESSIONS[guard]) == 2
