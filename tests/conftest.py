"""Shared fixtures: capture spans on an explicit SDK provider (never the global one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import pytest

import aispm
from aispm.testing import SpanCapture, capture_spans

GuardFactory = Callable[..., aispm.Guard]


@pytest.fixture
def capture() -> Iterator[SpanCapture]:
    """An in-memory span capture with its own tracer provider."""
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
