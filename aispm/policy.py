"""The policy document: one pydantic model for every guard, loaded from YAML, TOML, JSON or a dict.

A policy names detectors by id and maps what they find to actions::

    prompt:
      detectors: [injection.instruction_override, injection.jailbreak]
      actions: {high: deny, critical: deny}
      rules:
        - id: prompt.database_operations
          keywords: ["drop table", "delete from"]
          action: deny
          unless_roles: [admin]
    output:
      roles:
        compliance: {actions: {medium: allow}}     # may see e-mail addresses and phone numbers
    tools:
      allow: ["search_*", "get_*"]
      risk_actions: {destructive: deny}

Every section has safe defaults, so ``Policy()`` is the policy of ``Guard()``.
Unknown keys are errors (a typo must not silently weaken a policy).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._ids import DetectorId, RuleId
from ._retrieval_policy import PII_AND_SECRET_DETECTORS, AgentAccess, MetadataFields, RetrievalPolicy, SpotlightPolicy
from .constraints import ArgConstraint
from .decisions import Action, Severity
from .errors import MissingExtraError, PolicyError, PolicyIssue

__all__ = [
    "AgentAccess",
    "AllowEntry",
    "GuardPolicy",
    "LinkPolicy",
    "Limits",
    "MetadataFields",
    "OutputPolicy",
    "Policy",
    "PromptPolicy",
    "RedactionPolicy",
    "RetrievalPolicy",
    "RoleOverride",
    "Rule",
    "SpotlightPolicy",
    "ToolPolicy",
    "ToolSpec",
    "VaultPolicy",
]


SOURCES = ("user", "system", "tool", "retrieval", "agent", "model")
"""Where a checked text came from; everything but ``user`` and ``system`` is untrusted."""

UNTRUSTED_SOURCES = frozenset(("tool", "retrieval", "agent", "model"))
"""Sources whose text is data, not instructions: judged with a lower threshold."""

Source = Literal["user", "system", "tool", "retrieval", "agent", "model"]

LEVELS = {"permissive": 0.8, "balanced": 0.6, "strict": 0.4}
"""Confidence a scored finding needs to count, per ``level``, for direct (user, system) text."""

UNTRUSTED_DISCOUNT = 0.2
"""How much lower the threshold is for text from an untrusted source (tool results, documents, agents)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, use_enum_values=False)


class Rule(_Model):
    """A policy rule that raises the action when it matches.

    A rule matches when one of its ``keywords`` occurs in the normalised text
    (case-insensitive, Unicode-folded) or one of its ``detectors`` found
    something; ``roles`` and ``unless_roles`` limit whom it applies to.
    Rules only ever make a decision stricter.
    """

    id: RuleId
    action: Action
    description: str = ""
    keywords: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = ()
    detectors: tuple[DetectorId, ...] = ()
    sources: tuple[Source, ...] = Field(
        default=(), description="Apply only to texts from these sources (prompt guard); empty means all."
    )
    roles: tuple[str, ...] = Field(default=(), description="Apply only to users with one of these roles.")
    unless_roles: tuple[str, ...] = Field(default=(), description="Never apply to users with one of these roles.")

    @model_validator(mode="after")
    def _has_condition(self) -> Rule:
        if not self.keywords and not self.detectors:
            raise ValueError("a rule needs keywords or detectors to match on")
        return self


