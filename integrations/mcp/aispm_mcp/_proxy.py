"""`GuardedClient`: a guarded composition proxy for ``mcp.Client``, re-exported by `aispm_mcp.client`.

``mcp.Client`` builds its own ``ClientSession``, so it is wrapped rather than subclassed; the
proxy shares `aispm_mcp._guarding` with `GuardedClientSession`. What is guarded, and how, is
described in `aispm_mcp.client`. `_describe` derives the transport and target recorded in the
inventory from what the client connects to, without credentials.
"""

from __future__ import annotations

import shlex
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aispm
from aispm.identity import AgentIdentity

from ._guarding import OnChange, OnDeny, _Guarded, _Guarding
from .pins import ToolPins

try:
    from mcp import Client, StdioServerParameters
    from mcp.client.caching import CacheMode
    from mcp.server import Server
    from mcp.server.mcpserver import MCPServer
    from mcp.shared.dispatcher import ProgressFnT
    from mcp.types import CallToolResult, InputResponses, ListToolsResult, RequestParamsMeta
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.client") from None

__all__ = ["GuardedClient"]


class GuardedClient(_Guarded):
    """A guarded proxy for an ``mcp.Client``: tool listings screened, tool calls guarded.

    ``mcp.Client`` builds its own ``ClientSession``, so it is wrapped rather than subclassed:
    ``list_tools`` and ``call_tool`` are guarded, ``async with`` records the connection, and
    every other attribute is the client's (``read_resource``, ``server_info``, ...: unguarded).
    Listings always bypass the client's response cache.

    Args:
        client: The client to wrap, not yet entered.
        guard, server, pins, on_change, on_deny, identity, audience, max_result_bytes,
            call_timeout: As for `GuardedClientSession`.
        transport: For the inventory; by default derived from ``client.server`` (``"stdio"``,
            ``"streamable-http"``, ``"in-process"``, ``"custom"``).
        target: For the inventory; by default the command line, or the URL without user
            info, query or fragment.

    Raises:
        PolicyError: An argument is invalid.

    Example::

        async with GuardedClient(mcp.Client(url), guard=guard, server="files") as client:
            tools = await client.list_tools()
            result = await client.call_tool("read", {"path": "notes.txt"})
    """

    def __init__(
        self,
        client: Client,
        *,
        guard: aispm.Guard,
        server: str,
        transport: str | None = None,
        target: str | None = None,
        pins: ToolPins | None = None,
        on_change: OnChange = "hide",
        on_deny: OnDeny = "result",
        identity: AgentIdentity | None = None,
        audience: str | None = None,
        max_result_bytes: int = 1024 * 1024,
        call_timeout: float = 60.0,
    ) -> None:
        if not isinstance(client, Client):
            raise aispm.PolicyError(f"client must be an mcp.Client, got {type(client).__name__}")
        derived_transport, derived_target = _describe(client.server)
        self._client = client
        self._aispm = _Guarding(
            guard,
            server=server,
            transport=derived_transport if transport is None else transport,
            target=derived_target if target is None else target,
            pins=pins,
            on_change=on_change,
            on_deny=on_deny,
            identity=identity,
            audience=audience,
            max_result_bytes=max_result_bytes,
            call_timeout=call_timeout,
        )

    @property
    def client(self) -> Client:
        """The wrapped client; calling it directly bypasses the guard."""
        return self._client

    async def __aenter__(self) -> Self:
        """Connect (as ``mcp.Client``) and record the server in the guard's inventory."""
        await self._client.__aenter__()
        self._aispm.connected(self._client.server_info, self._client.protocol_version)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_val: BaseException | None, exc_tb: TracebackType | None
    ) -> None:
        """Disconnect (as ``mcp.Client``)."""
        await self._client.__aexit__(exc_type, exc_val, exc_tb)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_client", "_aispm"):
            raise AttributeError(name)
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"GuardedClient({self._client!r}, server={self._aispm.server!r})"

    async def list_tools(
        self, *, cursor: str | None = None, meta: RequestParamsMeta | None = None, cache_mode: CacheMode = "bypass"
    ) -> ListToolsResult:
        """List the server's tools, every page from ``cursor`` on, screened (see `aispm_mcp.client`).

        ``cache_mode`` is accepted for compatibility: a listing is always fetched from the server
        (``"bypass"``; ``"use"`` and ``"refresh"`` refresh the client's cache with it).

        Raises:
            TimeoutError: The listing took longer than ``call_timeout``.
            MCPError, ValidationError: As ``mcp.Client.list_tools``.
        """
        mode: CacheMode = "bypass" if cache_mode == "bypass" else "refresh"

        async def fetch(page: str | None) -> ListToolsResult:
            return await self._client.list_tools(cursor=page, meta=meta, cache_mode=mode)

        return await self._aispm.list_tools(fetch, cursor)

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        read_timeout_seconds: float | None = None,
        progress_callback: ProgressFnT | None = None,
        *,
        input_responses: InputResponses | None = None,
        request_state: str | None = None,
        meta: RequestParamsMeta | None = None,
    ) -> CallToolResult:
        """Authorise the call, send it (as ``mcp.Client.call_tool``) with a timeout, check its result.

        ``read_timeout_seconds`` defaults to ``call_timeout`` and bounds the whole call,
        input-required rounds included.

        Returns:
            The checked result; an error result when the call is denied (``on_deny="result"``)
            or fails (`ERROR_KEY` in its ``_meta`` says why).

        Raises:
            Blocked: The call, or its result, is denied and ``on_deny`` is ``"raise"``.
            RuntimeError: The client is not connected (use ``async with``).
            TypeError: ``arguments`` is not a mapping with string keys.
        """
        _ = self._client.session  # not connected: a usage error, raised before anything is decided

        async def send(timeout: float, wire_meta: RequestParamsMeta) -> CallToolResult:
            return await self._client.call_tool(
                name,
                arguments,
                read_timeout_seconds=timeout,
                progress_callback=progress_callback,
                input_responses=input_responses,
                request_state=request_state,
                meta=wire_meta,
            )

        return await self._aispm.call_tool(name, arguments, read_timeout_seconds, meta, send)


def _describe(server: object) -> tuple[str, str]:
    """The transport and target of what an ``mcp.Client`` connects to, for the inventory (no credentials)."""
    if isinstance(server, str):
        return "streamable-http", _public_url(server)
    if isinstance(server, StdioServerParameters):
        return "stdio", shlex.join([server.command, *server.args])
    if isinstance(server, MCPServer | Server):
        return "in-process", server.name
    return "custom", type(server).__name__


def _public_url(url: str) -> str:
    """``url`` without user info, query or fragment (where credentials hide); ``""`` when it does not parse."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}{parts.path}"
