"""The output side of the LCEL guards: the text of an answer, and scanned streams of its chunks.

`text_of` and `with_text` read and replace the text of an answer (a message or a ``str``;
non-text content blocks are kept). `ChunkStream` scans one stream of chunks, passing each on
one step late with only the text the output scanner released; `AgentStreams` keeps one such
stream per AI message of an agent's ``messages`` stream. Used by `aispm_langchain.runnables`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, BaseMessageChunk
from langchain_core.runnables import RunnableConfig

import aispm
from aispm.output import StreamScan

from ._config import session_from_config

__all__ = ["AgentStreams", "ChunkStream", "text_of", "with_text"]


def text_of(value: Any) -> str:
    """The text to scan in an answer (a message's text content, or a ``str``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return _content_text(value.content)
    raise TypeError(f"cannot scan an output of type {type(value).__name__}")


def _content_text(content: str | list[str | dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    parts = [b if isinstance(b, str) else b.get("text", "") for b in content if isinstance(b, str) or _is_text(b)]
    return "".join(p for p in parts if isinstance(p, str))


def _is_text(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)


def with_text(value: Any, text: str | None) -> Any:
    """``value`` with its text replaced by ``text`` (``None``: unchanged); other content blocks kept."""
    if text is None:
        return value
    if isinstance(value, str):
        return text
    message: BaseMessage = value
    if isinstance(message.content, str):
        return message.model_copy(update={"content": text})
    rest = [b for b in message.content if not (isinstance(b, str) or _is_text(b))]
    return message.model_copy(update={"content": ([text] if text else []) + rest})


def _has_payload(chunk: Any) -> bool:
    """Whether a chunk carries more than text (tool-call chunks, metadata, usage, the stream's end)."""
    if not isinstance(chunk, BaseMessage):
        return False
    if isinstance(chunk.content, list) and any(not (isinstance(b, str) or _is_text(b)) for b in chunk.content):
        return True
    return bool(
        chunk.additional_kwargs
        or chunk.response_metadata
        or getattr(chunk, "tool_call_chunks", None)
        or getattr(chunk, "tool_calls", None)
        or getattr(chunk, "usage_metadata", None)
        or getattr(chunk, "chunk_position", None)
    )


class ChunkStream:
    """One scanned stream of chunks: each chunk is passed on one step late, carrying the text released so far.

    Keeping the previous chunk back lets the tail the scanner releases at the end ride on the
    stream's own last chunk, with its metadata, instead of on a made-up one.
    """

    __slots__ = ("_pending", "_scan", "_text")

    def __init__(self, guard: aispm.Guard, config: Mapping[str, Any] | None) -> None:
        with session_from_config(guard, config):  # the scan keeps the session it opened in
            self._scan: StreamScan = guard.output.open_stream()
        self._pending: Any = None
        self._text = ""

    def feed(self, chunk: Any) -> Iterator[Any]:
        """Scan a chunk; return the chunks that may pass on now."""
        released = self._scan.feed(text_of(chunk))
        out = self._flush()
        self._pending, self._text = chunk, released
        return out

    def close(self) -> Iterator[Any]:
        """End the stream (reporting its one decision); return the last chunk."""
        self._text += self._scan.close()
        return self._flush()

    def abandon(self) -> None:
        """Report what was scanned when the consumer stopped early or the stream failed."""
        with contextlib.suppress(aispm.Blocked):
            self._scan.close()

    def _flush(self) -> Iterator[Any]:
        pending, text = self._pending, self._text
        self._pending, self._text = None, ""
        if pending is None:
            return iter(())
        if self._scan.passes_through:  # monitor mode: every chunk, unchanged
            return iter([pending])
        return iter([with_text(pending, text)] if text or _has_payload(pending) else [])


class AgentStreams:
    """The scanned streams of an agent's ``messages`` output: one per AI message id."""

    __slots__ = ("_config", "_guard", "_modes", "_streams")

    def __init__(self, guard: aispm.Guard, config: RunnableConfig | None, stream_mode: str | Sequence[str]) -> None:
        self._guard = guard
        self._config = config
        self._modes = isinstance(stream_mode, list | tuple)  # items are (mode, payload)
        self._streams: dict[str | None, tuple[ChunkStream, Any]] = {}

    def feed(self, item: Any) -> Iterator[Any]:
        """Scan one item of the agent's stream; return the items that may pass on now."""
        mode, payload = item if self._modes else ("messages", item)
        if mode != "messages":
            return iter([item])
        message, metadata = payload
        if not isinstance(message, AIMessage):  # AIMessageChunk included
            return iter([item])
        wrap: Callable[[Any], Any] = (lambda p: ("messages", p)) if self._modes else (lambda p: p)
        key = message.id
        if key not in self._streams:
            self._streams[key] = (ChunkStream(self._guard, self._config), metadata)
        stream, _ = self._streams[key]
        out = [wrap((chunk, metadata)) for chunk in stream.feed(message)]
        if not isinstance(message, BaseMessageChunk) or getattr(message, "chunk_position", None) == "last":
            del self._streams[key]  # a whole message, or the model's last chunk: the stream ends here
            out += [wrap((chunk, metadata)) for chunk in stream.close()]
        return iter(out)

    def close(self) -> Iterator[Any]:
        """End every open stream; return their last chunks."""
        out: list[Any] = []
        while self._streams:
            _, (stream, metadata) = self._streams.popitem()
            chunks = [(chunk, metadata) for chunk in stream.close()]
            out += [("messages", c) for c in chunks] if self._modes else chunks
        return iter(out)

    def abandon(self) -> None:
        """Report the streams left open when the consumer stopped early or the agent failed."""
        for stream, _ in self._streams.values():
            stream.abandon()
        self._streams.clear()
