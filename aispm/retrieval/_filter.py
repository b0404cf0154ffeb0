"""`RetrievalFilter`: what the model may know."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from time import perf_counter_ns as _perf
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import semconv
from .._redact import Redactor
from .._retrieval_policy import RetrievalPolicy
from .._runtime import Runtime, wall_clock_ns
from ..decisions import Action, Dropped, Finding, RetrievalDecision
from ..detectors import Detector, ScanText
from ..principals import Session, current_session
from ._access import MALFORMED, NOT_AUTHORIZED, Access, DocumentAuthorizer, DocumentRef, access_for
from ._documents import DocumentView, view, with_text
from ._prefilter import AccessFilter, access_filter
from ._spotlight import instructions, quarantine_block, spotlight

if TYPE_CHECKING:
    from .._text import TextEngine

__all__ = ["RetrievalFilter"]

_new = tuple.__new__

QUARANTINED = "retrieval.quarantined"
REDACTED = "retrieval.redacted"
UNREDACTABLE = "retrieval.unredactable"


class _LeftOut(NamedTuple):
    """A kept document left out after all, once its text was read: the rule that says so."""

    rule_id: str


class RetrievalFilter:
    """Filters retrieved documents before they reach the model.

    Get it as ``guard.retrieval``. For the current session's chain it drops the documents
    the chain may not read (every `DocumentAuthorizer` must admit a document: the built-in
    metadata model first, then any given to the `Guard`), quarantines those whose text the
    prompt guard flags as instructions (judged as untrusted ``retrieval`` text; the session
    is then tainted, which the tool authorizer honours), redacts PII and secrets the chain
    may not see in the rest, and can mark what it keeps as data (spotlighting).

    ``filter`` is the explicit tier: it returns the decision and never raises on what it
    finds; pass ``decision.documents`` on. In monitor mode ``documents`` is the input,
    unchanged, and the decision says what enforcement would have done.
    """

    __slots__ = ("_authorizers", "_last", "_levels", "_policy", "_prompt", "_redactor", "_reveal", "_rt", "_scanners")

    def __init__(
        self,
        runtime: Runtime,
        policy: RetrievalPolicy,
        prompt: TextEngine,
        authorizers: Sequence[DocumentAuthorizer],
        redactor: Redactor,
    ) -> None:
        self._rt = runtime
        self._policy = policy
        self._prompt = prompt
        self._authorizers = tuple(authorizers)
        self._redactor = redactor
        self._scanners: tuple[Detector, ...] = tuple(runtime.detectors[d] for d in policy.detectors)
        self._levels = {label: rank for rank, label in enumerate(policy.labels)}
        # Per detector id or category: the lowest clearance rank that sees it unredacted (None: never).
        self._reveal = {key: None if level is None else self._levels[level] for key, level in policy.reveal.items()}
        self._last: tuple[Session | None, Access] = (None, access_for(None, policy))

    def access(self) -> Access:
        """The current session's effective read rights (what `filter` applies)."""
        return access_for(current_session(), self._policy)

    def prefilter(self) -> AccessFilter:
        """The metadata filter for the vector-store query, for the current session.

        Pass ``.to_llamaindex()`` (or ``.to_llamaindex_flat()``) or ``.to_dict()`` to the
        store so that documents the chain may not read never leave it; `filter` still checks
        what comes back.
        """
        return access_filter(self.access(), self._policy)

    def instructions(self) -> str:
        """A paragraph for the system prompt saying how kept documents are marked; ``""`` when spotlighting is off."""
        mode = self._policy.spotlight.mode
        return "" if mode == "off" else instructions(mode, self._policy.spotlight.marker)

    def filter(self, documents: Iterable[Any], *, origin: str | None = None) -> RetrievalDecision:
        """Decide which of ``documents`` may reach the model, and in what form.

        Args:
            documents: LangChain ``Document``s, LlamaIndex nodes or ``NodeWithScore``s, dicts,
                strings or objects with a text attribute and ``metadata`` (see docs/retrieval.md).
            origin: Name of the retriever or store they came from; in spans and in the taint.

        Returns:
            The decision; ``decision.documents`` holds what may be passed on, in the input's
            order and types (rewritten documents are new objects; the inputs are never changed).

        Raises:
            TypeError: ``documents`` is a single document or text rather than a collection, or
                holds an object of a type the filter cannot read.
        """
        call = self._begin(documents, origin)
        try:
            for authorizer in self._authorizers:
                pending = call.pending()
                if not pending:
                    break
                call.apply(pending, authorizer.authorize(call.access, call.refs_of(pending)))
            decision = self._decide(call)
        except Exception as exc:  # fail closed: any error in the filter becomes a decision
            return self._failed(exc, call)
        return self._report(decision, call)

    async def afilter(self, documents: Iterable[Any], *, origin: str | None = None) -> RetrievalDecision:
        """Async twin of `filter`: authorizers are asked with ``aauthorize``."""
        call = self._begin(documents, origin)
        try:
            for authorizer in self._authorizers:
                pending = call.pending()
                if not pending:
                    break
                call.apply(pending, await authorizer.aauthorize(call.access, call.refs_of(pending)))
            decision = self._decide(call)
        except Exception as exc:
            return self._failed(exc, call)
        return self._report(decision, call)

    def _begin(self, documents: Iterable[Any], origin: str | None) -> _Call:
        if isinstance(documents, (str, bytes, Mapping)) or not isinstance(documents, Iterable):
            raise TypeError(
                f"filter() takes a collection of documents, got {type(documents).__name__}; wrap one document in a list"
            )
        if origin is not None and not isinstance(origin, str):
            raise TypeError(f"origin must be a str or None, got {type(origin).__name__}")
        docs = list(documents)
        views = [view(doc) for doc in docs]
        session = current_session()
        policy = self._policy
        last = self._last  # the rights of the last session asked about: a session is immutable
        if last[0] is not session:
            last = self._last = (session, access_for(session, policy))
        call = _Call(docs, views, self._refs(views), session, last[1], origin)
        if not policy.enabled:  # nothing is checked: no authorizer is asked
            call.verdicts = [None] * len(docs)
            call.asking = False
        return call

    def _refs(self, views: list[DocumentView]) -> list[DocumentRef]:
        """What authorizers see: each document's id (the metadata id field first) and metadata."""
        key = self._policy.fields.id
        refs = []
        for v in views:
            meta = v.metadata
            found = meta.get(key) if meta is not None else None
            ident = found if type(found) is str else str(found) if type(found) is int else v.id
            refs.append(_new(DocumentRef, (ident, meta)))  # a named tuple without its Python-level __new__
        return refs

    # -- inside the kept documents -------------------------------------------------

    def _decide(self, call: _Call) -> RetrievalDecision:
        policy = self._policy
        docs, refs, verdicts = call.docs, call.refs, call.verdicts
        dropped = [_new(Dropped, (i, refs[i][0], v)) for i, v in enumerate(verdicts) if v is not None]
        kept = [i for i, v in enumerate(verdicts) if v is None]
        findings: list[Finding] = []
        redacted: list[int] = []
        quarantined: list[int] = []
        mode = policy.spotlight.mode
        if not (policy.enabled and (policy.scan or policy.redact or mode != "off")):
            out = [docs[i] for i in kept]
        else:
            out = []
            for i in kept:
                doc = self._rewritten(call, i, findings, redacted, quarantined)
                if isinstance(doc, _LeftOut):
                    dropped.append(_new(Dropped, (i, refs[i][0], doc.rule_id)))
                else:
                    out.append(doc)
            dropped.sort()
        rule_ids = dict.fromkeys(sorted({d.rule_id for d in dropped}))
        if redacted:
            rule_ids[REDACTED] = None
        changed = bool(dropped or redacted or quarantined)
        reason = f"{len(dropped)} of {len(docs)} document(s) left out, {len(redacted)} redacted" if changed else ""
        return RetrievalDecision(
            Action.REDACT if changed else Action.ALLOW,
            "retrieval",
            list(docs) if self._rt.monitor else out,
            tuple(findings),
            tuple(rule_ids),
            reason,
            _perf() - call.t0,
            dropped=tuple(dropped),
            redacted=tuple(redacted),
            quarantined=tuple(quarantined),
        )

    def _rewritten(
        self, call: _Call, i: int, findings: list[Finding], redacted: list[int], quarantined: list[int]
    ) -> Any:
        """Document ``i`` as it may reach the model: scanned, redacted, marked; or the rule that leaves it out."""
        policy = self._policy
        doc, v, ident, session = call.docs[i], call.views[i], call.refs[i][0], call.session
        text, flagged = v.text, False
        if policy.scan:
            judged = self._prompt.evaluate(text, source="retrieval", session=session, origin=call.origin, rewrite=False)
            if not judged.allowed:
                quarantined.append(i)
                findings.extend(judged.findings)
                if policy.quarantine == "drop":
                    return _LeftOut(QUARANTINED)
                flagged = True
        if policy.redact and self._scanners:
            hidden = self._hidden(ScanText(text), call.access.clearance)
            if hidden:
                findings.extend(self._rt.with_fingerprints(text, hidden))
                text = self._redactor.redact(text, hidden, session.id if session is not None else None)
                redacted.append(i)
        if flagged:
            text = quarantine_block(text)
        elif policy.spotlight.mode != "off":
            text = spotlight(text, mode=policy.spotlight.mode, marker=policy.spotlight.marker, id=ident)
        if text is v.text:
            return doc
        try:
            return with_text(doc, text)
        except TypeError:  # cannot be rewritten: it must not reach the model as it is
            return _LeftOut(UNREDACTABLE)

    def _hidden(self, scan: ScanText, clearance: str) -> list[Finding]:
        """The findings in a kept document the chain may not see (``reveal`` by detector id, then category)."""
        rank = self._levels[clearance]
        reveal = self._reveal
        hidden: list[Finding] = []
        for detector in self._scanners:
            for finding in detector.detect(scan):
                if finding.start is None:
                    continue  # nothing to cut out
                floor = reveal.get(finding.detector, reveal.get(finding.category))
                if floor is None or rank < floor:
                    hidden.append(finding)
        return hidden

    # -- reporting ---------------------------------------------------------------

    def _report(self, decision: RetrievalDecision, call: _Call) -> RetrievalDecision:
        attributes = call.attributes()
        attributes[semconv.RETRIEVAL_KEPT] = len(call.docs) - len(decision.dropped)
        attributes[semconv.RETRIEVAL_CLEARANCE] = call.access.clearance
        if decision.dropped:
            attributes[semconv.RETRIEVAL_DROPPED_RULES] = tuple(sorted({d.rule_id for d in decision.dropped}))
        if decision.redacted:
            attributes[semconv.RETRIEVAL_REDACTED] = len(decision.redacted)
        if decision.quarantined:
            attributes[semconv.RETRIEVAL_QUARANTINED] = len(decision.quarantined)
        return self._rt.finish(
            decision, start_time_ns=call.start, session=call.session, explicit=True, attributes=attributes
        )

    def _failed(self, exc: Exception, call: _Call) -> RetrievalDecision:
        decision = self._rt.failure(RetrievalDecision, "retrieval", exc, list(call.docs), [], _perf() - call.t0)
        return self._rt.finish(
            decision,
            start_time_ns=call.start,
            session=call.session,
            explicit=True,
            attributes=call.attributes(),
            error=exc,
        )


