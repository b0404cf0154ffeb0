"""Injectable clocks: anything with a TTL or a timestamp takes one, so tests never sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)
