"""Fixtures for the MCP adapter's tests: guards that report to an in-memory span capture."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import StdioServerParameters

from aispm.pytest_plugin import GuardFactory as GuardFactory  # the type the tests import from here
from aispm.pytest_plugin import capture as capture  # fixtures
from aispm.pytest_plugin import make_guard as make_guard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # aispm_mcp, without an install


SERVER = Path(__file__).resolve().parent / "kb_server.py"


@dataclass
class KbServer:
    """The test server (``kb_server.py``), reached over stdio or HTTP, and what it received."""

    record: Path
    stdio: StdioServerParameters | None = None
    url: str | None = None

    def received(self) -> list[dict[str, Any]]:
        """Every tool call the server received, in order."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text(encoding="utf-8").splitlines()]

    def tools_called(self) -> list[str]:
        return [call["tool"] for call in self.received()]


def kb_stdio(tmp_path: Path, variant: str = "v1", *extra: str) -> KbServer:
    """The server as a subprocess over stdio (started by the client's ``stdio_client``)."""
    record = tmp_path / "received.jsonl"
    command = [str(SERVER), "--record", str(record), "--variant", variant, *extra]
    return KbServer(record, stdio=StdioServerParameters(command=sys.executable, args=command))


KbHttp = Callable[..., KbServer]
"""``kb_http(variant="v1", *extra_args) -> KbServer``: start the test server over HTTP."""


@pytest.fixture
def kb_http(tmp_path: Path) -> Iterator[KbHttp]:
    """Start the server over streamable HTTP on 127.0.0.1, each in its own process, for the test's duration.

    Every server a test starts records into the same file; each start waits until the port answers.
    """
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    record = tmp_path / "received.jsonl"

    def start(variant: str = "v1", *extra: str) -> KbServer:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = (tmp_path / f"server-{len(processes)}.log").open("w")
        logs.append(log)
        command = [sys.executable, str(SERVER), "--record", str(record), "--variant", variant, "--http", str(port)]
        process = subprocess.Popen([*command, *extra], stdout=log, stderr=log)  # noqa: S603  # our own test server
        processes.append(process)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test MCP server did not start") from None
                time.sleep(0.05)
        return KbServer(record, url=f"http://127.0.0.1:{port}/mcp")

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
