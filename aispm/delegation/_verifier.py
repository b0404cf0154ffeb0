"""Verification: `DelegationVerifier` checks whole chains and caches what verified."""

from __future__ import annotations

import hmac
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._clock import Clock, utc_now
from ..errors import AispmError, PolicyError
from ..identity import AgentIdentity, KeyRing, SignedMessage
from ..identity import verify as verify_message_token
from ..identity._encoding import _check_name, _key_id, _timestamp
from ._errors import DelegationError
from ._grants import _MAX_DEPTH, _grant, _split
from ._revocation import Revocations
from ._scopes import Scope, _permits, _scopes_within

# --- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedDelegation:
    """A chain that verified: what its leaf subject may do, and who passed it down.

    Attributes:
        id: The leaf grant's id.
        grant_ids: Every grant's id, root first.
        chain: ``(issuer, subject)`` names of every grant, root first.
        subject: The leaf subject: the agent that may act.
        subject_key_id: The leaf subject's key id.
        scopes: The leaf's scopes, the narrowest of the chain.
        audience: The audience the chain is for.
        not_before: The latest start of validity in the chain.
        expires_at: The earliest expiry in the chain.
        remaining_depth: Further delegations the leaf allows.
        subject_key: The leaf subject's raw public key.
    """

    id: str
    grant_ids: tuple[str, ...]
    chain: tuple[tuple[str, str], ...]
    subject: str
    subject_key_id: str
    scopes: tuple[Scope, ...]
    audience: str
    not_before: datetime
    expires_at: datetime
    remaining_depth: int
    subject_key: bytes = field(repr=False)

    def permits(self, tool: str, args: Mapping[str, Any] | None = None) -> list[str]:
        """Violation codes of a call against the scopes; empty when the call is allowed.

        The codes are ``delegation.tool_not_in_scope`` when no scope covers the tool, else
        those of the first scope that covers it, such as ``delegation.args.amount.above_max``.
        """
        return _permits(self.scopes, tool, {} if args is None else args)

    @property
    def subject_identity(self) -> AgentIdentity:
        """The leaf subject as a public-only identity, to verify its signed messages."""
        return AgentIdentity.from_public_bytes(self.subject_key, name=self.subject)


@dataclass(frozen=True, slots=True)
class _Cached:
    result: VerifiedDelegation
    valid_from: float
    valid_until: float
    keys_epoch: int
    revocations_epoch: int


