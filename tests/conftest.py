"""Shared fixtures: a span capture on an explicit SDK provider (never the global one) and guards reporting to it."""

from __future__ import annotations

import os

from hypothesis import settings

from aispm.pytest_plugin import GuardFactory as GuardFactory  # the type the tests import from here
from aispm.pytest_plugin import capture as capture  # fixtures
from aispm.pytest_plugin import make_guard as make_guard

# Property tests explore new examples on every developer run, but CI must not fail on a
# case no one has seen yet: under CI (CI=true), Hypothesis draws the same examples each run.
# Run `python -m pytest tests/test_properties.py` locally to explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
