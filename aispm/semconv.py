"""Every span name, event name and attribute key aispm emits.

This module is the reference for people reading aispm spans in a tracing
backend: each constant's docstring says what the value means. Attributes under
``gen_ai.*`` follow the OpenTelemetry GenAI semantic conventions (the values
are spelled out here rather than imported from the incubating package).

Nothing here ever holds caught content: findings carry offsets, a keyed
fingerprint and a placeholder, never the matched text.
"""

from __future__ import annotations

from typing import Final

# --- span and event names ----------------------------------------------------

SPAN_PREFIX: Final = "aispm."
"""Decision spans are named ``aispm.<guard>``: ``aispm.prompt``, ``aispm.output``, ``aispm.tools``."""

SPAN_PROMPT: Final = "aispm.prompt"
"""One prompt-guard decision."""

SPAN_OUTPUT: Final = "aispm.output"
"""One output-scanner decision (a whole response, or a whole stream)."""

SPAN_TOOLS: Final = "aispm.tools"
"""One tool-authorization decision."""

EVENT_FINDING: Final = "aispm.finding"
"""Span event, one per finding of the decision."""

# --- decision -----------------------------------------------------------------

DECISION_ACTION: Final = "aispm.decision.action"
"""What the policy decided: ``allow``, ``redact``, ``require_approval`` or ``deny``."""

DECISION_GUARD: Final = "aispm.decision.guard"
"""Which guard decided: ``prompt``, ``retrieval``, ``tools`` or ``output``."""

RULE_IDS: Final = "aispm.decision.rule_ids"
"""Ids of the policy rules that produced the action (string array); absent when none fired."""

DECISION_REASON: Final = "aispm.decision.reason"
"""Short, content-free explanation of a non-allow decision."""

ENFORCEMENT: Final = "aispm.enforcement"
"""What happened to the call: ``enforced`` (the guard applied the decision: blocked,
redacted or let through), ``monitored`` (monitor mode: reported only, the call went on
unchanged) or ``returned`` (explicit tier: the decision was returned to the caller,
who acts on it)."""

MODE: Final = "aispm.mode"
"""The guard's mode: ``enforce`` or ``monitor``."""

FINDINGS_COUNT: Final = "aispm.findings.count"
"""Number of findings; absent when zero."""

FINDINGS_CATEGORIES: Final = "aispm.findings.categories"
"""Sorted, distinct finding categories (string array), e.g. ``["pii", "secret"]``; absent when none."""

FINDINGS_MAX_SEVERITY: Final = "aispm.findings.max_severity"
"""Highest severity among the findings; absent when none."""

TEXT_LENGTH: Final = "aispm.text.length"
"""Length of the checked text, in characters (prompt and output guards)."""

PROMPT_SOURCE: Final = "aispm.prompt.source"
"""Where the checked text came from: ``user``, ``system``, ``tool``, ``retrieval``, ``agent`` or ``model``."""

PROMPT_ORIGIN: Final = "aispm.prompt.origin"
"""Name of the tool, store or agent an untrusted text came from (``check(origin=...)``); absent when not given."""

STREAM: Final = "aispm.stream"
"""``True`` when the decision covers a streamed response (one decision for the whole stream)."""

# --- retrieval ----------------------------------------------------------------

RETRIEVAL_ORIGIN: Final = "aispm.retrieval.origin"
"""Name of the retriever or store the documents came from (``filter(origin=...)``); absent when not given."""

RETRIEVAL_DOCUMENTS: Final = "aispm.retrieval.documents"
"""How many documents the retrieval filter was given."""

RETRIEVAL_KEPT: Final = "aispm.retrieval.kept"
"""How many it passed on (in monitor mode: how many it would have passed on)."""

RETRIEVAL_DROPPED_RULES: Final = "aispm.retrieval.dropped_rules"
"""Why documents were left out (sorted, distinct rule ids, e.g. ``retrieval.acl``); absent when none was."""

RETRIEVAL_REDACTED: Final = "aispm.retrieval.redacted"
"""How many kept documents had PII or secrets redacted."""

