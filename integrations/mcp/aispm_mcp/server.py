"""`AispmServerMiddleware` and `guard_server`: an aispm guard inside an MCP server built with `mcp` 2.x.

The guard is an `mcp` ``ServerMiddleware`` (provisional in mcp 2.x), installed on an `MCPServer` or
a low-level `Server` (``server.middleware``, after mcp's own OpenTelemetry and request-state
middleware). It acts on ``tools/call`` only; every other method passes through untouched. For
each call, inside a ``guard.session`` for the caller:

1. **Who calls.** The caller's delegation token travels in the request's ``_meta`` under
   `aispm_mcp._meta.DELEGATION_KEY`, and its proof of possession under ``PROOF_KEY``: a message
   the leaf agent signed for this server's audience (the policy's ``tools.delegation.audience``),
   whose payload names this very call (``PROOF_CALL`` equals `call_digest` of the tool name and
   arguments), so a proof seen once cannot be replayed for another call. A verified chain opens
   nested sessions: the user is the root grant's issuer, the agents are the chain's subjects,
   root first, and the leaf holds the token.
2. **Arguments.** Every string of the arguments (keys and values, joined by newlines) is checked
   by the prompt guard as text from an ``agent`` (the caller is an agent: its text is data, judged
   strictly), with the origin ``<server>.<tool>``. A flagged argument taints the session, so a
   risky tool then needs approval.
3. **Authorisation.** ``guard.tools.aauthorize(f"{server}.{tool}", arguments)``: the tool name is
   qualified by the server, so policy globs such as ``"files.*"`` cover a server. The policy, the
   delegation's scopes and argument constraints, rate limits, taint and approval all apply.
4. **Result.** Every text of the result (text content, embedded text resources, strings of the
   structured content) is scanned by the output scanner; secrets and PII are redacted before
   the result leaves the server.

A refused call never reaches the tool. The caller reads `DENIED` (an error result, or an
``MCPError`` with ``on_deny="error"``), never the reason: it is in the aispm span, which nests
under mcp's own ``tools/call <tool>`` server span (and so under the client's ``traceparent``).
A refused identity is reported by the tool authorizer: the session's agent is then
`UNVERIFIED_AGENT`, so its span reads ``delegation.missing``, ``delegation.wrong_presenter``
(a missing, invalid or replayed proof) or the chain's own reason (``delegation.expired``,
``delegation.wrong_audience``...). In monitor mode every decision is reported and nothing is
refused or rewritten.

What it cannot do: proofs are bound to one call but are not one-time (the same call can be
replayed within the proof's ``max_age``); roles and groups of the user do not travel with the
delegation (the session has none); image, audio and blob contents and ``resource_link`` items
pass unscanned; a result's ``_meta`` is not scanned.

What is scanned, and how, is in `aispm_mcp._server_scan`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Final, Literal

import aispm

from ._meta import DELEGATION_KEY, PROOF_CALL, PROOF_KEY, call_digest
from ._server_scan import ResultScan, Withheld, arguments_allowed

try:
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
    from mcp.server.lowlevel import Server
    from mcp.server.mcpserver import MCPServer
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS, INVALID_REQUEST, CallToolResult, TextContent
    from pydantic import BaseModel
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.server") from None

if TYPE_CHECKING:
    from aispm.delegation import VerifiedDelegation

__all__ = ["DENIED", "DENIED_CODE", "UNVERIFIED_AGENT", "AispmServerMiddleware", "OnDeny", "guard_server"]

DENIED: Final = "tool call not permitted by policy"
"""What the caller reads when a call or its result is refused; the detail is in the span."""

DENIED_CODE: Final = INVALID_REQUEST
"""JSON-RPC error code of the ``MCPError`` a refusal raises with ``on_deny="error"``."""

UNVERIFIED_AGENT: Final = "mcp-caller (unverified)"
"""The session's agent when the caller's delegation or proof is refused (or missing)."""

OnDeny = Literal["result", "error"]
"""``result``: the caller gets a ``CallToolResult`` with ``isError`` and `DENIED` (the model reads it
and the run goes on, as for an unknown tool); ``error``: the request fails with ``MCPError``."""

_MALFORMED: Final = "malformed"
"""Stands in for a delegation that is not a string: the verifier refuses it as ``malformed``."""

_MAX_TOKEN_CHARS: Final = 1 << 16  # the verifier refuses long tokens itself; this bounds the decoding here


class AispmServerMiddleware:
    """An MCP server middleware that authorises ``tools/call`` requests and scans their results.

    Install it with `guard_server`, or pass it as ``MCPServer(..., middleware=[...])`` or append
    it to ``server.middleware``. See the module docstring for what it does for each call.

    Args:
        guard: The guard that decides; it needs trusted keys (``Guard(keys=...)``) to verify
            delegations, whose audience is the policy's ``tools.delegation.audience``.
        server: This server's name: tools are authorised as ``f"{server}.{tool}"``.
        require_delegation: Refuse calls without a delegation (the default: fail closed). The
            policy must then say ``tools.delegation.required: true`` too, so that the refusal is
            what the span reports (``delegation.missing``). When false, a call without a
            delegation is decided by the policy alone, in a session without user or agent.
        require_proof: Refuse a delegation presented without a valid proof of possession for
            this call. When false, a delegation without a proof is accepted on the strength of
            the transport's authentication; a proof that is sent is always checked.
        scan_arguments: Check the arguments' text with the prompt guard.
        scan_results: Scan the results with the output scanner.
        on_deny: What a refusal looks like to the caller (see `OnDeny`).
        proof_max_age: Seconds a proof stays valid after it was signed.

    Raises:
        PolicyError: ``server`` is empty, ``require_delegation`` is set and the guard has no
            trusted keys or its policy does not require delegations, or ``proof_max_age`` is
            not between 1 and 3600.
        ValueError: ``on_deny`` is not ``"result"`` or ``"error"``.
        TypeError: ``guard`` is not an `aispm.Guard`.
    """

    __slots__ = (
        "_guard",
        "_on_deny",
        "_proof_max_age",
        "_require_delegation",
        "_require_proof",
        "_scan_arguments",
        "_scan_results",
        "_server",
    )

    def __init__(
        self,
        guard: aispm.Guard,
        *,
        server: str,
        require_delegation: bool = True,
        require_proof: bool = True,
        scan_arguments: bool = True,
        scan_results: bool = True,
        on_deny: OnDeny = "result",
        proof_max_age: float = 60,
    ) -> None:
        if not isinstance(guard, aispm.Guard):
            raise TypeError(f"guard must be an aispm.Guard, got {type(guard).__name__}")
        if not isinstance(server, str) or not server.strip():
            raise aispm.PolicyError("server must be a non-empty name")
        if on_deny not in ("result", "error"):
            raise ValueError(f"on_deny must be 'result' or 'error', got {on_deny!r}")
        if (
            isinstance(proof_max_age, bool)
            or not isinstance(proof_max_age, int | float)
            or not 1 <= proof_max_age <= 3600
        ):
            raise aispm.PolicyError("proof_max_age must be a number of seconds from 1 to 3600")
        if require_delegation and guard.tools.verifier is None:
            raise aispm.PolicyError("require_delegation needs a guard with trusted keys: Guard(keys=KeyRing(...))")
        if require_delegation and not guard.policy.tools.delegation.required:
            raise aispm.PolicyError(
                "require_delegation needs the policy to say tools.delegation.required: true "
                "(so a call without a delegation is denied and reported as delegation.missing)"
            )
        self._guard = guard
        self._server = server
        self._require_delegation = bool(require_delegation)
        self._require_proof = bool(require_proof)
        self._scan_arguments = bool(scan_arguments)
        self._scan_results = bool(scan_results)
        self._on_deny: OnDeny = on_deny
        self._proof_max_age = float(proof_max_age)

    @property
    def guard(self) -> aispm.Guard:
        """The guard that decides."""
        return self._guard

    @property
    def server(self) -> str:
        """The server's name, the prefix of every tool name the guard authorises."""
        return self._server

    def __repr__(self) -> str:
        return f"AispmServerMiddleware(server={self._server!r}, on_deny={self._on_deny!r})"

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Guard a ``tools/call`` request; pass every other message on untouched.

        Raises:
            MCPError: The params are malformed (``INVALID_PARAMS``), or the call or its result
                is refused and ``on_deny`` is ``"error"`` (`DENIED_CODE`).
        """
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params if isinstance(ctx.params, Mapping) else {}
        name, arguments = params.get("name"), params.get("arguments")
        if arguments is None:
            arguments = {}
        if (
            not isinstance(name, str)
            or not isinstance(arguments, Mapping)
            or not all(isinstance(k, str) for k in arguments)
        ):
            raise MCPError(INVALID_PARAMS, "Invalid request parameters")  # what mcp itself answers
        meta = params.get("_meta")
        meta = meta if isinstance(meta, Mapping) else {}
        tool = f"{self._server}.{name}"
        enforce = self._guard.mode == "enforce"
        with ExitStack() as sessions:
            refused = self._enter(sessions, name, arguments, meta)
            if self._scan_arguments and not arguments_allowed(self._guard, tool, arguments) and enforce:
                return self._denied()
            try:
                await self._guard.tools.aauthorize(tool, arguments)
            except aispm.Blocked:
                return self._denied()
            if refused and enforce:
                return self._denied()  # not reached when the policy agrees (it denies first)
            result = await call_next(ctx)
            if not self._scan_results:
                return result
            return self._scanned(result)

    # -- who calls ----------------------------------------------------------------------------------

    def _enter(self, sessions: ExitStack, name: str, arguments: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
        """Open the caller's sessions on ``sessions``; True when its delegation or proof is refused."""
        guard = self._guard
        token = meta.get(DELEGATION_KEY)
        if token is None:
            if self._require_delegation:
                sessions.enter_context(guard.session(agent=UNVERIFIED_AGENT))
                return True
            sessions.enter_context(guard.session())
            return False
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS:
            token = _MALFORMED
        verified = self._verified(token, meta.get(PROOF_KEY), name, arguments)
        if verified is None:
            # The authorizer verifies again and reports why: the chain's own reason, or
            # wrong_presenter (the unverified caller is not the chain's subject).
            subject = _claimed_subject(token)
            agent = UNVERIFIED_AGENT if subject != UNVERIFIED_AGENT else f"{UNVERIFIED_AGENT}?"
            sessions.enter_context(guard.session(agent=agent, delegation=token))
            return True
        subjects = [subject for _, subject in verified.chain]
        sessions.enter_context(guard.session(user=verified.chain[0][0], agent=subjects[0]))
        for agent in subjects[1:]:
            sessions.enter_context(guard.session(agent=agent))
        sessions.enter_context(guard.session(delegation=token))
        return False

    def _verified(self, token: str, proof: Any, name: str, arguments: Mapping[str, Any]) -> VerifiedDelegation | None:
        """The verified chain, when the delegation and (if required or sent) the proof for this call verify."""
        verifier = self._guard.tools.verifier
        if verifier is None:
            return None
        try:
            if proof is None and not self._require_proof:
                subject = _claimed_subject(token)
                return None if subject is None else verifier.verify(token, presenter=subject)
            if not isinstance(proof, str):
                return None
            verified, message = verifier.verify_message(token, proof, max_age=self._proof_max_age)
            expected = call_digest(name, arguments)
        except (aispm.AispmError, TypeError, ValueError):
            return None
        digest = message.payload.get(PROOF_CALL)
        if not isinstance(digest, str) or not hmac.compare_digest(digest.encode(), expected.encode()):
            return None  # a proof signed for another call: a replay
        return verified

    # -- results ------------------------------------------------------------------------------------

    def _scanned(self, result: HandlerResult) -> HandlerResult:
        """``result`` with its texts scanned; redacted (enforce mode) or refused when the scanner denies."""
        wire = (
            result.model_dump(by_alias=True, mode="json", exclude_none=True)
            if isinstance(result, BaseModel)
            else result
        )
        if not isinstance(wire, dict):
            return result
        scan = ResultScan(self._guard)
        try:
            content = wire.get("content")
            new_content = [scan.item(item) for item in content] if isinstance(content, list) else content
            structured = scan.value(wire["structuredContent"], 0) if "structuredContent" in wire else None
        except Withheld:
            scan.denied = True
        if self._guard.mode == "monitor" or not (scan.denied or scan.changed):
            return result
        if scan.denied:
            if self._on_deny == "error":
                raise MCPError(DENIED_CODE, DENIED)
            rewritten = {k: v for k, v in wire.items() if k != "structuredContent"}
            rewritten.update(content=[{"type": "text", "text": DENIED}], isError=True)
            return rewritten
        rewritten = dict(wire)
        if "content" in wire:
            rewritten["content"] = new_content
        if "structuredContent" in wire:
            rewritten["structuredContent"] = structured
        return rewritten

    def _denied(self) -> CallToolResult:
        """The answer to a refused call: an error result with `DENIED`, or ``MCPError``."""
        if self._on_deny == "error":
            raise MCPError(DENIED_CODE, DENIED)
        return CallToolResult(content=[TextContent(text=DENIED)], is_error=True)


