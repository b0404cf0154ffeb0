"""The live inventory: agents from sessions, tools from @guard.tool, functions from @guard.protect."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

from aispm import Guard
from aispm.posture import Inventory
from aispm.posture.inventory import AgentRecord, FunctionRecord, ToolRecord

GuardFactory = Callable[..., Guard]

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Each reading is one second after the previous one."""

    def __init__(self) -> None:
        self.ticks = 0

    def __call__(self) -> datetime:
        now = T0 + timedelta(seconds=self.ticks)
        self.ticks += 1
        return now


def test_empty_inventory(make_guard: GuardFactory) -> None:
    inventory = make_guard().inventory
    assert isinstance(inventory, Inventory)
    assert inventory.agents == inventory.tools == inventory.functions == inventory.mcp_servers == {}
    assert json.loads(inventory.to_json()) == {"agents": [], "tools": [], "functions": [], "mcp_servers": []}


def test_mcp_servers_and_their_tool_fingerprints(make_guard: GuardFactory) -> None:
    inventory = make_guard(clock=FakeClock()).inventory
    inventory.record_mcp_server("files", transport="stdio", target="python server.py", connected=True)
    inventory.record_mcp_server(
        "files",
        transport="stdio",
        target="python server.py",
        version="1.2",
        tools=[("read", "b" * 64), ("add", "a" * 64)],
    )
    inventory.record_mcp_server(
        "files", transport="stdio", target="python server.py", protocol_version="2026-07-28", connected=True
    )
    record = inventory.mcp_servers["files"]
    assert (record.version, record.protocol_version, record.connections) == ("1.2", "2026-07-28", 2)
    assert record.tools == (("add", "a" * 64), ("read", "b" * 64))  # kept when a record brings no listing
    assert record.first_seen < record.last_seen
    [server] = json.loads(inventory.to_json())["mcp_servers"]
    assert server["tools"] == [{"name": "add", "sha256": "a" * 64}, {"name": "read", "sha256": "b" * 64}]
    assert server["first_seen"] == record.first_seen.isoformat()


def test_agents_from_sessions(make_guard: GuardFactory) -> None:
    guard = make_guard(clock=FakeClock())
    with guard.session(user="alice", agent="support-bot"), guard.session(agent="researcher"):
        with guard.session(agent="fetcher"):
            pass
        with guard.session(agent="fetcher"):
            pass
    with guard.session(user="bob", agent="support-bot"), guard.session(agent="writer"):
        pass
    with guard.session(user="carol"):  # no agent: nothing to record
        pass
    with guard.session(agent="batch-bot"):  # no user
        pass

    agents = guard.inventory.agents
    assert sorted(agents) == ["batch-bot", "fetcher", "researcher", "support-bot", "writer"]
    assert agents["support-bot"] == AgentRecord(
        name="support-bot",
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=4),
        sessions=2,
        users=("alice", "bob"),
        delegates_to=("researcher", "writer"),
    )
    assert agents["researcher"].delegates_to == ("fetcher",)
    assert agents["researcher"].users == ("alice",)
    assert agents["fetcher"].sessions == 2
    assert agents["fetcher"].first_seen == T0 + timedelta(seconds=2)
    assert agents["fetcher"].last_seen == T0 + timedelta(seconds=3)
    assert agents["fetcher"].delegates_to == ()
    assert agents["writer"].users == ("bob",)
    assert agents["batch-bot"].users == ()


def test_users_per_agent_are_bounded(make_guard: GuardFactory) -> None:
    guard = make_guard()
    for i in range(150):
        with guard.session(user=f"user-{i}", agent="busy-bot"):
            pass
    record = guard.inventory.agents["busy-bot"]
    assert record.sessions == 150
    assert len(record.users) == 100


