"""How a delegation travels with an MCP tool call: keys of the request's ``_meta``, and the call digest.

A guarded client puts the delegation token of the current session under `DELEGATION_KEY` and,
when it holds the acting agent's key, a proof of possession under `PROOF_KEY`: a message signed
by the agent, for the server's audience, whose payload binds it to this one call (`call_digest`
of the tool's name and arguments). A guarded server verifies the chain and the proof, and that
the proof names the call it received, so a token or proof seen once cannot be replayed for
another call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["DELEGATION_KEY", "PROOF_CALL", "PROOF_KEY", "call_digest"]

DELEGATION_KEY: Final = "io.aispm/delegation"
"""``_meta`` key of the delegation token (`aispm.delegation.Delegation.token`)."""

PROOF_KEY: Final = "io.aispm/proof"
"""``_meta`` key of the proof of possession: an `aispm.identity` message token signed by the leaf subject."""

PROOF_CALL: Final = "mcp_call"
"""Payload key of the proof: the `call_digest` of the call it was signed for."""


def call_digest(tool: str, arguments: Mapping[str, Any] | None) -> str:
    """SHA-256 of the call's canonical JSON (``{"arguments": ..., "tool": ...}``, sorted keys, no spaces).

    Raises:
        TypeError, ValueError: The arguments are not JSON (an MCP call's arguments always are).
    """
    body = {"tool": tool, "arguments": dict(arguments or {})}
    wire = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(wire.encode("utf-8", "surrogatepass")).hexdigest()
