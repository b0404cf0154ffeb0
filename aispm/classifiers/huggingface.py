"""`HuggingFaceClassifier`: a local Hugging Face text-classification model, run with transformers and torch.

Needs the ``huggingface`` extra (``pip install "aispm[huggingface]"``:
transformers and torch). Nothing is imported when this module is: transformers
is imported and the model loaded on first use, or when
`HuggingFaceClassifier.load` is called. Models are read from a local directory
only (``local_files_only=True``, no remote code): this adapter never downloads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PolicyError
from ._loading import check_name, check_positive, config_label_index, existing, require_modules
from ._protocol import ClassifierError

__all__ = ["HuggingFaceClassifier"]

_EXTRA = "huggingface"


@dataclass(frozen=True, slots=True)
class _Loaded:
    torch: Any
    tokenizer: Any
    model: Any
    positive: int


class HuggingFaceClassifier:
    """A sequence-classification model saved with ``save_pretrained`` in a local directory.

    The directory holds the model (``config.json`` and weights) and its
    tokenizer. The score of a text is the softmax probability of the positive
    class (a sigmoid when the model has one output).

    Construction checks the directory and that the extra is installed, but
    imports nothing; the first `classify` (or `load`) imports transformers and
    loads the model, once, under a lock. Importing transformers and torch takes
    seconds: call `load` at start-up to keep it off the first request. Calls
    are serialised by a lock (a fast tokenizer is not safe to share between
    threads while it is configured per call); torch uses its own threads inside
    each call.

    Args:
        path: The model directory.
        name: Short name; the detector id becomes ``classifier.<name>``.
        positive_label: Label of "attack" in the model's ``id2label``; wins over ``positive_index``.
        positive_index: Class index of "attack", when no label is given.
        device: torch device, ``"cpu"`` by default.
        max_length: Tokens per text; longer texts are truncated.
        batch_size: Texts per forward pass.

    Raises:
        MissingExtraError: transformers or torch is not installed.
        PolicyError: The directory or its ``config.json`` is missing, the label is
            unknown, or an argument is invalid.
    """

    __slots__ = (
        "_batch_size",
        "_device",
        "_lock",
        "_max_length",
        "_name",
        "_path",
        "_positive",
        "_state",
    )

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "huggingface",
        positive_label: str | None = None,
        positive_index: int = 1,
        device: str = "cpu",
        max_length: int = 512,
        batch_size: int = 16,
    ) -> None:
        require_modules(_EXTRA, "HuggingFaceClassifier", "transformers", "torch")
        self._name = check_name(name)
        self._path = existing(path, "path", directory=True)
        config = existing(self._path / "config.json", "model config")
        if positive_label is not None:
            positive_index = config_label_index(config, positive_label)
        elif isinstance(positive_index, bool) or not isinstance(positive_index, int) or positive_index < 0:
            raise PolicyError(f"positive_index must be a non-negative integer, got {positive_index!r}")
        self._positive = positive_index
        if not isinstance(device, str) or not device:
            raise PolicyError(f"device must be a torch device name such as 'cpu', got {device!r}")
        self._device = device
        self._max_length = check_positive(max_length, "max_length")
        self._batch_size = check_positive(batch_size, "batch_size")
        self._lock = threading.Lock()
        self._state: _Loaded | None = None

    @property
    def name(self) -> str:
        """Short name, used in the detector id."""
        return self._name

    def __repr__(self) -> str:
        return f"HuggingFaceClassifier(name={self._name!r}, path={str(self._path)!r})"

    def load(self) -> None:
        """Import transformers and load the model and tokenizer now, rather than on the first `classify`.

        Raises:
            ClassifierError: The model or tokenizer cannot be loaded from the directory.
        """
        with self._lock:
            self._loaded()

    def classify(self, texts: Sequence[str]) -> list[float]:
        """Return the probability of the positive class for each text.

        Raises:
            ClassifierError: The model cannot be loaded or run.
        """
        if not texts:
            return []
        with self._lock:
            state = self._loaded()
            scores: list[float] = []
            for i in range(0, len(texts), self._batch_size):
                try:
                    scores.extend(self._run(state, texts[i : i + self._batch_size]))
                except Exception as exc:
                    raise ClassifierError(
                        f"Hugging Face classifier {self._name!r} failed ({type(exc).__name__})"
                    ) from exc
            return scores

    def _run(self, state: _Loaded, texts: Sequence[str]) -> list[float]:
        torch = state.torch
        batch = state.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self._max_length, return_tensors="pt"
        ).to(self._device)
        with torch.inference_mode():
            logits = state.model(**batch).logits.float()
        if logits.shape[-1] == 1:
            probs = torch.sigmoid(logits[:, 0])
            if state.positive == 0:
                probs = 1.0 - probs
        else:
            probs = torch.softmax(logits, dim=-1)[:, state.positive]
        return [min(1.0, max(0.0, float(p))) for p in probs.tolist()]

    def _loaded(self) -> _Loaded:  # called under the lock
        if self._state is None:
            try:
                import torch
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self._path, local_files_only=True, trust_remote_code=False)
                model = AutoModelForSequenceClassification.from_pretrained(
                    self._path, local_files_only=True, trust_remote_code=False
                )
                model.to(self._device).eval()
            except Exception as exc:
                raise ClassifierError(
                    f"Hugging Face classifier {self._name!r} cannot be loaded ({type(exc).__name__})"
                ) from exc
            classes = int(model.config.num_labels)
            if self._positive >= max(classes, 2):
                raise ClassifierError(
                    f"Hugging Face classifier {self._name!r}: positive class {self._positive} is out of range "
                    f"for a model with {classes} labels"
                )
            self._state = _Loaded(torch, tokenizer, model, self._positive)
        return self._state