def _claimed_subject(token: str) -> str | None:
    """The leaf subject a token names, decoded WITHOUT verifying it (a label; verification follows)."""
    parts = token.split(".")
    if len(parts) < 3:
        return None
    body = parts[-2]
    try:
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    subject = fields.get("sub") if isinstance(fields, dict) else None
    return subject if isinstance(subject, str) else None


def guard_server(
    guard: aispm.Guard,
    mcp_server: MCPServer[Any] | Server[Any],
    *,
    name: str | None = None,
    require_delegation: bool = True,
    require_proof: bool = True,
    scan_arguments: bool = True,
    scan_results: bool = True,
    on_deny: OnDeny = "result",
    proof_max_age: float = 60,
) -> AispmServerMiddleware:
    """Install an `AispmServerMiddleware` on an `MCPServer` or a low-level `Server`.

    It is appended to ``mcp_server.middleware`` (after mcp's own OpenTelemetry and request-state
    middleware, so its spans nest under mcp's server span). Installing twice with the same guard
    returns the middleware already installed; to remove it, ``mcp_server.middleware.remove(mw)``.

    Args:
        guard: The guard that decides.
        mcp_server: The server to guard.
        name: The server's name in tool names (``f"{name}.{tool}"``); defaults to ``mcp_server.name``.
        require_delegation: See `AispmServerMiddleware`.
        require_proof: See `AispmServerMiddleware`.
        scan_arguments: See `AispmServerMiddleware`.
        scan_results: See `AispmServerMiddleware`.
        on_deny: See `AispmServerMiddleware`.
        proof_max_age: See `AispmServerMiddleware`.

    Returns:
        The middleware installed.

    Raises:
        PolicyError: As `AispmServerMiddleware`.
        ValueError: The server is already guarded by another guard or under another name.
        TypeError: ``mcp_server`` is neither an `MCPServer` nor a `Server`.
    """
    if not isinstance(mcp_server, MCPServer | Server):
        raise TypeError(f"guard_server needs an mcp MCPServer or Server, got {type(mcp_server).__name__}")
    server_name = mcp_server.name if name is None else name
    chain = mcp_server.middleware
    for installed in chain:
        if isinstance(installed, AispmServerMiddleware):
            if installed.guard is guard and installed.server == server_name:
                return installed
            raise ValueError("this server is already guarded by another aispm guard or under another name")
    middleware = AispmServerMiddleware(
        guard,
        server=server_name,
        require_delegation=require_delegation,
        require_proof=require_proof,
        scan_arguments=scan_arguments,
        scan_results=scan_results,
        on_deny=on_deny,
        proof_max_age=proof_max_age,
    )
    chain.append(middleware)
    return middleware
