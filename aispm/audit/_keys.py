"""Ed25519 keys: the id a checkpoint names its key by, and loading signing and verifying keys."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import PolicyError
from ..identity import AgentIdentity

PublicKeyLike = Ed25519PublicKey | AgentIdentity | bytes | str | Path


def key_id(public_key: Ed25519PublicKey) -> str:
    """The id a checkpoint names its key by; the same as ``AgentIdentity.key_id``.

    ``ed25519:`` and the first 22 base64url characters of SHA-256 of the raw public key.
    """
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode("ascii")[:22]


def _private_key(key: object) -> Ed25519PrivateKey:
    """The key that signs checkpoints, from a cryptography key or an `AgentIdentity`."""
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, AgentIdentity):
        if not key.has_private_key:
            raise PolicyError(f"identity {key.name!r} has only a public key and cannot sign checkpoints")
        # An AgentIdentity only ever holds an Ed25519 key; its PEM is the public way to it.
        return cast(Ed25519PrivateKey, serialization.load_pem_private_key(key.private_pem(), password=None))
    raise PolicyError("signing_key must be an Ed25519PrivateKey or an AgentIdentity with its private key")


def load_public_key(key: PublicKeyLike) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a key object, an `AgentIdentity`, PEM bytes/text or a PEM file.

    Raises:
        PolicyError: It is not an Ed25519 public key (private keys are refused: pass the public half).
        OSError: The file cannot be read.
    """
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, AgentIdentity):
        return Ed25519PublicKey.from_public_bytes(key.public_key_bytes)
    if isinstance(key, Path):
        with key.open("rb") as f:
            key = f.read(64 * 1024)
    if isinstance(key, str):
        key = key.encode("ascii", "replace")
    if not isinstance(key, bytes):
        raise PolicyError("expected an Ed25519 public key: a key object, an AgentIdentity, PEM or a PEM file")
    try:
        loaded = serialization.load_pem_public_key(key)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise PolicyError("not a PEM public key (SubjectPublicKeyInfo)") from exc
    if not isinstance(loaded, Ed25519PublicKey):
        raise PolicyError("the public key is not an Ed25519 key")
    return loaded


def _key_map(public_key: PublicKeyLike | Sequence[PublicKeyLike] | None) -> dict[str, Ed25519PublicKey]:
    if public_key is None:
        return {}
    many: Sequence[Any] = public_key if isinstance(public_key, list | tuple) else [public_key]
    keys = [load_public_key(k) for k in many]
    return {key_id(k): k for k in keys}
