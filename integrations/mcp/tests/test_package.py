"""The package's lazy exports and the call digest client and server agree on."""

from __future__ import annotations

import aispm_mcp
import pytest
from aispm_mcp._meta import call_digest


def test_exports_are_lazy_and_listed() -> None:
    assert set(aispm_mcp.__all__) <= set(dir(aispm_mcp))
    assert aispm_mcp.ToolPins.__name__ == "ToolPins"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = aispm_mcp.nope


def test_the_call_digest_is_canonical() -> None:
    assert call_digest("read", {"b": 1, "a": "é"}) == call_digest("read", {"a": "é", "b": 1})
    assert call_digest("read", None) == call_digest("read", {})
    assert call_digest("read", {"a": 1}) != call_digest("write", {"a": 1})
    with pytest.raises(ValueError, match="JSON"):
        call_digest("read", {"x": float("nan")})
