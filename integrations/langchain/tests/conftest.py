"""Fixtures for the LangChain adapter's tests: guards that report to an in-memory span capture."""

from __future__ import annotations

import sys
from pathlib import Path

from aispm.pytest_plugin import GuardFactory as GuardFactory  # the type the tests import from here
from aispm.pytest_plugin import capture as capture  # fixtures
from aispm.pytest_plugin import make_guard as make_guard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # aispm_langchain, without an install
