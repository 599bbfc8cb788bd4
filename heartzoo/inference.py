"""Running a model on prepared inputs: logits in batches, probabilities, and rows of inputs."""

from __future__ import annotations

import numpy as np

from .preprocess import input_count, input_rows

__all__ = ["input_count", "input_rows", "predict_logits", "predict_probs", "softmax"]


def predict_logits(model, inputs, batch_size: int = 1024) -> np.ndarray:
    return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict_probs(model, inputs, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities of a Keras model that outputs logits (every zoo model's float form)."""
    return softmax(predict_logits(model, inputs, batch_size))
