"""pytest fixtures for testing code that uses aispm: a span capture, and guards that report to it.

Use them from your root ``conftest.py``::

    pytest_plugins = ["aispm.pytest_plugin"]

or import them into any ``conftest.py`` (``from aispm.pytest_plugin import capture, make_guard``).
Needs the ``testing`` extra (pytest and the OpenTelemetry SDK). aispm's own test suites, core and
adapters, use these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import pytest

import aispm
from aispm.testing import SpanCapture, capture_spans

__all__ = ["GuardFactory", "capture", "make_guard"]

GuardFactory = Callable[..., aispm.Guard]
"""``make_guard(policy=None, *, mode=None, **guard_kwargs) -> Guard``."""


@pytest.fixture
def capture() -> Iterator[SpanCapture]:
    """An in-memory span capture with its own tracer provider (never the global one)."""
    with capture_spans() as spans:
        yield spans


@pytest.fixture
def make_guard(capture: SpanCapture) -> GuardFactory:
    """Build a guard that reports to ``capture``: ``make_guard(policy, mode=..., **kwargs)``."""

    def make(
        policy: aispm.Policy | Mapping[str, Any] | None = None,
        *,
        mode: Literal["enforce", "monitor"] | None = None,
        **kwargs: Any,
    ) -> aispm.Guard:
        return aispm.Guard(policy, mode=mode, tracer_provider=capture.tracer_provider, **kwargs)

    return make
