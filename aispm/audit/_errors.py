"""The audit errors: a log that cannot be written, and one that does not verify."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import AispmError

if TYPE_CHECKING:
    from ._report import Problem


class AuditError(AispmError):
    """The audit log cannot be written: it is closed, locked by another writer, or a write failed."""


class AuditIntegrityError(AuditError):
    """The audit log does not verify; ``problem`` says where and how (never what the records hold)."""

    def __init__(self, message: str, problem: Problem | None = None) -> None:
        self.problem = problem
        super().__init__(message)
