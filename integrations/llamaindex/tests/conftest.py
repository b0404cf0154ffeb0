"""Fixtures for the LlamaIndex adapter's tests: guards that report to an in-memory span capture.

LlamaIndex's ``Settings`` default to OpenAI models; every test runs with its mock LLM and
mock embedding instead, so nothing reaches the network or downloads a tokenizer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from llama_index.core import Settings
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM

import aispm
from aispm.testing import SpanCapture, capture_spans

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # aispm_llamaindex, without an install

GuardFactory = Callable[..., aispm.Guard]


@pytest.fixture(autouse=True)
def _offline_settings() -> Iterator[None]:
    """Mock models in LlamaIndex's global settings for the test, restored after it."""
    llm, embed = Settings._llm, Settings._embed_model
    Settings.llm = MockLLM()
    Settings.embed_model = MockEmbedding(embed_dim=8)
    yield
    Settings._llm, Settings._embed_model = llm, embed


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
