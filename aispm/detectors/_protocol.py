"""The one detector protocol: text in, findings out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..decisions import Finding
from ._normalize import ScanText


@runtime_checkable
class Detector(Protocol):
    """Finds one kind of thing in a text. Pure: no I/O, no state, no decisions.

    A detector must run in time linear in the length of its input: an attacker
    controls that input. Findings carry offsets into ``text.original``; the
    redaction placeholder is derived from the id (``pii.email`` → ``[REDACTED:EMAIL]``).
    """

    @property
    def id(self) -> str:
        """Stable dotted id, e.g. ``secrets.aws_access_key``; used in policies, spans and logs."""

    @property
    def category(self) -> str:
        """What it finds: ``prompt_injection``, ``jailbreak``, ``pii``, ``secret``, ..."""

    def detect(self, text: ScanText) -> Sequence[Finding]:
        """Return the findings in ``text``, ordered by position; an empty sequence when none."""
