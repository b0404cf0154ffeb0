"""What the model adapters share: argument checks at construction, lazy loading, label lookup."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MissingExtraError, PolicyError

_NAME = re.compile(r"[a-z0-9_]+")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PolicyError(f"invalid classifier name {name!r}: use lowercase letters, digits and underscores")
    return name


def check_positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(f"{what} must be a positive integer, got {value!r}")
    return value


def require_modules(extra: str, feature: str, *modules: str) -> None:
    """Fail at construction, without importing anything, when an optional dependency is missing."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(extra, module, feature)


def existing(path: str | Path, what: str, *, directory: bool = False) -> Path:
    resolved = Path(path)
    if not (resolved.is_dir() if directory else resolved.is_file()):
        kind = "directory" if directory else "file"
        raise PolicyError(f"{what} {str(resolved)!r} is not an existing {kind}")
    return resolved


def label_index(id2label: Mapping[Any, Any], label: str, source: str) -> int:
    """The class index of ``label`` in an ``id2label`` mapping (keys may be strings, as in config.json)."""
    for key, value in id2label.items():
        if value == label:
            return int(key)
    known = sorted(str(v) for v in id2label.values())
    raise PolicyError(f"label {label!r} is not one of the model's labels in {source}: {known}")


def config_label_index(config: Path, label: str) -> int:
    """Look ``label`` up in the ``id2label`` of a Hugging Face ``config.json``."""
    try:
        data = json.loads(config.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"cannot read the model's labels from {str(config)!r}: {exc}") from exc
    id2label = data.get("id2label") if isinstance(data, dict) else None
    if not isinstance(id2label, dict):
        raise PolicyError(f"{str(config)!r} has no id2label mapping; give positive_index instead")
    return label_index(id2label, label, str(config))
