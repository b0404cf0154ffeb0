"""Cost of verifying a 3-level delegation chain, cold and cached, and of a cached verify + permits.

Run: ``python benchmarks/delegation.py``. Figures are medians of several repeats, in
microseconds per call, on one core of this machine; decisions per second are for a
cached verify + ``permits`` (the hot path of a guarded tool call).
"""

from __future__ import annotations

import platform
import statistics
import sys
import timeit
from collections.abc import Callable

from aispm.constraints import ArgConstraint
from aispm.delegation import Delegation, DelegationVerifier, InMemoryRevocations, Scope
from aispm.identity import AgentIdentity, KeyRing, verify

AUDIENCE = "payments-api"


def median_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def build_chain() -> tuple[KeyRing, Delegation]:
    root, planner, mailer, helper = (AgentIdentity.generate(n) for n in ("root", "planner", "mailer", "helper"))
    to = ArgConstraint(email_domains=("example.com",))
    grant = Delegation.issue(
        root,
        planner.public(),
        [Scope("send_*", {"amount": ArgConstraint(max=100), "to": to}), Scope("read_*")],
        ttl=3600,
        max_depth=3,
        audience=AUDIENCE,
    )
    grant = grant.delegate(
        planner,
        mailer.public(),
        [Scope("send_email", {"amount": ArgConstraint(max=50), "to": to}), Scope("read_inbox")],
        ttl=1800,
    )
    grant = grant.delegate(
        mailer,
        helper.public(),
        [Scope("send_email", {"amount": ArgConstraint(max=10), "to": to}), Scope("read_inbox")],
        ttl=600,
    )
    return KeyRing(roots=[root]), grant


def main() -> None:
    keys, grant = build_chain()
    token = grant.token
    args = {"amount": 5, "to": "bob@example.com"}
    cold = DelegationVerifier(keys, audience=AUDIENCE, cache_size=0, revocations=InMemoryRevocations())
    hot = DelegationVerifier(keys, audience=AUDIENCE, revocations=InMemoryRevocations())
    assert hot.verify(token, presenter="helper").permits("send_email", args) == []

    def cached() -> list[str]:
        return hot.verify(token, presenter="helper").permits("send_email", args)

    signer = AgentIdentity.generate("sender")
    message = signer.sign({"tool": "send_email", "args": args}, audience=AUDIENCE, ttl=60)

    cold_us = median_us(lambda: cold.verify(token, presenter="helper"), 200)
    cached_verify_us = median_us(lambda: hot.verify(token, presenter="helper"), 20_000)
    cached_us = median_us(cached, 20_000)
    message_us = median_us(lambda: verify(message, signer, audience=AUDIENCE), 500)
    print(f"python {sys.version.split()[0]} on {platform.machine()}, {platform.system()}")
    print(f"token: 3 grants, 2 scopes each: {len(token)} bytes")
    print(f"cold verify (3 signatures):     {cold_us:8.1f} us")
    print(f"cached verify:                  {cached_verify_us:8.2f} us")
    print(f"cached verify + permits:        {cached_us:8.2f} us  ({1e6 / cached_us:,.0f} decisions/s)")
    print(f"signed message verify:          {message_us:8.1f} us")


if __name__ == "__main__":
    main()
