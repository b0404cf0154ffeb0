"""The public surface: ``aispm.__all__`` is pinned, and importing aispm imports nothing optional."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

import aispm

EXPECTED_ALL = [
    "Action",
    "AgentIdentity",
    "AispmError",
    "Blocked",
    "combine",
    "current_session",
    "Decision",
    "Delegation",
    "DelegationError",
    "DelegationVerifier",
    "Dropped",
    "Finding",
    "Guard",
    "GuardFailed",
    "KeyRing",
    "MissingExtraError",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "RetrievalDecision",
    "Scope",
    "Session",
    "Severity",
    "SignatureError",
    "SignedMessage",
    "TextDecision",
    "ToolDecision",
    "verify",
]

# Names in aispm/__init__.py's namespace that serve its lazy-import machinery, not its API.
NOT_EXPORTED = {"TYPE_CHECKING", "Any"}


def test_all_is_pinned() -> None:
    assert aispm.__all__ == EXPECTED_ALL


def test_all_lists_every_public_name_sorted() -> None:
    for name in aispm.__all__:  # resolve the lazily imported names
        getattr(aispm, name)
    public = (
        name
        for name, value in vars(aispm).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name not in NOT_EXPORTED
    )
    assert aispm.__all__ == sorted(public, key=str.casefold)


def test_all_names_resolve() -> None:
    for name in aispm.__all__:
        assert getattr(aispm, name) is not None
    assert aispm.Guard.__module__ == "aispm.guard"
    assert aispm.Policy.__module__ == "aispm.policy"
    assert isinstance(aispm.__version__, str)
    assert aispm.__version__
    assert set(aispm.__all__) <= set(dir(aispm))


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Gaurd'"):
        _ = aispm.Gaurd  # type: ignore[attr-defined]


def run_python(code: str) -> object:
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(result.stdout)


OPTIONAL = ["opentelemetry", "pydantic", "yaml", "rich", "langchain_core", "llama_index", "mcp", "tenacity"]

LOADED = (
    "import json, sys\n"
    f"optional = {OPTIONAL!r}\n"
    "def loaded():\n"
    "    return sorted({m.split('.')[0] for m in sys.modules} & set(optional))\n"
)


def test_import_aispm_imports_nothing_optional() -> None:
    code = LOADED + (
        "import aispm\nprint(json.dumps({'loaded': loaded(), 'testing': 'aispm.testing' in sys.modules}))\n"
    )
    assert run_python(code) == {"loaded": [], "testing": False}


def test_guard_imports_the_otel_api_but_never_the_sdk() -> None:
    code = LOADED + (
        "import aispm\n"
        "_ = aispm.Guard\n"
        "first = loaded()\n"
        "aispm.Guard().prompt.check('hi')\n"
        "sdk = sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk'))\n"
        "print(json.dumps({'first': first, 'then': loaded(), 'sdk': sdk}))\n"
    )
    assert run_python(code) == {"first": ["pydantic"], "then": ["opentelemetry", "pydantic"], "sdk": []}
