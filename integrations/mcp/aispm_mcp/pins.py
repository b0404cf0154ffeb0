"""Tool pins: trust an MCP tool definition on first use, and notice when it changes.

`fingerprint` hashes a tool's definition as the model sees it; `ToolPins` remembers the
fingerprint of each (server, tool) the first time it is listed. A later listing with another
fingerprint is a changed tool (a "rug pull"): a guarded client session hides or blocks it until
someone approves the new definition (see `aispm_mcp.client`).

Pins live in memory, or in a JSON file (``ToolPins(path)``) written atomically (a temporary file
in the same directory, then ``os.replace``) on every change, so pins survive restarts and can be
shared by the sessions of one process. The file is read once, at construction.

What it cannot do: it is not a multi-process store. Two processes writing one file each keep
their own view and the last write wins; give each process its own file, or one writer. The core
state store (``aispm.state``) has no key-value API yet, so pins cannot live there. A pin says a
definition has not changed since it was first seen, not that it was safe then: the first listing
is trusted (its text is still checked for poisoning by the guarded session).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, Final, Literal

import aispm

try:
    from mcp.types import Tool
except ImportError:  # pragma: no cover - the extra is installed in every test environment
    raise aispm.MissingExtraError("mcp", "mcp", "aispm_mcp.pins") from None

__all__ = ["FINGERPRINT_FIELDS", "PinStatus", "ToolPins", "fingerprint"]

FINGERPRINT_FIELDS: Final = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
"""The wire fields of a tool that a fingerprint covers: what the model sees, nothing else."""

PinStatus = Literal["new", "pinned", "changed"]
"""``new``: first sight, now pinned; ``pinned``: as pinned; ``changed``: differs from its pin."""

_FORMAT: Final = 1
_MAX_FILE_BYTES: Final = 16 * 1024 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")


def fingerprint(tool: Tool) -> str:
    """SHA-256 (hex) of the tool's definition as the model sees it.

    The wire form (``model_dump(by_alias=True, mode="json", exclude_none=True)``) of
    `FINGERPRINT_FIELDS`, an absent field as ``null``, as canonical JSON (sorted keys, no
    spaces, ASCII escapes). Icons, ``execution`` and ``_meta`` are left out: a change there does
    not change what the model reads.

    Raises:
        TypeError: ``tool`` is not an ``mcp.types.Tool``.
    """
    if not isinstance(tool, Tool):
        raise TypeError(f"fingerprint needs an mcp.types.Tool, got {type(tool).__name__}")
    wire = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
    keep = {key: wire.get(key) for key in FINGERPRINT_FIELDS}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ToolPins:
    """The pinned fingerprint of each (server, tool): trust on first use. Thread-safe.

    Args:
        path: A JSON file to load the pins from and save every change to; ``None`` (default)
            keeps them in memory. A missing file is created at the first change.

    Raises:
        PolicyError: The file exists but cannot be read, is not valid JSON, or is not a pins
            file. Nothing is re-trusted silently: fix or remove the file (removing it trusts
            every tool again on its next listing).

    Example:
        >>> pins = ToolPins()
        >>> pins.check("files", "read", "a" * 64)
        'new'
        >>> pins.check("files", "read", "b" * 64)
        'changed'
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._pins: dict[str, dict[str, str]] = {} if self._path is None else _load(self._path)

    @property
    def path(self) -> Path | None:
        """The file the pins are saved to, or ``None`` when they live in memory."""
        return self._path

    @property
    def pins(self) -> dict[str, dict[str, str]]:
        """Every pin: ``{server: {tool: fingerprint}}`` (a copy)."""
        with self._lock:
            return {server: dict(tools) for server, tools in self._pins.items()}

    def get(self, server: str, tool: str) -> str | None:
        """The pinned fingerprint of ``tool`` on ``server``, or ``None``; pins nothing."""
        with self._lock:
            return self._pins.get(server, {}).get(tool)

    def check(self, server: str, tool: str, digest: str) -> PinStatus:
        """Compare ``digest`` with the pin of ``tool`` on ``server``; pin it if there is none.

        Returns:
            ``"new"`` (now pinned), ``"pinned"`` (unchanged) or ``"changed"`` (the pin is kept).

        Raises:
            ValueError: ``digest`` is not a SHA-256 hex digest, or a name is empty.
            OSError: The pin could not be saved (it is not kept in memory either).
        """
        _validate(server, tool, digest)
        with self._lock:
            pinned = self._pins.get(server, {}).get(tool)
            if pinned is not None:
                return "pinned" if pinned == digest else "changed"
            self._set(server, tool, digest)
            return "new"

    def approve(self, server: str, tool: str, digest: str) -> None:
        """Pin ``digest`` as the trusted definition of ``tool`` on ``server`` (re-approve a change).

        Raises:
            ValueError: ``digest`` is not a SHA-256 hex digest, or a name is empty.
            OSError: The pin could not be saved (the old pin stays).
        """
        _validate(server, tool, digest)
        with self._lock:
            self._set(server, tool, digest)

    def forget(self, server: str, tool: str | None = None) -> None:
        """Drop the pin of ``tool`` on ``server``, or every pin of ``server`` (``tool=None``).

        The next listing trusts the definitions again. A pin that does not exist is ignored.

        Raises:
            OSError: The change could not be saved (the pins stay).
        """
        with self._lock:
            before = self._pins
            if server not in before or (tool is not None and tool not in before[server]):
                return
            after = {name: dict(tools) for name, tools in before.items()}
            if tool is None:
                del after[server]
            else:
                del after[server][tool]
                if not after[server]:
                    del after[server]
            self._commit(after)

    def __repr__(self) -> str:
        where = "memory" if self._path is None else str(self._path)
        return f"ToolPins({where}, servers={len(self._pins)})"

    def _set(self, server: str, tool: str, digest: str) -> None:
        """Pin one definition (the lock is held)."""
        after = {name: dict(tools) for name, tools in self._pins.items()}
        after.setdefault(server, {})[tool] = digest
        self._commit(after)

    def _commit(self, pins: dict[str, dict[str, str]]) -> None:
        """Save ``pins`` (when backed by a file), then make them current: a failed save changes nothing."""
        if self._path is not None:
            _save(self._path, pins)
        self._pins = pins


