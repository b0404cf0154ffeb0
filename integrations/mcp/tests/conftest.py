"""Fixtures for the MCP adapter's tests: guards that report to an in-memory span capture."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


def kb_stdio(tmp_path: Path, variant: str = "v1") -> KbServer:
    """The server as a subprocess over stdio (started by the client's ``stdio_client``)."""
    record = tmp_path / "received.jsonl"
    command = [str(SERVER), "--record", str(record), "--variant", variant]
    return KbServer(record, stdio=StdioServerParameters(command=sys.executable, args=command))


@pytest.fixture
def kb_http(tmp_path: Path) -> Iterator[KbServer]:
    """The server over streamable HTTP on 127.0.0.1, in its own process, for the test's duration."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    record = tmp_path / "received.jsonl"
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603  # our own test server, with our own arguments
        [sys.executable, str(SERVER), "--record", str(record), "--http", str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test MCP server did not start") from None
                time.sleep(0.05)
        yield KbServer(record, url=f"http://127.0.0.1:{port}/mcp")
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
