"""Public names a package imports on first use (PEP 562), for aispm and its adapters alike.

A package lists each lazy name with the module that defines it, and gets the module-level
``__getattr__`` and ``__dir__`` that import it when first asked for and keep it::

    __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

so ``import aispm`` (or an adapter) pays for pydantic, OpenTelemetry or a framework only when a
name that needs them is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``names`` map to the (relative) module defining each.

    ``__getattr__`` imports the module, stores the value in ``namespace`` (the package's
    ``globals()``, so the next access is an ordinary one) and returns it; any other name raises
    ``AttributeError``. ``__dir__`` lists the namespace and the package's ``__all__``.
    """

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
