"""Per-area generators for the property tests, merged here.

Each module in this package (``injection``, ``pii``, ``secrets``, ``leakage``, ...) may define:

- ``SAMPLES: dict[str, SearchStrategy[str]]``: by detector id, values that detector must find
  when set off by whitespace in benign filler (and, for output detectors, redact entirely);
- ``ADVERSARIAL: dict[str, Callable[[int], str]]``: by name, a function giving an adversarial
  text of about ``n`` characters (long runs of near-matches) for the linear-time test;
- for detectors that find nothing until configured (canaries, system prompts):
  ``CONFIGURED`` (id → configured instance), ``CONFIGURE`` (id → configures a guard's own) and
  ``CONFIGURED_SAMPLES`` (id → values that instance finds).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from hypothesis.strategies import SearchStrategy

import aispm
from aispm.detectors import Detector

SAMPLES: dict[str, SearchStrategy[str]] = {}
ADVERSARIAL: dict[str, Callable[[int], str]] = {}
CONFIGURED: dict[str, Callable[[], Detector]] = {}
CONFIGURE: dict[str, Callable[[aispm.Guard], object]] = {}

for _module in pkgutil.iter_modules(__path__):
    _loaded = importlib.import_module(f"{__name__}.{_module.name}")
    SAMPLES.update(getattr(_loaded, "SAMPLES", {}))
    ADVERSARIAL.update(getattr(_loaded, "ADVERSARIAL", {}))
    SAMPLES.update(getattr(_loaded, "CONFIGURED_SAMPLES", {}))
    CONFIGURED.update(getattr(_loaded, "CONFIGURED", {}))
    CONFIGURE.update(getattr(_loaded, "CONFIGURE", {}))