def test_tools_from_decorators(make_guard: GuardFactory) -> None:
    guard = make_guard({"tools": {"tools": {"wipe": {"risk": "destructive"}}}})

    @guard.tool(risk="read")
    def search(query: str) -> str:
        """Search the web.

        Returns the top results.
        """
        return query

    @guard.tool(name="wipe", description="Wipe a disk.")
    async def wipe_disk(disk: str) -> None:
        return None

    @guard.tool
    def stream_rows() -> Iterator[str]:
        yield "row"

    @guard.tool(risk="external_communication")
    async def notify() -> AsyncIterator[str]:
        yield "sent"

    tools = guard.inventory.tools
    assert sorted(tools) == ["notify", "search", "stream_rows", "wipe"]
    prefix = "test_tools_from_decorators.<locals>."
    assert tools["search"] == ToolRecord(
        name="search",
        risk="read",
        module=__name__,
        qualname=prefix + "search",
        kind="sync",
        description="Search the web.",
    )
    assert tools["wipe"].risk == "destructive"  # the policy's risk level wins
    assert tools["wipe"].qualname == prefix + "wipe_disk"
    assert tools["wipe"].kind == "async"
    assert tools["wipe"].description == "Wipe a disk."
    assert tools["stream_rows"].risk == "write"  # tools.default_risk
    assert tools["stream_rows"].kind == "generator"
    assert tools["stream_rows"].description == ""
    assert tools["notify"].kind == "async_generator"
    assert set(guard.tools.registered) == set(tools)


def test_functions_from_protect(make_guard: GuardFactory) -> None:
    guard = make_guard()

    @guard.protect
    def answer(question: str) -> str:
        return question

    @guard.protect()
    async def aanswer(question: str) -> str:
        return question

    class Bot:
        @guard.protect
        def reply(self, text: str) -> Iterator[str]:
            yield text

    functions = guard.inventory.functions
    prefix = "test_functions_from_protect.<locals>."
    assert functions == {
        f"{__name__}.{prefix}answer": FunctionRecord(prefix + "answer", __name__, "sync"),
        f"{__name__}.{prefix}aanswer": FunctionRecord(prefix + "aanswer", __name__, "async"),
        f"{__name__}.{prefix}Bot.reply": FunctionRecord(prefix + "Bot.reply", __name__, "generator"),
    }
    assert Bot


def test_to_json_round_trip(make_guard: GuardFactory) -> None:
    guard = make_guard(clock=FakeClock())
    with guard.session(user="alice", agent="planner"), guard.session(agent="executor"):
        pass

    @guard.tool(risk="financial")
    def pay(amount: int) -> None:
        """Pay an invoice."""

    @guard.protect
    def answer(question: str) -> str:
        return question

    text = guard.inventory.to_json()
    data = json.loads(text)
    assert data == guard.inventory.to_dict()
    assert json.loads(guard.inventory.to_json(indent=None)) == data
    assert "\n" not in guard.inventory.to_json(indent=None)
    assert data["agents"] == [
        {
            "name": "executor",
            "first_seen": (T0 + timedelta(seconds=1)).isoformat(),
            "last_seen": (T0 + timedelta(seconds=1)).isoformat(),
            "sessions": 1,
            "users": ["alice"],
            "delegates_to": [],
        },
        {
            "name": "planner",
            "first_seen": T0.isoformat(),
            "last_seen": T0.isoformat(),
            "sessions": 1,
            "users": ["alice"],
            "delegates_to": ["executor"],
        },
    ]
    [tool] = data["tools"]
    assert tool == {
        "name": "pay",
        "risk": "financial",
        "module": __name__,
        "qualname": "test_to_json_round_trip.<locals>.pay",
        "kind": "sync",
        "description": "Pay an invoice.",
    }
    [function] = data["functions"]
    assert function == {"name": "test_to_json_round_trip.<locals>.answer", "module": __name__, "kind": "sync"}
    assert datetime.fromisoformat(data["agents"][1]["first_seen"]) == T0


def test_inventories_are_per_guard(make_guard: GuardFactory) -> None:
    a, b = make_guard(), make_guard()
    with a.session(user="u", agent="only-a"):
        pass
    assert "only-a" in a.inventory.agents
    assert b.inventory.agents == {}


def test_snapshots_are_copies(make_guard: GuardFactory) -> None:
    guard = make_guard()
    with guard.session(agent="bot"):
        pass
    snapshot = guard.inventory.agents
    snapshot.clear()
    assert "bot" in guard.inventory.agents
