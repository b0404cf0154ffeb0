"""What every guard of one `Guard` shares: policy, mode, detectors, reporter, enforcement."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ._telemetry import Reporter
from .decisions import Action, Decision, Finding, Severity
from .detectors import Detector
from .errors import Blocked, GuardFailed
from .policy import Policy
from .principals import Session
from .vault import SessionVault

D = TypeVar("D", bound=Decision[Any])

ENFORCED = "enforced"
MONITORED = "monitored"
RETURNED = "returned"

GUARD_ERROR_DETECTOR = "aispm.guard_error"
GUARD_FAILED_RULE = "guard.failed"


@dataclass(frozen=True, slots=True)
class Runtime:
    """Configuration shared by the guards of one `Guard`; immutable after construction."""

    policy: Policy
    monitor: bool
    reporter: Reporter
    detectors: Mapping[str, Detector]
    hash_key: bytes
    vault: SessionVault | None = None
    """Pseudonyms per session, shared by the prompt guard and the output scanner; ``None`` when no mode needs it."""

    hasher: hmac.HMAC = field(init=False, repr=False)
    """HMAC keyed once; each fingerprint copies it (keying costs more than hashing a short match)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hasher", hmac.new(self.hash_key, digestmod=hashlib.sha256))

    def fingerprint(self, text: str) -> str:
        """Keyed hash of caught text: correlates repeats without revealing the text."""
        h = self.hasher.copy()
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:16]

    def with_fingerprints(self, text: str, findings: list[Finding]) -> tuple[Finding, ...]:
        """Fill in the fingerprint of every located finding."""
        out = []
        for f in findings:
            if f.start is not None and f.end is not None and not f.fingerprint:
                fingerprint = self.fingerprint(text[f.start : f.end])
                f = replace(f, fingerprint=fingerprint)
            out.append(f)
        return tuple(out)

    def failure(self, cls: type[D], guard: str, error: BaseException, value: Any, empty: Any, duration_ns: int) -> D:
        """The decision when a guard itself failed: deny with ``empty`` (fail closed) or allow ``value`` (fail open)."""
        finding = Finding(
            detector=GUARD_ERROR_DETECTOR,
            category="guard_failure",
            severity=Severity.HIGH,
        )
        closed = self.policy.fail_mode == "closed"
        return cls(
            action=Action.DENY if closed else Action.ALLOW,
            guard=guard,
            value=empty if closed else value,
            findings=(finding,),
            rule_ids=(GUARD_FAILED_RULE,),
            reason=f"the {guard} guard failed ({type(error).__name__}); failed {self.policy.fail_mode}",
            duration_ns=duration_ns,
        )

    def finish(
        self,
        decision: D,
        *,
        start_time_ns: int,
        session: Session | None,
        explicit: bool,
        attributes: dict[str, Any] | None = None,
        error: BaseException | None = None,
    ) -> D:
        """Report ``decision``; unless explicit or monitoring, raise when it does not allow.

        Raises:
            GuardFailed: The guard failed (``error``) and failed closed.
            Blocked: The decision does not allow the call.
        """
        enforcement = MONITORED if self.monitor else RETURNED if explicit else ENFORCED
        self.reporter.report(decision, start_time_ns, enforcement, session, attributes, error)
        if not explicit and not self.monitor and not decision.allowed:
            if error is not None:
                raise GuardFailed(decision) from error
            raise Blocked(decision)
        return decision


def wall_clock_ns() -> int:
    """Epoch nanoseconds, for span start times."""
    return time.time_ns()
