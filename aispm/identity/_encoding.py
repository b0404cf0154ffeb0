"""Wire-format limits and the strict encoding helpers shared by messages and aispm.delegation.

Base64url is unpadded and decoded strictly, JSON is canonical when written and
strict when read, and names, TTLs and timestamps are checked here once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .._clock import Clock
from ..errors import PolicyError

MESSAGE_PREFIX: Final = "aispm-msg1"
MAX_MESSAGE_BYTES: Final = 64 * 1024
"""Largest canonical body a message may have."""
_MAX_NAME: Final = 256
_MAX_TTL: Final = 10 * 365 * 86400.0
_MAX_TIME: Final = 2**40  # seconds since the epoch; far beyond any real date, small enough for datetime
_B64: Final = re.compile(r"[A-Za-z0-9_-]*")


# --- encoding helpers shared with aispm.delegation -------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Strict unpadded base64url: ``None`` unless ``text`` is the one encoding of its bytes."""
    if len(text) % 4 == 1 or _B64.fullmatch(text) is None:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - excluded by the checks above
        return None
    # Unused trailing bits must be zero: otherwise several texts decode to the same bytes.
    return data if _b64encode(data) == text else None


def _canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN/Infinity. Raises ValueError/TypeError/RecursionError."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _string_keys(value: Any) -> bool:
    """Whether every mapping in ``value`` has string keys (json.dumps would turn ``1`` into ``"1"``).

    Also False for more nodes than a message can hold, which stops on cycles too.
    """
    stack = [value]
    budget = MAX_MESSAGE_BYTES
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        if isinstance(item, Mapping):
            if not all(isinstance(key, str) for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # "1e999" parses to inf
        raise ValueError("number out of range")
    return number


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")  # parsers disagree on which one wins
    return result


def _strict_loads(data: bytes) -> Any:
    """Parse untrusted JSON: no duplicate keys, NaN or overflowing numbers. Raises ValueError on anything else."""
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except RecursionError as exc:  # deeply nested arrays: bounded by the size limit, still refused
        raise ValueError("JSON nested too deeply") from exc


def _timestamp(clock: Clock) -> float:
    now = clock()
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise PolicyError("the clock must return an aware datetime")
    return now.timestamp()


def _is_time(value: Any) -> bool:
    return type(value) is int and 0 <= value < _MAX_TIME


def _is_seconds(value: Any) -> bool:
    # NaN compares false with everything: a NaN skew would let expired tokens through.
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 <= value <= _MAX_TTL


def _to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _check_name(name: Any, what: str = "name") -> str:
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME or not name.isprintable():
        raise PolicyError(f"{what} must be a printable string of 1 to {_MAX_NAME} characters")
    return name


def _check_ttl(ttl: Any) -> float:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= _MAX_TTL:
        raise PolicyError(f"ttl must be a number of seconds in (0, {_MAX_TTL:.0f}]")
    return float(ttl)


def _key_id(raw: bytes) -> str:
    return "ed25519:" + _b64encode(hashlib.sha256(raw).digest())[:22]
