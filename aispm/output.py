"""`OutputScanner`: what leaves the model, whole or as a stream."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import replace
from time import perf_counter_ns
from typing import cast

from . import semconv
from ._runtime import Runtime, wall_clock_ns
from ._text import TextEngine, TextGuardBase
from .decisions import Action, TextDecision, combine
from .principals import Session, current_session

__all__ = ["OutputScanner", "StreamScan"]

HOLDBACK = 128
"""Characters held back at the end of a stream so a secret split across chunks is still caught."""

MAX_TOKEN = 2048
"""Longest whitespace-free run (a URL, a key) a stream holds back whole rather than cut."""

_BATCH = 64  # emit in batches of at least this many characters: fewer scans per stream


class OutputScanner(TextGuardBase):
    """Finds and redacts PII and secrets in what the model (or a function) returns.

    Get it as ``guard.output``. ``scan`` is the explicit tier and never raises;
    ``scan_stream`` enforces as it goes.
    """

    __slots__ = ()

    def scan(self, text: str) -> TextDecision:
        """Scan a complete response.

        Returns:
            The decision; ``decision.text`` is the redacted text (empty on a deny).

        Raises:
            TypeError: ``text`` is not a ``str``.
        """
        attributes = {semconv.TEXT_LENGTH: len(text) if isinstance(text, str) else 0}
        return self._run(text, source=None, explicit=True, attributes=attributes)

    async def ascan(self, text: str) -> TextDecision:
        """Async twin of `scan`."""
        return self.scan(text)

    def scan_stream(self, chunks: Iterable[str]) -> Iterator[str]:
        """Yield the redacted text of a stream of text chunks, as it flows.

        The last `HOLDBACK` characters are held until more text arrives, so a
        secret split across chunks is still caught. One decision (one span)
        covers the whole stream. In enforce mode a deny raises `aispm.Blocked`
        mid-stream; in monitor mode the chunks pass unchanged.

        Raises:
            Blocked: The policy denies the stream (enforce mode).
            TypeError: A chunk is not a ``str``.
        """
        scan = self.open_stream()
        for chunk in chunks:
            out = scan.feed(chunk)
            if out:
                yield out
        out = scan.close()
        if out:
            yield out

    async def ascan_stream(self, chunks: AsyncIterable[str]) -> AsyncIterator[str]:
        """Async twin of `scan_stream`."""
        scan = self.open_stream()
        async for chunk in chunks:
            out = scan.feed(chunk)
            if out:
                yield out
        out = scan.close()
        if out:
            yield out

    def restore(self, text: str) -> str:
        """Put the current session's vaulted values back in place of their pseudonyms.

        Only values redacted in ``vault`` mode (``redaction.mode`` or
        ``redaction.modes`` of the policy) can be restored, and only within the
        session they were redacted in: with no session, or for pseudonyms of
        other sessions, the text is returned unchanged. Restore in the very
        last step, for the session's own user: the restored text must not go
        back to the model, into tools, or into logs.

        Raises:
            TypeError: ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        vault = self._rt.vault
        session = current_session()
        if vault is None or session is None:
            return text
        return vault.restore(text, session.id)

    def open_stream(self) -> StreamScan:
        """Start scanning a stream by hand: ``feed`` each chunk, then ``close``."""
        return StreamScan(self._engine, self._rt, current_session())


