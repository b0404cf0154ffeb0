"""How a guarded MCP client screens a tool listing: poisoning checks, pins, suspensions.

Each listed tool's text (name, title, description, annotation title, and every string of its
input and output schemas: descriptions, titles, enum and const values, defaults, examples,
property names) is checked by ``guard.prompt`` as untrusted text from a tool (source ``tool``,
origin ``server.tool``): one decision, one span, per tool. Its definition is then pinned by
fingerprint (`aispm_mcp.pins`). In enforce mode a poisoned tool is hidden and suspended
(``mcp.tool_poisoned``), a changed one is suspended (``mcp.tool_changed``) and, with
``on_change="hide"``, hidden; a tool that is clean and as pinned again is resumed. In monitor
mode nothing is hidden, suspended or pinned anew; every decision is still reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import aispm

from .pins import ToolPins, fingerprint

try:
    from mcp.types import Tool
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.client") from None

__all__ = ["CHANGED", "POISONED", "Screened", "screen"]

_log = logging.getLogger("aispm")

POISONED: Final = "mcp.tool_poisoned"
"""Rule id a tool is suspended with when its definition's text is denied by the prompt guard."""

CHANGED: Final = "mcp.tool_changed"
"""Rule id a tool is suspended with when its definition differs from its pin."""

_OURS: Final = (POISONED, CHANGED)
_NAMED_SCHEMAS: Final = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
"""Schema keywords whose keys are names the model reads (parameter names), not keywords."""


@dataclass(frozen=True, slots=True)
class Screened:
    """The outcome of screening one listing."""

    visible: list[Tool]
    fingerprints: dict[str, str]


def screen(
    guard: aispm.Guard,
    server: str,
    tools: Iterable[Tool],
    pins: ToolPins,
    *,
    on_change: Literal["hide", "block"],
) -> Screened:
    """Check, pin and (in enforce mode) hide or suspend each of ``tools`` of ``server``.

    Returns:
        The tools the agent may see, and the fingerprint of every tool listed (by name).

    Raises:
        OSError: A new pin could not be saved.
    """
    enforce = guard.mode == "enforce"
    visible: list[Tool] = []
    fingerprints: dict[str, str] = {}
    for tool in tools:
        qualified = f"{server}.{tool.name}"
        digest = fingerprint(tool)
        fingerprints[tool.name] = digest
        judged = guard.prompt.check(tool_text(tool), source="tool", origin=qualified)
        if not judged.allowed:
            pinned = pins.get(server, tool.name)
            status = "new" if pinned is None else "pinned" if pinned == digest else "changed"
            verdict: str | None = POISONED
        else:
            status = pins.check(server, tool.name, digest) if enforce else _peek(pins, server, tool.name, digest)
            verdict = CHANGED if status == "changed" else None
        if status == "changed":
            _log.warning("aispm: MCP tool %s changed since it was pinned", qualified[:256])
        if not enforce:
            visible.append(tool)
            continue
        _settle(guard, qualified, verdict)
        if verdict is None or (verdict == CHANGED and on_change == "block"):
            visible.append(tool)
    return Screened(visible, fingerprints)


def _peek(pins: ToolPins, server: str, tool: str, digest: str) -> str:
    """The pin status without pinning anything (monitor mode changes no state)."""
    pinned = pins.get(server, tool)
    return "new" if pinned is None else "pinned" if pinned == digest else "changed"


def _settle(guard: aispm.Guard, qualified: str, verdict: str | None) -> None:
    """Suspend the tool with ``verdict``, or lift a suspension of ours when it is clean again."""
    current = guard.tools.suspended.get(qualified)
    if verdict is not None:
        if current != verdict:
            guard.tools.suspend(qualified, verdict)
    elif current in _OURS:
        guard.tools.resume(qualified)


def tool_text(tool: Tool) -> str:
    """Every text of a tool's definition the model may read, one per line."""
    parts = [tool.name, tool.title or "", tool.description or ""]
    if tool.annotations is not None and tool.annotations.title:
        parts.append(tool.annotations.title)
    parts.extend(_strings(tool.input_schema))
    if tool.output_schema is not None:
        parts.extend(_strings(tool.output_schema))
    return "\n".join(part for part in parts if part)


def _strings(schema: Mapping[str, Any]) -> Iterator[str]:
    """Every string value of a JSON schema, and the names of its properties and definitions (iterative)."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if key in _NAMED_SCHEMAS and isinstance(value, Mapping):
                    yield from (name for name in value if isinstance(name, str))
            stack.extend(reversed(list(node.values())))  # document order
        elif isinstance(node, list | tuple):
            stack.extend(reversed(node))
