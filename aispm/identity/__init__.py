"""Ed25519 agent identities and signed agent-to-agent messages.

An `AgentIdentity` is an agent's name with its Ed25519 key pair (or only the
public key). ``identity.sign(payload)`` makes a compact token that a receiving
agent checks with `verify`, against a `KeyRing` of trusted public keys, so it
knows who really sent a request, for whom (``aud``) and until when (``exp``).

Token format (``aispm-msg1``)::

    aispm-msg1.<base64url(body)>.<base64url(signature)>

``body`` is canonical JSON (sorted keys, no whitespace, UTF-8, no NaN or
Infinity) of ``{"v": 1, "iss": name, "kid": key id, "iat": seconds,
"exp": seconds?, "aud": audience?, "jti": random id, "pld": payload}``; the
Ed25519 signature covers the ASCII bytes ``aispm-msg1.<base64url(body)>``, so
the prefix separates messages from delegation grants. Base64url is unpadded
and decoded strictly (one encoding per byte string), so a token cannot be
re-encoded into another one that still verifies.
"""

from __future__ import annotations

from ._encoding import MAX_MESSAGE_BYTES as MAX_MESSAGE_BYTES
from ._encoding import MESSAGE_PREFIX as MESSAGE_PREFIX
from ._keys import AgentIdentity, KeyRing
from ._messages import SignatureError, SignedMessage, verify

__all__ = ["AgentIdentity", "KeyRing", "SignatureError", "SignedMessage", "verify"]