def _validate(server: str, tool: str, digest: str) -> None:
    if not isinstance(server, str) or not server or not isinstance(tool, str) or not tool:
        raise ValueError("a pin needs a non-empty server name and tool name")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise ValueError("a pin's digest must be a SHA-256 hex digest (see fingerprint)")


def _load(path: Path) -> dict[str, dict[str, str]]:
    """Read a pins file; a missing file is no pins, anything wrong with an existing one is an error."""
    problem = f"tool pins file {str(path)!r} cannot be used"
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise aispm.PolicyError(f"{problem}: {type(exc).__name__}; fix its permissions or remove it") from exc
    if len(raw) > _MAX_FILE_BYTES:
        raise aispm.PolicyError(f"{problem}: larger than {_MAX_FILE_BYTES} bytes")
    try:
        document: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise aispm.PolicyError(f"{problem}: not valid JSON; fix or remove it") from exc
    pins = _parse(document)
    if pins is None:
        raise aispm.PolicyError(
            f'{problem}: not a pins file (expected {{"version": {_FORMAT}, "pins": {{server: {{tool: sha256}}}}}})'
        )
    return pins


def _parse(document: Any) -> dict[str, dict[str, str]] | None:
    """The pins of a loaded document, or ``None`` when it is not a well-formed pins document."""
    if not isinstance(document, dict) or document.get("version") != _FORMAT:
        return None
    if not isinstance(document.get("pins"), dict):
        return None
    pins: dict[str, dict[str, str]] = {}
    for server, tools in document["pins"].items():
        if not server or not isinstance(tools, dict):
            return None
        for tool, digest in tools.items():
            if not tool or not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
                return None
        pins[server] = dict(tools)
    return pins


def _save(path: Path, pins: dict[str, dict[str, str]]) -> None:
    """Write ``pins`` atomically: a private temporary file in the same directory, flushed, then renamed."""
    data = json.dumps({"version": _FORMAT, "pins": pins}, sort_keys=True, indent=2, ensure_ascii=True) + "\n"
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
