"""Model inputs from prepared frames, and the tf.data training stream.

The training stream draws class-balanced batches (class c in proportion to n_c^power; within a class,
optionally patient p in proportion to n_cp^patient_power), augments each
batch in numpy (jitter, NSTDB noise, amplitude) and prefetches, so the input side stays off the
critical path (benchmarks/bench_train_epoch.py measures it). One numpy Generator draws everything (the
sampler and the augmenter share it), batch after batch; `EpochStates` records its state at each epoch
boundary, so a resumed run draws exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..preprocess import Preprocessor
from .augment import Augmenter, premature_context
from .windows import WindowSet


def class_draw_probabilities(labels: np.ndarray, num_classes: int, power: float) -> np.ndarray:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, counts**power, 0.0)
    return weights / weights.sum()


def beat_draw_probabilities(
    labels: np.ndarray, patients: np.ndarray, num_classes: int, patient_power: float
) -> list[np.ndarray | None]:
    """For each class, the probability of each of its beats (in `labels` order) such that patient p's
    share of the class is proportional to n_cp^patient_power (None for a class without beats)."""
    out: list[np.ndarray | None] = []
    for c in range(num_classes):
        _, who, n = np.unique(patients[labels == c], return_inverse=True, return_counts=True)
        w = n[who].astype(np.float64) ** (patient_power - 1.0)
        out.append(w / w.sum() if len(w) else None)
    return out


def patients_of(records: np.ndarray) -> np.ndarray:
    """The patient (e.g. `mitdb:201`) of each beat's record: two records of one patient count as one."""
    from .splits import group_by_patient

    names, inverse = np.unique(records, return_inverse=True)
    patient = {r: p for p, rs in group_by_patient(names.tolist()).items() for r in rs}
    return np.array([patient[r] for r in names])[inverse]


def class_weights(labels: np.ndarray, num_classes: int, power: float) -> np.ndarray:
    """Per-class loss weights giving class c a total weight proportional to n_c^power, mean 1 per frame."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, counts ** (power - 1.0), 0.0)
    return (w * len(labels) / max((w * counts).sum(), 1e-12)).astype(np.float32)


def rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    """The numpy Generator whose `bit_generator.state` is `state` (a JSON-able dict)."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


class EpochStates:
    """Where the batch stream starts, and its position at every epoch boundary.

    The stream runs ahead of training (tf.data prefetches), so its position "now", at the end of an
    epoch, is already some batches into the next one. Instead the stream records its position (a
    JSON-able dict: the numpy Generator's state, and a shard stream's readers) at the moment it is about
    to draw batch k * steps_per_epoch (the start of epoch k), and whoever needs it (the training's
    model-selection callback, which persists it) waits for it with `state_at(k)`.
    `start_at(epoch, state)` says where the stream starts (None: from its seed's start); it may come after
    the stream was built (but before its first batch is drawn), once training knows the epoch it starts with.
    """

    def __init__(self, steps_per_epoch: int, check=None) -> None:
        self.steps_per_epoch = steps_per_epoch
        self._check = check  # raises where a saved state is not one of this stream's
        self._start: tuple[int, dict | None] | None = None
        self._states: dict[int, dict] = {}
        self._cond = threading.Condition()

    def start_at(self, epoch: int, state: dict[str, Any] | None) -> None:
        if self._check is not None:
            self._check(state)
        with self._cond:
            self._start = (epoch, state)
            self._states = {}

    def start(self) -> tuple[int, dict | None]:
        with self._cond:
            if self._start is None:
                raise RuntimeError("the batch stream was asked for a batch before its first epoch was chosen")
            return self._start

    def record(self, epoch: int, state: dict[str, Any]) -> None:
        with self._cond:
            self._states[epoch] = state
            self._cond.notify_all()

    def state_at(self, epoch: int, timeout: float | None = 600.0) -> dict[str, Any]:
        """The stream's position at the start of `epoch` (waits for the stream to get there); forgets
        the earlier ones."""
        with self._cond:
            if not self._cond.wait_for(lambda: epoch in self._states, timeout):
                raise TimeoutError(f"the batch stream did not reach epoch {epoch} in {timeout} s")
            for k in [k for k in self._states if k < epoch]:
                del self._states[k]
            return self._states[epoch]


