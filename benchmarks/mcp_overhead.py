"""What aispm's MCP client guard adds to a tool call, in process and over stdio.

Run: ``python benchmarks/mcp_overhead.py`` (needs mcp; ``aispm_mcp`` from the checkout). One
process, no OpenTelemetry SDK (the API's no-op tracer), inside a session.

The call is ``read_note`` of an ``MCPServer``, answering 1 KB of prose. In process (``mcp.Client(server)``,
no transport) the call's own time is mcp's request handling alone, the worst case for the ratio;
over stdio it includes the server process and the pipe, as an agent sees it. The guard adds the
tool authorizer before the call, and on the result a prompt check (untrusted text coming back) and
output scans of the text and of the structured content. Timed: median of single calls, a new note
each call (the guard decides each text afresh).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integrations" / "mcp"))

from aispm_mcp import GuardedClient, GuardedClientSession
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.server.mcpserver import MCPServer

import aispm

PROSE = "The quarterly report says revenue grew four percent and supplier risk is moderate. " * 12
POLICY = {"tools": {"unknown": "allow"}}


def server() -> MCPServer:
    """The notes server: one tool answering a kilobyte."""
    notes: MCPServer = MCPServer("notes")

    @notes.tool(description="Read a note.")
    def read_note(name: str) -> str:
        return f"{name}: {PROSE}"

    return notes


async def median_us(call: Callable[[str], Awaitable[Any]], rounds: int) -> float:
    counter = itertools.count()
    for _ in range(20):  # warm up
        await call(f"note {next(counter)}")
    times = []
    for _ in range(rounds):
        name = f"note {next(counter)}"
        start = time.perf_counter()
        await call(name)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


async def in_process(guard: aispm.Guard, rounds: int) -> tuple[float, float]:
    async with Client(server()) as bare:
        plain = await median_us(lambda n: bare.call_tool("read_note", {"name": n}), rounds)
    async with GuardedClient(Client(server()), guard=guard, server="notes") as guarded:
        checked = await median_us(lambda n: guarded.call_tool("read_note", {"name": n}), rounds)
    return plain, checked


async def over_stdio(guard: aispm.Guard, rounds: int) -> tuple[float, float]:
    params = StdioServerParameters(command=sys.executable, args=[__file__, "--serve"])
    results = []
    for guarded in (False, True):
        async with stdio_client(params) as (read, write):
            session = (
                GuardedClientSession(read, write, guard=guard, server="notes")
                if guarded
                else ClientSession(read, write)
            )
            async with session:
                await session.initialize()
                results.append(await median_us(lambda n, s=session: s.call_tool("read_note", {"name": n}), rounds))
    return results[0], results[1]


async def decisions_alone(guard: aispm.Guard, rounds: int) -> float:
    """The guard's decisions on one call, without mcp: authorise, check the result, scan it."""

    async def decide(name: str) -> None:
        await guard.tools.aauthorize("notes.read_note", {"name": name})
        text = f"{name}: {PROSE}"
        await guard.prompt.acheck(text, source="tool", origin="notes.read_note")
        await guard.output.ascan(text)

    return await median_us(decide, rounds)


async def run() -> None:
    guard = aispm.Guard(POLICY)
    with guard.session(user="bob", agent="assistant"):
        rows = [("in process (mcp.Client(server))", *await in_process(guard, 400))]
        rows.append(("over stdio (a server process)", *await over_stdio(guard, 200)))
        alone = await decisions_alone(guard, 400)
    print(f"Python {sys.version.split()[0]}, aispm {aispm.__version__}; a 1 KB result\n")
    print("| transport | call, no aispm (µs) | guarded (µs) | added (µs) | added |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, plain, checked in rows:
        print(f"| {name} | {plain:.0f} | {checked:.0f} | {checked - plain:+.0f} | {(checked - plain) / plain:+.0%} |")
    print(f"\nthe guard's decisions alone (authorise, check and scan the result): {alone:.0f} µs")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        server().run("stdio")
    else:
        asyncio.run(run())
