"""Scanned answer streams of the guarded engines: only text the output scanner released reaches the caller.

`Scan` is one stream's scan (what came in, what was released); `scanned_stream` and
`ascanned_stream` yield the scanned text of an inner stream, each step of it run as guarded;
`ScannedChatResponse` is the `StreamingAgentChatResponse` a `GuardedChatEngine` returns for a
streamed chat answer. One decision (one span) covers a stream; a stream the consumer stops
early, or that fails, still reports what was scanned.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator

from llama_index.core.chat_engine.types import StreamingAgentChatResponse

import aispm

from ._scope import aguarded_steps, guarded_steps

__all__ = ["Scan", "ScannedChatResponse", "ascanned_stream", "scanned_stream"]


class Scan:
    """One scanned stream: what came in, and what the output scanner released."""

    __slots__ = ("_scan", "raw", "released")

    def __init__(self, guard: aispm.Guard) -> None:
        self._scan = guard.output.open_stream()
        self.raw: list[str] = []
        self.released: list[str] = []

    def feed(self, chunk: str) -> str | None:
        """Scan a chunk; the text to pass on now, or ``None``."""
        self.raw.append(chunk)
        out = self._scan.feed(chunk)
        if out or self._scan.passes_through:  # monitor mode: every chunk, as it came
            self.released.append(out)
            return out
        return None

    def close(self) -> str | None:
        """End the stream (reporting its decision); the last text to pass on, or ``None``."""
        tail = self._scan.close()
        if tail:
            self.released.append(tail)
            return tail
        return None

    def abandon(self) -> None:
        """Report what was scanned when the consumer stopped early or the stream failed."""
        with contextlib.suppress(aispm.Blocked):
            self._scan.close()


def scanned_stream(scan: Scan, chunks: Iterator[str]) -> Generator[str, None, None]:
    """Yield the scanned text of ``chunks``; each step of the inner stream runs as guarded."""
    try:
        with contextlib.closing(guarded_steps(chunks)) as steps:
            for chunk in steps:
                out = scan.feed(chunk)
                if out is not None:
                    yield out
        tail = scan.close()
        if tail is not None:
            yield tail
    finally:
        scan.abandon()


async def ascanned_stream(scan: Scan, chunks: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    """Async twin of `scanned_stream`."""
    try:
        async with contextlib.aclosing(aguarded_steps(chunks)) as steps:
            async for chunk in steps:
                out = scan.feed(chunk)
                if out is not None:
                    yield out
        tail = scan.close()
        if tail is not None:
            yield tail
    finally:
        scan.abandon()


class ScannedChatResponse(StreamingAgentChatResponse):
    """A chat stream that hands the consumer only scanned text.

    The inner engine fills its own response from a thread or a task; this one reads it through
    the inner response's own generators (which wait for the writer and surface its errors),
    scans each delta, and yields what the scanner releases. ``response`` is the scanned text
    once the stream has been read to its end; in enforce mode, ``record(raw, shown)`` is then
    told how the answer was shown (for the chat engine's ``chat_history``).
    """

    def __init__(
        self, guard: aispm.Guard, record: Callable[[str, str], None], inner: StreamingAgentChatResponse
    ) -> None:
        super().__init__(sources=inner.sources, source_nodes=inner.source_nodes, is_writing_to_memory=False)
        self._guard = guard
        self._record = record
        self._inner = inner
        self._scan = Scan(guard)  # opened now: the scan keeps the caller's session
        self._started = False

    def __str__(self) -> str:
        return self.response

    @property
    def response_gen(self) -> Generator[str, None, None]:
        """The scanned deltas of the answer (read it once; later reads yield the final text)."""
        return self._deltas()

    async def async_response_gen(self) -> AsyncGenerator[str, None]:
        """Async twin of `response_gen`, for ``astream_chat``."""
        if self._started:
            yield self.response
            return
        self._started = True
        async for delta in ascanned_stream(self._scan, self._inner.async_response_gen()):
            yield delta
        self._finish()

    def _deltas(self) -> Generator[str, None, None]:
        if self._started:
            yield self.response
            return
        self._started = True
        yield from scanned_stream(self._scan, self._inner.response_gen)
        self._finish()

    def _finish(self) -> None:
        self.unformatted_response = "".join(self._scan.released)
        self.response = self.unformatted_response.strip()
        self.is_done = True
        if self._guard.mode == "enforce":
            self._record("".join(self._scan.raw), self.response)
