"""Shared fixtures: capture spans on an explicit SDK provider (never the global one)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import pytest
from hypothesis import settings

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


# Property tests explore new examples on every developer run, but CI must not fail on a
# case no one has seen yet: under CI (CI=true), Hypothesis draws the same examples each run.
# Run `python -m pytest tests/test_properties.py` locally to explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
