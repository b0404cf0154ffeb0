"""Immutable values every guard returns: `Action`, `Severity`, `Finding`, `Decision`.

This module imports nothing from aispm, so every other module (and every
adapter) can depend on it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, NamedTuple, TypeVar

__all__ = [
    "Action",
    "Decision",
    "Dropped",
    "Finding",
    "RetrievalDecision",
    "Severity",
    "TextDecision",
    "ToolDecision",
    "combine",
]

T = TypeVar("T")


class _Ordered(enum.Enum):
    """An enum whose members compare by declaration order."""

    @property
    def rank(self) -> int:
        """Position in declaration order, 0 for the least severe member."""
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank >= other.rank


class Action(_Ordered):
    """What a guard decided, ordered ``ALLOW < REDACT < REQUIRE_APPROVAL < DENY``."""

    ALLOW = "allow"
    REDACT = "redact"
    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"


class Severity(_Ordered):
    """How bad a finding is, ordered ``INFO < LOW < MEDIUM < HIGH < CRITICAL``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_RANKS: dict[enum.Enum, int] = {
    **{member: i for i, member in enumerate(Action)},
    **{member: i for i, member in enumerate(Severity)},
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector found. It records *where*, never the matched text.

    Attributes:
        detector: Stable dotted id of the detector, e.g. ``secrets.aws_access_key``.
        category: What kind of thing was found, e.g. ``secret``, ``pii``, ``prompt_injection``.
        severity: How bad it is; the policy maps severities to actions.
        start: Offset of the first character in the scanned text, or ``None``.
        end: Offset one past the last character, or ``None``.
        confidence: Score in ``[0, 1]``, or ``None`` when the detector does not score.
        mappings: Framework references such as ``OWASP-LLM01:2025`` or ``AML.T0051``.
        fingerprint: Keyed hash of the matched text (see ``Guard(hash_key=...)``),
            so the same secret can be correlated across events without being stored.
        layer: How the match was hidden when it was found in decoded text, e.g.
            ``base64`` or ``url>rot13`` (outermost first); empty when found as written.
            The span then covers the whole encoded stretch.
    """

    detector: str
    category: str
    severity: Severity
    start: int | None = None
    end: int | None = None
    confidence: float | None = None
    mappings: tuple[str, ...] = ()
    fingerprint: str = ""
    layer: str = ""

    def __post_init__(self) -> None:
        if self.confidence is not None and not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence!r}")
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end must both be set or both be None")
        if self.start is not None and self.end is not None and not 0 <= self.start <= self.end:
            raise ValueError(f"invalid span {self.start}..{self.end}")


@dataclass(frozen=True, slots=True, init=False)
class Decision(Generic[T]):
    """What one guard decided about one value. Immutable.

    On a deny, ``value`` is the empty value of its type (empty text, no
    arguments), so code that forgets to check ``action`` passes nothing on.

    Attributes:
        action: What the policy decided.
        guard: Which guard decided: ``prompt``, ``retrieval``, ``tools`` or ``output``.
        value: What may flow on: the original, the redacted text, the kept items.
        findings: What the detectors found.
        rule_ids: Ids of the policy rules that produced ``action``.
        reason: Short text, safe to show to anyone; never contains caught content.
        duration_ns: How long the guard took, in nanoseconds.
    """

    action: Action
    guard: str
    value: T
    findings: tuple[Finding, ...] = ()
    rule_ids: tuple[str, ...] = ()
    reason: str = ""
    duration_ns: int = 0

    # A decision is built on every guarded call. The frozen dataclass __init__
    # sets each field through object.__setattr__ (about 1.3 µs for seven
    # fields); writing the slots through their descriptors costs half that.
    # Instances stay frozen: __setattr__ still raises.
    def __init__(
        self,
        action: Action,
        guard: str,
        value: T,
        findings: tuple[Finding, ...] = (),
        rule_ids: tuple[str, ...] = (),
        reason: str = "",
        duration_ns: int = 0,
    ) -> None:
        _set_action(self, action)
        _set_guard(self, guard)
        _set_value(self, value)
        _set_findings(self, findings)
        _set_rule_ids(self, rule_ids)
        _set_reason(self, reason)
        _set_duration_ns(self, duration_ns)

    @property
    def allowed(self) -> bool:
        """True when the value may flow on now: the action is allow or redact."""
        return self.action is Action.ALLOW or self.action is Action.REDACT


@dataclass(frozen=True, slots=True, init=False)
class TextDecision(Decision[str]):
    """Decision about a text (prompt guard, output scanner)."""

    @property
    def text(self) -> str:
        """The text that may flow on: original, redacted, or empty on a deny."""
        return self.value


@dataclass(frozen=True, slots=True, init=False)
class ToolDecision(Decision[dict[str, Any]]):
    """Decision about a tool call.

    Attributes:
        tool: The tool's name.
        delegation_id: Id of the verified delegation grant the call was made under, or ``""``.
        approval: Outcome of a human approval, when one was asked for: ``approved``,
            ``denied``, ``timeout`` or ``error``; ``""`` when none was asked for.
        approver: Who answered the approval request, or ``""``.
    """

    tool: str = ""
    delegation_id: str = ""
    approval: str = ""
    approver: str = ""

    def __init__(
        self,
        action: Action,
        guard: str,
        value: dict[str, Any],
        findings: tuple[Finding, ...] = (),
        rule_ids: tuple[str, ...] = (),
        reason: str = "",
        duration_ns: int = 0,
        tool: str = "",
        delegation_id: str = "",
        approval: str = "",
        approver: str = "",
    ) -> None:
        Decision.__init__(self, action, guard, value, findings, rule_ids, reason, duration_ns)
        _set_tool(self, tool)
        _set_delegation_id(self, delegation_id)
        _set_approval(self, approval)
        _set_approver(self, approver)

    @property
    def arguments(self) -> dict[str, Any]:
        """The arguments that may be passed on; empty on a deny."""
        return self.value


class Dropped(NamedTuple):
    """One retrieved document the retrieval filter did not pass on. Never holds its content.

    A named tuple: the filter makes one per dropped document, and builds it at tuple speed.

    Attributes:
        position: Its position in the list the filter was given.
        id: Its id (the metadata id field, or the framework object's id), or ``""``.
        rule_id: Why: ``retrieval.acl``, ``retrieval.tenant``, ``retrieval.label``,
            ``retrieval.missing_metadata``, ``retrieval.malformed_metadata``,
            ``retrieval.not_authorized`` (a document authorizer said no),
            ``retrieval.quarantined`` (the prompt guard flagged its text) or
            ``retrieval.unredactable`` (it had to be rewritten and its type cannot be copied).
    """

    position: int
    id: str
    rule_id: str


@dataclass(frozen=True, slots=True, init=False)
class RetrievalDecision(Decision[list[Any]]):
    """Decision about a list of retrieved documents.

    ``value`` (also ``documents``) holds the documents that may reach the model, in their
    original type and order; redacted or wrapped ones are new objects, the originals are
    never changed. Findings are those of the kept documents' scans, their offsets relative
    to the text of the document they were found in.

    Attributes:
        dropped: The documents left out, with the rule that left each out.
        redacted: Input positions of kept documents whose text was redacted.
        quarantined: Input positions of documents the prompt guard flagged (dropped, or
            kept inside a warning block, as the policy says).
    """

    dropped: tuple[Dropped, ...] = ()
    redacted: tuple[int, ...] = ()
    quarantined: tuple[int, ...] = ()

    def __init__(
        self,
        action: Action,
        guard: str,
        value: list[Any],
        findings: tuple[Finding, ...] = (),
        rule_ids: tuple[str, ...] = (),
        reason: str = "",
        duration_ns: int = 0,
        dropped: tuple[Dropped, ...] = (),
        redacted: tuple[int, ...] = (),
        quarantined: tuple[int, ...] = (),
    ) -> None:
        Decision.__init__(self, action, guard, value, findings, rule_ids, reason, duration_ns)
        _set_dropped(self, dropped)
        _set_redacted(self, redacted)
        _set_quarantined(self, quarantined)

    @property
    def documents(self) -> list[Any]:
        """The documents that may reach the model; empty on a deny."""
        return self.value

    @property
    def kept(self) -> list[Any]:
        """Alias of `documents`."""
        return self.value


def _setter(cls: type, name: str) -> Any:
    return cls.__dict__[name].__set__


_set_action = _setter(Decision, "action")
_set_guard = _setter(Decision, "guard")
_set_value = _setter(Decision, "value")
_set_findings = _setter(Decision, "findings")
_set_rule_ids = _setter(Decision, "rule_ids")
_set_reason = _setter(Decision, "reason")
_set_duration_ns = _setter(Decision, "duration_ns")
_set_tool = _setter(ToolDecision, "tool")
_set_delegation_id = _setter(ToolDecision, "delegation_id")
_set_approval = _setter(ToolDecision, "approval")
_set_approver = _setter(ToolDecision, "approver")
_set_dropped = _setter(RetrievalDecision, "dropped")
_set_redacted = _setter(RetrievalDecision, "redacted")
_set_quarantined = _setter(RetrievalDecision, "quarantined")


def combine(decisions: Iterable[Decision[T]], *, value: T | None = None) -> Decision[T]:
    """Merge decisions about the same value into one.

    The most severe action wins; findings and rule ids are merged without
    duplicates, in first-seen order; reasons of the winning action are kept.
    It is associative, commutative in its action and idempotent; ``ALLOW`` is
    the identity and ``DENY`` absorbs.

    Args:
        decisions: At least one decision, all from the same guard.
        value: The value of the result; defaults to the value of the last
            decision with the winning action.

    Returns:
        One decision of the same class as the first one.

    Raises:
        ValueError: When ``decisions`` is empty.
    """
    items = list(decisions)
    if not items:
        raise ValueError("combine() needs at least one decision")
    winner = max(reversed(items), key=lambda d: d.action.rank)  # max() keeps the first: the last in `items`
    findings: dict[Finding, None] = {}
    rule_ids: dict[str, None] = {}
    reasons: dict[str, None] = {}
    for d in items:
        findings.update(dict.fromkeys(d.findings))
        rule_ids.update(dict.fromkeys(d.rule_ids))
        if d.action is winner.action and d.reason:
            reasons.update(dict.fromkeys([d.reason]))
    return replace(
        winner,
        value=winner.value if value is None else value,
        findings=tuple(findings),
        rule_ids=tuple(rule_ids),
        reason="; ".join(reasons),
        duration_ns=sum(d.duration_ns for d in items),
    )
