"""The responses `GuardedLLM` rewrites and the streams it scans: redacted copies, scanned streams.

A rewritten message or response is a copy (the inner model's objects are never changed): its
text blocks become one block of the decided text, and a response's log-probabilities (of the
raw text) are dropped. A stream passes through `_Stream`, which scans each response's new text
and passes each response on one step late, carrying only released text; `_scanned` and
`_ascanned` drive it and run each step of the inner model as guarded. See
`aispm_llamaindex.llm`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any, TypeVar

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse, TextBlock

import aispm
from aispm.output import StreamScan

from ._scope import aguarded_steps, guarded_steps

_R = TypeVar("_R", ChatResponse, CompletionResponse)


# --- messages and responses ----------------------------------------------------------------------


def _with_text(message: ChatMessage, text: str) -> ChatMessage:
    """A copy of ``message`` whose text blocks are one block of ``text``, where the first one was."""
    blocks: list[Any] = []
    placed = False
    for block in message.blocks:
        if not isinstance(block, TextBlock):
            blocks.append(block)
        elif not placed:
            blocks.append(TextBlock(text=text))
            placed = True
    if not placed and text:
        blocks.insert(0, TextBlock(text=text))
    return message.model_copy(update={"blocks": blocks})


def _text_of(response: ChatResponse | CompletionResponse) -> str:
    return (response.message.content or "") if isinstance(response, ChatResponse) else response.text


def _rebuilt(response: _R, delta: str | None, text: str) -> _R:
    """A copy of ``response`` carrying ``text`` (and ``delta``); its log-probabilities (of the raw text) dropped."""
    update: dict[str, Any] = {"delta": delta, "logprobs": None}
    if isinstance(response, ChatResponse):
        update["message"] = _with_text(response.message, text)
    else:
        update["text"] = text
    return response.model_copy(update=update)


def _has_payload(response: ChatResponse | CompletionResponse) -> bool:
    """Whether a streamed response carries more than text (tool-call blocks, kwargs)."""
    if response.additional_kwargs or isinstance(response, CompletionResponse):
        return bool(response.additional_kwargs)
    message = response.message
    return bool(message.additional_kwargs) or any(not isinstance(b, TextBlock) for b in message.blocks)


# --- streams --------------------------------------------------------------------------------------


class _Stream:
    """One scanned stream: each response passes on one step late, carrying the text released for it.

    Holding the previous response back lets the tail the scanner releases at the end ride on
    the inner model's own last response (its tool-call blocks and kwargs), which agents read.
    """

    __slots__ = ("_pending", "_released", "_scan", "_seen", "_text")

    def __init__(self, guard: aispm.Guard) -> None:
        self._scan: StreamScan = guard.output.open_stream()  # opened in the caller's session
        self._pending: Any = None
        self._text = ""  # released for the pending response
        self._released = ""  # released with the responses passed on
        self._seen = ""  # received from the model

    def feed(self, response: _R) -> list[_R]:
        """Scan a response; return the responses that may pass on now."""
        released = self._scan.feed(self._delta(response))
        if self._scan.passes_through:  # monitor mode: every response, unchanged, at once
            return [response]
        out: list[_R] = self._flush(final=False)
        self._pending, self._text = response, released
        return out

    def close(self) -> list[Any]:
        """End the stream (reporting its one decision); return the last response."""
        rest = self._scan.close()
        if self._scan.passes_through:
            return []
        self._text += rest
        return self._flush(final=True)

    def abandon(self) -> None:
        """Report what was scanned when the consumer stopped early or the model failed."""
        with contextlib.suppress(aispm.Blocked):
            self._scan.close()

    def _delta(self, response: ChatResponse | CompletionResponse) -> str:
        """The new text of a response: its ``delta``, else what its cumulative text adds."""
        delta = response.delta
        if delta is None:
            whole = _text_of(response)
            delta = whole[len(self._seen) :] if whole.startswith(self._seen) else whole
        self._seen += delta
        return delta

    def _flush(self, *, final: bool) -> list[Any]:
        pending, text = self._pending, self._text
        self._pending, self._text = None, ""
        if pending is None or not (text or final or _has_payload(pending)):
            return []
        self._released += text
        return [_rebuilt(pending, text, self._released)]


def _scanned(stream: _Stream, responses: Iterator[_R]) -> Generator[_R, None, None]:
    """Yield ``responses`` through ``stream``; each step of the inner model runs as guarded."""
    try:
        with contextlib.closing(guarded_steps(responses)) as steps:
            for response in steps:
                yield from stream.feed(response)
        yield from stream.close()
    finally:
        stream.abandon()


async def _ascanned(stream: _Stream, responses: AsyncIterator[_R]) -> AsyncGenerator[_R, None]:
    """Async twin of `_scanned`."""
    try:
        async with contextlib.aclosing(aguarded_steps(responses)) as steps:
            async for response in steps:
                for out in stream.feed(response):
                    yield out
        for out in stream.close():
            yield out
    finally:
        stream.abandon()