class _Call:
    """One filter call's state: the documents, what authorizers have said so far, who is asking."""

    __slots__ = ("access", "asking", "docs", "origin", "refs", "session", "start", "t0", "verdicts", "views")

    def __init__(
        self,
        docs: list[Any],
        views: list[DocumentView],
        refs: list[DocumentRef],
        session: Session | None,
        access: Access,
        origin: str | None,
    ) -> None:
        self.start, self.t0 = wall_clock_ns(), _perf()
        self.docs, self.views, self.refs = docs, views, refs
        self.session, self.access, self.origin = session, access, origin
        # Metadata that is present but not a mapping is malformed before any authorizer is asked.
        self.verdicts: list[str | None] = [MALFORMED if v.malformed else None for v in views]
        self.asking = True

    def pending(self) -> list[int]:
        """Positions of the documents no authorizer has refused yet (none when the filter is off)."""
        return [i for i, v in enumerate(self.verdicts) if v is None] if self.asking else []

    def refs_of(self, pending: list[int]) -> list[DocumentRef]:
        return self.refs if len(pending) == len(self.refs) else [self.refs[i] for i in pending]

    def apply(self, pending: list[int], answers: Sequence[str | None]) -> None:
        """Record an authorizer's answers for ``pending``; one that loses track of documents cannot be trusted."""
        if not isinstance(answers, Sequence) or len(answers) != len(pending):
            count = len(answers) if isinstance(answers, Sequence) else "no list"
            raise RuntimeError(f"a document authorizer answered for {count} of {len(pending)} documents")
        verdicts = self.verdicts
        for i, answer in zip(pending, answers, strict=True):
            if answer is not None:
                verdicts[i] = answer if isinstance(answer, str) and answer else NOT_AUTHORIZED

    def attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {semconv.RETRIEVAL_DOCUMENTS: len(self.docs)}
        if self.origin is not None:
            attributes[semconv.RETRIEVAL_ORIGIN] = self.origin
            attributes[semconv.GEN_AI_DATA_SOURCE_ID] = self.origin
        return attributes