class AllowEntry(_Model):
    """An allowlist entry: the findings it covers are dropped before the policy decides.

    A finding is covered when the entry applies to it (its ``detectors``,
    ``sources`` and ``origins``, each empty meaning any) and, when the entry
    has ``phrases`` or ``patterns``, one of them matches a stretch of the text
    that contains the whole finding. Phrases match case-insensitively with
    any run of whitespace between their words.
    """

    id: RuleId | None = Field(
        default=None, description="Reported on the decision's span when the entry drops a finding."
    )
    phrases: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] = ()
    patterns: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] = Field(
        default=(),
        description="Python regular expressions, searched only around a finding (512 characters each side).",
    )
    detectors: tuple[DetectorId, ...] = ()
    sources: tuple[Source, ...] = Field(default=(), description="Prompt sources it applies to; empty means all.")
    origins: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        default=(), description="Names of the tools, stores or agents the text came from (see `check(origin=...)`)."
    )

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid pattern {pattern!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _narrow(self) -> AllowEntry:
        if not (self.phrases or self.patterns) and not (self.sources or self.origins):
            raise ValueError(
                "an allowlist entry needs phrases or patterns, or sources/origins to scope it "
                "(to turn a detector off everywhere, remove it from detectors)"
            )
        return self


RedactionMode = Literal["mask", "partial", "pseudonym", "vault"]


class VaultPolicy(_Model):
    """Bounds of the session vault behind pseudonyms (``mode: pseudonym`` and ``mode: vault``).

    One vault serves every guard of a `aispm.Guard`, so a value pseudonymised in
    a prompt gets the same pseudonym in the answer.
    """

    max_sessions: int = Field(default=10_000, gt=0, description="Least recently used sessions are evicted beyond it.")
    max_entries: int = Field(default=1_000, gt=0, le=10**8, description="Distinct values per session; more are masked.")
    max_chars: int = Field(default=65_536, gt=0, description="Characters of stored values per session.")
    ttl_seconds: float = Field(default=3600.0, gt=0, description="A session's values are dropped after this idle time.")


class RedactionPolicy(_Model):
    """How redacted findings are rewritten."""

    mode: RedactionMode = Field(
        default="mask",
        description="mask ([REDACTED:EMAIL]), partial, pseudonym (<EMAIL_1>, per session) or vault (restorable).",
    )
    modes: dict[DetectorId, RedactionMode] = Field(default_factory=dict, description="Mode per detector id.")

    @property
    def pseudonyms(self) -> bool:
        """True when a mode needs the session vault."""
        return not {self.mode, *self.modes.values()}.isdisjoint({"pseudonym", "vault"})


class RoleOverride(_Model):
    """Actions for users with a role; where several roles apply, the most permissive wins."""

    actions: dict[Severity, Action] = Field(default_factory=dict)
    detector_actions: dict[DetectorId, Action] = Field(default_factory=dict)


_DEFAULT_ACTIONS = {
    Severity.INFO: Action.ALLOW,
    Severity.LOW: Action.ALLOW,
    Severity.MEDIUM: Action.ALLOW,
    Severity.HIGH: Action.DENY,
    Severity.CRITICAL: Action.DENY,
}
_REDACT_ACTIONS = dict.fromkeys(Severity, Action.REDACT) | {Severity.INFO: Action.ALLOW}


class GuardPolicy(_Model):
    """Policy of a text guard: which detectors run and what their findings lead to."""

    _default_actions: ClassVar[Mapping[Severity, Action]] = _DEFAULT_ACTIONS

    enabled: bool = True
    detectors: tuple[DetectorId, ...] = ()
    actions: dict[Severity, Action] = Field(
        default_factory=dict,
        description="Action per finding severity; severities left out keep the guard's default.",
    )
    detector_actions: dict[DetectorId, Action] = Field(
        default_factory=dict, description="Action per detector id; wins over `actions`."
    )
    rules: tuple[Rule, ...] = ()
    roles: dict[str, RoleOverride] = Field(default_factory=dict, description="Per-role overrides.")
    level: Literal["permissive", "balanced", "strict"] = Field(
        default="balanced",
        description="Confidence a scored finding needs: 0.8, 0.6 or 0.4 (0.2 less for untrusted sources).",
    )
    thresholds: dict[DetectorId, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict, description="Threshold per detector id; wins over `level`."
    )
    allowlist: tuple[AllowEntry, ...] = ()
    decode: bool = Field(
        default=True, description="Also scan text hidden in base64, hex, URL-encoding, ROT13, tag characters."
    )
    redaction: RedactionPolicy = Field(default_factory=RedactionPolicy)

    @field_validator("actions")
    @classmethod
    def _complete_actions(cls, value: dict[Severity, Action]) -> dict[Severity, Action]:
        return {**cls._default_actions, **value}

    @model_validator(mode="after")
    def _consistent_rules(self) -> GuardPolicy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            missing = sorted(set(rule.detectors) - set(self.detectors))
            if missing:
                raise ValueError(
                    f"rule {rule.id!r} names detectors that do not run here: {missing}; add them to detectors"
                )
        named = set(self.thresholds).union(*(entry.detectors for entry in self.allowlist))
        missing = sorted(named - set(self.detectors))
        if missing:
            raise ValueError(f"thresholds or allowlist name detectors that do not run here: {missing}")
        return self


class LinkPolicy(_Model):
    """Where links and images in model output may point."""

    allowed_hosts: tuple[Annotated[str, Field(min_length=1, max_length=253)], ...] = Field(
        default=(), description="Hosts (``docs.example.com``) and wildcards (``*.example.com``) links may point to."
    )


class PromptPolicy(GuardPolicy):
    """Prompt guard: injection and jailbreak detectors; high and critical findings deny."""

    detectors: tuple[DetectorId, ...] = (
        "injection.instruction_override",
        "injection.jailbreak",
        "injection.system_prompt_extraction",
        "injection.role_delimiter",
        "injection.tool_hijack",
        "injection.exfiltration_request",
        "injection.payload_splitting",
        "injection.hidden_carrier",
        "injection.addressed_instruction",
        "injection.tool_poisoning",
        "obfuscation.invisible_characters",
    )
    actions: dict[Severity, Action] = Field(default_factory=lambda: dict(_DEFAULT_ACTIONS))


class OutputPolicy(GuardPolicy):
    """Output scanner: PII and secret detectors; every finding above info is redacted."""

    _default_actions: ClassVar[Mapping[Severity, Action]] = _REDACT_ACTIONS

    detectors: tuple[DetectorId, ...] = (
        *PII_AND_SECRET_DETECTORS,
        "leakage.canary",
        "leakage.system_prompt",
        "exfiltration.link",
        "exfiltration.data_uri",
    )
    actions: dict[Severity, Action] = Field(default_factory=lambda: dict(_REDACT_ACTIONS))
    links: LinkPolicy = Field(default_factory=LinkPolicy)

    @model_validator(mode="after")
    def _no_sources(self) -> OutputPolicy:
        for entry in self.allowlist:
            if entry.sources:
                raise ValueError("output allowlist entries cannot filter on sources (only prompt texts have one)")
        for rule in self.rules:
            if rule.sources:
                raise ValueError(
                    f"rule {rule.id!r}: output rules cannot filter on sources (only prompt texts have one)"
                )
        return self


RISK_LEVELS = ("read", "write", "destructive", "financial", "external_communication")
"""The built-in tool risk levels; a policy may add its own in ``tools.risk_actions``."""

_DEFAULT_RISK_ACTIONS = {
    "read": Action.ALLOW,
    "write": Action.ALLOW,
    "destructive": Action.REQUIRE_APPROVAL,
    "financial": Action.REQUIRE_APPROVAL,
    "external_communication": Action.REQUIRE_APPROVAL,
}


ArgConstraints = dict[str, ArgConstraint]
"""Constraints by argument name."""


class ToolSpec(_Model):
    """What the policy says about one tool."""

    risk: str | None = Field(default=None, description="Risk level; wins over the one the code declares.")
    roles: tuple[str, ...] = Field(default=(), description="The user needs one of these roles.")
    args: ArgConstraints = Field(default_factory=dict, description="Constraints on the tool's arguments, by name.")


class AgentTools(_Model):
    """Which tools an agent may call (glob patterns), and with which arguments."""

    allow: tuple[str, ...] = ("*",)
    deny: tuple[str, ...] = ()
    args: dict[str, ArgConstraints] = Field(
        default_factory=dict, description="Argument constraints per tool name, for this agent only."
    )


class RoleTools(_Model):
    """Which tools a role grants (glob patterns), and with which arguments."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    args: dict[str, ArgConstraints] = Field(
        default_factory=dict, description="Argument constraints per tool name, for users with this role."
    )


class RateLimit(_Model):
    """At most ``calls`` calls of the matching tools per ``window_seconds``, counted per ``per``."""

    tools: tuple[str, ...] = Field(default=("*",), description="Glob patterns of the tools counted together.")
    per: Literal["user", "agent", "session"] = "user"
    calls: int = Field(gt=0)
    window_seconds: float = Field(gt=0, le=86_400 * 31)
    action: Action = Action.DENY


class TaintPolicy(_Model):
    """What happens once untrusted content has entered a session's context."""

    sources: tuple[Source, ...] = Field(
        default=(),
        description=(
            "Sources whose every text taints the session, flagged or not (strict information-flow control); "
            "untrusted text the prompt guard flags always taints."
        ),
    )
    min_risk: str = Field(
        default="external_communication",
        description="Tools at or above this risk level (in `risk_order`) get `action` in a tainted session.",
    )
    action: Action = Action.REQUIRE_APPROVAL
    risk_threshold: float | None = Field(
        default=None, gt=0, description="A session whose accumulated risk reaches this counts as tainted too."
    )


class ApprovalPolicy(_Model):
    """How long a human has to answer an approval request; no answer in time is a deny."""

    timeout_seconds: float = Field(default=300.0, gt=0, le=86_400)


class DelegationPolicy(_Model):
    """How delegations presented with tool calls are verified."""

    audience: str = Field(default="aispm", min_length=1, description="This service's name in a grant's audience.")
    required: bool = Field(default=False, description="Agents must present a delegation for every tool call.")
    skew_seconds: float = Field(default=30.0, ge=0, le=600, description="Clock skew allowed on expiry checks.")
    max_depth: int = Field(default=8, ge=1, le=32, description="Longest chain accepted.")


class ToolPolicy(_Model):
    """Policy of the tool authorizer."""

    enabled: bool = True
    unknown: Action = Field(
        default=Action.DENY,
        description="Action for tools neither declared here, matched by `allow`, nor registered with @guard.tool.",
    )
    allow: tuple[str, ...] = Field(default=(), description="Glob patterns; when set, only matching tools may run.")
    deny: tuple[str, ...] = Field(default=(), description="Glob patterns of tools that never run.")
    default_risk: str = "write"
    risk_actions: dict[str, Action] = Field(
        default_factory=lambda: dict(_DEFAULT_RISK_ACTIONS),
        description="Action per risk level; built-in levels left out keep their default.",
    )
    risk_order: tuple[str, ...] = Field(
        default=("read", "write", "external_communication", "financial", "destructive"),
        description="Risk levels from lowest to highest; a level not listed counts as the highest.",
    )
    tools: dict[str, ToolSpec] = Field(default_factory=dict)
    agents: dict[str, AgentTools] = Field(
        default_factory=dict, description="Per-agent allow/deny; every agent in the chain must allow."
    )
    roles: dict[str, RoleTools] = Field(
        default_factory=dict,
        description="Per-role grants; when set, one of the user's roles must allow the tool and none deny it.",
    )
    rate_limits: tuple[RateLimit, ...] = ()
    session_budget: int | None = Field(default=None, gt=0, description="Most tool calls one session may make.")
    taint: TaintPolicy = Field(default_factory=TaintPolicy)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    delegation: DelegationPolicy = Field(default_factory=DelegationPolicy)

    @field_validator("risk_actions")
    @classmethod
    def _complete_risk_actions(cls, value: dict[str, Action]) -> dict[str, Action]:
        return {**_DEFAULT_RISK_ACTIONS, **value}

    @model_validator(mode="after")
    def _risks_are_declared(self) -> ToolPolicy:
        risks = {self.default_risk, self.taint.min_risk} | {s.risk for s in self.tools.values() if s.risk is not None}
        missing = sorted(risks - set(self.risk_actions))
        if missing:
            raise ValueError(f"risk levels {missing} have no entry in risk_actions")
        return self


class Limits(_Model):
    """Bounds on what a guard will look at; beyond them it denies (fails closed)."""

    max_text_chars: int = Field(default=1_000_000, gt=0, description="Longer texts are denied unscanned.")
    max_depth: int = Field(default=8, ge=1, le=64, description="Nesting depth scanned in structured values.")
    max_items: int = Field(default=10_000, gt=0, description="String leaves scanned in one structured value.")


_M = TypeVar("_M", bound="_Model")


def _constructed(model: type[_M]) -> _M:
    """``model()`` with its defaults, nested models included, without validation."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        factory = field.default_factory
        if isinstance(factory, type) and issubclass(factory, _Model):
            values[name] = _constructed(factory)
        else:
            values[name] = field.get_default(call_default_factory=True)
    return model.model_construct(**values)


class Policy(_Model):
    """The whole policy: one document for every guard.

    Build it with ``Policy()`` (safe defaults), ``Policy.model_validate(data)``
    or ``Policy.from_file(path)``.
    """

    version: Literal[1] = 1
    mode: Literal["enforce", "monitor"] = "enforce"
    fail_mode: Literal["closed", "open"] = Field(
        default="closed", description="What a guard decides when it fails: deny (closed) or allow (open)."
    )
    limits: Limits = Field(default_factory=Limits)
    vault: VaultPolicy = Field(default_factory=VaultPolicy)
    prompt: PromptPolicy = Field(default_factory=PromptPolicy)
    output: OutputPolicy = Field(default_factory=OutputPolicy)
    tools: ToolPolicy = Field(default_factory=ToolPolicy)
    retrieval: RetrievalPolicy = Field(default_factory=RetrievalPolicy)

    @classmethod
    def default(cls) -> Policy:
        """The default policy, equal to ``Policy()``, built without running pydantic's validation.

        Building pydantic's validators for the policy models costs about 30 ms the
        first time (a third of a cold start), all to check defaults that are known
        good; ``Guard()`` uses this instead. The test suite holds it equal to ``Policy()``.
        """
        return _constructed(cls)

    @classmethod
    def from_data(
        cls, data: Any, *, source: str = "<data>", lines: Mapping[tuple[str, ...], int] | None = None
    ) -> Policy:
        """Validate a parsed document.

        Raises:
            PolicyError: With one issue per problem, each with its field path
                (and line, when ``lines`` maps paths to lines).
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            issues = [_issue(err, lines or {}) for err in exc.errors(include_url=False)]
            raise PolicyError(f"invalid policy {source}", issues) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Load and validate a policy file: ``.yaml``/``.yml`` (needs ``aispm[yaml]``), ``.toml`` or ``.json``.

        Raises:
            PolicyError: The file cannot be read or parsed, or does not validate.
            MissingExtraError: A YAML file was given and PyYAML is not installed.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".yaml", ".yml", ".toml", ".json"):
            raise PolicyError(f"unsupported policy file type {suffix!r}: use .yaml, .yml, .toml or .json")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {str(path)!r}: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"policy file {str(path)!r} is not UTF-8 (byte {exc.start})") from None
        lines: dict[tuple[str, ...], int] = {}
        if suffix == ".toml":
            try:
                data: Any = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise PolicyError(f"invalid TOML in {str(path)!r}", [PolicyIssue("<document>", str(exc))]) from None
        elif suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                issue = PolicyIssue("<document>", exc.msg, exc.lineno)
                raise PolicyError(f"invalid JSON in {str(path)!r}", [issue]) from None
        else:
            data, lines = _load_yaml(text, str(path))
            if data is None:  # an empty YAML document, like an empty TOML one, means the defaults
                data = {}
        return cls.from_data(data, source=repr(str(path)), lines=lines)


