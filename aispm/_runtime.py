"""What every guard of one `Guard` shares: policy, mode, detectors, reporter, enforcement."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from . import semconv
from ._telemetry import Reporter
from .decisions import Action, Decision, Finding, Severity
from .detectors import Detector
from .errors import Blocked, GuardFailed
from .policy import UNTRUSTED_SOURCES, Policy
from .principals import Session
from .state import MemoryStore, StateStore
from .vault import SessionVault

if TYPE_CHECKING:
    from .audit import AuditLog

D = TypeVar("D", bound=Decision[Any])

ENFORCED = "enforced"
MONITORED = "monitored"
RETURNED = "returned"

RISK_WEIGHTS = {
    Severity.INFO: 0.0,
    Severity.LOW: 1.0,
    Severity.MEDIUM: 2.0,
    Severity.HIGH: 5.0,
    Severity.CRITICAL: 10.0,
}
"""How much one finding of each severity raises its session's risk."""

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

    state: StateStore = field(default_factory=MemoryStore)
    """Rate-limit counters, session call counts, session risk and taint."""

    audit: AuditLog | None = None
    """The tamper-evident log every decision is appended to, or ``None``."""

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
        if session is not None and decision.guard != "tools":
            self._track(decision, session, attributes)
        if self.audit is not None and error is None:
            try:
                self._audit(self.audit, decision, session)
            except Exception as exc:  # an unrecorded decision is a failed guard: fail as the policy says
                decision, error = (
                    self.failure(type(decision), decision.guard, exc, decision.value, _empty(decision), 0),
                    exc,
                )
        self.reporter.report(decision, start_time_ns, enforcement, session, attributes, error)
        if not explicit and not self.monitor and not decision.allowed:
            if error is not None:
                raise GuardFailed(decision) from error
            raise Blocked(decision)
        return decision

    def _track(self, decision: Decision[Any], session: Session, attributes: dict[str, Any] | None) -> None:
        """Raise the session's risk by the findings; taint it when untrusted content enters the context.

        Untrusted text (a tool result, a retrieved document) taints the session when the prompt
        guard flags it, or, for the sources listed in ``tools.taint.sources``, whatever it holds.
        The retrieval filter's decisions count as text from ``retrieval``: flagged when it
        quarantined a document.
        """
        attributes = attributes or {}
        taint = None
        source: object
        if decision.guard == "retrieval":
            source, origin = "retrieval", attributes.get(semconv.RETRIEVAL_ORIGIN)
            flagged = bool(getattr(decision, "quarantined", ()))
            entered = bool(decision.value)
        else:
            source, origin = attributes.get(semconv.PROMPT_SOURCE), attributes.get(semconv.PROMPT_ORIGIN)
            flagged = bool(decision.findings)
            entered = True
        untrusted = decision.guard in ("prompt", "retrieval") and source in UNTRUSTED_SOURCES
        if untrusted and (flagged or (entered and source in self.policy.tools.taint.sources)):
            taint = f"{source}:{origin}" if origin else str(source)
        risk = sum(RISK_WEIGHTS[f.severity] for f in decision.findings)
        if risk or taint is not None:
            self.state.add_risk(session.id, risk, taint=taint)

    @staticmethod
    def _audit(log: AuditLog, decision: Decision[Any], session: Session | None) -> None:
        delegation_id = getattr(decision, "delegation_id", "") or None
        outcome = getattr(decision, "approval", "")
        approval = {"outcome": outcome, "approver": getattr(decision, "approver", "")} if outcome else None
        log.record(
            decision,
            session_chain=session.chain if session is not None else (),
            delegation_id=delegation_id,
            approval=approval,
        )


def _empty(decision: Decision[Any]) -> Any:
    """The empty value of a decision's kind: what a denied call passes on."""
    return "" if isinstance(decision.value, str) else type(decision.value)() if decision.value is not None else None


def wall_clock_ns() -> int:
    """Epoch nanoseconds, for span start times."""
    return time.time_ns()
