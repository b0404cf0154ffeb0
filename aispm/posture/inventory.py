"""`Inventory`: a live, in-process record of what a guard protects.

Guards add to it as they meet things: agents seen in sessions, tools declared
with ``@guard.tool`` (with their risk level), functions wrapped with
``@guard.protect``. It is exported as JSON for posture tooling.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from .._clock import Clock, utc_now

__all__ = ["AgentRecord", "FunctionRecord", "Inventory", "ToolRecord"]


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent seen in a guard session."""

    name: str
    first_seen: datetime
    last_seen: datetime
    sessions: int
    users: tuple[str, ...]
    delegates_to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToolRecord:
    """A tool declared with ``@guard.tool``."""

    name: str
    risk: str
    module: str
    qualname: str
    kind: str
    description: str


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    """A function wrapped with ``@guard.protect``."""

    name: str
    module: str
    kind: str


_MAX_USERS_PER_AGENT = 100  # an inventory, not a log: bound what one agent can make it hold


class Inventory:
    """Thread-safe record of agents, tools and protected functions. Get it as ``guard.inventory``."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._agents: dict[str, AgentRecord] = {}
        self._tools: dict[str, ToolRecord] = {}
        self._functions: dict[str, FunctionRecord] = {}

    def record_agent(self, name: str, *, user: str | None, parent: str | None = None) -> None:
        """Record that ``name`` acted for ``user``, delegated to by agent ``parent`` if any."""
        now = self._clock()
        with self._lock:
            known = self._agents.get(name)
            if known is None:
                known = AgentRecord(name, now, now, 0, (), ())
            users = known.users
            if user is not None and user not in users and len(users) < _MAX_USERS_PER_AGENT:
                users = (*users, user)
            self._agents[name] = replace(known, last_seen=now, sessions=known.sessions + 1, users=users)
            if parent is not None and parent in self._agents:
                up = self._agents[parent]
                if name not in up.delegates_to:
                    self._agents[parent] = replace(up, delegates_to=(*up.delegates_to, name))

    def record_tool(self, record: ToolRecord) -> None:
        """Record a declared tool (the last declaration of a name wins)."""
        with self._lock:
            self._tools[record.name] = record

    def record_function(self, record: FunctionRecord) -> None:
        """Record a protected function."""
        with self._lock:
            self._functions[f"{record.module}.{record.name}"] = record

    @property
    def agents(self) -> dict[str, AgentRecord]:
        """Agents seen so far, by name (a copy)."""
        with self._lock:
            return dict(self._agents)

    @property
    def tools(self) -> dict[str, ToolRecord]:
        """Declared tools, by name (a copy)."""
        with self._lock:
            return dict(self._tools)

    @property
    def functions(self) -> dict[str, FunctionRecord]:
        """Protected functions, by qualified name (a copy)."""
        with self._lock:
            return dict(self._functions)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot: ``{"agents": [...], "tools": [...], "functions": [...]}``, sorted by name."""
        with self._lock:
            agents = sorted(self._agents.values(), key=lambda r: r.name)
            tools = sorted(self._tools.values(), key=lambda r: r.name)
            functions = sorted(self._functions.values(), key=lambda r: (r.module, r.name))
        return {
            "agents": [_jsonable(asdict(a)) for a in agents],
            "tools": [asdict(t) for t in tools],
            "functions": [asdict(f) for f in functions],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The snapshot of `to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out
