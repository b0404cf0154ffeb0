"""`Inventory`: a live, in-process record of what a guard protects.

Guards add to it as they meet things: agents seen in sessions, tools declared
with ``@guard.tool`` (with their risk level), functions wrapped with
``@guard.protect``. It is exported as JSON for posture tooling.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from .._clock import Clock, utc_now

__all__ = ["AgentRecord", "FunctionRecord", "Inventory", "McpServerRecord", "ToolRecord"]


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


@dataclass(frozen=True, slots=True)
class McpServerRecord:
    """An MCP server a guarded client connected to, and the tool definitions it listed.

    ``tools`` pairs each tool's name with the SHA-256 fingerprint of its definition as the
    model sees it (see ``aispm_mcp``); a changed fingerprint is a changed tool.
    """

    name: str
    transport: str
    target: str
    version: str | None
    protocol_version: str | None
    tools: tuple[tuple[str, str], ...]
    first_seen: datetime
    last_seen: datetime
    connections: int


_MAX_USERS_PER_AGENT = 100  # an inventory, not a log: bound what one agent can make it hold


class Inventory:
    """Thread-safe record of agents, tools and protected functions. Get it as ``guard.inventory``."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._agents: dict[str, AgentRecord] = {}
        self._tools: dict[str, ToolRecord] = {}
        self._functions: dict[str, FunctionRecord] = {}
        self._mcp_servers: dict[str, McpServerRecord] = {}

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

    def record_mcp_server(
        self,
        name: str,
        *,
        transport: str,
        target: str,
        version: str | None = None,
        protocol_version: str | None = None,
        tools: Iterable[tuple[str, str]] | None = None,
        connected: bool = False,
    ) -> None:
        """Record an MCP server: a connection (``connected=True``), or a new listing of its ``tools``.

        ``tools`` replaces the tools last recorded (``None`` keeps them). ``target`` is the
        command line or the URL; never put credentials in it.
        """
        now = self._clock()
        with self._lock:
            known = self._mcp_servers.get(name)
            listed = tuple(sorted(tools)) if tools is not None else (known.tools if known is not None else ())
            self._mcp_servers[name] = McpServerRecord(
                name=name,
                transport=transport,
                target=target,
                version=version if version is not None or known is None else known.version,
                protocol_version=protocol_version
                if protocol_version is not None or known is None
                else known.protocol_version,
                tools=listed,
                first_seen=known.first_seen if known is not None else now,
                last_seen=now,
                connections=(known.connections if known is not None else 0) + int(connected),
            )

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

    @property
    def mcp_servers(self) -> dict[str, McpServerRecord]:
        """MCP servers connected to, by name (a copy)."""
        with self._lock:
            return dict(self._mcp_servers)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot: ``{"agents": [...], "tools": [...], "functions": [...], "mcp_servers": [...]}``.

        Each list is sorted by name.
        """
        with self._lock:
            agents = sorted(self._agents.values(), key=lambda r: r.name)
            tools = sorted(self._tools.values(), key=lambda r: r.name)
            functions = sorted(self._functions.values(), key=lambda r: (r.module, r.name))
            servers = sorted(self._mcp_servers.values(), key=lambda r: r.name)
        return {
            "agents": [_jsonable(asdict(a)) for a in agents],
            "tools": [asdict(t) for t in tools],
            "functions": [asdict(f) for f in functions],
            "mcp_servers": [
                {**_jsonable(asdict(m)), "tools": [{"name": n, "sha256": h} for n, h in m.tools]} for m in servers
            ],
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
