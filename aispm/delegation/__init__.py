"""Signed, attenuated delegation chains with TTLs.

A `Delegation` grants its subject agent some tools (``Scope``: a tool glob and
argument constraints) for a while, for one audience. The subject can pass on a
narrower part of it with `Delegation.delegate`: each child grant is signed with
the key its parent certified for the subject, so a chain proves who passed what
to whom. A `DelegationVerifier` checks a whole chain, root-first, and caches
the result until the chain's earliest expiry or the next revocation.

Token format (``aispm-dg1``), the whole chain root-first::

    aispm-dg1.<body 1>.<signature 1>.<body 2>.<signature 2>...

Each body is unpadded base64url of canonical JSON: ``{"v": 1, "id": grant id,
"par": parent id (absent on the root), "iss": issuer name, "ikid": issuer key
id, "sub": subject name, "spk": subject public key (raw, base64url),
"scp": [{"t": tool glob, "a": {arg: ArgConstraint}}], "nbf": seconds, "exp":
seconds, "dep": remaining depth, "aud": audience}``. Each signature is Ed25519
over the ASCII bytes ``aispm-dg1.<body>``.
"""

from __future__ import annotations

from ._chain import Delegation
from ._errors import DelegationError
from ._grants import DELEGATION_PREFIX as DELEGATION_PREFIX
from ._grants import Grant
from ._revocation import InMemoryRevocations, Revocations
from ._scopes import Scope
from ._verifier import DelegationVerifier, VerifiedDelegation

__all__ = [
    "Delegation",
    "DelegationError",
    "DelegationVerifier",
    "Grant",
    "InMemoryRevocations",
    "Revocations",
    "Scope",
    "VerifiedDelegation",
]