class StreamScan:
    """The state of one scanned stream. Feed text chunks; emit what is safe to pass on."""

    __slots__ = (
        "_buffer",
        "_closed",
        "_consumed",
        "_context",
        "_decisions",
        "_elapsed",
        "_emitted",
        "_engine",
        "_failed",
        "_next_scan",
        "_pending",
        "_pending_len",
        "_rt",
        "_scope",
        "_session",
        "_start",
    )

    def __init__(self, engine: TextEngine, runtime: Runtime, session: Session | None) -> None:
        self._engine = engine
        self._rt = runtime
        self._session = session
        # Pseudonyms must agree across the windows of one stream: with no session, the
        # stream gets a private scope in the vault, dropped when the stream ends.
        self._scope = session.id if session is not None else f"\x00stream-{secrets.token_hex(8)}"
        self._buffer = ""  # scanned, held back
        self._pending: list[str] = []  # not yet scanned
        self._pending_len = 0
        self._next_scan = HOLDBACK + _BATCH  # scan when this much text is held
        self._consumed = 0  # characters of the stream before the buffer
        self._context = ""  # the last released characters (as received): read again, never decided again
        self._decisions: list[TextDecision] = []
        self._emitted: list[str] = []
        self._elapsed = 0
        self._start = wall_clock_ns()
        self._closed = False
        self._failed = False  # the guard failed open: the rest of the stream passes unscanned

    @property
    def passes_through(self) -> bool:
        """True in monitor mode: every chunk is passed on unchanged, as it arrives."""
        return self._rt.monitor

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that may be passed on now (possibly empty).

        Raises:
            Blocked: The policy denies the stream (enforce mode).
            TypeError: ``chunk`` is not a ``str``.
        """
        if not isinstance(chunk, str):
            raise TypeError(f"stream chunks must be str, got {type(chunk).__name__}")
        if self._closed:
            raise RuntimeError("stream already closed")
        if self._failed:
            return chunk
        # Chunks are joined only when scanned: appending to one growing string
        # would copy the held-back text on every chunk.
        self._pending.append(chunk)
        self._pending_len += len(chunk)
        due = len(self._buffer) + self._pending_len >= self._next_scan
        if self._rt.monitor:
            if due:
                self._release(final=False)
            return chunk
        return self._release(final=False) if due else ""

    def close(self) -> str:
        """End the stream: scan what is held back, report the one decision, return the last text.

        Raises:
            Blocked: The policy denies the stream (enforce mode).
        """
        if self._closed or self._failed:
            self._closed = True
            return ""
        out = self._release(final=True)
        self._closed = True
        if not self._failed:
            self._report()
        return "" if self._rt.monitor else out

    def _release(self, *, final: bool) -> str:
        t0 = perf_counter_ns()
        buffer = self._buffer + "".join(self._pending)
        context = self._context
        self._pending.clear()
        self._pending_len = 0
        try:
            if final:
                cut = len(buffer)
            else:
                # Cut at whitespace: a token split at the cut (a URL whose data has not all
                # arrived, a key) would be scanned in two halves that each look harmless.
                cut = _token_start(buffer, len(buffer) - HOLDBACK)
                whole = self._engine.evaluate(
                    context + buffer, source=None, session=self._session, rewrite=False, context=len(context)
                )
                for f in whole.findings:  # never cut through something found
                    if f.start is not None and f.end is not None and f.start < cut < f.end:
                        cut = f.start
            decision = self._engine.evaluate(
                context + buffer[:cut], source=None, session=self._session, scope=self._scope, context=len(context)
            )
        except Exception as exc:  # fail closed (raises), or open: pass the text on unscanned
            self._elapsed += perf_counter_ns() - t0
            self._fail(exc)
            self._buffer = ""
            self._consumed += len(buffer)
            return buffer
        self._elapsed += perf_counter_ns() - t0
        if decision.findings or decision.action is not Action.ALLOW:
            shift = self._consumed
            findings = tuple(
                replace(f, start=f.start + shift, end=cast(int, f.end) + shift) if f.start is not None else f
                for f in decision.findings
            )
            self._decisions.append(replace(decision, findings=findings))
        self._buffer = buffer[cut:]
        self._consumed += cut
        self._context = (context + buffer[:cut])[-HOLDBACK:]
        # When nothing could be released (a match still open at the end, such as a
        # private key whose END line has not arrived), wait until the held text has
        # doubled before scanning it again: the total work stays linear in the stream.
        # The hold is bounded: past limits.max_text_chars the scan denies the stream.
        held = len(self._buffer)
        self._next_scan = max(HOLDBACK + _BATCH, 2 * held if cut < _BATCH else held + _BATCH)
        if not decision.allowed and not self._rt.monitor:
            self._closed = True
            self._report()  # raises Blocked
        self._emitted.append(decision.value)
        return decision.value

    def _fail(self, exc: Exception) -> None:
        failed = self._rt.failure(TextDecision, self._engine.guard, exc, "", "", 0)
        self._decisions.append(failed)
        self._failed = True
        self._report(error=exc)

    def _report(self, error: BaseException | None = None) -> None:
        if self._session is None and self._rt.vault is not None:
            self._rt.vault.forget(self._scope)  # the stream's private pseudonyms end with it
        if self._decisions:
            decision = cast(TextDecision, combine(self._decisions, value="".join(self._emitted)))
        else:
            decision = TextDecision(Action.ALLOW, self._engine.guard, "".join(self._emitted))
        decision = replace(decision, duration_ns=self._elapsed)
        self._rt.finish(
            decision,
            start_time_ns=self._start,
            session=self._session,
            explicit=False,
            attributes={semconv.STREAM: True, semconv.TEXT_LENGTH: self._consumed + len(self._buffer)},
            error=error,
        )


def _token_start(text: str, cut: int) -> int:
    """The start of the whitespace-free run holding ``text[cut]``: ``cut`` moved back to a boundary.

    Looks back at most `MAX_TOKEN` characters (``rfind``, in C). A run that reaches the start
    of the held text is held whole (it may still grow); a longer run is cut anyway.
    """
    if cut <= 0 or text[cut - 1].isspace() or text[cut].isspace():
        return max(cut, 0)
    lo = max(0, cut - MAX_TOKEN)
    best = -1
    for ch in " \n\t\r":
        best = max(best, text.rfind(ch, lo, cut))
    if best >= 0:
        return best + 1
    return 0 if lo == 0 else cut
