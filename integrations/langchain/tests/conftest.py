"""Fixtures for the LangChain adapter's tests: guards that report to an in-memory span capture."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest

import aispm
from aispm.testing import SpanCapture, capture_spans

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # aispm_langchain, without an install

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