def batch_stream(
    ws: WindowSet,
    labels: np.ndarray,
    num_classes: int,
    *,
    batch_size: int,
    balance: str,
    power: float,
    patient_power: float = 1.0,
    augmenter: Augmenter | None,
    pre: Preprocessor,
    seed: int | None = None,
    epoch_states: EpochStates | None = None,
    premature: tuple[float, tuple[int, int]] | None = None,
    negatives: Negatives | None = None,
) -> Iterator[tuple]:
    """Endless (inputs, one-hot labels, sample weights) batches.

    The draws come from `np.random.default_rng(seed)`, or, with `epoch_states`, from the Generator state
    `epoch_states.start()` gives (None: `seed`'s); with `epoch_states`, the Generator's state at each
    epoch boundary is recorded there. `premature`: (share, (N class, S class)) for
    `augment.premature_context`; `negatives`: unlabelled beats taking a share of every batch.
    """
    first_epoch, state = epoch_states.start() if epoch_states is not None else (0, None)
    rng = np.random.default_rng(seed) if state is None else rng_from_state(state)
    by_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
    probs = class_draw_probabilities(labels, num_classes, power if balance == "sampling" else 1.0)
    within = (
        beat_draw_probabilities(labels, patients_of(ws.record), num_classes, patient_power)
        if patient_power != 1.0
        else [None] * num_classes  # every beat alike: the draw the recipes before patient_power made
    )
    weights = (
        class_weights(labels, num_classes, power)
        if balance == "class_weight"
        else np.ones(num_classes, np.float32)
    )
    rr_all = pre.rr(ws.rr) if pre.rr_features else None
    # the RR inputs premature context draws from: the training S beats' (once, not every batch)
    early = rr_all[by_class[premature[1][1]]] if premature is not None and rr_all is not None else None
    eye = np.eye(num_classes, dtype=np.float32)
    every = epoch_states.steps_per_epoch if epoch_states is not None else 0
    for n in itertools.count():
        if every and n % every == 0:
            epoch_states.record(first_epoch + n // every, rng.bit_generator.state)
        if balance == "sampling":
            cls = rng.choice(num_classes, size=batch_size, p=probs)
            idx = np.empty(batch_size, dtype=np.int64)
            for c in range(num_classes):
                hit = cls == c
                if hit.any():
                    idx[hit] = rng.choice(by_class[c], size=int(hit.sum()), p=within[c])
        else:
            idx = rng.integers(0, len(labels), size=batch_size)
        x, y = ws.x[idx], labels[idx]
        template = None if ws.template is None else ws.template[idx]
        rr = rr_all[idx] if rr_all is not None else None
        if negatives is not None:  # rows replaced by unlabelled AF beats, marked -1 until their targets
            x, template, rr, y = _with_negatives(negatives, rng, x, template, rr, y)
        if augmenter is not None and augmenter.active:
            x = augmenter(x, rng)
        x = pre.ecg(x, template)
        if early is not None:
            share, classes = premature
            rr, y = premature_context(rr, y, rng, share, classes, early)
        inputs = {"ecg": x, "rr": rr} if rr is not None else x
        targets, w = eye[y], weights[y]
        if negatives is not None:
            targets[y < 0], w[y < 0] = negatives.allowed, 1.0
        yield inputs, targets, w


@dataclass(frozen=True)
class Negatives:
    """Beats with a partial label (`data.af_beats`): frames, their RR inputs and templates, the share of
    each batch they take, and the classes they may be in (a 0/1 row: the targets of the allowed-set loss)."""

    x: np.ndarray
    rr: np.ndarray | None
    template: np.ndarray | None
    share: float
    allowed: np.ndarray


def _with_negatives(neg: Negatives, rng: np.random.Generator, x, template, rr, y):
    at = np.flatnonzero(rng.random(len(y)) < neg.share)
    pick = rng.integers(0, len(neg.x), size=len(at))
    x, y = x.copy(), y.copy()
    x[at], y[at] = neg.x[pick], -1
    if template is not None:
        template = template.copy()
        template[at] = neg.template[pick]
    if rr is not None:
        rr = rr.copy()
        rr[at] = neg.rr[pick]
    return x, template, rr, y


def training_dataset(ws: WindowSet, labels: np.ndarray, num_classes: int, *, pre: Preprocessor, **kw):
    """The batch stream as a prefetched tf.data.Dataset (for keras.Model.fit); `kw` go to `batch_stream`
    (each iteration of the dataset starts the stream anew, from `seed`, `state` or `epoch_states.start()`)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_generator(
        lambda: batch_stream(ws, labels, num_classes, pre=pre, **kw),
        output_signature=batch_signature(pre, num_classes),
    )
    return ds.prefetch(4)


def batch_signature(pre: Preprocessor, num_classes: int) -> tuple:
    """The tf.data signature of a training stream's (inputs, targets, weights) batches, from memory or
    from shards alike."""
    import tensorflow as tf

    shapes = {k: tf.TensorSpec((None, *v), tf.float32) for k, v in pre.input_shapes.items()}
    x_spec = shapes if pre.rr_features else shapes["ecg"]
    return x_spec, tf.TensorSpec((None, num_classes), tf.float32), tf.TensorSpec((None,), tf.float32)
