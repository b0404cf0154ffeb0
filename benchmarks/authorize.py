"""What a tool authorization costs: plain policy checks, sessions with constraints, and delegation chains.

Run: ``python benchmarks/authorize.py``. Every figure comes from one process (ratios stay meaningful on a
noisy shared machine), as the best of several repeats, in microseconds per decision, through the explicit
tier (``guard.tools.check``: the same work as ``authorize`` without raising) and with no OpenTelemetry SDK
(the API's no-op tracer: what a deployment without tracing pays; see ``overhead.py`` for the SDK's own cost).

- plain: an allowed call of a declared tool, outside any session: the policy check alone.
- session: the same inside a session with roles, an agent chain and argument constraints on the tool.
- delegated, cached: a sub-agent calling under a 3-level delegation chain (root -> planner -> mailer ->
  notifier) whose verification is cached (until the chain's earliest expiry); the grant's scopes carry
  the argument constraint, the policy only declares the tool.
- delegated, cold: the same with the verifier's cache cleared before every call (three Ed25519 signatures).
- everything: the delegated call inside the session above (roles, agent chain, policy constraints too).
"""

from __future__ import annotations

import platform
import sys
import timeit
from collections.abc import Callable
from typing import Any

import aispm
from aispm.constraints import ArgConstraint
from aispm.delegation import Delegation, Scope
from aispm.identity import AgentIdentity, KeyRing

POLICY: dict[str, Any] = {
    "tools": {
        "risk_actions": {"external_communication": "allow"},
        "tools": {
            "send_email": {
                "risk": "external_communication",
                "args": {"to": {"email_domains": ["example.com"]}, "body": {"max_length": 10_000}},
            },
            "search": {"risk": "read"},
            "notify": {"risk": "external_communication"},
        },
        "agents": {"mailer": {"allow": ["send_*", "search"]}, "notifier": {"allow": ["send_email", "notify"]}},
    }
}
ARGS = {"to": "bob@example.com", "body": "The report is attached."}


def best_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def chain() -> tuple[KeyRing, Delegation]:
    authz, planner, mailer, notifier = (AgentIdentity.generate(n) for n in ("authz", "planner", "mailer", "notifier"))
    keys = KeyRing()
    keys.add(authz, root=True)
    email = {"to": ArgConstraint(email_domains=("example.com",))}
    scopes = [Scope("send_email", email), Scope("notify", email)]
    root = Delegation.issue(authz, planner, [*scopes, Scope("search")], ttl=3600, max_depth=2, audience="aispm")
    middle = root.delegate(planner, mailer, scopes, ttl=1800)
    return keys, middle.delegate(mailer, notifier, scopes, ttl=900)


def main() -> None:
    keys, leaf = chain()
    guard = aispm.Guard(POLICY, keys=keys)
    check = guard.tools.check
    assert check("search").allowed

    plain = best_us(lambda: check("search"), 20_000)
    with guard.session(user="alice", roles=["staff"], agent="mailer"):
        assert check("send_email", ARGS).allowed
        session = best_us(lambda: check("send_email", ARGS), 20_000)
    verifier = guard.tools.verifier
    assert verifier is not None
    # the delegated agent alone (its chain of custody is in the grant): the tool is only declared
    with guard.session(user="alice", agent="notifier", delegation=leaf.token):
        decision = check("notify", ARGS)
        assert decision.allowed, decision
        assert decision.delegation_id == leaf.id
        cached = best_us(lambda: check("notify", ARGS), 20_000)

        def cold() -> object:
            verifier.clear_cache()
            return check("notify", ARGS)

        cold_us = best_us(cold, 200, repeat=5)
    with (
        guard.session(user="alice", roles=["staff"], agent="planner"),
        guard.session(agent="mailer"),
        guard.session(agent="notifier", delegation=leaf.token),
    ):
        assert check("send_email", ARGS).allowed
        everything = best_us(lambda: check("send_email", ARGS), 20_000)

    print(f"aispm {aispm.__version__}, Python {platform.python_version()}, {platform.machine()}, {sys.platform}")
    print(f"token of the 3-level chain: {len(leaf.token)} bytes")
    print("| decision | µs | decisions/s on one core |")
    print("| --- | ---: | ---: |")
    for label, us in (
        ("plain policy check (declared tool, no session)", plain),
        ("session: roles, agent policy, argument constraints", session),
        ("3-level delegation chain, verification cached", cached),
        ("3-level delegation chain, cold (3 Ed25519 signatures)", cold_us),
        ("3-level chain cached, inside the session above (3 agents)", everything),
    ):
        print(f"| {label} | {us:.2f} | {1e6 / us:,.0f} |")


if __name__ == "__main__":
    main()
