"""Guarded MCP clients: `GuardedClientSession` (a ``ClientSession``) and `GuardedClient` (wraps ``mcp.Client``).

mcp 2.x has no client-side middleware, so the guard sits in a `ClientSession` subclass, and in a
composition proxy for ``mcp.Client`` (which builds its own session). Both share one code path:

- **Connecting** records the server in ``guard.inventory`` (`record_mcp_server`: name,
  transport, command line or URL, version, protocol version).
- **Listing tools** follows ``next_cursor`` (at most `MAX_PAGES` pages) with the client's
  response cache bypassed, checks each tool's text for poisoning, pins its definition
  (`aispm_mcp.pins`) and records the fingerprints in the inventory. In enforce mode a poisoned
  tool is hidden and suspended (``guard.tools.suspend``, rule ``mcp.tool_poisoned``), so a call
  to it by name is denied too; a tool whose definition changed since it was pinned is suspended
  (``mcp.tool_changed``) and, with ``on_change="hide"``, hidden, until `approve_tool`.
- **Calling a tool** first authorises the call (``guard.tools.aauthorize``) under the qualified
  name ``f"{server}.{tool}"``, so policy globs such as ``"files.*"`` cover one server. A denied
  call never reaches the server: the agent gets an error result (`DENIED`), or `aispm.Blocked`
  with ``on_deny="raise"``. An allowed call carries the session's delegation and, with an
  ``identity``, a proof of possession bound to this call in its ``_meta``
  (`aispm_mcp._meta`). It is sent with a timeout; its result is bounded, checked as untrusted
  text (a flagged result taints the session; in enforce mode it is replaced by `WITHHELD`) and
  scanned (secrets and PII redacted).
- **Failures** never raise from the transport: a timeout, a closed connection, a JSON-RPC error
  from the server, an invalid result (schema violation, text that is not valid Unicode,
  structured content that breaks the tool's output schema) or a result over
  ``max_result_bytes`` become an error result ``"tool call failed: <kind>"`` with the kind under
  ``_meta[ERROR_KEY]``, logged on the ``aispm`` logger without content.

In monitor mode every decision is reported and nothing is hidden, suspended, withheld or
redacted. Spans are the guard's, nested under the current span, in the trace mcp propagates.

What it cannot do: only tools are guarded. Resources, prompts, sampling and elicitation pass
through unguarded, and so does anything done with ``GuardedClient.session`` (the raw session).
Results an extension claims and ``InputRequiredResult`` rounds driven by hand pass unscanned;
images, audio and blobs in results pass unscanned. ``max_result_bytes`` bounds what reaches the
agent, not what mcp reads off the wire (mcp's transports bound that).

`GuardedClient` lives in `aispm_mcp._proxy` and is re-exported here.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Literal, overload

import aispm
from aispm.identity import AgentIdentity

from ._guarding import MAX_PAGES, OnChange, OnDeny, _Guarded, _Guarding
from ._proxy import GuardedClient
from ._results import DENIED, ERROR_KEY, FAILED, WITHHELD, Failure
from .pins import ToolPins

try:
    from mcp import ClientSession
    from mcp.shared.dispatcher import ProgressFnT
    from mcp.types import (
        CallToolResult,
        DiscoverResult,
        InitializeResult,
        InputRequiredResult,
        InputResponses,
        ListToolsResult,
        PaginatedRequestParams,
        RequestParamsMeta,
        Result,
    )
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.client") from None

__all__ = [
    "DENIED",
    "ERROR_KEY",
    "FAILED",
    "MAX_PAGES",
    "WITHHELD",
    "Failure",
    "GuardedClient",
    "GuardedClientSession",
    "OnChange",
    "OnDeny",
]

_log = logging.getLogger("aispm")

_RAW_LISTING: ContextVar[bool] = ContextVar("aispm_mcp_raw_listing", default=False)
"""Set while mcp lists tools inside a guarded call (to validate structured content): not the agent's listing."""


