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
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import MissingExtraError

__all__ = ["ManualClock", "SpanCapture", "capture_spans"]


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


class ManualClock:
    """A clock (`aispm._clock.Clock`) that stands still until moved, so tests of TTLs never sleep.

    Example:
        >>> clock = ManualClock()
        >>> start = clock()
        >>> clock.advance(60)
        >>> (clock() - start).total_seconds()
        60.0
    """

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now if now is not None else datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        """The current (manual) time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number)."""
        self.now += timedelta(seconds=seconds)


@contextmanager
def capture_spans() -> Iterator[SpanCapture]:
    """Capture spans for the duration of the block; pass ``capture.tracer_provider`` to the guard."""
    capture = SpanCapture()
    try:
        yield capture
    finally:
        capture.shutdown()
