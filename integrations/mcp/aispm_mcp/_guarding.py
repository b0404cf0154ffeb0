"""The guard logic `GuardedClientSession` and `GuardedClient` share: one code path for both (see `aispm_mcp.client`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Literal, TypeVar, cast

import aispm
from aispm.identity import AgentIdentity

from . import _listing, _results
from ._meta import DELEGATION_KEY, PROOF_CALL, PROOF_KEY, call_digest
from ._results import Failure
from .pins import ToolPins

try:
    import anyio
    from mcp import MCPError
    from mcp.types import (
        CONNECTION_CLOSED,
        REQUEST_TIMEOUT,
        CallToolResult,
        Implementation,
        ListToolsResult,
        RequestParamsMeta,
    )
    from pydantic import ValidationError
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.client") from None

__all__ = ["MAX_PAGES", "OnChange", "OnDeny"]

_log = logging.getLogger("aispm")

OnChange = Literal["hide", "block"]
"""A changed tool is suspended either way; ``hide`` also removes it from listings, ``block`` keeps it listed."""

OnDeny = Literal["result", "raise"]
"""``result``: a denied call returns an error result (`DENIED`); ``raise``: `aispm.Blocked` propagates."""

MAX_PAGES: Final = 100
"""Most pages one guarded ``list_tools`` follows; the rest is left behind ``next_cursor``."""

_PROOF_TTL: Final = 60
_R = TypeVar("_R")


class _Guarding:
    """The guard logic both clients share: one code path for a session and for a ``mcp.Client``."""

    def __init__(
        self,
        guard: aispm.Guard,
        *,
        server: str,
        transport: str,
        target: str,
        pins: ToolPins | None,
        on_change: OnChange,
        on_deny: OnDeny,
        identity: AgentIdentity | None,
        audience: str | None,
        max_result_bytes: int,
        call_timeout: float,
    ) -> None:
        if not isinstance(guard, aispm.Guard):
            raise aispm.PolicyError(f"guard must be an aispm.Guard, got {type(guard).__name__}")
        if not isinstance(server, str) or not server:
            raise aispm.PolicyError("server must be a non-empty name (tools are authorised as 'server.tool')")
        if on_change not in ("hide", "block"):
            raise aispm.PolicyError(f"on_change must be 'hide' or 'block', got {on_change!r}")
        if on_deny not in ("result", "raise"):
            raise aispm.PolicyError(f"on_deny must be 'result' or 'raise', got {on_deny!r}")
        if pins is not None and not isinstance(pins, ToolPins):
            raise aispm.PolicyError(f"pins must be ToolPins, got {type(pins).__name__}")
        if identity is not None and (not isinstance(identity, AgentIdentity) or not identity.has_private_key):
            raise aispm.PolicyError("identity must be an AgentIdentity with its private key (it signs each call)")
        if isinstance(max_result_bytes, bool) or not isinstance(max_result_bytes, int) or max_result_bytes <= 0:
            raise aispm.PolicyError("max_result_bytes must be a positive int")
        if isinstance(call_timeout, bool) or not isinstance(call_timeout, int | float) or not call_timeout > 0:
            raise aispm.PolicyError("call_timeout must be a positive number of seconds")
        if not math.isfinite(call_timeout):
            raise aispm.PolicyError("call_timeout must be finite: a hung server must not hang the agent")
        self.guard = guard
        self.server = server
        self.transport = transport
        self.target = target
        self.pins = ToolPins() if pins is None else pins
        self.on_change: OnChange = on_change
        self.on_deny: OnDeny = on_deny
        self.identity = identity
        self.audience = server if audience is None else audience
        self.max_result_bytes = max_result_bytes
        self.call_timeout = float(call_timeout)
        self.seen: dict[str, str] = {}

    def connected(self, info: Implementation | None, protocol_version: str | None) -> None:
        """Record a connection to the server in the guard's inventory."""
        self.guard.inventory.record_mcp_server(
            self.server,
            transport=self.transport,
            target=self.target,
            version=info.version if info is not None else None,
            protocol_version=protocol_version,
            connected=True,
        )

    async def list_tools(
        self, fetch: Callable[[str | None], Awaitable[ListToolsResult]], cursor: str | None
    ) -> ListToolsResult:
        """Fetch every page from ``cursor`` on (bounded), screen the tools, record them; the visible listing."""
        start = cursor
        with anyio.fail_after(self.call_timeout):
            first = await fetch(cursor)
            tools = list(first.tools)
            cursor, pages = first.next_cursor, 1
            while cursor is not None and pages < MAX_PAGES:
                page = await fetch(cursor)
                tools.extend(page.tools)
                cursor, pages = page.next_cursor, pages + 1
        if cursor is not None:
            _log.warning("aispm: MCP server %s lists more than %d pages of tools", self.server, MAX_PAGES)
        screened = _listing.screen(self.guard, self.server, tools, self.pins, on_change=self.on_change)
        self.seen.update(screened.fingerprints)
        if start is None and cursor is None:
            self.guard.inventory.record_mcp_server(
                self.server, transport=self.transport, target=self.target, tools=screened.fingerprints.items()
            )
        return first.model_copy(update={"tools": screened.visible, "next_cursor": cursor})

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None,
        read_timeout_seconds: float | None,
        meta: RequestParamsMeta | None,
        send: Callable[[float, RequestParamsMeta], Awaitable[_R]],
    ) -> _R | CallToolResult:
        """Authorise, send with a timeout, check the result; failures become error results."""
        qualified = f"{self.server}.{name}"
        try:
            await self.guard.tools.aauthorize(qualified, arguments)
        except aispm.Blocked:
            if self.on_deny == "raise":
                raise
            return _results.denied()
        wire_meta = self._meta(name, arguments, meta)
        timeout = self.call_timeout if read_timeout_seconds is None else read_timeout_seconds
        try:
            with anyio.fail_after(timeout):
                result = await send(timeout, wire_meta)
        except TimeoutError:
            return _results.failed("timeout", qualified)
        except MCPError as exc:
            kind: Failure = (
                "timeout"
                if exc.code == REQUEST_TIMEOUT
                else "connection_closed"
                if exc.code == CONNECTION_CLOSED
                else "server_error"
            )
            return _results.failed(kind, qualified, f"JSON-RPC error {exc.code}")
        except ValidationError:
            return _results.failed("invalid_result", qualified, "not a valid MCP result")
        except RuntimeError:  # mcp: structured content breaks the output schema, unexpected input request
            return _results.failed("invalid_result", qualified, "rejected by the MCP client")
        if not isinstance(result, CallToolResult):
            return result  # an input request round or an extension's claimed result: not a tool's output
        return await _results.checked(
            self.guard, qualified, result, max_bytes=self.max_result_bytes, raise_on_deny=self.on_deny == "raise"
        )

    def _meta(
        self, name: str, arguments: Mapping[str, Any] | None, meta: RequestParamsMeta | None
    ) -> RequestParamsMeta:
        """The request's ``_meta``: the caller's, with the delegation the call was authorised under and a proof."""
        out: dict[str, Any] = dict(meta or {})
        out.pop(DELEGATION_KEY, None)  # only the delegation the call was authorised under travels
        out.pop(PROOF_KEY, None)
        session = aispm.current_session()
        if session is not None and session.delegation is not None:
            out[DELEGATION_KEY] = session.delegation
        if self.identity is not None:
            payload = {PROOF_CALL: call_digest(name, arguments)}
            out[PROOF_KEY] = self.identity.sign(payload, audience=self.audience, ttl=_PROOF_TTL)
        return cast(RequestParamsMeta, out)

    def approve(self, name: str) -> None:
        """Pin the definition of ``name`` last listed as trusted, and lift its ``mcp.tool_changed`` suspension."""
        digest = self.seen.get(name)
        if digest is None:
            raise KeyError(f"tool {name!r} was not listed on this connection: list the tools first")
        self.pins.approve(self.server, name, digest)
        qualified = f"{self.server}.{name}"
        if self.guard.tools.suspended.get(qualified) == _listing.CHANGED:
            self.guard.tools.resume(qualified)


class _Guarded:
    """What both guarded clients show of their `_Guarding`: one definition for the session and the proxy."""

    _aispm: _Guarding

    @property
    def guard(self) -> aispm.Guard:
        """The guard that decides."""
        return self._aispm.guard

    @property
    def server(self) -> str:
        """The server's name, the prefix of its tools' qualified names."""
        return self._aispm.server

    @property
    def pins(self) -> ToolPins:
        """Where tool definitions are pinned."""
        return self._aispm.pins

    def approve_tool(self, name: str) -> None:
        """Trust the definition of tool ``name`` as last listed: re-pin it and resume it.

        Lifts an ``mcp.tool_changed`` suspension only: a tool whose text is poisoned stays
        suspended (the next listing checks it again).

        Raises:
            KeyError: The tool was not listed on this connection.
            OSError: The pin could not be saved.
        """
        self._aispm.approve(name)
