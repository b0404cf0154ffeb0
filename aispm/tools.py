"""`ToolAuthorizer`: what an agent may do.

A tool call is authorised against the policy's ``tools`` section: deny and
allow globs, the tool's required roles, every agent of the on-behalf-of chain
(each must allow the tool: a sub-agent never gets more than its parent), and
the action the policy attaches to the tool's risk level. Tools the policy
does not know are denied by default; registering a tool with ``@guard.tool``
declares it (with its risk level).
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any

from . import semconv
from ._runtime import Runtime, wall_clock_ns
from .decisions import Action, ToolDecision
from .errors import PolicyError
from .policy import ToolPolicy
from .principals import Session, current_session

__all__ = ["RegisteredTool", "ToolAuthorizer"]

_MAX_NAME_IN_SPAN = 256


@dataclass(frozen=True, slots=True)
class RegisteredTool:
    """A tool declared in code (``@guard.tool``)."""

    name: str
    risk: str | None
    description: str = ""


def _globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


@dataclass(frozen=True, slots=True)
class _AgentRule:
    allow: re.Pattern[str] | None
    deny: re.Pattern[str] | None


class ToolAuthorizer:
    """Authorises tool calls. Get it as ``guard.tools``."""

    __slots__ = ("_agents", "_allow", "_deny", "_lock", "_policy", "_registry", "_rt")

    def __init__(self, runtime: Runtime, policy: ToolPolicy) -> None:
        self._rt = runtime
        self._policy = policy
        self._allow = _globs(policy.allow)
        self._deny = _globs(policy.deny)
        self._agents = {name: _AgentRule(_globs(rule.allow), _globs(rule.deny)) for name, rule in policy.agents.items()}
        self._registry: dict[str, RegisteredTool] = {}
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
        """Async twin of `authorize`."""
        return self.authorize(tool, args)

    def check(self, tool: str, args: Mapping[str, Any] | None = None) -> ToolDecision:
        """Explicit tier: like `authorize`, but return the decision instead of raising."""
        return self._run(tool, args, explicit=True)

    def _run(self, tool: Any, args: Mapping[str, Any] | None, *, explicit: bool) -> ToolDecision:
        if not isinstance(tool, str):
            raise TypeError(f"tool name must be str, got {type(tool).__name__}")
        if args is None:
            args = {}
        if not isinstance(args, Mapping) or not all(isinstance(k, str) for k in args):
            raise TypeError("tool arguments must be a mapping with string keys")
        start = wall_clock_ns()
        session = current_session()
        t0 = perf_counter_ns()
        attributes = {
            semconv.GEN_AI_OPERATION_NAME: "execute_tool",
            semconv.GEN_AI_TOOL_NAME: tool[:_MAX_NAME_IN_SPAN],
        }
        try:
            decision, risk = self._evaluate(tool, args, session)
        except Exception as exc:  # fail closed
            failed = self._rt.failure(ToolDecision, "tools", exc, dict(args), {}, perf_counter_ns() - t0)
            return self._rt.finish(
                failed, start_time_ns=start, session=session, explicit=explicit, attributes=attributes, error=exc
            )
        attributes[semconv.TOOL_RISK] = risk
        decision = ToolDecision(
            decision.action,
            "tools",
            decision.value,
            decision.findings,
            decision.rule_ids,
            decision.reason,
            perf_counter_ns() - t0,
            tool,
        )
        return self._rt.finish(decision, start_time_ns=start, session=session, explicit=explicit, attributes=attributes)

    def _evaluate(self, tool: str, args: Mapping[str, Any], session: Session | None) -> tuple[ToolDecision, str]:
        policy = self._policy
        risk = self.risk_of(tool)
        if not policy.enabled:
            return ToolDecision(Action.ALLOW, "tools", dict(args), tool=tool), risk
        denials: list[tuple[Action, str]] = []
        if self._deny is not None and self._deny.match(tool):
            denials.append((Action.DENY, "tools.denied"))
        spec = policy.tools.get(tool)
        if self._allow is not None:
            if not self._allow.match(tool) and spec is None:
                denials.append((Action.DENY, "tools.not_granted"))
        elif spec is None and tool not in self._registry:
            denials.append((policy.unknown, "tools.unknown"))
        if spec is not None and spec.roles:
            roles = session.roles if session is not None else frozenset()
            if roles.isdisjoint(spec.roles):
                denials.append((Action.DENY, "tools.role_required"))
        if session is not None:
            for agent in session.agents:
                rule = self._agents.get(agent)
                if rule is None:
                    continue
                if rule.deny is not None and rule.deny.match(tool):
                    denials.append((Action.DENY, "tools.agent_denied"))
                if rule.allow is None or not rule.allow.match(tool):
                    denials.append((Action.DENY, "tools.agent_not_granted"))
        risk_action = policy.risk_actions[risk]
        if risk_action is not Action.ALLOW:
            denials.append((risk_action, f"tools.risk.{risk}"))
        action = max((a for a, _ in denials), default=Action.ALLOW)
        if action is Action.ALLOW:
            return ToolDecision(Action.ALLOW, "tools", dict(args), tool=tool), risk
        rule_ids = tuple(dict.fromkeys(r for a, r in denials if a is not Action.ALLOW))
        reason = "tool call not permitted by policy" if action is Action.DENY else "tool call needs approval"
        value = dict(args) if action is Action.REDACT else {}
        return ToolDecision(action, "tools", value, (), rule_ids, reason, tool=tool), risk
