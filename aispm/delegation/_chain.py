"""`Delegation`: a signed grant and the chain it narrows; issuing, delegating further and parsing."""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ..identity import AgentIdentity
from ..identity._encoding import _b64encode, _canonical_json, _check_name, _check_ttl, _timestamp
from ._errors import DelegationError
from ._grants import _MAX_DEPTH, DELEGATION_PREFIX, Grant, _grant, _Link, _split
from ._scopes import Scope, _check_scopes, _scopes_within


def _check_depth(max_depth: Any) -> int:
    if type(max_depth) is not int or not 0 <= max_depth <= _MAX_DEPTH:
        raise PolicyError(f"max_depth must be an integer from 0 to {_MAX_DEPTH}")
    return max_depth


class Delegation:
    """A signed grant and the chain of grants it narrows, root first.

    The properties describe the last grant (the leaf). `token` carries the whole chain.
    A `Delegation` from `parse` is not verified: use a `DelegationVerifier`.
    """

    __slots__ = ("_grants", "_links")

    def __init__(self, links: tuple[_Link, ...], grants: tuple[Grant, ...]) -> None:
        self._links = links
        self._grants = grants

    @classmethod
    def issue(
        cls,
        issuer: AgentIdentity,
        subject: AgentIdentity,
        scopes: Scope | Iterable[Scope],
        *,
        ttl: float,
        max_depth: int,
        audience: str,
        clock: Clock = utc_now,
    ) -> Delegation:
        """A root grant from ``issuer`` (whose key verifiers trust as a root) to ``subject``.

        Args:
            issuer: Signs the grant; needs its private key.
            subject: The agent it is granted to; its public key is embedded.
            scopes: What is granted (one scope or several).
            ttl: Seconds of validity (whole seconds, rounded down).
            max_depth: How many further delegations may follow (0: none).
            audience: Who accepts it; a verifier for another audience refuses it.
            clock: The current time.

        Raises:
            PolicyError: An argument is invalid or the issuer has no private key.
        """
        now = _timestamp(clock)
        return cls._sign((), issuer, subject, _check_scopes(scopes), now, ttl, _check_depth(max_depth), audience)

    def delegate(
        self,
        issuer: AgentIdentity,
        subject: AgentIdentity,
        scopes: Scope | Iterable[Scope],
        *,
        ttl: float,
        max_depth: int | None = None,
        clock: Clock = utc_now,
    ) -> Delegation:
        """A child grant: ``issuer``, the subject of this grant, passes part of it on to ``subject``.

        Args:
            issuer: This grant's subject, with its private key.
            subject: The agent it is granted to.
            scopes: Each must be within one of this grant's scopes.
            ttl: Seconds of validity; must not reach past this grant's expiry.
            max_depth: Further delegations allowed below; default one less than this grant's.
            clock: The current time.

        Raises:
            DelegationError: ``wrong_issuer``, ``scope_widened``, ``outlives_parent``,
                ``depth_exceeded``, ``expired`` or ``not_yet_valid``.
            PolicyError: An argument is invalid.
        """
        leaf = self._grants[-1]
        if not isinstance(issuer, AgentIdentity) or not issuer.has_private_key:
            raise PolicyError("the issuer must be an AgentIdentity with its private key")
        if issuer.name != leaf.subject or not hmac.compare_digest(issuer.public_key_bytes, leaf.subject_key):
            raise DelegationError("wrong_issuer", "only the subject of a grant, with its key, can delegate it")
        child_scopes = _check_scopes(scopes)
        if not _scopes_within(child_scopes, leaf.scopes):
            raise DelegationError("scope_widened", "a child grant can only narrow its parent's scopes")
        depth = leaf.max_depth - 1 if max_depth is None else _check_depth(max_depth)
        if leaf.max_depth < 1 or depth > leaf.max_depth - 1:
            raise DelegationError("depth_exceeded", "the parent grant allows no delegation this deep")
        now = _timestamp(clock)
        if now >= leaf.expires_at.timestamp():
            raise DelegationError("expired", "the parent grant has expired")
        if math.floor(now) < leaf.not_before.timestamp():
            raise DelegationError("not_yet_valid", "the parent grant is not valid yet")
        if math.floor(now + _check_ttl(ttl)) > leaf.expires_at.timestamp():
            raise DelegationError("outlives_parent", "a child grant cannot outlive its parent")
        return self._sign(self._links, issuer, subject, child_scopes, now, ttl, depth, leaf.audience, leaf.id)

    @classmethod
    def _sign(
        cls,
        chain: tuple[_Link, ...],
        issuer: AgentIdentity,
        subject: AgentIdentity,
        scopes: tuple[Scope, ...],
        now: float,
        ttl: float,
        max_depth: int,
        audience: str,
        parent_id: str | None = None,
    ) -> Delegation:
        if not isinstance(issuer, AgentIdentity) or not isinstance(subject, AgentIdentity):
            raise PolicyError("issuer and subject must be AgentIdentity objects")
        not_before = math.floor(now)
        expires_at = math.floor(now + _check_ttl(ttl))
        if expires_at <= not_before:
            raise PolicyError("ttl must be at least one second")
        fields: dict[str, Any] = {
            "v": 1,
            "id": _b64encode(secrets.token_bytes(16)),
            "iss": issuer.name,
            "ikid": issuer.key_id,
            "sub": subject.name,
            "spk": _b64encode(subject.public_key_bytes),
            "scp": [scope._to_json() for scope in scopes],
            "nbf": not_before,
            "exp": expires_at,
            "dep": max_depth,
            "aud": _check_name(audience, "audience"),
        }
        if parent_id is not None:
            fields["par"] = parent_id
        try:
            body = _b64encode(_canonical_json(fields))
        except (ValueError, TypeError) as exc:  # a constraint with NaN or infinite bounds
            raise PolicyError("a scope cannot be serialised: bounds must be finite numbers") from exc
        signature = issuer._sign_bytes(f"{DELEGATION_PREFIX}.{body}".encode("ascii"))
        fields["spk"] = subject.public_key_bytes
        link = _Link(body, signature, fields)
        # Build the grant from what was signed, so an issued delegation equals its parsed token.
        return cls((*chain, link), (*(_grant(c.fields) for c in chain), _grant(fields)))

    @classmethod
    def parse(cls, token: str, *, max_token_bytes: int = 16384, max_links: int = _MAX_DEPTH) -> Delegation:
        """Decode a token WITHOUT verifying it (for inspection; verify with a `DelegationVerifier`).

        Raises:
            DelegationError: ``malformed``, ``too_large`` or ``too_deep``.
        """
        links = tuple(_split(token, max_token_bytes, max_links))
        return cls(links, tuple(_grant(link.fields) for link in links))

    @property
    def token(self) -> str:
        """The whole chain, root first, as one compact ASCII token."""
        parts = [DELEGATION_PREFIX]
        for link in self._links:
            parts += (link.body, _b64encode(link.signature))
        return ".".join(parts)

    @property
    def chain(self) -> tuple[Grant, ...]:
        """Every grant, root first; the last one is this delegation's."""
        return self._grants

    @property
    def grant(self) -> Grant:
        """The leaf grant."""
        return self._grants[-1]

    @property
    def id(self) -> str:
        """The leaf grant's id."""
        return self._grants[-1].id

    @property
    def subject(self) -> str:
        """The leaf grant's subject name."""
        return self._grants[-1].subject

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """The leaf grant's scopes."""
        return self._grants[-1].scopes

    @property
    def expires_at(self) -> datetime:
        """The leaf grant's expiry."""
        return self._grants[-1].expires_at

    @property
    def max_depth(self) -> int:
        """How many further delegations the leaf grant allows."""
        return self._grants[-1].max_depth

    def __repr__(self) -> str:
        leaf = self._grants[-1]
        return f"Delegation(id={leaf.id!r}, subject={leaf.subject!r}, links={len(self._grants)})"