def _issue(error: Any, lines: Mapping[tuple[str, ...], int]) -> PolicyIssue:
    loc = tuple(str(part) for part in error["loc"])
    line = None
    for n in range(len(loc), 0, -1):  # the deepest path the document has a line for
        if loc[:n] in lines:
            line = lines[loc[:n]]
            break
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    return PolicyIssue(".".join(loc) or "<document>", message, line)


def _load_yaml(text: str, name: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    try:
        import yaml
    except ImportError:
        raise MissingExtraError("yaml", "yaml", "Loading YAML policy files") from None
    try:
        # Aliases can expand a small file into an enormous (or cyclic) document:
        # a policy never needs them, so they are refused before anything is built.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else None
                issue = PolicyIssue("<document>", "YAML anchors and aliases are not supported", line)
                raise PolicyError(f"invalid YAML in {name!r}", [issue])
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise PolicyError(f"invalid YAML in {name!r}", [PolicyIssue("<document>", str(problem), line)]) from None
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    return data, lines


def _yaml_lines(node: Any, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    # Record the 1-based line of every mapping key and sequence item, by field path.
    stack = [(node, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current.value, list):
            for i, item in enumerate(current.value):
                if isinstance(item, tuple):
                    key, value = item
                    child = (*where, str(key.value))
                    lines[child] = key.start_mark.line + 1
                    stack.append((value, child))
                else:
                    child = (*where, str(i))
                    lines[child] = item.start_mark.line + 1
                    stack.append((item, child))
