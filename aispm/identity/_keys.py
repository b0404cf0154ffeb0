"""Agent identities (a name and an Ed25519 key pair, or only its public key) and the key ring of trusted keys."""

from __future__ import annotations

import hmac
import math
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._clock import Clock, utc_now
from ..errors import PolicyError
from ._encoding import (
    MAX_MESSAGE_BYTES,
    MESSAGE_PREFIX,
    _b64encode,
    _canonical_json,
    _check_name,
    _check_ttl,
    _key_id,
    _string_keys,
    _timestamp,
)

_MAX_PEM_BYTES: Final = 16 * 1024


# --- identities ------------------------------------------------------------------------------------


class AgentIdentity:
    """An agent's name and Ed25519 key pair, or only its public key.

    Create one with `generate`, `from_pem` or `from_public_bytes`; share
    `public` (or `public_pem`) with the agents that verify it.
    """

    __slots__ = ("_key_id", "_name", "_private", "_public", "_raw")

    def __init__(self, name: str, public_key: Ed25519PublicKey, private_key: Ed25519PrivateKey | None = None) -> None:
        self._name = _check_name(name)
        self._public = public_key
        self._private = private_key
        self._raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._key_id = _key_id(self._raw)

    @classmethod
    def generate(cls, name: str) -> AgentIdentity:
        """A new identity with a fresh key pair."""
        _check_name(name)
        private = Ed25519PrivateKey.generate()
        return cls(name, private.public_key(), private)

    @classmethod
    def from_pem(cls, data: bytes, *, name: str, password: bytes | None = None) -> AgentIdentity:
        """Load a private key (PKCS#8) or a public key (SubjectPublicKeyInfo) in PEM.

        Raises:
            PolicyError: The data is not an Ed25519 key in PEM, or the password is wrong or missing.
        """
        _check_name(name)
        if not isinstance(data, bytes) or len(data) > _MAX_PEM_BYTES:
            raise PolicyError(f"a key must be PEM bytes of at most {_MAX_PEM_BYTES} bytes")
        try:
            if b"PRIVATE KEY-----" in data:
                private = serialization.load_pem_private_key(data, password=password)
                if not isinstance(private, Ed25519PrivateKey):
                    raise PolicyError("the key is not an Ed25519 key")
                return cls(name, private.public_key(), private)
            public = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # cryptography's messages do not contain key material, but stay uniform anyway.
            raise PolicyError("could not load the key: not an Ed25519 PEM key, or wrong or missing password") from exc
        if not isinstance(public, Ed25519PublicKey):
            raise PolicyError("the key is not an Ed25519 key")
        return cls(name, public)

    @classmethod
    def from_public_bytes(cls, raw: bytes, *, name: str) -> AgentIdentity:
        """A public-only identity from the 32 raw bytes of an Ed25519 public key.

        Raises:
            PolicyError: ``raw`` is not 32 bytes.
        """
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise PolicyError("an Ed25519 public key is 32 bytes")
        return cls(name, Ed25519PublicKey.from_public_bytes(raw))

    @property
    def name(self) -> str:
        """The agent's name."""
        return self._name

    @property
    def key_id(self) -> str:
        """A stable id of the public key: ``ed25519:`` and 22 base64url characters of its SHA-256."""
        return self._key_id

    @property
    def has_private_key(self) -> bool:
        """Whether this identity can sign."""
        return self._private is not None

    @property
    def public_key_bytes(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self._raw

    def public(self) -> AgentIdentity:
        """The same identity without its private key: safe to share."""
        return self if self._private is None else AgentIdentity(self._name, self._public)

    def private_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted with ``password`` when one is given.

        Raises:
            PolicyError: This identity has no private key, or the password is empty.
        """
        private = self._require_private()
        if password is not None and not (isinstance(password, bytes) and password):
            raise PolicyError("password must be non-empty bytes, or None for an unencrypted key")
        encryption: serialization.KeySerializationEncryption = (
            serialization.NoEncryption() if password is None else serialization.BestAvailableEncryption(password)
        )
        return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM."""
        return self._public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(
        self,
        payload: Mapping[str, Any],
        *,
        audience: str | None = None,
        ttl: float | None = None,
        clock: Clock = utc_now,
    ) -> str:
        """A compact signed message token carrying ``payload`` (see the module docstring).

        Args:
            payload: JSON-serialisable mapping with string keys; finite numbers only.
            audience: Who the message is for; `verify` must be told the same audience.
            ttl: Seconds until the message expires; ``None`` for no expiry (use ``max_age``
                when verifying).
            clock: The current time.

        Raises:
            PolicyError: No private key, the payload is not JSON or its body exceeds 64 KiB,
                or the ttl or audience is invalid.
        """
        private = self._require_private()
        if not isinstance(payload, Mapping) or not _string_keys(payload):
            raise PolicyError("payload must be a mapping with string keys (nested mappings too)")
        now = _timestamp(clock)
        header: dict[str, Any] = {
            "v": 1,
            "iss": self._name,
            "kid": self._key_id,
            "iat": math.floor(now),
            "jti": _b64encode(secrets.token_bytes(16)),
            "pld": dict(payload),
        }
        if audience is not None:
            header["aud"] = _check_name(audience, "audience")
        if ttl is not None:
            header["exp"] = math.floor(now + _check_ttl(ttl))
        try:
            body = _canonical_json(header)
        except (ValueError, TypeError, RecursionError) as exc:
            raise PolicyError("payload must be JSON: string keys, finite numbers, no cycles") from exc
        if len(body) > MAX_MESSAGE_BYTES:
            raise PolicyError(f"the signed message would exceed {MAX_MESSAGE_BYTES} bytes")
        signed = f"{MESSAGE_PREFIX}.{_b64encode(body)}"
        return f"{signed}.{_b64encode(private.sign(signed.encode('ascii')))}"

    def _sign_bytes(self, data: bytes) -> bytes:
        return self._require_private().sign(data)

    def _verify_bytes(self, signature: bytes, data: bytes) -> bool:
        try:
            self._public.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def _require_private(self) -> Ed25519PrivateKey:
        if self._private is None:
            raise PolicyError(f"identity {self._name!r} has only a public key and cannot sign")
        return self._private

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentIdentity):
            return NotImplemented
        return self._name == other._name and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash((self._name, self._raw))

    def __repr__(self) -> str:
        kind = "private" if self._private is not None else "public"
        return f"AgentIdentity(name={self._name!r}, key_id={self._key_id!r}, {kind})"


