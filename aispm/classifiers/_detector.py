"""`ClassifierDetector`: a `Classifier` as one more detector of the prompt guard."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ..decisions import Finding, Severity
from ..detectors import ScanText
from ..detectors._findings import ATLAS_PROMPT_INJECTION, OWASP_PROMPT_INJECTION
from ..errors import PolicyError
from ._protocol import Classifier, ClassifierError

__all__ = ["ClassifierDetector"]

_ID = re.compile(r"[a-z0-9_]+(?:[.-][a-z0-9_]+)*")  # the policy's detector-id syntax
_MAPPINGS = (OWASP_PROMPT_INJECTION, ATLAS_PROMPT_INJECTION)

# The lowest threshold a built-in level gives (strict 0.4, minus 0.2 for untrusted
# text): scores under it can never count, so they are not reported at all.
_FLOOR = 0.2


class ClassifierDetector:
    """Runs a `Classifier` on the text and reports its score as the finding's confidence.

    The model sees ``ScanText.data`` (NFKC, invisible characters removed, case
    kept), so zero-width splitting and full-width letters reach it normalised.
    A text longer than ``window`` characters is cut into overlapping windows
    (``stride`` apart), all scored in one batch; the text scores the maximum,
    and the finding spans the best window. The work per text is bounded:
    at most ``max_windows`` windows of ``window`` characters. Up to
    ``window + (max_windows - 1) * stride`` characters every character is
    seen; beyond that the windows are spread evenly from head to tail and
    leave gaps (the pattern detectors still read the whole text).

    The policy decides as for any scored detector: the finding counts when its
    confidence reaches the level's threshold or the detector's entry in
    ``thresholds:``. Name the detector's id in the policy's prompt detectors
    and pass the detector to `aispm.Guard`.

    Args:
        classifier: The model.
        id: Detector id; defaults to ``classifier.<classifier.name>``.
        category: Category of the findings.
        severity: Severity of the findings (``HIGH`` denies under the default prompt policy).
        window: Characters per window (keep it under what the model reads: a
            512-token model reads about 2,000 characters of English).
        stride: Characters between the starts of consecutive windows (at most ``window``).
        max_windows: Most windows per text (at least 2: head and tail).
        floor: Scores below this are not reported (0.2 is the lowest built-in threshold;
            lower it with any ``thresholds:`` entry below 0.2).
        mappings: Framework references recorded on every finding.

    Raises:
        PolicyError: An argument is invalid.

    Example:
        >>> class Loud:
        ...     name = "loud"
        ...     def classify(self, texts):
        ...         return [1.0 if t.isupper() else 0.0 for t in texts]
        >>> detector = ClassifierDetector(Loud())
        >>> [(f.detector, f.confidence) for f in detector.detect(ScanText("STOP"))]
        [('classifier.loud', 1.0)]
    """

    __slots__ = (
        "_category",
        "_classifier",
        "_floor",
        "_id",
        "_mappings",
        "_max_windows",
        "_severity",
        "_stride",
        "_window",
    )

    def __init__(
        self,
        classifier: Classifier,
        *,
        id: str | None = None,
        category: str = "prompt_injection",
        severity: Severity = Severity.HIGH,
        window: int = 1024,
        stride: int = 768,
        max_windows: int = 16,
        floor: float = _FLOOR,
        mappings: Sequence[str] = _MAPPINGS,
    ) -> None:
        if not isinstance(classifier, Classifier):
            raise PolicyError(f"{type(classifier).__name__} does not implement the Classifier protocol")
        detector_id = f"classifier.{classifier.name}" if id is None else id
        if not isinstance(detector_id, str) or not _ID.fullmatch(detector_id):
            raise PolicyError(f"invalid detector id {detector_id!r}: use lowercase dotted names such as classifier.x")
        if not isinstance(severity, Severity):
            raise PolicyError(f"severity must be a Severity, got {severity!r}")
        if not 1 <= stride <= window:
            raise PolicyError(f"need 1 <= stride <= window, got stride={stride!r}, window={window!r}")
        if max_windows < 2:
            raise PolicyError(f"max_windows must be at least 2, got {max_windows!r}")
        if not 0.0 <= floor <= 1.0:
            raise PolicyError(f"floor must be in [0, 1], got {floor!r}")
        self._classifier = classifier
        self._id = detector_id
        self._category = category
        self._severity = severity
        self._window = window
        self._stride = stride
        self._max_windows = max_windows
        self._floor = floor
        self._mappings = tuple(mappings)

    @property
    def id(self) -> str:
        """Stable dotted id, ``classifier.<name>`` unless given."""
        return self._id

    @property
    def category(self) -> str:
        """Category of the findings, ``prompt_injection`` unless given."""
        return self._category

    @property
    def classifier(self) -> Classifier:
        """The wrapped model."""
        return self._classifier

    def __repr__(self) -> str:
        return f"ClassifierDetector(id={self._id!r})"

    def windows(self, length: int) -> list[tuple[int, int]]:
        """The ``(start, end)`` windows that a text of ``length`` characters is cut into."""
        window = self._window
        if length <= window:
            return [(0, length)]
        count = -(-(length - window) // self._stride) + 1
        stride = self._stride
        if count > self._max_windows:  # spread the allowed windows evenly, head to tail
            count = self._max_windows
            stride = -(-(length - window) // (count - 1))
        starts = sorted({min(i * stride, length - window) for i in range(count)})
        return [(s, s + window) for s in starts]

    def detect(self, text: ScanText) -> Sequence[Finding]:
        """Score ``text``; one finding spanning the best window, or none when it scores under ``floor``.

        Raises:
            ClassifierError: The model failed or returned something other than
                one probability per window.
        """
        data = text.data
        if not data or data.isspace():
            return ()
        spans = self.windows(len(data))
        scores = self._scores([data[s:e] for s, e in spans])
        best = max(range(len(scores)), key=scores.__getitem__)
        score = scores[best]
        if score < self._floor:
            return ()
        start, end = text.span_to_original(*spans[best])
        finding = Finding(
            detector=self._id,
            category=self._category,
            severity=self._severity,
            start=start,
            end=end,
            confidence=score,
            mappings=self._mappings,
        )
        return (finding,)

    def _scores(self, chunks: list[str]) -> list[float]:
        name = self._classifier.name
        try:
            raw = self._classifier.classify(chunks)
        except ClassifierError:
            raise
        except Exception as exc:  # map once, here; the message never carries the text
            raise ClassifierError(f"classifier {name!r} failed ({type(exc).__name__})") from exc
        try:
            scores = [float(s) for s in raw]
        except (TypeError, ValueError) as exc:
            raise ClassifierError(f"classifier {name!r} returned a non-numeric score") from exc
        if len(scores) != len(chunks):
            raise ClassifierError(f"classifier {name!r} returned {len(scores)} scores for {len(chunks)} texts")
        if not all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores):
            raise ClassifierError(f"classifier {name!r} returned a score outside [0, 1]")
        return scores
