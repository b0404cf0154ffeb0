"""The one reporting path: every decision becomes one OpenTelemetry span.

This is the only module that imports ``opentelemetry``, and it does so when a
guard is constructed, not when ``aispm`` is imported. Spans are started with
``start_span`` (parented on the caller's current span) and attributes are
computed only when the span is recording, so with no SDK configured a
decision costs about a microsecond of telemetry. Telemetry fails open: an
exporter problem is logged and never changes a decision.
"""

from __future__ import annotations

import logging
from typing import Any

from . import semconv
from ._redact import placeholder
from ._version import __version__
from .decisions import Decision, Finding
from .principals import Session

_log = logging.getLogger("aispm")


class Reporter:
    """Turns decisions into spans on one tracer."""

    __slots__ = ("_mode", "_status", "_status_error", "_tracer")

    def __init__(self, tracer_provider: Any | None, *, mode: str) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        self._tracer = trace.get_tracer("aispm", __version__, tracer_provider=tracer_provider)
        self._mode = mode
        self._status = Status
        self._status_error = StatusCode.ERROR

    def report(
        self,
        decision: Decision[Any],
        start_time_ns: int,
        enforcement: str,
        session: Session | None,
        attributes: dict[str, Any] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Emit the span of one decision as a child of the current span."""
        try:
            span = self._tracer.start_span(semconv.SPAN_PREFIX + decision.guard, start_time=start_time_ns)
            if span.is_recording():
                span.set_attributes(self._attributes(decision, enforcement, session, attributes, error))
                for finding in decision.findings:
                    span.add_event(semconv.EVENT_FINDING, _finding_attributes(finding))
                if error is not None:
                    span.set_status(self._status(self._status_error, type(error).__name__))
            span.end(end_time=start_time_ns + decision.duration_ns)
        except Exception:  # telemetry must never change a decision
            _log.warning("aispm: could not report a %s decision", decision.guard, exc_info=True)

    def _attributes(
        self,
        decision: Decision[Any],
        enforcement: str,
        session: Session | None,
        extra: dict[str, Any] | None,
        error: BaseException | None,
    ) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            semconv.DECISION_ACTION: decision.action.value,
            semconv.DECISION_GUARD: decision.guard,
            semconv.ENFORCEMENT: enforcement,
            semconv.MODE: self._mode,
        }
        if decision.rule_ids:
            attrs[semconv.RULE_IDS] = decision.rule_ids
        if decision.reason:
            attrs[semconv.DECISION_REASON] = decision.reason
        findings = decision.findings
        if findings:
            attrs[semconv.FINDINGS_COUNT] = len(findings)
            attrs[semconv.FINDINGS_CATEGORIES] = tuple(sorted({f.category for f in findings}))
            attrs[semconv.FINDINGS_MAX_SEVERITY] = max(f.severity for f in findings).value
        if session is not None:
            attrs[semconv.SESSION_ID] = session.id
            if session.user is not None:
                attrs[semconv.PRINCIPAL_USER] = session.user
            if session.roles:
                attrs[semconv.PRINCIPAL_ROLES] = tuple(sorted(session.roles))
            if session.chain:
                attrs[semconv.PRINCIPAL_CHAIN] = session.chain
            if session.agent is not None:
                attrs[semconv.GEN_AI_AGENT_NAME] = session.agent
        if extra:
            attrs.update(extra)
        if error is not None:
            attrs[semconv.ERROR_TYPE] = type(error).__name__
        return attrs


def _finding_attributes(finding: Finding) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        semconv.FINDING_DETECTOR: finding.detector,
        semconv.FINDING_CATEGORY: finding.category,
        semconv.FINDING_SEVERITY: finding.severity.value,
        semconv.GEN_AI_EVALUATION_NAME: finding.detector,
    }
    if finding.confidence is not None:
        attrs[semconv.FINDING_CONFIDENCE] = finding.confidence
        attrs[semconv.GEN_AI_EVALUATION_SCORE_VALUE] = finding.confidence
    if finding.start is not None:
        attrs[semconv.FINDING_START] = finding.start
        attrs[semconv.FINDING_END] = finding.end
        attrs[semconv.FINDING_EXCERPT] = placeholder(finding.detector)
    if finding.layer:
        attrs[semconv.FINDING_LAYER] = finding.layer
    if finding.mappings:
        attrs[semconv.FINDING_MAPPINGS] = finding.mappings
    if finding.fingerprint:
        attrs[semconv.FINDING_FINGERPRINT] = finding.fingerprint
    return attrs
