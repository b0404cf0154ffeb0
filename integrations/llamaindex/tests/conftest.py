"""Fixtures for the LlamaIndex adapter's tests: guards that report to an in-memory span capture.

LlamaIndex's ``Settings`` default to OpenAI models; every test runs with its mock LLM and
mock embedding instead, so nothing reaches the network or downloads a tokenizer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core import Settings
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM

from aispm.pytest_plugin import GuardFactory as GuardFactory  # the type the tests import from here
from aispm.pytest_plugin import capture as capture  # fixtures
from aispm.pytest_plugin import make_guard as make_guard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # aispm_llamaindex, without an install


@pytest.fixture(autouse=True)
def _offline_settings() -> Iterator[None]:
    """Mock models in LlamaIndex's global settings for the test, restored after it."""
    llm, embed = Settings._llm, Settings._embed_model
    Settings.llm = MockLLM()
    Settings.embed_model = MockEmbedding(embed_dim=8)
    yield
    Settings._llm, Settings._embed_model = llm, embed
