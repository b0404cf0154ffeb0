"""`PromptGuard`: what enters the model."""

from __future__ import annotations

from . import semconv
from ._text import TextGuardBase
from .decisions import TextDecision
from .errors import PolicyError
from .policy import SOURCES

__all__ = ["PromptGuard"]


class PromptGuard(TextGuardBase):
    """Checks text before it reaches the model: user prompts and untrusted text re-entering the context.

    Get it as ``guard.prompt``. ``check`` is the explicit tier: it returns the
    decision and never raises on a deny; the caller acts on it.
    """

    __slots__ = ()

    def check(self, text: str, *, source: str = "user", origin: str | None = None) -> TextDecision:
        """Decide whether ``text`` may be sent to the model.

        Args:
            text: The text to check.
            source: Where it came from: ``user``, ``system``, ``tool``,
                ``retrieval``, ``agent`` or ``model``. Text from ``tool``,
                ``retrieval``, ``agent`` and ``model`` is data, not instructions,
                and is judged more strictly (see ``level`` in the policy).
            origin: Name of the tool, document store or agent it came from; allowlist
                entries can be scoped to it (``origins``).

        Returns:
            The decision; ``decision.text`` is what may be sent on (empty on a deny).

        Raises:
            TypeError: ``text`` is not a ``str``.
            PolicyError: ``source`` is not one of the known sources.
        """
        if source not in SOURCES:
            raise PolicyError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
        return self._run(
            text, source=source, origin=origin, explicit=True, attributes=_attributes(text, source, origin)
        )

    async def acheck(self, text: str, *, source: str = "user", origin: str | None = None) -> TextDecision:
        """Async twin of `check`."""
        return self.check(text, source=source, origin=origin)


def _attributes(text: object, source: str, origin: str | None) -> dict[str, object]:
    length = len(text) if isinstance(text, str) else 0
    attributes: dict[str, object] = {semconv.PROMPT_SOURCE: source, semconv.TEXT_LENGTH: length}
    if origin is not None:
        attributes[semconv.PROMPT_ORIGIN] = origin
    return attributes
