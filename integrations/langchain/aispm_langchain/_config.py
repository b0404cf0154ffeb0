"""The principal of a LangChain run, from its ``RunnableConfig``, and one session per conversation.

A run can name who it acts for in ``config["configurable"]`` or ``config["metadata"]`` (the
first wins), under the keys of `CONFIG_KEYS`. Callbacks, middleware hooks, tools and
retrievers are called once per step, so a session opened per call would lose its taint, risk
and budgets between the steps of one agent run. Instead, outside any session the caller
opened, each guard keeps one session per principal and conversation (the run's
``thread_id``, when it has one) and resumes it at every step. Inside a session the caller
opened, the named principal extends that session (aispm's nesting rules apply: same user,
clearance and tenant; roles and groups only narrowed).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import aispm
from aispm.principals import resume_session

__all__ = ["CONFIG_KEYS", "MAX_SESSIONS", "principal_of", "session_from_config"]

CONFIG_KEYS = {
    "aispm_user": "user",
    "aispm_roles": "roles",
    "aispm_agent": "agent",
    "aispm_groups": "groups",
    "aispm_clearance": "clearance",
    "aispm_tenant": "tenant",
    "aispm_delegation": "delegation",
}
"""``RunnableConfig`` keys (in ``configurable`` or ``metadata``) and the `aispm.Guard.session` argument each sets."""

MAX_SESSIONS = 4096
"""Sessions a guard keeps for runs that name their principal; the least recently used go first."""

_Key = tuple[Any, ...]
_SESSIONS: weakref.WeakKeyDictionary[aispm.Guard, OrderedDict[_Key, aispm.Session]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def principal_of(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The session arguments a run's config names (empty when it names none)."""
    found: dict[str, Any] = {}
    if not config:
        return found
    for section in ("configurable", "metadata"):
        values = config.get(section)
        if not isinstance(values, Mapping):
            continue
        for key, argument in CONFIG_KEYS.items():
            if argument not in found and values.get(key) is not None:
                found[argument] = values[key]
    return found


def _thread(config: Mapping[str, Any]) -> object:
    for section in ("configurable", "metadata"):
        values = config.get(section)
        if isinstance(values, Mapping) and values.get("thread_id") is not None:
            return str(values["thread_id"])
    return None


def _key(arguments: Mapping[str, Any], thread: object) -> _Key:
    def frozen(value: Any) -> Any:
        return tuple(sorted(map(str, value))) if isinstance(value, (list, tuple, set, frozenset)) else value

    return (thread, *sorted((name, frozen(value)) for name, value in arguments.items()))


def _already(current: aispm.Session, arguments: Mapping[str, Any]) -> bool:
    """Whether ``current`` is already the session ``arguments`` name (so nesting would only repeat the agent)."""
    for name, value in arguments.items():
        have = getattr(current, "agent" if name == "agent" else name)
        if name in ("roles", "groups"):
            if isinstance(value, str) or frozenset(value) != have:
                return False
        elif have != value:
            return False
    return True


@contextlib.contextmanager
def session_from_config(guard: aispm.Guard, config: Mapping[str, Any] | None) -> Iterator[aispm.Session | None]:
    """Enter the session a run's config names; with none named, keep the current one (or none).

    Outside a session the caller opened, the same principal in the same conversation (``thread_id``)
    resumes the same session, so what one step taints the next step sees. Without a ``thread_id``,
    the runs of one principal share a session while it is kept (`MAX_SESSIONS`, least recently used
    dropped): a taint then outlives the run, which errs on the side of asking a human.

    Raises:
        PolicyError: The config names an invalid principal, or one a nested session may not
            become (another user, more roles).
    """
    arguments = principal_of(config)
    if not arguments:
        yield aispm.current_session()
        return
    current = aispm.current_session()
    if current is not None:
        if _already(current, arguments):  # an outer step (a middleware hook, a callback) entered it
            yield current
            return
        with guard.session(**arguments) as nested:  # the caller's session: extend it, as any nested session
            yield nested
        return
    key = _key(arguments, _thread(config or {}))
    with _LOCK:
        sessions = _SESSIONS.setdefault(guard, OrderedDict())
        known = sessions.get(key)
        if known is not None:
            sessions.move_to_end(key)
    if known is None:
        with guard.session(**arguments) as opened:  # validates the arguments; then kept for the next steps
            known = opened
        with _LOCK:
            known = sessions.setdefault(key, known)  # another thread may have opened it meanwhile
            while len(sessions) > MAX_SESSIONS:
                sessions.popitem(last=False)
    with resume_session(known):
        yield known
