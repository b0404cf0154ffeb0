"""The aispm test kit: capture the spans a guard emits.

Needs the ``testing`` extra (``pip install "aispm[testing]"``): it uses the
OpenTelemetry SDK, which aispm itself never imports. ``import aispm`` never
imports this module.

Example:
    >>> import aispm
    >>> from aispm.testing import capture_spans
    >>> with capture_spans() as capture:
    ...     guard = aispm.Guard(tracer_provider=capture.tracer_provider)
    ...     _ = guard.prompt.check("hello")
    >>> [span.name for span in capture.finished_spans()]
    ['aispm.prompt']
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .errors import MissingExtraError

__all__ = ["SpanCapture", "capture_spans"]


class SpanCapture:
    """An SDK tracer provider whose finished spans are kept in memory (never set globally)."""

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        except ImportError:
            raise MissingExtraError("testing", "opentelemetry.sdk", "aispm.testing") from None
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def finished_spans(self) -> tuple[Any, ...]:
        """The spans finished so far, in the order they ended."""
        return tuple(self.exporter.get_finished_spans())

    def clear(self) -> None:
        """Forget the spans captured so far."""
        self.exporter.clear()

    def shutdown(self) -> None:
        """Shut the provider down."""
        self.tracer_provider.shutdown()


@contextmanager
def capture_spans() -> Iterator[SpanCapture]:
    """Capture spans for the duration of the block; pass ``capture.tracer_provider`` to the guard."""
    capture = SpanCapture()
    try:
        yield capture
    finally:
        capture.shutdown()
