"""Classifiers: a machine-learning model as one more signal of the prompt guard.

A `Classifier` scores texts (the probability that each is an attack);
`ClassifierDetector` turns it into a detector whose findings carry that score
as their confidence, so the policy's ``level`` and ``thresholds:`` decide::

    detector = ClassifierDetector(OnnxClassifier("model/model.onnx", name="injection_onnx"))
    guard = aispm.Guard(
        {"prompt": {"detectors": ["injection.instruction_override", detector.id]}},
        detectors=[detector],
    )

The adapters load local files only and import their runtime on first use:
`OnnxClassifier` (extra ``onnx``) and `HuggingFaceClassifier` (extra
``huggingface``). Importing this package imports none of them.
"""

from __future__ import annotations

from ._detector import ClassifierDetector
from ._protocol import Classifier, ClassifierError
from .huggingface import HuggingFaceClassifier
from .onnx import OnnxClassifier

__all__ = ["Classifier", "ClassifierDetector", "ClassifierError", "HuggingFaceClassifier", "OnnxClassifier"]
