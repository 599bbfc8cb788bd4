"""A class-balanced training stream over HDF5 shards (`shards.prepare_shards`), in memory that stays
flat however many shards there are.

Per task class, a `ClassReader` walks the (shard, AAMI group) slices that hold the class in a shuffled
order, pass after pass, with `cycle` slices open at once. It keeps a pool of `pool` rows: each draw
takes random rows of the pool and puts the next rows of the open slices (read a whole HDF5 chunk at a
time, in a random chunk order, from each slice in turn) in their places, as a shuffle buffer does, so
rows of several patients sit side by side. Each batch draws its classes with probability
n_c^power / sum, the counts taken from the manifest (a few numbers, not an index of every beat).
Memory: classes x (pool + cycle chunks) rows, whatever the size of the data (benchmarks/shards.py:
60-76 MB over the baseline from 50,000 to 800,000 beats, where the in-memory path grew to 4.8 GB).

Batches then pass through the same `Preprocessor` (and `Augmenter`) as the in-memory `batch_stream`,
so a model sees the same inputs from shards as from memory; only the order of the draws differs. The
sampling is numpy at batch level, wrapped once by tf.data: drawing each row through tf.data's
`sample_from_datasets` was 3-10x slower in a trial here (per-element overhead).
Unlike `batch_stream`, the stream's position is not saved at epoch boundaries: a resumed run draws other
batches than an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import HeartzooError
from ..preprocess import RR_COLUMNS, Preprocessor
from ..tasks import AAMI_CLASSES, Task, get_task
from .shards import CHUNK_ROWS, check_cache_version, read_manifest

Slice = tuple[str, str, int]  # shard file, AAMI group, beats


def class_slices(manifest: dict[str, Any], folder: Path, task: Task) -> list[list[Slice]]:
    """Per task class: the (shard file, AAMI group, beats) slices that hold it, from the manifest."""
    return [
        [
            (str(folder / s["file"]), a, int(s["counts"][a]))
            for s in manifest["shards"]
            for a in AAMI_CLASSES
            if task.aami_map.get(a) == name and s["counts"][a] > 0
        ]
        for name in task.class_names
    ]


def draw_weights(counts: np.ndarray, balance: str, power: float) -> tuple[np.ndarray, np.ndarray]:
    """(probability of drawing each class, loss weight of each class) from the class counts, as
    `pipeline.batch_stream` has them: sampling draws n_c^power; class_weight draws as is and weighs."""
    counts = np.asarray(counts, dtype=np.float64)
    p = np.where(counts > 0, counts ** (power if balance == "sampling" else 1.0), 0.0)
    weights = np.ones(len(counts), np.float32)
    if balance == "class_weight":
        w = np.where(counts > 0, counts ** (power - 1.0), 0.0)
        weights = (w * counts.sum() / max((w * counts).sum(), 1e-12)).astype(np.float32)
    return p / p.sum(), weights


class ClassReader:
    """Rows of one class through a shuffle pool, as tf.data's shuffle buffer but a batch at a time:
    a draw takes random rows of the pool and puts the next rows of the open slices in their place,
    taking them from each open slice in turn."""

    def __init__(self, slices: list[Slice], rng: np.random.Generator, *, cycle: int, pool: int) -> None:
        self.slices = slices
        self.rng = rng
        self.cycle = max(1, min(cycle, len(slices)))
        self.size = min(pool, sum(n for *_, n in slices))  # the whole class, when it is smaller
        self.order: list[int] = []
        self.open: list[list] = []  # [chunks of a slice, current chunk, rows of it used]
        self.turn = 0
        self.pool: dict[str, np.ndarray] | None = None

    def _next_slice(self) -> list:
        if not self.order:  # a new pass, in a new order
            self.order = self.rng.permutation(len(self.slices)).tolist()
        return [self._chunks(self.slices[self.order.pop()]), None, 0]

    def _chunks(self, piece: Slice) -> Iterator[dict[str, np.ndarray]]:
        import h5py

        path, group, _ = piece
        try:
            f = h5py.File(path, "r")
        except OSError as exc:
            raise HeartzooError(f"{path}: cannot read shard ({exc}); prepare the shards again") from None
        with f:
            g = f[group]
            names = [k for k in ("x", "rr", "template") if k in g]
            n = g["x"].shape[0]
            for start in self.rng.permutation(np.arange(0, n, CHUNK_ROWS)):
                sl = slice(int(start), int(min(n, start + CHUNK_ROWS)))
                yield {k: g[k][sl] for k in names}

    def _next_rows(self, k: int) -> dict[str, np.ndarray]:
        """The next `k` rows off the open slices, from one slice, then the next, in turn."""
        while len(self.open) < self.cycle:
            self.open.append(self._next_slice())
        parts = []
        while k > 0:
            slot = self.open[self.turn]
            if slot[1] is None or slot[2] == len(slot[1]["x"]):
                slot[1], slot[2] = next(slot[0], None), 0
                if slot[1] is None:  # that slice is done: the next takes its place
                    self.open[self.turn] = self._next_slice()
                    continue
            m = min(k, len(slot[1]["x"]) - slot[2])
            parts.append({name: a[slot[2] : slot[2] + m] for name, a in slot[1].items()})
            slot[2] += m
            k -= m
            self.turn = (self.turn + 1) % len(self.open)
        if len(parts) == 1:
            return parts[0]
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

    def take(self, k: int) -> dict[str, np.ndarray]:
        """`k` rows drawn at random from the pool (without replacement, unless the whole class is
        fewer than `k` rows); the next rows of the slices take their places."""
        if self.pool is None:
            self.pool = {name: np.array(a) for name, a in self._next_rows(self.size).items()}
        if k <= self.size:
            idx = self.rng.choice(self.size, size=k, replace=False)
        else:
            idx = self.rng.integers(0, self.size, size=k)
        out = {name: a[idx] for name, a in self.pool.items()}
        places = np.unique(idx)
        incoming = self._next_rows(len(places))
        for name, a in self.pool.items():
            a[places] = incoming[name]
        return out


def shard_batches(
    folder: str | os.PathLike[str],
    task: str | Task,
    pre: Preprocessor,
    *,
    batch_size: int,
    balance: str = "sampling",
    power: float = 0.5,
    seed: int = 0,
    augmenter=None,
    cycle: int = 8,
    pool: int = 4096,
) -> Iterator[tuple]:
    """Endless (inputs, one-hot labels, sample weights) batches from the shards in `folder`, as
    `pipeline.batch_stream` draws them from memory. The shards must have been made by `pre`: checked
    here, before the first batch."""
    folder = Path(folder)
    task = get_task(task) if isinstance(task, str) else task
    manifest = read_manifest(folder)
    check_cache_version(folder, manifest["contract"])
    if manifest["contract"]["input"] != pre.spec.model_dump(mode="json"):
        raise HeartzooError(
            f"{folder}: shards prepared for another input ({manifest['contract']['input']}); prepare them "
            "again with this configuration's input"
        )
    slices = class_slices(manifest, folder, task)
    counts = np.array([sum(n for *_, n in s) for s in slices], dtype=np.float64)
    if not counts.sum():
        raise HeartzooError(f"{folder}: no beat of the classes of {task.name}")
    probs, weights = draw_weights(counts, balance, power)
    rng = np.random.default_rng(seed)
    readers = [ClassReader(s, rng, cycle=cycle, pool=max(pool, batch_size)) if s else None for s in slices]
    return _batches(readers, probs, weights, rng, pre, batch_size, task.num_classes, augmenter)


def _batches(readers, probs, weights, rng, pre: Preprocessor, batch_size: int, num_classes: int, augmenter):
    eye = np.eye(num_classes, dtype=np.float32)
    with_template = pre.spec.template_beats > 0
    while True:
        y = rng.choice(num_classes, size=batch_size, p=probs)
        x = np.empty((batch_size, pre.spec.frame_size), np.float32)
        rr = np.empty((batch_size, RR_COLUMNS), np.float32)
        template = np.empty_like(x) if with_template else None
        for c, reader in enumerate(readers):
            hit = np.flatnonzero(y == c)
            if not len(hit) or reader is None:
                continue
            rows = reader.take(len(hit))
            x[hit], rr[hit] = rows["x"], rows["rr"]
            if template is not None:
                template[hit] = rows["template"]
        if augmenter is not None and augmenter.active:
            x = augmenter(x, rng)
        ecg = pre.ecg(x, template)
        inputs = {"ecg": ecg, "rr": pre.rr(rr)} if pre.rr_features else ecg
        yield inputs, eye[y], weights[y]


def shard_dataset(folder: str | os.PathLike[str], task: str | Task, pre: Preprocessor, **kw):
    """`shard_batches` as a prefetched tf.data.Dataset (for keras.Model.fit), with the signature of
    `pipeline.training_dataset`; `kw` go to `shard_batches`."""
    import tensorflow as tf

    task = get_task(task) if isinstance(task, str) else task
    shapes = {k: tf.TensorSpec((None, *v), tf.float32) for k, v in pre.input_shapes.items()}
    x_spec = shapes if pre.rr_features else shapes["ecg"]
    signature = (
        x_spec,
        tf.TensorSpec((None, task.num_classes), tf.float32),
        tf.TensorSpec((None,), tf.float32),
    )
    shard_batches(folder, task, pre, **kw)  # a wrong folder or input is an error now, not at the first batch
    ds = tf.data.Dataset.from_generator(
        lambda: shard_batches(folder, task, pre, **kw), output_signature=signature
    )
    return ds.prefetch(4)


def stream_counts(folder: str | os.PathLike[str], task: str | Task) -> dict[str, int]:
    """Beats of each task class in the shards (from the manifest)."""
    task = get_task(task) if isinstance(task, str) else task
    m = read_manifest(folder)
    slices = class_slices(m, Path(folder), task)
    return {name: sum(n for *_, n in s) for name, s in zip(task.class_names, slices, strict=True)}
