"""The aispm exception tree.

::

    AispmError
    ├── PolicyError (also ValueError)          the policy or arguments are wrong; raised at load/construction
    ├── MissingExtraError (also ImportError)   an optional dependency is missing; the message names the extra
    └── Blocked                                enforcement stopped a call; ``.decision`` says why
        └── GuardFailed                        the guard itself failed and failed closed; ``__cause__`` is the error

Messages say what happened and what to do. They never contain the content a
guard caught: a ``Blocked`` message names the guard and the rule ids only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decisions import Decision

__all__ = ["AispmError", "Blocked", "GuardFailed", "MissingExtraError", "PolicyError", "PolicyIssue"]


class AispmError(Exception):
    """Base class of every error aispm raises on purpose."""


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One problem in a policy document.

    Attributes:
        location: Dotted field path such as ``prompt.actions.high``, or
            ``<document>`` for the whole document.
        message: What is wrong with it.
        line: 1-based line in the source file, when the format tells it.
    """

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.location}: {self.message}"


class PolicyError(AispmError, ValueError):
    """The policy document or an argument is invalid.

    Raised when a policy is loaded or a guard is constructed, never at the first
    request. ``issues`` lists every problem found, each with its field path.
    """

    def __init__(self, message: str, issues: Sequence[PolicyIssue] = ()) -> None:
        self.issues: tuple[PolicyIssue, ...] = tuple(issues)
        detail = "".join(f"\n  {issue}" for issue in self.issues)
        super().__init__(message + detail)


class MissingExtraError(AispmError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""

    def __init__(self, extra: str, module: str, feature: str) -> None:
        self.extra = extra
        super().__init__(
            f'{feature} needs the optional dependency {module!r}, which is not installed: pip install "aispm[{extra}]"',
            name=module,
        )


class Blocked(AispmError):
    """Enforcement stopped a call. ``decision`` says which guard and which rules.

    The message is short and uniform so a denial is never an oracle; the detail
    is in ``decision``, the span and the audit log.
    """

    def __init__(self, decision: Decision[Any], message: str | None = None) -> None:
        self.decision = decision
        if message is None:
            rules = ", ".join(decision.rule_ids) or "policy"
            message = f"{decision.guard} guard: {decision.action.value} ({rules})"
        super().__init__(message)


class GuardFailed(Blocked):
    """The guard itself failed and failed closed; ``__cause__`` holds the original error."""
