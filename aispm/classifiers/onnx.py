"""`OnnxClassifier`: a sequence-classification model exported to ONNX, run with onnxruntime on the CPU.

Needs the ``onnx`` extra (``pip install "aispm[onnx]"``: onnxruntime, tokenizers,
numpy). Nothing is imported when this module is: the runtime is imported and
the model loaded on first use, or when `OnnxClassifier.load` is called.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import PolicyError
from ._loading import check_name, check_positive, config_label_index, existing, require_modules
from ._protocol import ClassifierError

__all__ = ["OnnxClassifier"]

_EXTRA = "onnx"
_KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_INT_TYPES = {"tensor(int64)": "int64", "tensor(int32)": "int32"}
_PAD_TOKENS = ("[PAD]", "<pad>", "<|pad|>", "[pad]")


@dataclass(frozen=True, slots=True)
class _Loaded:
    np: Any  # numpy
    session: Any  # onnxruntime.InferenceSession; run() is thread-safe
    tokenizer: Any  # tokenizers.Tokenizer, configured once here and never mutated after
    inputs: tuple[tuple[str, str], ...]  # (input name, numpy integer dtype)
    output: str


class OnnxClassifier:
    """A text-classification model in ONNX format with a Hugging Face ``tokenizer.json``.

    The model takes ``input_ids`` and, if it declares them, ``attention_mask``
    and ``token_type_ids`` (int64 or int32, detected from the model); its first
    output (or the one named ``logits``) has shape ``[batch, classes]``. The
    score of a text is the probability of the positive class: a softmax over the
    classes (a sigmoid when there is one column) unless the model already
    outputs probabilities (``outputs="probabilities"``).

    Construction checks the files and that the extra is installed, but imports
    nothing; the first `classify` (or `load`) imports onnxruntime and loads the
    model, once, under a lock. Call `load` at start-up to keep that cost off the
    first request. Instances are thread-safe. Only the CPU provider is used.

    Args:
        model_path: The ``.onnx`` file.
        tokenizer_path: The ``tokenizer.json`` (``tokenizers`` format); defaults to the
            one beside the model.
        name: Short name; the detector id becomes ``classifier.<name>``.
        positive_index: Class index of "attack".
        positive_label: Or its label, looked up in the ``id2label`` of the
            ``config.json`` beside the model (as Hugging Face exports write it).
        max_length: Tokens per text; longer texts are truncated (see
            `ClassifierDetector` ``window`` to score long texts in pieces).
        batch_size: Texts per model run.
        outputs: ``"logits"`` or ``"probabilities"``: what the model's output holds.
        threads: Intra-op threads of onnxruntime; its default when ``None``.

    Raises:
        MissingExtraError: onnxruntime, tokenizers or numpy is not installed.
        PolicyError: A file is missing, the label is unknown, or an argument is invalid.
    """

    __slots__ = (
        "_batch_size",
        "_lock",
        "_max_length",
        "_model_path",
        "_name",
        "_outputs",
        "_positive",
        "_state",
        "_threads",
        "_tokenizer_path",
    )

    def __init__(
        self,
        model_path: str | Path,
        tokenizer_path: str | Path | None = None,
        *,
        name: str = "onnx",
        positive_index: int = 1,
        positive_label: str | None = None,
        max_length: int = 512,
        batch_size: int = 16,
        outputs: Literal["logits", "probabilities"] = "logits",
        threads: int | None = None,
    ) -> None:
        require_modules(_EXTRA, "OnnxClassifier", "onnxruntime", "tokenizers", "numpy")
        self._name = check_name(name)
        self._model_path = existing(model_path, "model_path")
        tokenizer = self._model_path.with_name("tokenizer.json") if tokenizer_path is None else tokenizer_path
        self._tokenizer_path = existing(tokenizer, "tokenizer_path")
        if positive_label is not None:
            positive_index = config_label_index(self._model_path.with_name("config.json"), positive_label)
        elif isinstance(positive_index, bool) or not isinstance(positive_index, int) or positive_index < 0:
            raise PolicyError(f"positive_index must be a non-negative integer, got {positive_index!r}")
        self._positive = positive_index
        self._max_length = check_positive(max_length, "max_length")
        self._batch_size = check_positive(batch_size, "batch_size")
        if outputs not in ("logits", "probabilities"):
            raise PolicyError(f"outputs must be 'logits' or 'probabilities', got {outputs!r}")
        self._outputs = outputs
        self._threads = None if threads is None else check_positive(threads, "threads")
        self._lock = threading.Lock()
        self._state: _Loaded | None = None

    @property
    def name(self) -> str:
        """Short name, used in the detector id."""
        return self._name

    def __repr__(self) -> str:
        return f"OnnxClassifier(name={self._name!r}, model_path={str(self._model_path)!r})"

    def load(self) -> None:
        """Import onnxruntime and load the model and tokenizer now, rather than on the first `classify`.

        Raises:
            ClassifierError: The model or tokenizer cannot be loaded, or the
                model's inputs are not ones this adapter can feed.
        """
        self._loaded()

    def classify(self, texts: Sequence[str]) -> list[float]:
        """Return the probability of the positive class for each text.

        Raises:
            ClassifierError: The model cannot be loaded or run, or its output
                has an unexpected shape.
        """
        if not texts:
            return []
        state = self._loaded()
        scores: list[float] = []
        for i in range(0, len(texts), self._batch_size):
            try:
                scores.extend(self._run(state, texts[i : i + self._batch_size]))
            except ClassifierError:
                raise
            except Exception as exc:
                raise ClassifierError(f"ONNX classifier {self._name!r} failed ({type(exc).__name__})") from exc
        return scores

    def _run(self, state: _Loaded, texts: Sequence[str]) -> list[float]:
        np = state.np
        encodings = state.tokenizer.encode_batch(list(texts))
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feeds = {name: np.asarray(columns[name], dtype=dtype) for name, dtype in state.inputs}
        (out,) = state.session.run([state.output], feeds)
        out = np.asarray(out, dtype=np.float64)
        if out.ndim != 2 or out.shape[0] != len(texts) or self._positive >= max(out.shape[1], 2):
            raise ClassifierError(
                f"ONNX classifier {self._name!r}: output of shape {tuple(out.shape)} does not fit "
                f"{len(texts)} texts and positive class {self._positive}"
            )
        if out.shape[1] == 1:  # one column: the positive class's logit or probability
            probs = out[:, 0] if self._outputs == "probabilities" else 1.0 / (1.0 + np.exp(-out[:, 0]))
            if self._positive == 0:
                probs = 1.0 - probs
        elif self._outputs == "probabilities":
            probs = out[:, self._positive]
        else:
            shifted = np.exp(out - out.max(axis=1, keepdims=True))
            probs = shifted[:, self._positive] / shifted.sum(axis=1)
        return [min(1.0, max(0.0, float(p))) for p in probs]

    def _loaded(self) -> _Loaded:
        state = self._state
        if state is None:
            with self._lock:
                state = self._state
                # pragma reason: "another thread loaded it first" needs a timed race to test
                if state is None:  # pragma: no branch
                    state = self._state = self._load()
        return state

    def _load(self) -> _Loaded:
        try:
            import numpy as np
            import onnxruntime as ort
            from tokenizers import Tokenizer

            options = ort.SessionOptions()
            if self._threads is not None:
                options.intra_op_num_threads = self._threads
            session = ort.InferenceSession(str(self._model_path), options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
        except Exception as exc:
            raise ClassifierError(f"ONNX classifier {self._name!r} cannot be loaded ({type(exc).__name__})") from exc
        inputs: list[tuple[str, str]] = []
        for arg in session.get_inputs():
            dtype = _INT_TYPES.get(arg.type)
            if arg.name not in _KNOWN_INPUTS or dtype is None:
                raise ClassifierError(
                    f"ONNX classifier {self._name!r}: unsupported model input {arg.name!r} of type {arg.type}; "
                    f"expected int64/int32 {', '.join(_KNOWN_INPUTS)}"
                )
            inputs.append((arg.name, dtype))
        if "input_ids" not in {name for name, _ in inputs}:
            raise ClassifierError(f"ONNX classifier {self._name!r}: the model has no input_ids input")
        names = [o.name for o in session.get_outputs()]
        output = "logits" if "logits" in names else names[0]
        tokenizer.enable_truncation(max_length=self._max_length)
        if tokenizer.padding is None:  # pad each batch to its longest text, with the tokenizer's pad token
            pad = next((t for t in _PAD_TOKENS if tokenizer.token_to_id(t) is not None), None)
            tokenizer.enable_padding(pad_id=0 if pad is None else tokenizer.token_to_id(pad), pad_token=pad or "[PAD]")
        return _Loaded(np, session, tokenizer, tuple(inputs), output)