RETRIEVAL_QUARANTINED: Final = "aispm.retrieval.quarantined"
"""How many documents the prompt guard flagged as carrying instructions (dropped or wrapped)."""

RETRIEVAL_CLEARANCE: Final = "aispm.retrieval.clearance"
"""The effective clearance of the chain: the highest classification label it may read."""

GEN_AI_DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
"""GenAI convention: the data source the documents came from (the same value as ``aispm.retrieval.origin``)."""

# --- principal ----------------------------------------------------------------

SESSION_ID: Final = "aispm.session.id"
"""Random id of the guard session; absent outside a session."""

PRINCIPAL_USER: Final = "aispm.principal.user"
"""The human or service at the start of the on-behalf-of chain."""

PRINCIPAL_ROLES: Final = "aispm.principal.roles"
"""The user's roles (sorted string array)."""

PRINCIPAL_CHAIN: Final = "aispm.principal.chain"
"""The on-behalf-of chain, user first, as ``user:<id>`` and ``agent:<name>`` entries."""

# --- tools --------------------------------------------------------------------

TOOL_RISK: Final = "aispm.tool.risk"
"""The tool's declared risk level, e.g. ``read``, ``write``, ``destructive``."""

DELEGATION_ID: Final = "aispm.delegation.id"
"""Id of the verified delegation grant a tool call was made under."""

DELEGATION_CHAIN: Final = "aispm.delegation.chain"
"""The verified grant chain, root first, as ``issuer>subject`` entries."""

APPROVAL_OUTCOME: Final = "aispm.approval.outcome"
"""``approved``, ``denied``, ``timeout`` or ``error``, when a human was asked."""

APPROVAL_APPROVER: Final = "aispm.approval.approver"
"""Who answered the approval request."""

# --- findings (event attributes) ---------------------------------------------

FINDING_DETECTOR: Final = "aispm.finding.detector"
"""Stable id of the detector, e.g. ``secrets.aws_access_key``."""

FINDING_CATEGORY: Final = "aispm.finding.category"
"""Category of the finding, e.g. ``secret``, ``pii``, ``prompt_injection``."""

FINDING_SEVERITY: Final = "aispm.finding.severity"
"""``info``, ``low``, ``medium``, ``high`` or ``critical``."""

FINDING_CONFIDENCE: Final = "aispm.finding.confidence"
"""Detector score in ``[0, 1]``; absent when the detector does not score."""

FINDING_START: Final = "aispm.finding.start"
"""Offset of the first character in the checked text; absent when not located."""

FINDING_END: Final = "aispm.finding.end"
"""Offset one past the last character; absent when not located."""

FINDING_MAPPINGS: Final = "aispm.finding.mappings"
"""Framework references (string array): OWASP LLM Top 10 2025, MITRE ATLAS technique ids."""

FINDING_FINGERPRINT: Final = "aispm.finding.fingerprint"
"""Keyed hash (HMAC-SHA-256, truncated) of the matched text: correlates repeats, reveals nothing."""

FINDING_LAYER: Final = "aispm.finding.layer"
"""How the match was hidden when found in decoded text (``base64``, ``hex``, ``url``, ``rot13``,
``tags``, ``spaced``; nested layers joined by ``>``); absent when found as written."""

FINDING_EXCERPT: Final = "aispm.finding.excerpt"
"""Redacted excerpt: the placeholder that replaces the match, e.g. ``[REDACTED:EMAIL]``."""

# --- OpenTelemetry GenAI semantic conventions --------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
"""GenAI operation the decision guards; ``execute_tool`` for tool decisions."""

GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
"""The acting agent: the last agent of the on-behalf-of chain."""

GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
"""Name of the tool a tool decision is about."""

GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
"""On finding events: the detector id (GenAI evaluation convention)."""

GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
"""On finding events: the detector's confidence, when it scores."""

ERROR_TYPE: Final = "error.type"
"""Set only when the guard itself failed (whether it then failed closed or open): the class name of the error."""

CODE_FUNCTION_NAME: Final = "code.function.name"
"""On the decisions ``@guard.protect`` makes about a call's arguments and return value: the wrapped function's
qualified name (not on stream decisions, nor on tool decisions, which carry ``gen_ai.tool.name``)."""