class DelegationVerifier:
    """Verifies delegation chains for one audience, with a bounded, thread-safe result cache.

    Args:
        keys: Trusted keys; a root grant must be signed by a key added with ``root=True``.
        audience: This service; chains for another audience are refused.
        clock: The current time.
        skew_seconds: Clock difference tolerated on not-before and expiry.
        max_depth: Most grants a chain may have.
        max_token_bytes: Longest token accepted.
        revocations: Revoked grant ids; ``None`` when nothing is ever revoked.
        cache_size: Verified chains kept (0 disables the cache).
    """

    def __init__(
        self,
        keys: KeyRing,
        *,
        audience: str,
        clock: Clock = utc_now,
        skew_seconds: float = 30,
        max_depth: int = 8,
        max_token_bytes: int = 16384,
        revocations: Revocations | None = None,
        cache_size: int = 4096,
    ) -> None:
        if not isinstance(keys, KeyRing):
            raise PolicyError("keys must be a KeyRing")
        if isinstance(skew_seconds, bool) or not isinstance(skew_seconds, int | float) or not 0 <= skew_seconds <= 3600:
            raise PolicyError("skew_seconds must be between 0 and 3600")
        if type(max_depth) is not int or not 1 <= max_depth <= _MAX_DEPTH:
            raise PolicyError(f"max_depth must be an integer from 1 to {_MAX_DEPTH}")
        if type(max_token_bytes) is not int or not 256 <= max_token_bytes <= 1 << 20:
            raise PolicyError("max_token_bytes must be an integer from 256 to 1 MiB")
        if type(cache_size) is not int or cache_size < 0:
            raise PolicyError("cache_size must be a non-negative integer")
        if revocations is not None and not isinstance(revocations, Revocations):
            raise PolicyError("revocations must implement the Revocations protocol")
        self._keys = keys
        self._audience = _check_name(audience, "audience")
        self._clock = clock
        self._skew = float(skew_seconds)
        self._max_depth = max_depth
        self._max_bytes = max_token_bytes
        self._revocations = revocations
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def audience(self) -> str:
        """The audience this verifier accepts."""
        return self._audience

    @property
    def revocations(self) -> Revocations | None:
        """Where revoked grant ids are kept (``None`` when nothing can be revoked)."""
        return self._revocations

    def verify(self, token: str, *, presenter: str | SignedMessage) -> VerifiedDelegation:
        """Verify a whole chain, and that ``presenter`` is its leaf subject.

        Args:
            token: `Delegation.token`.
            presenter: Who presents it: the agent's name, or (stronger) a message the
                caller has verified, which must be signed by the leaf subject's key.

        Raises:
            DelegationError: With ``reason`` saying why the chain is refused.
        """
        result = self._verified(token)
        if isinstance(presenter, SignedMessage):
            if not (
                presenter.key_id == result.subject_key_id
                and hmac.compare_digest(presenter.public_key, result.subject_key)
            ):
                raise DelegationError("wrong_presenter", "the message is not signed by the delegation's subject")
        elif not isinstance(presenter, str) or presenter != result.subject:
            raise DelegationError("wrong_presenter", "the delegation was presented by an agent that is not its subject")
        return result

    def verify_message(
        self, token: str, message: str, *, max_age: float | None = 60
    ) -> tuple[VerifiedDelegation, SignedMessage]:
        """Verify a chain and a message signed by its leaf subject for this audience (proof of possession).

        Raises:
            DelegationError: The chain does not verify, or the message does not (``wrong_presenter``).
        """
        result = self._verified(token)
        try:
            signed = verify_message_token(
                message,
                result.subject_identity,
                audience=self._audience,
                clock=self._clock,
                skew_seconds=self._skew,
                max_age=max_age,
            )
        except AispmError as exc:
            reason = getattr(exc, "reason", "malformed")
            raise DelegationError("wrong_presenter", f"the presenter's message does not verify: {reason}") from exc
        return result, signed

    def _verified(self, token: str) -> VerifiedDelegation:
        now = _timestamp(self._clock)
        revocations_epoch = self._revocations.epoch if self._revocations is not None else 0
        keys_epoch = self._keys.epoch
        if self._cache_size and isinstance(token, str):
            with self._lock:
                hit = self._cache.get(token)
                if hit is not None:
                    if (
                        hit.valid_from <= now < hit.valid_until
                        and hit.keys_epoch == keys_epoch
                        and hit.revocations_epoch == revocations_epoch
                    ):
                        self._cache.move_to_end(token)
                        return hit.result
                    del self._cache[token]
        result = self._verify_chain(token, now)
        if self._cache_size:
            entry = _Cached(
                result,
                result.not_before.timestamp() - self._skew,
                result.expires_at.timestamp() + self._skew,
                keys_epoch,
                revocations_epoch,
            )
            with self._lock:
                self._cache[token] = entry
                self._cache.move_to_end(token)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return result

    def _verify_chain(self, token: str, now: float) -> VerifiedDelegation:
        links = _split(token, self._max_bytes, self._max_depth)
        root = links[0].fields
        if "par" in root:
            raise DelegationError("broken_chain", "the first grant of a chain must be a root grant")
        root_key = self._keys.get(root["ikid"])
        if root_key is None:
            raise DelegationError("unknown_key", "the root grant is signed by a key that is not trusted")
        if not self._keys.is_root(root["ikid"]) or root["iss"] != root_key.name:
            raise DelegationError("untrusted_root", "the root grant's key is not trusted to issue delegations")
        # Authenticate every link before parsing scopes (regular expressions) or trusting any value.
        signer = root_key
        for index, link in enumerate(links):
            fields = link.fields
            if index:
                parent = links[index - 1].fields
                if (
                    fields.get("par") != parent["id"]
                    or fields["iss"] != parent["sub"]
                    or fields["ikid"] != _key_id(parent["spk"])
                ):
                    raise DelegationError("broken_chain", "a grant is not issued by its parent's subject")
                signer = AgentIdentity.from_public_bytes(parent["spk"], name=parent["sub"])
            if not signer._verify_bytes(link.signature, link.signed):
                raise DelegationError("bad_signature", "a grant's signature does not verify")
        grants = [_grant(link.fields) for link in links]
        for index, grant in enumerate(grants):
            if grant.audience != self._audience:
                raise DelegationError("wrong_audience", "the delegation is for another audience")
            if now + self._skew < grant.not_before.timestamp():
                raise DelegationError("not_yet_valid", "a grant in the chain is not valid yet")
            if now - self._skew >= grant.expires_at.timestamp():
                raise DelegationError("expired", "a grant in the chain has expired")
            if index:
                parent_grant = grants[index - 1]
                if grant.max_depth > parent_grant.max_depth - 1:
                    raise DelegationError("depth_exceeded", "a grant is deeper than its parent allows")
                if grant.expires_at > parent_grant.expires_at or grant.not_before < parent_grant.not_before:
                    raise DelegationError("outlives_parent", "a grant is valid outside its parent's validity")
                if not _scopes_within(grant.scopes, parent_grant.scopes):
                    raise DelegationError("scope_widened", "a grant widens its parent's scopes")
        if self._revocations is not None and any(self._revocations.is_revoked(g.id) for g in grants):
            raise DelegationError("revoked", "a grant in the chain is revoked")
        leaf = grants[-1]
        return VerifiedDelegation(
            id=leaf.id,
            grant_ids=tuple(g.id for g in grants),
            chain=tuple((g.issuer, g.subject) for g in grants),
            subject=leaf.subject,
            subject_key_id=leaf.subject_key_id,
            scopes=leaf.scopes,
            audience=leaf.audience,
            not_before=max(g.not_before for g in grants),
            expires_at=min(g.expires_at for g in grants),
            remaining_depth=leaf.max_depth,
            subject_key=leaf.subject_key,
        )

    def clear_cache(self) -> None:
        """Forget every cached result."""
        with self._lock:
            self._cache.clear()
