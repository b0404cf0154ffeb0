"""Per-area generators for the property tests, merged here.

Each module in this package (``injection``, ``pii``, ``secrets``, ``leakage``, ...) may define:

- ``SAMPLES: dict[str, SearchStrategy[str]]``: by detector id, values that detector must find
  when set off by whitespace in benign filler (and, for output detectors, redact entirely);
- ``ADVERSARIAL: dict[str, Callable[[int], str]]``: by name, a function giving an adversarial
  text of about ``n`` characters (long runs of near-matches) for the linear-time test.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from hypothesis.strategies import SearchStrategy

SAMPLES: dict[str, SearchStrategy[str]] = {}
ADVERSARIAL: dict[str, Callable[[int], str]] = {}

for _module in pkgutil.iter_modules(__path__):
    _loaded = importlib.import_module(f"{__name__}.{_module.name}")
    SAMPLES.update(getattr(_loaded, "SAMPLES", {}))
    ADVERSARIAL.update(getattr(_loaded, "ADVERSARIAL", {}))
