"""Scopes: the tools a grant covers and the constraints on their arguments, and how they narrow."""

from __future__ import annotations

import fnmatch
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from ..constraints import ArgConstraint, check_arguments
from ..errors import PolicyError
from ..identity._encoding import _check_name
from ._errors import DelegationError

_MAX_SCOPES: Final = 64
_MAX_ARGS: Final = 64
_MAX_GLOB: Final = 128
_GLOB_MAGIC: Final = frozenset("*?[")


# --- scopes ----------------------------------------------------------------------------------------


def _literal_prefix(glob: str) -> str:
    for index, char in enumerate(glob):
        if char in _GLOB_MAGIC:
            return glob[:index]
    return glob


def _tool_within(child: str, parent: str) -> bool:
    """Whether every name ``child`` matches is matched by ``parent``; conservative (may say no wrongly)."""
    if child == parent:
        return True
    child_literal = _literal_prefix(child)
    if child_literal == child:
        return fnmatch.fnmatchcase(child, parent)
    # A parent ``P*`` (P literal) matches every name starting with P, and every name the child
    # matches starts with the child's literal prefix.
    return parent.endswith("*") and _literal_prefix(parent) == parent[:-1] and child_literal.startswith(parent[:-1])


@dataclass(frozen=True, slots=True)
class Scope:
    """Tools a grant covers (a case-sensitive ``fnmatch`` glob) and constraints on their arguments.

    Attributes:
        tool: Tool name or glob: ``send_email``, ``send_*``, ``*``.
        args: Constraints by argument name; every one must hold for a call to be in scope.
    """

    tool: str
    args: Mapping[str, ArgConstraint] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tool = self.tool
        if not isinstance(tool, str) or not 0 < len(tool) <= _MAX_GLOB or not tool.isprintable() or " " in tool:
            raise PolicyError(f"a scope's tool must be a glob of 1 to {_MAX_GLOB} printable characters, no spaces")
        if not isinstance(self.args, Mapping) or len(self.args) > _MAX_ARGS:
            raise PolicyError(f"a scope's args must be a mapping of at most {_MAX_ARGS} constraints")
        for name, constraint in self.args.items():
            _check_name(name, "an argument name")
            if not isinstance(constraint, ArgConstraint):
                raise PolicyError("a scope's args must map names to ArgConstraint")
        object.__setattr__(self, "args", types.MappingProxyType(dict(self.args)))

    def matches(self, tool: str) -> bool:
        """Whether ``tool`` is covered by this scope's glob."""
        return tool == self.tool or fnmatch.fnmatchcase(tool, self.tool)

    def within(self, parent: Scope) -> bool:
        """Whether this scope grants no more than ``parent``: its tools are parent's, its constraints stricter."""
        if not _tool_within(self.tool, parent.tool):
            return False
        return all(name in self.args and self.args[name].within(bound) for name, bound in parent.args.items())

    def _to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"t": self.tool}
        if self.args:
            data["a"] = {name: c.model_dump(mode="json", exclude_defaults=True) for name, c in self.args.items()}
        return data


def _scope_from_json(data: Any) -> Scope:
    if not isinstance(data, dict) or not set(data) <= {"t", "a"} or not isinstance(data.get("a", {}), dict):
        raise DelegationError("malformed", "a scope is not an object with a tool and args")
    try:
        args = {name: ArgConstraint.model_validate(value) for name, value in data.get("a", {}).items()}
        return Scope(data.get("t", ""), args)  # Scope validates the tool's type
    except (ValidationError, PolicyError, TypeError, ValueError) as exc:
        raise DelegationError("malformed", "a scope in the delegation is invalid") from exc


def _scopes_within(child: Iterable[Scope], parent: Iterable[Scope]) -> bool:
    parents = tuple(parent)
    return all(any(scope.within(p) for p in parents) for scope in child)


def _permits(scopes: tuple[Scope, ...], tool: str, args: Mapping[str, Any]) -> list[str]:
    first: list[str] | None = None
    for scope in scopes:
        if not scope.matches(tool):
            continue
        found = check_arguments(scope.args, args)
        if not found:
            return []
        if first is None:
            first = found
    if first is None:
        return ["delegation.tool_not_in_scope"]
    return [f"delegation.{code}" for code in first]


def _check_scopes(scopes: Scope | Iterable[Scope]) -> tuple[Scope, ...]:
    if isinstance(scopes, Scope):
        scopes = (scopes,)
    result = tuple(scopes)
    if not 0 < len(result) <= _MAX_SCOPES or not all(isinstance(s, Scope) for s in result):
        raise PolicyError(f"a grant needs 1 to {_MAX_SCOPES} Scope objects")
    return result
