"""Signed messages: the error a refused token raises, the verified message, and `verify`."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .._clock import Clock, utc_now
from ..errors import AispmError, PolicyError
from ._encoding import (
    MAX_MESSAGE_BYTES,
    MESSAGE_PREFIX,
    _b64decode,
    _is_seconds,
    _is_time,
    _strict_loads,
    _timestamp,
    _to_datetime,
)
from ._keys import AgentIdentity, KeyRing

_MAX_TOKEN_CHARS: Final = len(MESSAGE_PREFIX) + 2 + (MAX_MESSAGE_BYTES * 4 + 2) // 3 + 86


class SignatureError(AispmError):
    """A signed message does not verify.

    Attributes:
        reason: A short machine-readable code: ``malformed``, ``too_large``,
            ``bad_signature``, ``unknown_key``, ``signer_mismatch``, ``expired``,
            ``not_yet_valid`` or ``wrong_audience``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{message} ({reason})")


# --- messages --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A verified message.

    Attributes:
        payload: What the signer sent.
        signer: The signer's name, as trusted by the verifier.
        key_id: The signer's key id.
        issued_at: When it was signed (whole seconds).
        expires_at: When it expires, or ``None``.
        audience: Who it is for, or ``None``.
        id: The message's random unique id (for replay detection by the receiver).
        public_key: The signer's raw public key.
    """

    payload: Mapping[str, Any]
    signer: str
    key_id: str
    issued_at: datetime
    expires_at: datetime | None
    audience: str | None
    id: str
    public_key: bytes = field(default=b"", repr=False)


def _split_message(token: Any) -> tuple[bytes, bytes, bytes]:
    """(signed bytes, body, signature) of a well-formed token; SignatureError otherwise."""
    if not isinstance(token, str):
        raise SignatureError("malformed", "a signed message must be a string")
    if len(token) > _MAX_TOKEN_CHARS:
        raise SignatureError("too_large", f"a signed message is at most {_MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != MESSAGE_PREFIX:
        raise SignatureError("malformed", f"not an {MESSAGE_PREFIX} token")
    body = _b64decode(parts[1])
    signature = _b64decode(parts[2])
    if body is not None and len(body) > MAX_MESSAGE_BYTES:
        raise SignatureError("too_large", f"a signed message body is at most {MAX_MESSAGE_BYTES} bytes")
    if body is None or signature is None or len(signature) != 64:
        raise SignatureError("malformed", "the token is not valid base64url")
    return f"{parts[0]}.{parts[1]}".encode("ascii"), body, signature


def _message_header(body: bytes) -> dict[str, Any]:
    try:
        header = _strict_loads(body)
    except ValueError as exc:
        raise SignatureError("malformed", "the message body is not valid JSON") from exc
    if not (
        isinstance(header, dict)
        and set(header) <= {"v", "iss", "kid", "iat", "exp", "aud", "jti", "pld"}
        and header.get("v") == 1
        and type(header.get("v")) is int
        and isinstance(header.get("iss"), str)
        and isinstance(header.get("kid"), str)
        and isinstance(header.get("jti"), str)
        and _is_time(header.get("iat"))
        and ("exp" not in header or _is_time(header["exp"]))
        and ("aud" not in header or isinstance(header["aud"], str))
        and isinstance(header.get("pld"), dict)
    ):
        raise SignatureError("malformed", "the message header is incomplete or has wrong types")
    return header


def verify(
    token: str,
    keys: KeyRing | AgentIdentity,
    *,
    audience: str | None = None,
    clock: Clock = utc_now,
    skew_seconds: float = 30,
    max_age: float | None = None,
) -> SignedMessage:
    """Check a signed message token and return what it says.

    Args:
        token: From `AgentIdentity.sign`.
        keys: The trusted keys (any key of a `KeyRing`), or the one expected signer.
        audience: This receiver; must equal the token's audience (both may be ``None``).
        clock: The current time.
        skew_seconds: Clock difference tolerated between signer and verifier.
        max_age: Refuse messages signed longer ago than this many seconds.

    Raises:
        SignatureError: With ``reason`` saying why the token is refused.
        PolicyError: ``keys``, ``skew_seconds`` or ``max_age`` is not valid.
    """
    if not isinstance(keys, KeyRing | AgentIdentity):
        raise PolicyError("keys must be a KeyRing or an AgentIdentity")
    if not _is_seconds(skew_seconds) or (max_age is not None and not _is_seconds(max_age)):
        raise PolicyError("skew_seconds and max_age must be finite, non-negative numbers of seconds")
    signed, body, signature = _split_message(token)
    header = _message_header(body)
    signer = keys.get(header["kid"]) if isinstance(keys, KeyRing) else keys
    if signer is None or signer.key_id != header["kid"]:
        raise SignatureError("unknown_key", "the message was signed by a key that is not trusted")
    if not signer._verify_bytes(signature, signed):
        raise SignatureError("bad_signature", "the message signature does not verify")
    if header["iss"] != signer.name:
        raise SignatureError("signer_mismatch", "the signer's name does not match the trusted key's name")
    now = _timestamp(clock)
    if now + skew_seconds < header["iat"]:
        raise SignatureError("not_yet_valid", "the message was signed in the future")
    if "exp" in header and now - skew_seconds >= header["exp"]:
        raise SignatureError("expired", "the message has expired")
    if max_age is not None and now - skew_seconds > header["iat"] + max_age:
        raise SignatureError("expired", "the message is older than max_age")
    if header.get("aud") != audience:
        raise SignatureError("wrong_audience", "the message is meant for another audience")
    return SignedMessage(
        payload=types.MappingProxyType(header["pld"]),
        signer=signer.name,
        key_id=signer.key_id,
        issued_at=_to_datetime(header["iat"]),
        expires_at=_to_datetime(header["exp"]) if "exp" in header else None,
        audience=header.get("aud"),
        id=header["jti"],
        public_key=signer.public_key_bytes,
    )
