"""The engine shared by the prompt guard and the output scanner: detect, decide, redact.

Evaluation is pure and synchronous; the guards wrap it with reporting and
enforcement. Structured values (the arguments of a protected function, what it
returns) are walked once, each string leaf evaluated, and one decision made
for the whole value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from time import perf_counter_ns as _perf
from time import time_ns as wall_clock_ns
from typing import Any, cast

from ._redact import Redactor
from ._runtime import Runtime
from .decisions import Action, Finding, Severity, TextDecision, combine
from .detectors import Detector, ScanText
from .detectors._embedded import embedded_start
from .detectors._layers import derive
from .policy import LEVELS, UNTRUSTED_DISCOUNT, UNTRUSTED_SOURCES, AllowEntry, GuardPolicy, Rule
from .principals import Session, current_session

TEXT_TOO_LARGE = "limits.text_too_large"
STRUCTURE_TOO_LARGE = "limits.structure_too_large"
UNREDACTABLE = "output.unredactable_value"


CORROBORATING = ("injection.", "obfuscation.")
"""Detectors whose weak signals corroborate one another: independent signs of one attack."""
CORROBORATION_FLOOR = 0.45
"""Confidence a finding needs to count as corroborating evidence."""


def corroborated(findings: list[Finding]) -> list[Finding]:
    """Raise weak injection findings that other injection detectors corroborate.

    Two or more distinct detectors that each see a weak sign of injection in one text
    (a fake role tag and an order addressed to "the user", an override and a note to
    automated screeners) are stronger evidence than either: their best confidences
    combine as independent evidence, ``1 - prod(1 - c)``, and every finding that took
    part gets the combined score. Repeats of one detector do not add up (a README that
    says "run the following command" twice is one signal).
    """
    best: dict[str, float] = {}
    for f in findings:
        c = f.confidence
        if c is not None and c >= CORROBORATION_FLOOR and f.detector.startswith(CORROBORATING):
            best[f.detector] = max(c, best.get(f.detector, 0.0))
    if len(best) < 2:
        return findings
    doubt = 1.0
    for c in best.values():
        doubt *= 1.0 - c
    combined = round(1.0 - doubt, 4)
    return [
        replace(f, confidence=combined)
        if f.detector in best and f.confidence is not None and CORROBORATION_FLOOR <= f.confidence < combined
        else f
        for f in findings
    ]


@dataclass(frozen=True, slots=True)
class _KeywordRule:
    rule: Rule
    pattern: re.Pattern[str]  # the folded keywords; any run of whitespace matches the spaces in them


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # Literal words joined by bounded whitespace runs: linear-time, and "drop  table"
    # (two spaces, a tab, a newline) cannot slip past a "drop table" rule.
    alternatives = (r"\s{1,16}".join(re.escape(word) for word in ScanText(k).folded.split()) for k in keywords)
    return re.compile("|".join(alternatives))


_ALLOW_WINDOW = 512  # allowlist patterns run only this far around a finding: bounded work per finding


@dataclass(frozen=True, slots=True)
class _Allow:
    entry: AllowEntry
    phrases: re.Pattern[str] | None  # matched on the folded view (case-insensitive)
    patterns: tuple[re.Pattern[str], ...]  # matched on the original, as the user wrote them

    @classmethod
    def build(cls, entry: AllowEntry) -> _Allow:
        phrases = _keyword_pattern(entry.phrases) if entry.phrases else None
        return cls(entry, phrases, tuple(re.compile(p) for p in entry.patterns))

    def applies(self, finding: Finding, source: str | None, origin: str | None) -> bool:
        e = self.entry
        if e.detectors and finding.detector not in e.detectors:
            return False
        if e.sources and source not in e.sources:
            return False
        return not (e.origins and origin not in e.origins)

    def covers(self, finding: Finding, scan: ScanText) -> bool:
        if self.phrases is None and not self.patterns:
            return True
        start, end = finding.start, finding.end
        if start is None or end is None:
            return False
        lo, hi = max(0, start - _ALLOW_WINDOW), end + _ALLOW_WINDOW
        if self.phrases is not None:
            window = ScanText(scan.original[lo:hi])  # folded offsets map back through its own map
            for m in self.phrases.finditer(window.folded):
                s, e = window.span_to_original(*m.span())
                if s + lo <= start and end <= e + lo:
                    return True
        return any(
            m.start() <= start and end <= m.end()
            for pattern in self.patterns
            for m in pattern.finditer(scan.original, lo, min(hi, len(scan.original)))
        )


class TextEngine:
    """Detection and policy for one text guard. Built once, at guard construction."""

    __slots__ = (
        "_allow",
        "_decode",
        "_detector_rules",
        "_detectors",
        "_keyword_rules",
        "_max_chars",
        "_policy",
        "_redactor",
        "_rt",
        "_threshold",
        "_thresholds",
        "guard",
    )

    def __init__(self, guard: str, runtime: Runtime, policy: GuardPolicy) -> None:
        self.guard = guard
        self._rt = runtime
        self._policy = policy
        self._detectors: tuple[Detector, ...] = tuple(runtime.detectors[d] for d in policy.detectors)
        self._keyword_rules = tuple(_KeywordRule(r, _keyword_pattern(r.keywords)) for r in policy.rules if r.keywords)
        self._detector_rules = tuple(r for r in policy.rules if r.detectors)
        self._max_chars = runtime.policy.limits.max_text_chars
        self._decode = policy.decode
        self._threshold = LEVELS[policy.level]
        self._thresholds = policy.thresholds
        self._allow = tuple(_Allow.build(entry) for entry in policy.allowlist)
        redaction = policy.redaction
        self._redactor = Redactor(redaction.mode, modes=redaction.modes, vault=runtime.vault)

    # -- one text --------------------------------------------------------------

    def evaluate(
        self,
        text: str,
        *,
        source: str | None,
        session: Session | None,
        t0: int = 0,
        origin: str | None = None,
        scope: str | None = None,
        rewrite: bool = True,
        context: int = 0,
    ) -> TextDecision:
        """Decide about one text, without reporting.

        ``t0`` is the ``perf_counter_ns()`` at which the check began; the
        decision's ``duration_ns`` is measured from it (0 when not given).
        Pseudonyms are kept per ``scope`` (default: the session's id). With
        ``rewrite=False`` a redact decision keeps the text as it is: a look
        ahead that must not hand out pseudonyms. The first ``context``
        characters are read but not decided about (text a stream has already
        released, which detectors that need context, such as ``key = value``,
        must still see): findings that start in them are dropped, the rest are
        shifted, and the decision is about ``text[context:]``.
        """
        policy = self._policy
        if not policy.enabled:
            return TextDecision(Action.ALLOW, self.guard, text, duration_ns=_since(t0))
        if len(text) > self._max_chars:
            finding = Finding(detector=TEXT_TOO_LARGE, category="limits", severity=Severity.HIGH)
            return TextDecision(
                Action.DENY,
                self.guard,
                "",
                (finding,),
                (TEXT_TOO_LARGE,),
                "text exceeds limits.max_text_chars",
                _since(t0),
            )
        scan = ScanText(text)
        findings: list[Finding] = []
        for detector in self._detectors:
            findings.extend(detector.detect(scan))
        if self._decode:
            findings.extend(self._decoded(scan, findings))
        if findings:
            findings = self._scored(findings, scan, source, origin)
        fired: list[Rule] = []
        roles = session.roles if session is not None else frozenset()
        for kw in self._keyword_rules:
            if _applies(kw.rule, roles, source):
                spans = (scan.span_to_original(*m.span()) for m in kw.pattern.finditer(scan.folded))
                hits = [(s, e) for s, e in spans if s >= context]
                if hits:
                    findings.extend(
                        Finding(detector=kw.rule.id, category="policy_rule", severity=Severity.MEDIUM, start=s, end=e)
                        for s, e in hits
                    )
                    fired.append(kw.rule)
        if context:
            text = text[context:]
            # Unlocated findings (about the whole text) are kept; located ones in the context dropped.
            findings = [
                f if f.start is None else _shifted(f, context)
                for f in findings
                if f.start is None or f.start >= context
            ]
        if not findings:
            return TextDecision(Action.ALLOW, self.guard, text, duration_ns=_since(t0))
        if self._detector_rules:
            found = {f.detector for f in findings}
            fired.extend(
                r for r in self._detector_rules if _applies(r, roles, source) and not found.isdisjoint(r.detectors)
            )
        if scope is None and session is not None:
            scope = session.id
        return self._decide(text, findings, fired, roles, t0, scope, rewrite)

    def _decoded(self, scan: ScanText, direct: list[Finding]) -> list[Finding]:
        """Findings in text hidden inside ``scan`` (base64, hex, ...), each spanning its encoded stretch.

        ROT13 maps characters one to one, so its findings keep their own place. A layer that
        rewrites the whole text (spaced-out letters) adds nothing for a detector that found
        something in the text as written: it would only widen that finding to the whole text.
        """
        layers = derive(scan)
        if not layers:
            return []
        found_directly = {f.detector for f in direct}
        seen: set[tuple[str, int, int]] = set()
        found: list[Finding] = []
        for layer in layers:
            for detector in self._detectors:
                for f in detector.detect(layer.text):
                    if layer.kind == "rot13" and f.start is not None and f.end is not None:
                        start, end = scan.span_to_original(f.start, f.end)
                    elif layer.kind == "spaced" and f.detector in found_directly:
                        continue
                    else:
                        start, end = layer.start, layer.end
                    key = (f.detector, start, end)
                    if key not in seen:
                        seen.add(key)
                        found.append(replace(f, start=start, end=end, layer=layer.kind))
        return found

    def _scored(self, findings: list[Finding], scan: ScanText, source: str | None, origin: str | None) -> list[Finding]:
        """Drop findings below their threshold (lower for untrusted sources) and those an allowlist covers."""
        discount = UNTRUSTED_DISCOUNT if source in UNTRUSTED_SOURCES else 0.0
        thresholds = self._thresholds
        if len(findings) > 1:
            findings = corroborated(findings)
        # A document pasted after a request ("Summarise this CV:") is data even in a user's prompt.
        pasted = embedded_start(scan) if not discount and self.guard == "prompt" else None
        kept = [
            f
            for f in findings
            if f.confidence is None
            or f.confidence
            >= thresholds.get(f.detector, self._threshold)
            - (UNTRUSTED_DISCOUNT if pasted is not None and (f.start or 0) >= pasted else discount)
        ]
        if self._allow and kept:
            kept = [f for f in kept if not any(a.applies(f, source, origin) and a.covers(f, scan) for a in self._allow)]
        return kept

    def _decide(
        self,
        text: str,
        findings: list[Finding],
        fired: list[Rule],
        roles: frozenset[str],
        t0: int,
        scope: str | None,
        rewrite: bool,
    ) -> TextDecision:
        action = Action.ALLOW
        rule_ids: dict[str, None] = {}
        to_redact: list[Finding] = []
        # A keyword rule decides its own findings; a detector rule raises the
        # action of the findings of the detectors it names (rules never lower).
        rule_actions: dict[str, Action] = {}
        for rule in fired:
            if rule.keywords:
                rule_actions[rule.id] = rule.action
            for detector_id in rule.detectors:
                rule_actions[detector_id] = max(rule.action, rule_actions.get(detector_id, Action.ALLOW))
        for finding in findings:
            finding_action = self._action_for(finding, roles)
            ruled = rule_actions.get(finding.detector)
            if ruled is not None:
                finding_action = ruled if finding.category == "policy_rule" else max(finding_action, ruled)
            if finding_action is Action.REDACT:
                to_redact.append(finding)
            if finding_action is not Action.ALLOW:
                rule_ids[finding.detector] = None
                action = max(action, finding_action)
        for rule in fired:
            rule_ids[rule.id] = None
            action = max(action, rule.action)
        located = self._rt.with_fingerprints(text, findings)
        if action is Action.ALLOW:
            return TextDecision(action, self.guard, text, located, duration_ns=_since(t0))
        if action is Action.REDACT:
            value = self._redactor.redact(text, to_redact, scope) if rewrite else text
            reason = f"{len(to_redact)} finding(s) redacted"
        else:
            value = ""
            reason = "content not permitted by policy" if action is Action.DENY else "content needs approval"
        return TextDecision(action, self.guard, value, located, tuple(rule_ids), reason, _since(t0))

    def _action_for(self, finding: Finding, roles: frozenset[str]) -> Action:
        policy = self._policy
        base = policy.detector_actions.get(finding.detector) or policy.actions[finding.severity]
        if not policy.roles or not roles:
            return base
        granted = [
            o.detector_actions.get(finding.detector) or o.actions.get(finding.severity)
            for role, o in policy.roles.items()
            if role in roles
        ]
        candidates = [a for a in granted if a is not None]
        return min(candidates) if candidates else base

    # -- structured values ------------------------------------------------------

    def evaluate_value(
        self, value: Any, *, source: str | None, session: Session | None, objects: bool = True, t0: int = 0
    ) -> tuple[TextDecision, Any]:
        """Decide about every string inside ``value``; return the decision and the value to pass on.

        Strings in lists, tuples, sets and mappings (keys and values) are
        scanned and, on a redact, rebuilt. Bytes and other objects are scanned
        through their text, but cannot be rebuilt: if they need redacting, the
        decision is a deny; with ``objects=False`` other objects are skipped.
        Finding offsets are relative to their string.
        """
        if type(value) is str:
            decision = self.evaluate(value, source=source, session=session, t0=t0)
            return decision, (decision.value if decision.allowed else None)
        limits = self._rt.policy.limits
        walker = _Walker(self, source, session, limits.max_depth, limits.max_items, objects)
        try:
            new_value = walker.walk(value, 0)
        except _TooLarge:
            finding = Finding(detector=STRUCTURE_TOO_LARGE, category="limits", severity=Severity.HIGH)
            denied = TextDecision(
                Action.DENY, self.guard, "", (finding,), (STRUCTURE_TOO_LARGE,), "value exceeds limits", _since(t0)
            )
            return denied, None
        if not walker.decisions:
            return TextDecision(Action.ALLOW, self.guard, "", duration_ns=_since(t0)), value
        decision = cast(TextDecision, combine(walker.decisions, value=""))
        if decision.action is Action.REDACT and walker.unredactable:
            finding = Finding(detector=UNREDACTABLE, category="limits", severity=Severity.HIGH)
            denied = TextDecision(
                Action.DENY,
                self.guard,
                "",
                (*decision.findings, finding),
                (*decision.rule_ids, UNREDACTABLE),
                "a value that needs redacting cannot be rebuilt",
                _since(t0),
            )
            return denied, None
        decision = replace(decision, duration_ns=_since(t0))
        if decision.action is Action.REDACT:
            return decision, new_value
        return decision, (value if decision.allowed else None)


def _shifted(finding: Finding, by: int) -> Finding:
    return replace(finding, start=cast(int, finding.start) - by, end=cast(int, finding.end) - by)


def _applies(rule: Rule, roles: frozenset[str], source: str | None) -> bool:
    if rule.roles and roles.isdisjoint(rule.roles):
        return False
    if rule.unless_roles and not roles.isdisjoint(rule.unless_roles):
        return False
    return not (rule.sources and source not in rule.sources)


class _TooLarge(Exception):
    pass


_SCALARS = frozenset({type(None), bool, int, float, complex})


class _Walker:
    __slots__ = (
        "_engine",
        "_items",
        "_max_depth",
        "_max_items",
        "_objects",
        "_session",
        "_source",
        "decisions",
        "unredactable",
    )

    def __init__(
        self,
        engine: TextEngine,
        source: str | None,
        session: Session | None,
        max_depth: int,
        max_items: int,
        objects: bool,
    ) -> None:
        self._objects = objects
        self._engine = engine
        self._source = source
        self._session = session
        self._max_depth = max_depth
        self._max_items = max_items
        self._items = 0
        self.decisions: list[TextDecision] = []
        self.unredactable = False

    def _text(self, text: str) -> str:
        self._items += 1
        if self._items > self._max_items:
            raise _TooLarge
        decision = self._engine.evaluate(text, source=self._source, session=self._session)
        if decision.findings or decision.action is not Action.ALLOW:
            self.decisions.append(decision)
        return decision.value if decision.action is not Action.ALLOW else text

    def walk(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if kind is str:
            return self._text(value)
        if kind in _SCALARS:
            return value
        if kind is tuple or kind is list:  # the common containers, without ABC checks
            if depth >= self._max_depth:
                raise _TooLarge
            items = [self.walk(v, depth + 1) for v in value]
            unchanged = all(a is b for a, b in zip(items, value, strict=True))
            return value if unchanged else kind(items)
        if kind is dict:
            if depth >= self._max_depth:
                raise _TooLarge
            if not value:
                return value
            pairs = [(self.walk(k, depth + 1), self.walk(v, depth + 1)) for k, v in value.items()]
            unchanged = all(k is k2 and v is v2 for (k, v), (k2, v2) in zip(value.items(), pairs, strict=True))
            return value if unchanged else _rebuild(value, dict(pairs), self)
        if isinstance(value, str):
            return self._text(value)
        if value is None or isinstance(value, (bool, int, float, complex)):
            return value
        container = isinstance(value, (Mapping, list, tuple, set, frozenset))
        if container and depth >= self._max_depth:
            raise _TooLarge
        if isinstance(value, Mapping):
            items = [(self.walk(k, depth + 1), self.walk(v, depth + 1)) for k, v in value.items()]
            return _rebuild(value, dict(items), self)
        if isinstance(value, (list, tuple, set, frozenset)):
            items_list = [self.walk(v, depth + 1) for v in value]
            return _rebuild(value, items_list, self)
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value).decode("utf-8", "replace")
        elif self._objects:
            text = str(value)
        else:
            return value
        if self._text(text) != text:
            self.unredactable = True
        return value


def _rebuild(original: Any, items: Any, walker: _Walker) -> Any:
    kind = type(original)
    try:
        if kind in (dict, list, tuple, set, frozenset):
            return kind(items)
        if isinstance(original, tuple) and hasattr(original, "_fields"):  # namedtuple
            return kind(*items)
        return kind(items)
    except Exception:
        walker.unredactable = True
        return original


class TextGuardBase:
    """Reporting and enforcement around a `TextEngine`; the base of PromptGuard and OutputScanner."""

    __slots__ = ("_engine", "_rt")

    def __init__(self, engine: TextEngine, runtime: Runtime) -> None:
        self._engine = engine
        self._rt = runtime

    def _run(
        self,
        text: Any,
        *,
        source: str | None,
        explicit: bool,
        attributes: dict[str, Any],
        origin: str | None = None,
    ) -> TextDecision:
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}; decode bytes and convert objects first")
        start = wall_clock_ns()
        session = current_session()
        t0 = _perf()
        try:
            decision = self._engine.evaluate(text, source=source, session=session, t0=t0, origin=origin)
        except Exception as exc:  # fail closed: any guard error becomes a decision
            decision = self._rt.failure(TextDecision, self._engine.guard, exc, text, "", _perf() - t0)
            return self._rt.finish(
                decision, start_time_ns=start, session=session, explicit=explicit, attributes=attributes, error=exc
            )
        return self._rt.finish(decision, start_time_ns=start, session=session, explicit=explicit, attributes=attributes)

    def _run_value(self, value: Any, *, source: str | None, attributes: dict[str, Any], objects: bool = True) -> Any:
        """Enforce on a structured value; return what may flow on (monitor mode: ``value`` unchanged)."""
        start = wall_clock_ns()
        session = current_session()
        t0 = _perf()
        try:
            decision, new_value = self._engine.evaluate_value(
                value, source=source, session=session, objects=objects, t0=t0
            )
        except Exception as exc:
            decision = self._rt.failure(TextDecision, self._engine.guard, exc, "", "", _perf() - t0)
            self._rt.finish(
                decision, start_time_ns=start, session=session, explicit=False, attributes=attributes, error=exc
            )
            return value
        self._rt.finish(decision, start_time_ns=start, session=session, explicit=False, attributes=attributes)
        return value if self._rt.monitor else new_value


def _since(t0: int) -> int:
    return _perf() - t0 if t0 else 0
