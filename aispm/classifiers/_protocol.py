"""The classifier protocol: a batch of texts in, one attack probability per text out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..errors import AispmError

__all__ = ["Classifier", "ClassifierError"]


@runtime_checkable
class Classifier(Protocol):
    """A model that scores texts: the probability that each one is an attack.

    Implementations are thread-safe (a guard may be shared by many threads),
    never download anything, and raise `ClassifierError` when the model fails.
    Wrap one in `ClassifierDetector` to make it a detector of the prompt guard.
    """

    @property
    def name(self) -> str:
        """Short lowercase name (``[a-z0-9_]``), used in the detector id ``classifier.<name>``."""

    def classify(self, texts: Sequence[str]) -> list[float]:
        """Return, for each text in order, the probability in ``[0, 1]`` that it is an attack.

        Raises:
            ClassifierError: The model could not be loaded or run.
        """


class ClassifierError(AispmError, RuntimeError):
    """A classifier could not be loaded or run, or returned an invalid result.

    The guard turns it (like any detector error) into a fail-closed decision.
    The message names the classifier and the failure, never the text; the
    underlying error, if any, is ``__cause__``.
    """
