"""The ``retrieval`` section of the policy: who may read which retrieved document, and what they see of it.

Kept apart from `aispm.policy` (which re-exports these models) only to keep modules small.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._ids import DetectorId

_Name = Annotated[str, Field(min_length=1, max_length=256)]
_FieldName = Annotated[str, Field(min_length=1, max_length=200)]

DEFAULT_LABELS = ("public", "internal", "confidential", "restricted")
"""The built-in classification labels, lowest first."""


PII_AND_SECRET_DETECTORS: tuple[str, ...] = (
    "pii.email",
    "pii.phone",
    "pii.credit_card",
    "pii.us_ssn",
    "pii.iban",
    "pii.ip_address",
    "pii.uk_nino",
    "pii.aba_routing",
    "secrets.aws_access_key",
    "secrets.github_token",
    "secrets.private_key",
    "secrets.aws_secret_key",
    "secrets.gitlab_token",
    "secrets.slack_token",
    "secrets.slack_webhook",
    "secrets.stripe_key",
    "secrets.google_api_key",
    "secrets.openai_key",
    "secrets.anthropic_key",
    "secrets.huggingface_token",
    "secrets.npm_token",
    "secrets.sendgrid_key",
    "secrets.twilio_key",
    "secrets.jwt",
    "secrets.database_url",
    "secrets.basic_auth_url",
    "secrets.password",
    "secrets.generic_secret",
)
"""The built-in PII and secret detectors: what the output scanner and the retrieval filter redact by default."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class MetadataFields(_Model):
    """Which metadata keys hold a document's access information. ``None`` switches a check off."""

    owner: _FieldName | None = Field(default="owner", description="The user who owns the document (a string).")
    users: _FieldName | None = Field(default="allowed_users", description="Users who may read it (a list of strings).")
    groups: _FieldName | None = Field(
        default="allowed_groups", description="Groups who may read it (a list of strings); '*' is everyone."
    )
    tenant: _FieldName | None = Field(default="tenant", description="The tenant it belongs to (a string).")
    label: _FieldName | None = Field(default="classification", description="Its classification label (a string).")
    id: _FieldName = Field(default="doc_id", description="Its id, for reports and external authorizers.")


class AgentAccess(_Model):
    """What an agent may read on its own account; the chain's rights are the intersection.

    An agent with no entry (or no clearance) adds no ceiling of its own: it reads at most what
    the user it serves may read. ``groups`` makes the agent an ACL subject too: a document must
    then also be shared with the agent (by name in the users field) or one of these groups.
    """

    clearance: _Name | None = None
    tenant: _Name | None = None
    groups: tuple[_Name, ...] | None = None


class SpotlightPolicy(_Model):
    """Marking kept chunks as data, so the model can tell them from instructions (off by default).

    ``delimit`` wraps each chunk in a ``«retrieved id=...»`` block (the delimiter characters are
    neutralised inside the chunk, so it cannot close its block); ``datamark`` also replaces the
    whitespace inside it with ``marker`` (Hines et al., 2024: "Defending Against Indirect Prompt
    Injection Attacks With Spotlighting").
    """

    mode: Literal["off", "delimit", "datamark"] = "off"
    marker: Annotated[str, Field(min_length=1, max_length=4)] = "\u02c6"

    @model_validator(mode="after")
    def _usable_marker(self) -> SpotlightPolicy:
        if any(c.isspace() or c in "«»‹›" for c in self.marker):  # noqa: RUF001 (the delimiter characters)
            raise ValueError("retrieval.spotlight.marker must not contain whitespace or the delimiters « » ‹ ›")  # noqa: RUF001
        return self


class RetrievalPolicy(_Model):
    """Retrieval filter: access control, quarantine of poisoned chunks, redaction, spotlighting."""

    enabled: bool = True
    fields: MetadataFields = Field(default_factory=MetadataFields)
    labels: tuple[_Name, ...] = Field(default=DEFAULT_LABELS, min_length=1, description="Lowest first.")
    missing: Literal["deny", "allow"] = Field(
        default="deny",
        description="Documents with missing or malformed access metadata: dropped (deny) or read as below (allow).",
    )
    default_label: _Name = Field(default="internal", description="The label a document without one gets (allow).")
    default_clearance: _Name = Field(
        default="public", description="The clearance of a user the session gives none, and of a session-less call."
    )
    everyone: _Name = Field(default="*", description="The users/groups value that shares a document with everyone.")
    agents: dict[_Name, AgentAccess] = Field(default_factory=dict, description="Per-agent ceilings, by agent name.")
    scan: bool = Field(
        default=True, description="Scan kept chunks with the prompt guard as untrusted text (poisoned-chunk check)."
    )
    quarantine: Literal["drop", "wrap"] = Field(
        default="drop", description="A chunk the prompt guard flags: dropped, or kept inside a warning block."
    )
    redact: bool = Field(default=True, description="Redact PII and secrets in kept documents.")
    detectors: tuple[DetectorId, ...] = Field(
        default=PII_AND_SECRET_DETECTORS,
        description="Detectors whose findings are redacted in kept documents.",
    )
    reveal: dict[Annotated[str, Field(min_length=1, max_length=200)], _Name | None] = Field(
        default_factory=lambda: {"pii": "confidential", "secret": None},
        description="Per finding category (or detector id): the clearance from which it is shown; null: never.",
    )
    spotlight: SpotlightPolicy = Field(default_factory=SpotlightPolicy)

    @model_validator(mode="after")
    def _known_labels(self) -> RetrievalPolicy:
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("retrieval.labels must be distinct")
        named = [("default_label", self.default_label), ("default_clearance", self.default_clearance)]
        named += [(f"reveal.{key}", level) for key, level in self.reveal.items() if level is not None]
        named += [(f"agents.{name}.clearance", a.clearance) for name, a in self.agents.items() if a.clearance]
        for where, level in named:
            if level not in self.labels:
                raise ValueError(f"retrieval.{where}: unknown label {level!r}; expected one of {list(self.labels)}")
        return self