class KeyRing:
    """Trusted public keys by key id; some of them trusted to issue root delegations.

    Rotation: `add` the new key, re-issue, then `remove` the old key id. Every
    change bumps `epoch`, which verification caches watch. Thread-safe.
    """

    __slots__ = ("_epoch", "_keys", "_lock", "_roots")

    def __init__(self, identities: Iterable[AgentIdentity] = (), *, roots: Iterable[AgentIdentity] = ()) -> None:
        self._keys: dict[str, AgentIdentity] = {}
        self._roots: frozenset[str] = frozenset()
        self._epoch = 0
        self._lock = threading.Lock()
        for identity in identities:
            self.add(identity)
        for identity in roots:
            self.add(identity, root=True)

    def add(self, identity: AgentIdentity, *, root: bool = False) -> None:
        """Trust ``identity``'s public key (only the public key is kept); ``root=True`` lets it issue delegations."""
        if not isinstance(identity, AgentIdentity):
            raise PolicyError("a key ring holds AgentIdentity objects")
        with self._lock:
            self._keys[identity.key_id] = identity.public()
            roots = self._roots | {identity.key_id} if root else self._roots - {identity.key_id}
            self._roots = frozenset(roots)
            self._epoch += 1

    def remove(self, key_id: str) -> None:
        """Stop trusting a key (rotation or compromise). Unknown ids are ignored."""
        with self._lock:
            self._keys.pop(key_id, None)
            self._roots = self._roots - {key_id}
            self._epoch += 1

    def get(self, key_id: str) -> AgentIdentity | None:
        """The trusted identity with this key id, or ``None``."""
        return self._keys.get(key_id)

    def is_root(self, key_id: str) -> bool:
        """Whether the key may issue root delegations."""
        return key_id in self._roots

    @property
    def trusted_roots(self) -> frozenset[str]:
        """Key ids trusted to issue root delegations."""
        return self._roots

    @property
    def epoch(self) -> int:
        """A counter that changes whenever a key is added or removed."""
        return self._epoch

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[AgentIdentity]:
        return iter(list(self._keys.values()))

    def __repr__(self) -> str:
        return f"KeyRing({len(self._keys)} keys, {len(self._roots)} roots)"
