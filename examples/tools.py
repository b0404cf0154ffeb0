"""Authorise tool calls: risk levels, roles, sessions with sub-agents, per-agent policy.

A support agent works for alice and delegates research to a sub-agent. The
tools are ordinary functions declared with ``@guard.tool`` and a risk level.
The policy lets the researcher only search, reserves refunds for the
``billing`` role, and keeps the default risk actions: ``read`` and ``write``
run, ``destructive`` and ``external_communication`` need approval. The guard
has no approval handler here (see ``examples/delegation.py`` for one), so
those calls are blocked.

Every call is authorised for the whole on-behalf-of chain: the researcher
never gets more than the support agent it works for, nor more than alice.

Offline, no keys. Run it from a checkout::

    python -m pip install -e .
    python examples/tools.py
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aispm

POLICY: dict[str, Any] = {
    "tools": {
        "agents": {
            "support-bot": {"deny": ["delete_*"]},
            "researcher": {"allow": ["search_*"]},
        },
        "tools": {"issue_refund": {"roles": ["billing"]}},
    }
}


class Tools:
    """The agent's tools, declared on one guard; ``ran`` records the calls that got through."""

    def __init__(self, guard: aispm.Guard) -> None:
        self.ran: list[str] = []

        @guard.tool(risk="read")
        def search_kb(query: str) -> list[str]:
            """Search the knowledge base."""
            self.ran.append("search_kb")
            return [f"KB article about {query}"]

        @guard.tool(risk="write")
        def update_ticket(ticket_id: int, status: str) -> str:
            """Change a ticket's status."""
            self.ran.append("update_ticket")
            return f"ticket {ticket_id} is {status}"

        @guard.tool(risk="write")
        def issue_refund(order_id: str, amount: float) -> str:
            """Refund an order."""
            self.ran.append("issue_refund")
            return f"refunded {amount:.2f} on {order_id}"

        @guard.tool(risk="destructive")
        def delete_ticket(ticket_id: int) -> None:
            """Delete a ticket for good."""
            self.ran.append("delete_ticket")

        @guard.tool(name="send_email", risk="external_communication")
        def send(to: str, body: str) -> None:
            """Send an e-mail outside the company."""
            self.ran.append("send_email")

        self.search_kb = search_kb
        self.update_ticket = update_ticket
        self.issue_refund = issue_refund
        self.delete_ticket = delete_ticket
        self.send_email = send


def attempt(label: str, call: Callable[[], object]) -> None:
    """Run one tool call and print what the guard did with it."""
    session = aispm.current_session()
    who = session.chain[-1] if session is not None and session.chain else "nobody"
    try:
        result = call()
    except aispm.Blocked as blocked:
        decision = blocked.decision
        print(f"  {who:18} {label:36} BLOCKED {decision.action.value} ({', '.join(decision.rule_ids)})")
    else:
        print(f"  {who:18} {label:36} ok {result!r}")


def main() -> None:
    """Walk through the tool calls of one support conversation."""
    guard = aispm.Guard(POLICY)
    tools = Tools(guard)

    print("alice (support) talks to support-bot:")
    with guard.session(user="alice", roles=["support"], agent="support-bot"):
        attempt("search_kb('refunds')", lambda: tools.search_kb("refunds"))
        attempt("update_ticket(7, 'solved')", lambda: tools.update_ticket(7, "solved"))
        attempt("issue_refund('1042', 20.0)", lambda: tools.issue_refund("1042", 20.0))
        attempt("delete_ticket(7)", lambda: tools.delete_ticket(7))
        attempt("send_email('bob@example.com', ...)", lambda: tools.send_email("bob@example.com", "hi"))

        with guard.session(agent="researcher"):
            attempt("search_kb('chargebacks')", lambda: tools.search_kb("chargebacks"))
            attempt("update_ticket(7, 'open')", lambda: tools.update_ticket(7, "open"))

    print("carol (billing) talks to support-bot:")
    with guard.session(user="carol", roles=["billing"], agent="support-bot"):
        attempt("issue_refund('1042', 20.0)", lambda: tools.issue_refund("1042", 20.0))

    print(f"tools that actually ran: {', '.join(tools.ran)}")
    print("inventory:")
    for name, record in sorted(guard.inventory.tools.items()):
        print(f"  {name:14} risk={record.risk}")
    for name, agent in sorted(guard.inventory.agents.items()):
        print(f"  agent {name}: users={list(agent.users)} delegates_to={list(agent.delegates_to)}")


if __name__ == "__main__":
    main()
