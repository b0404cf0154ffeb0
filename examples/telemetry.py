"""See every guard decision as an OpenTelemetry span.

This configures an OpenTelemetry SDK ``TracerProvider`` with an in-memory
exporter and passes it to the guard explicitly (``tracer_provider=...``), so
nothing global is touched. It runs one agent turn under a span of its own,
and prints the span tree: the guard's decisions are children of the turn,
each finding is a span event, and no caught secret appears anywhere in them.
With ``--console`` it also prints every span as JSON with the SDK's console
exporter.

Offline, no keys. Run it from a checkout::

    python -m pip install -e ".[otel]"
    python examples/telemetry.py [--console]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aispm

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def make_provider(*, console: bool) -> tuple[TracerProvider, InMemorySpanExporter]:
    """An SDK tracer provider that keeps finished spans in memory (and prints them, with ``console``)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    return provider, exporter


def run_turn(guard: aispm.Guard, provider: TracerProvider) -> None:
    """One agent turn: check the prompt, authorise a tool, scan the answer."""
    tracer = provider.get_tracer("examples.telemetry")
    guard.tools.register("lookup_key", risk="read")
    with (
        tracer.start_as_current_span("agent.turn"),
        guard.session(user="alice", roles=["analyst"], agent="support-bot"),
    ):
        guard.prompt.check("Which key does the nightly export use?")
        guard.tools.authorize("lookup_key", {"job": "nightly-export"})
        guard.output.scan(f"It uses {AWS_KEY_ID}.")


def print_tree(spans: Sequence[ReadableSpan]) -> None:
    """Print spans as a tree, with their aispm attributes and finding events."""
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent, []).append(span)

    def show(span: ReadableSpan, depth: int) -> None:
        indent = "  " * depth
        print(f"{indent}{span.name}")
        for key, value in sorted((span.attributes or {}).items()):
            print(f"{indent}    {key} = {value!r}")
        for event in span.events:
            attributes = dict(event.attributes or {})
            print(f"{indent}    event {event.name}: {attributes}")
        context = span.get_span_context()
        for child in children.get(context.span_id if context is not None else None, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


def main() -> None:
    """Run one turn and print its spans."""
    provider, exporter = make_provider(console="--console" in sys.argv[1:])
    guard = aispm.Guard(tracer_provider=provider)
    run_turn(guard, provider)

    spans = exporter.get_finished_spans()
    print_tree(spans)
    leaked = [span.name for span in spans if AWS_KEY_ID in span.to_json()]
    print(f"{len(spans)} spans; the caught key appears in {len(leaked)} of them")
    provider.shutdown()


if __name__ == "__main__":
    main()
