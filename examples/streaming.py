"""Stream an answer through the output scanner, with a secret split across chunks.

A fake model streams its answer token by token from an async generator. Its
answer contains an AWS access key id and an e-mail address, each split across
two chunks. ``@guard.protect`` scans the stream as it flows: it holds back
the last ``HOLDBACK`` characters, so neither secret is released before it is
complete, and both are redacted. One span covers the whole stream.

Offline, no keys. Run it from a checkout::

    python -m pip install -e ".[testing]"
    python examples/streaming.py
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aispm
from aispm.testing import capture_spans

MODEL_CHUNKS = (
    "Sure. The export signs in with the access key AKIAIOSF",
    "ODNN7EXAMPLE, which is stored in the vault. ",
    "If it needs rotating, write to ops-te",
    "am@example.com and mention the nightly billing export. ",
    "Rotation takes about ten minutes and needs no downtime.",
)


async def fake_model_stream(prompt: str) -> AsyncIterator[str]:
    """Stand-in for a streaming chat model."""
    for chunk in MODEL_CHUNKS:
        await asyncio.sleep(0)  # let other tasks run, as a real network stream would
        yield chunk


def make_agent(guard: aispm.Guard) -> Callable[[str], AsyncIterator[str]]:
    """Build a streaming agent: an async generator under ``@guard.protect``."""

    @guard.protect
    async def stream_answer(question: str) -> AsyncIterator[str]:
        async for chunk in fake_model_stream(question):
            yield chunk

    return stream_answer


async def ask(guard: aispm.Guard, question: str) -> list[str]:
    """Consume the guarded stream as a chat UI would, chunk by chunk."""
    received: list[str] = []
    with guard.session(user="alice", agent="billing-bot"):
        async for chunk in make_agent(guard)(question):
            received.append(chunk)
    return received


def main() -> None:
    """Stream one answer through the guard and show what the caller received."""
    with capture_spans() as capture:
        guard = aispm.Guard(tracer_provider=capture.tracer_provider)
        received = asyncio.run(ask(guard, "Which key does the billing export use?"))

        print(f"The model yielded {len(MODEL_CHUNKS)} chunks; the caller received {len(received)}:")
        for chunk in received:
            print(f"  {chunk!r}")
        answer = "".join(received)
        assert "AKIAIOSFODNN7EXAMPLE" not in answer
        assert "team@example.com" not in answer

        [span] = [span for span in capture.finished_spans() if span.name == "aispm.output"]
        attributes = dict(span.attributes or {})
        print(
            f"One {span.name} span for the stream: action={attributes['aispm.decision.action']}, "
            f"stream={attributes['aispm.stream']}, rules={attributes['aispm.decision.rule_ids']}"
        )


if __name__ == "__main__":
    main()
