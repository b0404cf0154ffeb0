"""aispm for MCP: guarded client sessions with tool pinning and poisoning detection, and a guard for MCP servers.

Client side (an agent using MCP servers' tools):

- `GuardedClientSession`: a drop-in `mcp.ClientSession` whose ``list_tools`` screens every tool
  definition with the prompt guard and pins it by fingerprint (`ToolPins`: a changed definition is
  hidden or blocked until re-approved), and whose ``call_tool`` is authorised by the tool
  authorizer (as ``"<server>.<tool>"``) before anything is sent, carries the session's delegation
  in ``_meta``, and returns results checked as untrusted text and scanned for secrets and PII.
- `GuardedClient`: the same around the high-level ``mcp.Client``.

Server side: `guard_server` installs `AispmServerMiddleware` on an ``MCPServer`` or a low-level
``Server``: each ``tools/call`` is authorised against the policy and the caller's verified
delegation, its arguments checked, its result scanned before it leaves.

Every decision is an OpenTelemetry span in the same trace as mcp's own spans. See
docs/integrations/mcp.md. Names are imported on first use.
"""

from typing import TYPE_CHECKING

from aispm._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from ._meta import DELEGATION_KEY as DELEGATION_KEY
    from ._meta import PROOF_KEY as PROOF_KEY
    from .client import DENIED as DENIED
    from .client import ERROR_KEY as ERROR_KEY
    from .client import WITHHELD as WITHHELD
    from .client import GuardedClient as GuardedClient
    from .client import GuardedClientSession as GuardedClientSession
    from .pins import ToolPins as ToolPins
    from .pins import fingerprint as fingerprint
    from .server import AispmServerMiddleware as AispmServerMiddleware
    from .server import guard_server as guard_server

_LAZY = {
    "AispmServerMiddleware": ".server",
    "DELEGATION_KEY": "._meta",
    "DENIED": ".client",
    "ERROR_KEY": ".client",
    "GuardedClient": ".client",
    "GuardedClientSession": ".client",
    "PROOF_KEY": "._meta",
    "ToolPins": ".pins",
    "WITHHELD": ".client",
    "fingerprint": ".pins",
    "guard_server": ".server",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
