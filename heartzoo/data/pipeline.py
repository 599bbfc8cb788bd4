"""Model inputs from prepared frames, and the tf.data training stream.

The training stream draws class-balanced batches (class c in proportion to n_c^power), augments each
batch in numpy (jitter, NSTDB noise, amplitude) and prefetches, so the input side stays off the
critical path (benchmarks/bench_train_epoch.py measures it).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .augment import Augmenter
from .windows import WindowSet

RR_FEATURES = ("pre/local10", "post/local10", "pre/local300", "post/local300")


def rr_ratios(rr: np.ndarray) -> np.ndarray:
    """RR features the model sees: previous and next RR over the causal means of 10 and 300 RRs."""
    rr = np.asarray(rr, dtype=np.float32)
    eps = np.float32(1e-3)
    local10, local300 = rr[:, 2:3] + eps, rr[:, 3:4] + eps
    return np.concatenate([rr[:, 0:2] / local10, rr[:, 0:2] / local300], axis=1).astype(np.float32)


def frames_tensor(x: np.ndarray, template: np.ndarray | None) -> np.ndarray:
    """(n, 1, T, C): the frame, and frame - running template as a second channel when there is one."""
    if template is None:
        return x[:, None, :, None]
    return np.stack([x, x - template], axis=-1)[:, None, :, :]


def model_inputs(ws: WindowSet, rr_features: bool):
    """(n, 1, T, C) frames, plus the RR ratios when the model takes them."""
    x = frames_tensor(ws.x, ws.template)
    if rr_features:
        return {"ecg": x, "rr": rr_ratios(ws.rr)}
    return x


def input_rows(inputs, index):
    """The rows `index` (indices, mask or slice) of what `model_inputs` returns, in the same form."""
    return {k: v[index] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[index]


def class_draw_probabilities(labels: np.ndarray, num_classes: int, power: float) -> np.ndarray:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, counts**power, 0.0)
    return weights / weights.sum()


def class_weights(labels: np.ndarray, num_classes: int, power: float) -> np.ndarray:
    """Per-class loss weights giving class c a total weight proportional to n_c^power, mean 1 per frame."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, counts ** (power - 1.0), 0.0)
    return (w * len(labels) / max((w * counts).sum(), 1e-12)).astype(np.float32)


def batch_stream(
    ws: WindowSet,
    labels: np.ndarray,
    num_classes: int,
    *,
    batch_size: int,
    balance: str,
    power: float,
    augmenter: Augmenter | None,
    rr_features: bool,
    seed: int,
) -> Iterator[tuple]:
    """Endless (inputs, one-hot labels, sample weights) batches."""
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
    probs = class_draw_probabilities(labels, num_classes, power if balance == "sampling" else 1.0)
    weights = (
        class_weights(labels, num_classes, power)
        if balance == "class_weight"
        else np.ones(num_classes, np.float32)
    )
    rr_all = rr_ratios(ws.rr) if rr_features else None
    eye = np.eye(num_classes, dtype=np.float32)
    while True:
        if balance == "sampling":
            cls = rng.choice(num_classes, size=batch_size, p=probs)
            idx = np.empty(batch_size, dtype=np.int64)
            for c in range(num_classes):
                hit = cls == c
                if hit.any():
                    idx[hit] = rng.choice(by_class[c], size=int(hit.sum()))
        else:
            idx = rng.integers(0, len(labels), size=batch_size)
        x = ws.x[idx]
        if augmenter is not None and augmenter.active:
            x = augmenter(x, rng)
        x = frames_tensor(x, None if ws.template is None else ws.template[idx])
        y = labels[idx]
        inputs = {"ecg": x, "rr": rr_all[idx]} if rr_all is not None else x
        yield inputs, eye[y], weights[y]


def training_dataset(ws: WindowSet, labels: np.ndarray, num_classes: int, *, rr_features: bool, **kw):
    """The batch stream as a prefetched tf.data.Dataset (for keras.Model.fit)."""
    import tensorflow as tf

    t = ws.x.shape[1]
    x_spec = tf.TensorSpec((None, 1, t, 1 if ws.template is None else 2), tf.float32)
    if rr_features:
        x_spec = {"ecg": x_spec, "rr": tf.TensorSpec((None, len(RR_FEATURES)), tf.float32)}
    signature = (x_spec, tf.TensorSpec((None, num_classes), tf.float32), tf.TensorSpec((None,), tf.float32))
    ds = tf.data.Dataset.from_generator(
        lambda: batch_stream(ws, labels, num_classes, rr_features=rr_features, **kw),
        output_signature=signature,
    )
    return ds.prefetch(4)