class GuardedClientSession(_Guarded, ClientSession):
    """An mcp `ClientSession` whose tool listings are screened and whose tool calls are guarded.

    Construct it as a ``ClientSession`` (``GuardedClientSession(read, write, ...)``; every
    positional and keyword argument of ``ClientSession`` is passed on), plus the keyword-only
    arguments below. See the module docstring for what is guarded.

    Args:
        guard: The guard that decides.
        server: The server's name: tools are authorised as ``f"{server}.{tool}"``, pinned
            and recorded in the inventory under it.
        transport: How the server is reached, for the inventory (``"stdio"``, ``"streamable-http"``).
        target: The command line or URL, for the inventory; never put credentials in it.
        pins: Where tool definitions are pinned; share one `ToolPins` (with a file) across
            sessions to detect a change between connections. ``None``: pins private to this session.
        on_change: What a changed tool does in listings (`OnChange`); it is suspended either way.
        on_deny: What a denied call does (`OnDeny`).
        identity: The acting agent's identity: each call then carries a proof of possession
            signed with its key, for ``audience``.
        audience: Who the proofs are for; defaults to ``server``.
        max_result_bytes: A bigger result (as JSON) is replaced by an error result.
        call_timeout: Seconds a call (and a listing) may take; ``read_timeout_seconds`` of
            `call_tool` overrides it for one call.

    Raises:
        PolicyError: An argument is invalid.
    """

    def __init__(
        self,
        *args: Any,
        guard: aispm.Guard,
        server: str,
        transport: str = "unknown",
        target: str = "",
        pins: ToolPins | None = None,
        on_change: OnChange = "hide",
        on_deny: OnDeny = "result",
        identity: AgentIdentity | None = None,
        audience: str | None = None,
        max_result_bytes: int = 1024 * 1024,
        call_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        self._aispm = _Guarding(
            guard,
            server=server,
            transport=transport,
            target=target,
            pins=pins,
            on_change=on_change,
            on_deny=on_deny,
            identity=identity,
            audience=audience,
            max_result_bytes=max_result_bytes,
            call_timeout=call_timeout,
        )
        super().__init__(*args, **kwargs)

    def adopt(self, result: InitializeResult | DiscoverResult) -> None:
        """Install the negotiated state (as ``ClientSession.adopt``) and record the server in the inventory.

        ``initialize()`` and ``discover()`` both end here, so either handshake is recorded.
        """
        super().adopt(result)
        self._aispm.connected(self.server_info, self.protocol_version)

    async def list_tools(self, *, params: PaginatedRequestParams | None = None) -> ListToolsResult:
        """List the server's tools, every page from ``params.cursor`` on, screened (see the module docstring).

        Returns:
            The tools the agent may see; ``next_cursor`` is set only past `MAX_PAGES` pages.

        Raises:
            TimeoutError: The listing took longer than ``call_timeout``.
            MCPError, ValidationError: As ``ClientSession.list_tools``.
        """
        fetch_page = super().list_tools
        if _RAW_LISTING.get():
            return await fetch_page(params=params)

        async def fetch(cursor: str | None) -> ListToolsResult:
            if params is None and cursor is None:
                return await fetch_page()
            base = params if params is not None else PaginatedRequestParams()
            return await fetch_page(params=base.model_copy(update={"cursor": cursor}))

        return await self._aispm.list_tools(fetch, params.cursor if params is not None else None)

    @overload
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
        allow_input_required: Literal[False] = False,
        allow_claimed: Literal[False] = False,
    ) -> CallToolResult: ...

    @overload
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
        allow_input_required: bool,
        allow_claimed: Literal[False] = False,
    ) -> CallToolResult | InputRequiredResult: ...

    @overload
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
        allow_input_required: Literal[False] = False,
        allow_claimed: bool,
    ) -> CallToolResult | Result: ...

    @overload
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
        allow_input_required: bool,
        allow_claimed: bool,
    ) -> CallToolResult | InputRequiredResult | Result: ...

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
        allow_input_required: bool = False,
        allow_claimed: bool = False,
    ) -> CallToolResult | InputRequiredResult | Result:
        """Authorise the call, send it with a timeout, and check its result (see the module docstring).

        Arguments are those of ``ClientSession.call_tool``; ``read_timeout_seconds`` defaults to
        ``call_timeout`` and bounds the whole call.

        Returns:
            The checked result; an error result when the call is denied (``on_deny="result"``)
            or fails (`ERROR_KEY` in its ``_meta`` says why).

        Raises:
            Blocked: The call, or its result, is denied and ``on_deny`` is ``"raise"``.
            TypeError: ``arguments`` is not a mapping with string keys.
        """
        call = super().call_tool

        async def send(timeout: float, wire_meta: RequestParamsMeta) -> CallToolResult | InputRequiredResult | Result:
            token = _RAW_LISTING.set(True)
            try:
                return await call(
                    name,
                    arguments,
                    read_timeout_seconds=timeout,
                    progress_callback=progress_callback,
                    input_responses=input_responses,
                    request_state=request_state,
                    meta=wire_meta,
                    allow_input_required=allow_input_required,
                    allow_claimed=allow_claimed,
                )
            finally:
                _RAW_LISTING.reset(token)

        return await self._aispm.call_tool(name, arguments, read_timeout_seconds, meta, send)
