"""The error a delegation raises when it cannot be issued or does not verify."""

from __future__ import annotations

from ..errors import AispmError


class DelegationError(AispmError):
    """A delegation cannot be issued, or does not verify.

    Attributes:
        reason: A short machine-readable code: ``malformed``, ``too_large``, ``too_deep``,
            ``bad_signature``, ``unknown_key``, ``untrusted_root``, ``broken_chain``,
            ``expired``, ``not_yet_valid``, ``scope_widened``, ``outlives_parent``,
            ``depth_exceeded``, ``wrong_audience``, ``revoked``, ``wrong_presenter``
            or ``wrong_issuer``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{message} ({reason})")
