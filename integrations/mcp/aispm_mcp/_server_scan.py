"""What `AispmServerMiddleware` scans: the text of a call's arguments, and the texts of its result.

- **Arguments.** `arguments_allowed` joins every string of the arguments (keys and values, depth
  first, by newlines) and checks it with the prompt guard as text from an ``agent``, with the
  origin ``<server>.<tool>``.
- **Results.** `ResultScan` scans every text of one result (text content, embedded text
  resources, strings of the structured content) with the output scanner, each distinct text
  once. A result that cannot be scanned whole (more than `MAX_TEXTS` distinct texts, structured
  content nested deeper than `MAX_DEPTH`) raises `Withheld`: it is refused (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import aispm

__all__ = ["MAX_DEPTH", "MAX_TEXTS", "ResultScan", "Withheld", "arguments_allowed", "strings"]

MAX_TEXTS: Final = 1000  # distinct texts scanned in one result; more is withheld (fail closed)
MAX_DEPTH: Final = 64  # nesting of the structured content scanned; deeper is withheld (fail closed)


class Withheld(Exception):
    """A result that cannot be scanned whole (too many texts, too deep): it is refused."""


def arguments_allowed(guard: aispm.Guard, tool: str, arguments: Mapping[str, Any]) -> bool:
    """Check every string of the arguments as one text from an agent; True when allowed (or empty)."""
    texts = strings(arguments)
    if not texts:
        return True
    return guard.prompt.check("\n".join(texts), source="agent", origin=tool).allowed


class ResultScan:
    """One result's scan: each distinct text scanned once; whether any was redacted or denied."""

    __slots__ = ("changed", "decisions", "denied", "guard")

    def __init__(self, guard: aispm.Guard) -> None:
        self.guard = guard
        self.decisions: dict[str, aispm.TextDecision] = {}
        self.changed = False
        self.denied = False

    def text(self, text: str) -> str:
        if not text:
            return text
        decision = self.decisions.get(text)
        if decision is None:
            if len(self.decisions) >= MAX_TEXTS:
                raise Withheld
            decision = self.decisions[text] = self.guard.output.scan(text)
        if not decision.allowed:
            self.denied = True
            return ""
        if decision.text != text:
            self.changed = True
        return decision.text

    def item(self, item: Any) -> Any:
        """A content item with its text scanned (text content and embedded text resources)."""
        if not isinstance(item, dict):
            return item
        kind = item.get("type")
        if kind == "text" and isinstance(item.get("text"), str):
            return {**item, "text": self.text(item["text"])}
        resource = item.get("resource")
        if kind == "resource" and isinstance(resource, dict) and isinstance(resource.get("text"), str):
            return {**item, "resource": {**resource, "text": self.text(resource["text"])}}
        return item

    def value(self, value: Any, depth: int) -> Any:
        """A JSON value with every string scanned (keys are kept as they are)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict | list) and depth >= MAX_DEPTH:
            raise Withheld
        if isinstance(value, dict):
            return {k: self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, depth + 1) for v in value]
        return value


def strings(value: Any) -> list[str]:
    """Every string in a JSON value, keys included, depth first (iterative: no recursion limit)."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            for key, inner in reversed(list(item.items())):
                stack.append(inner)
                stack.append(key)
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
    return found
