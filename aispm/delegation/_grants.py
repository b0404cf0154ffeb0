"""Grants: one signed link of a chain, and the ``aispm-dg1`` token format they travel in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from ..errors import PolicyError
from ..identity._encoding import _b64decode, _check_name, _is_time, _key_id, _strict_loads, _to_datetime
from ._errors import DelegationError
from ._scopes import _MAX_SCOPES, Scope, _scope_from_json

DELEGATION_PREFIX: Final = "aispm-dg1"
_MAX_DEPTH: Final = 64
_FIELDS: Final = frozenset({"v", "id", "par", "iss", "ikid", "sub", "spk", "scp", "nbf", "exp", "dep", "aud"})


# --- grants and chains ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grant:
    """One link of a delegation chain, as signed by its issuer.

    Attributes:
        id: Random unique id (what `Revocations` revokes).
        parent_id: The id of the grant it narrows, ``None`` for a root grant.
        issuer: The issuer's name.
        issuer_key_id: The key id the grant is signed with.
        subject: The name of the agent it is granted to.
        subject_key: The subject's raw Ed25519 public key, which signs its child grants.
        scopes: What it grants.
        not_before: Start of validity.
        expires_at: End of validity.
        max_depth: How many further delegations are allowed below it.
        audience: The service or agent that accepts it.
    """

    id: str
    parent_id: str | None
    issuer: str
    issuer_key_id: str
    subject: str
    subject_key: bytes = field(repr=False)
    scopes: tuple[Scope, ...]
    not_before: datetime
    expires_at: datetime
    max_depth: int
    audience: str

    @property
    def subject_key_id(self) -> str:
        """Key id of `subject_key`."""
        return _key_id(self.subject_key)


@dataclass(frozen=True, slots=True)
class _Link:
    body: str  # base64url, as signed
    signature: bytes
    fields: dict[str, Any]  # structurally validated, scopes still raw JSON

    @property
    def signed(self) -> bytes:
        return f"{DELEGATION_PREFIX}.{self.body}".encode("ascii")


def _valid_name(value: Any) -> bool:
    try:
        _check_name(value)
    except PolicyError:
        return False
    return True


def _check_fields(fields: Any) -> dict[str, Any]:
    """Validate everything but the scopes' contents, which are only parsed after signatures verify."""
    if not isinstance(fields, dict) or not set(fields) <= _FIELDS:
        raise DelegationError("malformed", "a grant is not an object with the expected fields")
    ok = (
        fields.get("v") == 1
        and type(fields.get("v")) is int
        and all(isinstance(fields.get(k), str) for k in ("id", "ikid", "spk"))
        and all(_valid_name(fields.get(k)) for k in ("iss", "sub", "aud"))
        and ("par" not in fields or isinstance(fields["par"], str))
        and _is_time(fields.get("nbf"))
        and _is_time(fields.get("exp"))
        and type(fields.get("dep")) is int
        and 0 <= fields["dep"] <= _MAX_DEPTH
        and isinstance(fields.get("scp"), list)
        and 0 < len(fields["scp"]) <= _MAX_SCOPES
    )
    if not ok:
        raise DelegationError("malformed", "a grant is missing fields or has wrong types")
    key = _b64decode(fields["spk"])
    if key is None or len(key) != 32:
        raise DelegationError("malformed", "a grant's subject key is not an Ed25519 public key")
    fields["spk"] = key
    return fields


def _split(token: Any, max_bytes: int, max_links: int) -> list[_Link]:
    if not isinstance(token, str):
        raise DelegationError("malformed", "a delegation token must be a string")
    if len(token) > max_bytes:
        raise DelegationError("too_large", f"a delegation token is at most {max_bytes} characters")
    parts = token.split(".")
    if parts[0] != DELEGATION_PREFIX or len(parts) < 3 or len(parts) % 2 == 0:
        raise DelegationError("malformed", f"not an {DELEGATION_PREFIX} token")
    if (len(parts) - 1) // 2 > max_links:
        raise DelegationError("too_deep", f"the chain has more than {max_links} grants")
    links = []
    for body_text, signature_text in zip(parts[1::2], parts[2::2], strict=True):
        body = _b64decode(body_text)
        signature = _b64decode(signature_text)
        if body is None or signature is None or len(signature) != 64:
            raise DelegationError("malformed", "the token is not valid base64url")
        try:
            fields = _strict_loads(body)
        except ValueError as exc:
            raise DelegationError("malformed", "a grant is not valid JSON") from exc
        links.append(_Link(body_text, signature, _check_fields(fields)))
    return links


def _grant(fields: Mapping[str, Any]) -> Grant:
    return Grant(
        id=fields["id"],
        parent_id=fields.get("par"),
        issuer=fields["iss"],
        issuer_key_id=fields["ikid"],
        subject=fields["sub"],
        subject_key=fields["spk"],
        scopes=tuple(_scope_from_json(s) for s in fields["scp"]),
        not_before=_to_datetime(fields["nbf"]),
        expires_at=_to_datetime(fields["exp"]),
        max_depth=fields["dep"],
        audience=fields["aud"],
    )
