"""`ToolAuthorizer`: what an agent may do.

A tool call is authorised against the policy's ``tools`` section, and the
effective permission is the intersection of everyone involved:

- the tool: deny and allow globs, required roles, argument constraints, and the
  action attached to its risk level (tools the policy does not know are denied
  by default; ``@guard.tool`` declares a tool with its risk level);
- the user: when ``roles`` grants are configured, one of the user's roles must
  allow the tool and none deny it, and every constraint those roles set holds;
- every agent of the on-behalf-of chain: each must allow the tool (a sub-agent
  never gets more than its parent), and every constraint each sets holds;
- the delegation the acting agent holds, when it presents one (see
  `aispm.delegation`): its whole chain is verified and its scopes bound the call;
- the session: rate limits, a call budget, and its taint: once untrusted content
  has entered the context, tools at or above ``taint.min_risk`` need approval
  (or are denied), whatever the model asks.

Every check that fails adds a rule id; the strictest action wins.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from . import semconv
from ._clock import Clock, utc_now
from ._runtime import Runtime, wall_clock_ns
from .constraints import ArgConstraint, check_arguments
from .decisions import Action, ToolDecision
from .errors import AispmError, PolicyError
from .policy import RateLimit, ToolPolicy
from .principals import Session, current_session

if TYPE_CHECKING:
    from .approval import ApprovalHandler, ApprovalOutcome, ApprovalRequest
    from .delegation import Delegation, DelegationVerifier, VerifiedDelegation

__all__ = ["RegisteredTool", "ToolAuthorizer"]

_MAX_NAME_IN_SPAN = 256


@dataclass(frozen=True, slots=True)
class RegisteredTool:
    """A tool declared in code (``@guard.tool``)."""

    name: str
    risk: str | None
    description: str = ""


_REASONS = {Action.DENY: "tool call not permitted by policy", Action.REQUIRE_APPROVAL: "tool call needs approval"}


@functools.lru_cache(maxsize=1024)
def _chain_labels(chain: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """``issuer>subject`` per grant: built once per chain, not once per call."""
    return tuple(f"{issuer}>{subject}" for issuer, subject in chain)


def _globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


@dataclass(frozen=True, slots=True)
class _AgentRule:
    allow: re.Pattern[str] | None
    deny: re.Pattern[str] | None
    args: Mapping[str, Mapping[str, ArgConstraint]]


@dataclass(slots=True)
class _Call:
    """One tool call on its way through the authorizer."""

    tool: str
    args: Mapping[str, Any]
    session: Session | None
    start: int  # wall clock, for the span
    t0: int  # perf counter, for the duration
    action: Action | None = None  # None: the evaluation failed (see ``error``)
    rule_ids: tuple[str, ...] = ()
    risk: str = ""
    grant: VerifiedDelegation | None = None
    error: Exception | None = None


_RULE_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
"""A rule id: dotted lower-case words (``mcp.tool_changed``)."""


@dataclass(frozen=True, slots=True)
class _Limit:
    index: int
    limit: RateLimit
    tools: re.Pattern[str]


class ToolAuthorizer:
    """Authorises tool calls. Get it as ``guard.tools``."""

    __slots__ = (
        "_agents",
        "_allow",
        "_approver",
        "_clock",
        "_deny",
        "_limits",
        "_lock",
        "_policy",
        "_ranks",
        "_redact",
        "_registry",
        "_roles",
        "_rt",
        "_suspended",
        "_verifier",
    )

    def __init__(
        self,
        runtime: Runtime,
        policy: ToolPolicy,
        verifier: DelegationVerifier | None = None,
        *,
        approver: ApprovalHandler | None = None,
        redact: Callable[[Mapping[str, Any]], dict[str, Any]] = dict,
        clock: Clock = utc_now,
    ) -> None:
        self._rt = runtime
        self._verifier = verifier
        self._approver = approver
        self._redact = redact
        self._clock = clock
        self._policy = policy
        self._allow = _globs(policy.allow)
        self._deny = _globs(policy.deny)
        self._agents = {
            name: _AgentRule(_globs(rule.allow), _globs(rule.deny), rule.args) for name, rule in policy.agents.items()
        }
        self._roles = {
            name: _AgentRule(_globs(rule.allow), _globs(rule.deny), rule.args) for name, rule in policy.roles.items()
        }
        self._limits = tuple(
            _Limit(i, limit, _globs(limit.tools) or re.compile("(?!)")) for i, limit in enumerate(policy.rate_limits)
        )
        self._ranks = {level: i for i, level in enumerate(policy.risk_order)}
        self._registry: dict[str, RegisteredTool] = {}
        self._suspended: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, name: str, *, risk: str | None = None, description: str = "") -> RegisteredTool:
        """Declare a tool in code, so the policy knows it; ``@guard.tool`` calls this.

        Raises:
            PolicyError: The name is empty, or ``risk`` is not a level in the
                policy's ``tools.risk_actions``.
        """
        if not isinstance(name, str) or not name:
            raise PolicyError("a tool needs a non-empty name")
        if risk is not None and risk not in self._policy.risk_actions:
            levels = ", ".join(sorted(self._policy.risk_actions))
            raise PolicyError(f"tool {name!r}: unknown risk level {risk!r}; the policy knows {levels}")
        tool = RegisteredTool(name, risk, description)
        with self._lock:
            self._registry = {**self._registry, name: tool}  # copy on write: readers never lock
        return tool

    @property
    def registered(self) -> Mapping[str, RegisteredTool]:
        """Tools declared in code, by name."""
        return self._registry

    def risk_of(self, name: str) -> str:
        """The effective risk level of a tool: the policy's, else the code's, else ``tools.default_risk``."""
        spec = self._policy.tools.get(name)
        if spec is not None and spec.risk is not None:
            return spec.risk
        registered = self._registry.get(name)
        if registered is not None and registered.risk is not None:
            return registered.risk
        return self._policy.default_risk

    def suspend(self, name: str, rule_id: str = "tools.suspended") -> None:
        """Deny every call to ``name`` until `resume`, whatever the policy says, with ``rule_id``.

        For a tool that can no longer be trusted as it was approved: an MCP tool whose
        definition changed after it was pinned (``aispm_mcp``), a tool under investigation.
        Calls are decided and reported as usual, with the deny; a monitor-mode guard reports
        them and lets them run, as for any other deny.

        Raises:
            PolicyError: ``rule_id`` is not a dotted lower-case id.
        """
        if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
            raise PolicyError(f"invalid rule id {rule_id!r}; expected dotted lower-case words")
        with self._lock:
            self._suspended[name] = rule_id

    def resume(self, name: str) -> None:
        """Let calls to ``name`` be decided by the policy again (no-op when it is not suspended)."""
        with self._lock:
            self._suspended.pop(name, None)

    @property
    def suspended(self) -> Mapping[str, str]:
        """Suspended tools and the rule id their calls are denied with (a copy)."""
        with self._lock:
            return dict(self._suspended)

    @property
    def verifier(self) -> DelegationVerifier | None:
        """Verifies the delegations presented with calls; ``None`` when the guard has no trusted keys."""
        return self._verifier

    def revoke(self, grant: Delegation | str, until: datetime | None = None) -> None:
        """Revoke a delegation grant, and with it every grant delegated from it.

        Args:
            grant: The grant, or its id.
            until: How long to remember the revocation; by default the grant's expiry (for a
                `Delegation`) or 31 days (for an id).

        Raises:
            PolicyError: The guard has no trusted keys, hence no revocations.
        """
        verifier = self._verifier
        if verifier is None or verifier.revocations is None:
            raise PolicyError("this guard accepts no delegations (no keys): there is nothing to revoke")
        if isinstance(grant, str):
            grant_id, expiry = grant, self._clock() + timedelta(days=31)
        else:
            grant_id, expiry = grant.id, grant.expires_at
        verifier.revocations.revoke(grant_id, until or expiry)

    def authorize(self, tool: str, args: Mapping[str, Any] | None = None) -> ToolDecision:
        """Authorise a call of ``tool`` with ``args`` for the current session.

        Returns:
            The decision; ``decision.arguments`` holds the arguments that may be passed.

        Raises:
            Blocked: The call is not permitted (enforce mode). In monitor mode
                the decision is returned instead.
            TypeError: ``tool`` is not a ``str`` or ``args`` not a mapping with string keys.
        """
        return self._run(tool, args, explicit=False)

    async def aauthorize(self, tool: str, args: Mapping[str, Any] | None = None) -> ToolDecision:
        """Async twin of `authorize`; an approval handler is awaited without blocking the loop."""
        call = self._start(tool, args)
        approver = self._approver
        if approver is None or not self._asks(call):
            return self._finish(call, None, explicit=False)
        from .approval import aresolve

        outcome = await aresolve(approver, self._request(call), clock=self._clock)
        return self._finish(call, outcome, explicit=False)

    def check(self, tool: str, args: Mapping[str, Any] | None = None, *, ask: bool = True) -> ToolDecision:
        """Explicit tier: like `authorize`, but return the decision instead of raising.

        With ``ask=False`` no approver is asked: a call that needs approval is decided (and
        reported) as ``require_approval``. For observers, which cannot hold a call up and so
        must not ask a human about a call that runs whatever the answer.
        """
        return self._run(tool, args, explicit=True, ask=ask)

    def _run(self, tool: Any, args: Mapping[str, Any] | None, *, explicit: bool, ask: bool = True) -> ToolDecision:
        call = self._start(tool, args)
        approver = self._approver
        if approver is None or not ask or not self._asks(call):
            return self._finish(call, None, explicit=explicit)
        from .approval import resolve

        outcome = resolve(approver, self._request(call), clock=self._clock)
        return self._finish(call, outcome, explicit=explicit)

    def _asks(self, call: _Call) -> bool:
        """Whether a human is asked (when there is an approver): the call needs approval and the guard enforces.

        In monitor mode the ``require_approval`` decision is reported and the call goes on: asking
        someone whose answer changes nothing would only hold the call up.
        """
        return call.action is Action.REQUIRE_APPROVAL and not self._rt.monitor

    def _start(self, tool: Any, args: Mapping[str, Any] | None) -> _Call:
        """Validate the call and evaluate the policy; a failure is kept to be reported (fail closed)."""
        if not isinstance(tool, str):
            raise TypeError(f"tool name must be str, got {type(tool).__name__}")
        if args is None:
            args = {}
        if not isinstance(args, Mapping) or not all(isinstance(k, str) for k in args):
            raise TypeError("tool arguments must be a mapping with string keys")
        call = _Call(tool, args, current_session(), wall_clock_ns(), perf_counter_ns())
        try:
            call.action, call.rule_ids, call.risk, call.grant = self._evaluate(tool, args, call.session)
        except Exception as exc:  # fail closed, reported by `_finish`
            call.error = exc
        return call

    def _request(self, call: _Call) -> ApprovalRequest:
        """What the human is shown: the tool, its arguments with secrets and PII redacted, who asks and why."""
        from .approval import ApprovalRequest

        session = call.session
        return ApprovalRequest.create(
            call.tool,
            self._redact(call.args),
            timeout=self._policy.approval.timeout_seconds,
            chain=session.chain if session is not None else (),
            delegation_id=call.grant.id if call.grant is not None else None,
            risk=call.risk,
            reasons=call.rule_ids,
            clock=self._clock,
        )

    def _finish(self, call: _Call, outcome: ApprovalOutcome | None, *, explicit: bool) -> ToolDecision:
        attributes: dict[str, Any] = {
            semconv.GEN_AI_OPERATION_NAME: "execute_tool",
            semconv.GEN_AI_TOOL_NAME: call.tool[:_MAX_NAME_IN_SPAN],
        }
        session = call.session
        if call.action is None:
            error = call.error or RuntimeError("no decision")
            failed = self._rt.failure(ToolDecision, "tools", error, dict(call.args), {}, perf_counter_ns() - call.t0)
            return self._rt.finish(
                failed, start_time_ns=call.start, session=session, explicit=explicit, attributes=attributes, error=error
            )
        grant = call.grant
        attributes[semconv.TOOL_RISK] = call.risk
        if grant is not None:
            attributes[semconv.DELEGATION_ID] = grant.id
            attributes[semconv.DELEGATION_CHAIN] = _chain_labels(grant.chain)
        action, rule_ids = call.action, call.rule_ids
        value = dict(call.args) if action is Action.ALLOW or action is Action.REDACT else {}
        reason = "" if action is Action.ALLOW else _REASONS.get(action, "tool call not permitted by policy")
        approval = approver = ""
        if outcome is not None:
            approval, approver = outcome.status.value, outcome.approver or ""
            attributes[semconv.APPROVAL_OUTCOME] = approval
            if approver:
                attributes[semconv.APPROVAL_APPROVER] = approver
            rule_ids = (*rule_ids, outcome.rule_id)
            if outcome.approved:
                action, value, reason = Action.ALLOW, dict(call.args), f"approved by {approver or 'a reviewer'}"
                if session is not None:
                    self._rt.state.add_call(session.id)
            else:
                action, value, reason = Action.DENY, {}, f"approval {approval}"
        final = ToolDecision(
            action,
            "tools",
            value,
            (),
            rule_ids,
            reason,
            perf_counter_ns() - call.t0,
            call.tool,
            grant.id if grant is not None else "",
            approval,
            approver,
        )
        return self._rt.finish(
            final, start_time_ns=call.start, session=session, explicit=explicit, attributes=attributes
        )

    def _evaluate(
        self, tool: str, args: Mapping[str, Any], session: Session | None
    ) -> tuple[Action, tuple[str, ...], str, VerifiedDelegation | None]:
        """The action, the ids of the rules that did not allow, the tool's risk level, the verified grant."""
        policy = self._policy
        risk = self.risk_of(tool)
        suspended = self._suspended.get(tool)
        if not policy.enabled:  # a suspension holds even then: it is a kill switch, not a rule
            return (Action.ALLOW, (), risk, None) if suspended is None else (Action.DENY, (suspended,), risk, None)
        denials: list[tuple[Action, str]] = []
        if suspended is not None:
            denials.append((Action.DENY, suspended))
        self._static(tool, args, session, denials)
        grant = self._delegated(tool, args, session, denials)
        if session is not None and not any(a is Action.DENY for a, _ in denials):
            self._dynamic(tool, risk, session, denials)
        risk_action = policy.risk_actions[risk]
        if risk_action is not Action.ALLOW:
            denials.append((risk_action, f"tools.risk.{risk}"))
        action = max((a for a, _ in denials), default=Action.ALLOW)
        if action is Action.ALLOW:
            if session is not None:
                self._rt.state.add_call(session.id)
            return Action.ALLOW, (), risk, grant
        return action, tuple(dict.fromkeys(r for a, r in denials if a is not Action.ALLOW)), risk, grant

    def _delegated(
        self, tool: str, args: Mapping[str, Any], session: Session | None, denials: list[tuple[Action, str]]
    ) -> VerifiedDelegation | None:
        """Verify the delegation the acting agent presents; its scopes bound the call."""
        token = session.delegation if session is not None else None
        if token is None:
            if self._policy.delegation.required and session is not None and session.agents:
                denials.append((Action.DENY, "delegation.missing"))
            return None
        verifier = self._verifier
        if verifier is None:  # a grant nobody can check proves nothing: fail closed
            denials.append((Action.DENY, "delegation.no_trusted_keys"))
            return None
        presenter = session.agent if session is not None else None
        if presenter is None:
            denials.append((Action.DENY, "delegation.wrong_presenter"))
            return None
        try:
            grant = verifier.verify(token, presenter=presenter)
        except AispmError as exc:  # DelegationError: its reason says which check failed
            denials.append((Action.DENY, f"delegation.{getattr(exc, 'reason', 'invalid')}"))
            return None
        denials.extend((Action.DENY, code) for code in grant.permits(tool, args))
        return grant

    def _static(
        self, tool: str, args: Mapping[str, Any], session: Session | None, denials: list[tuple[Action, str]]
    ) -> None:
        """What the policy says about this tool, user, agents and arguments, whatever happened before."""
        policy = self._policy
        if self._deny is not None and self._deny.match(tool):
            denials.append((Action.DENY, "tools.denied"))
        spec = policy.tools.get(tool)
        if self._allow is not None:
            if not self._allow.match(tool) and spec is None:
                denials.append((Action.DENY, "tools.not_granted"))
        elif spec is None and tool not in self._registry:
            denials.append((policy.unknown, "tools.unknown"))
        roles = session.roles if session is not None else frozenset()
        if spec is not None and spec.roles and roles.isdisjoint(spec.roles):
            denials.append((Action.DENY, "tools.role_required"))
        constraints: list[Mapping[str, ArgConstraint]] = []
        if spec is not None and spec.args:
            constraints.append(spec.args)
        if self._roles:
            granted = False
            for role in sorted(roles):
                rule = self._roles.get(role)
                if rule is None:
                    continue
                if rule.deny is not None and rule.deny.match(tool):
                    denials.append((Action.DENY, "tools.role_denied"))
                if rule.allow is not None and rule.allow.match(tool):
                    granted = True
                    if tool in rule.args:
                        constraints.append(rule.args[tool])
            if not granted:
                denials.append((Action.DENY, "tools.role_not_granted"))
        if session is not None:
            for agent in session.agents:
                rule = self._agents.get(agent)
                if rule is None:
                    continue
                if rule.deny is not None and rule.deny.match(tool):
                    denials.append((Action.DENY, "tools.agent_denied"))
                if rule.allow is None or not rule.allow.match(tool):
                    denials.append((Action.DENY, "tools.agent_not_granted"))
                if tool in rule.args:
                    constraints.append(rule.args[tool])
        for group in constraints:
            denials.extend((Action.DENY, code) for code in check_arguments(group, args))

    def _dynamic(self, tool: str, risk: str, session: Session, denials: list[tuple[Action, str]]) -> None:
        """What depends on the session's history: its taint, its call budget, rate limits."""
        policy = self._policy
        state = self._rt.state.session(session.id)
        taint = policy.taint
        tainted = state.tainted or (taint.risk_threshold is not None and state.risk >= taint.risk_threshold)
        if tainted and self._rank(risk) >= self._rank(taint.min_risk) and taint.action is not Action.ALLOW:
            denials.append((taint.action, "tools.tainted_session"))
        if policy.session_budget is not None and state.calls >= policy.session_budget:
            denials.append((Action.DENY, "tools.session_budget"))
        for entry in self._limits:
            if not entry.tools.match(tool):
                continue
            limit = entry.limit
            who = session.user if limit.per == "user" else session.agent if limit.per == "agent" else session.id
            key = f"rate:{entry.index}:{limit.per}:{who}"
            if self._rt.state.hit(key, limit.window_seconds) > limit.calls:
                denials.append((limit.action, "tools.rate_limited"))

    def _rank(self, risk: str) -> int:
        """Position of a risk level in ``risk_order``; a level not listed ranks highest (fails closed)."""
        return self._ranks.get(risk, len(self._ranks))
