"""Detectors: the low-level tier. They find; they never decide.

.. warning::
   A detector enforces nothing. Use ``aispm.Guard``: the policy turns findings
   into decisions, and the guard reports and enforces them.

Every built-in detector is listed in ``BUILTIN`` by its stable id. Detectors
are built (and their patterns compiled) when a guard is constructed, never at
import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from . import exfiltration, injection, leakage, pii, secrets, tool_poisoning
from ._normalize import ScanText
from ._pattern import PatternDetector
from ._protocol import Detector

__all__ = ["BUILTIN", "Detector", "PatternDetector", "ScanText", "build", "luhn_valid"]

luhn_valid = pii.luhn_valid

BUILTIN: Mapping[str, Callable[[], Detector]] = MappingProxyType(
    {
        **injection.DETECTORS,
        **tool_poisoning.DETECTORS,
        **pii.DETECTORS,
        **secrets.DETECTORS,
        **leakage.DETECTORS,
        **exfiltration.DETECTORS,
    }
)
"""Factories of the built-in detectors, by id."""


def build(detector_id: str) -> Detector:
    """Build the built-in detector with this id.

    Raises:
        KeyError: When no built-in detector has this id.
    """
    return BUILTIN[detector_id]()
