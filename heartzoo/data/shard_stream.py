"""A class-balanced training stream over HDF5 shards (`shards.prepare_shards`), in memory that stays
flat however many shards there are.

Per task class, a `ClassReader` walks the class's rows as pieces (at most one HDF5 chunk of one shard's
class group each; validation records' rows, left out, split a chunk into several pieces) in a shuffled
order, pass after pass, with `cycle` pieces open at once. It keeps a pool of `pool` rows: each draw
takes random rows of the pool and puts the next rows of the open pieces (taken from each in turn) in
their places, as a shuffle buffer does, so rows of several patients sit side by side. Each batch draws its classes with probability n_c^power / sum, the counts taken from the manifest
(a few numbers, not an index of every beat). Memory: classes x (pool + cycle chunks) rows, whatever the
size of the data (benchmarks/shards.py: 60-76 MB over the baseline from 50,000 to 800,000 beats, where
the in-memory path grew to 4.8 GB).

Batches then pass through the same `Preprocessor` (and `Augmenter`) as the in-memory `batch_stream`,
so a model sees the same inputs from shards as from memory; only the order of the draws differs. The
sampling is numpy at batch level, wrapped once by tf.data: drawing each row through tf.data's
`sample_from_datasets` was 3-10x slower in a trial here (per-element overhead).
As `batch_stream`'s, the stream's position is recorded at every epoch boundary (`ShardStream.state`: the
generator, and per class the pieces left in the pass, the open ones and the pool's rows by place), so a
resumed run draws the batches an uninterrupted one would. Several workers each read their own pieces
(`class_pieces`' `share`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import HeartzooError
from ..preprocess import Preprocessor
from ..preprocess.rr_features import RR_COLUMNS
from ..tasks import Task, get_task
from .augment import premature_context
from .shard_manifest import MANIFEST
from .shards import CHUNK_ROWS, check_cache_version, read_manifest

Piece = tuple[int, str, int, int]  # shard (its place in the manifest), class group, first row, end row


def kept_runs(shard: dict[str, Any], group: str, skip_records: frozenset[str]) -> list[tuple[int, int]]:
    """The row ranges of a shard's class group outside the records of `skip_records` (its rows lie
    record after record, `rows` counting each record's)."""
    n = int(shard["counts"][group])
    if skip_records.isdisjoint(shard["records"]):
        return [(0, n)] if n else []
    ends = np.cumsum(shard["rows"][group])
    runs: list[tuple[int, int]] = []
    for record, start, end in zip(shard["records"], ends - shard["rows"][group], ends, strict=True):
        if record in skip_records or start == end:
            continue
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], int(end))
        else:
            runs.append((int(start), int(end)))
    return runs


def class_pieces(
    manifest: dict[str, Any],
    task: Task,
    *,
    skip_records: Collection[str] = (),
    share: tuple[int, int] = (0, 1),
) -> list[list[Piece]]:
    """Per task class: its rows outside `skip_records` as pieces within one HDF5 chunk, dealt to worker
    `share[0]` of `share[1]` (every n-th piece, so the workers' shares are disjoint and of equal size up
    to one piece; a class of fewer pieces than workers is read by all)."""
    index, count = share
    skip_records = frozenset(skip_records)
    out = []
    for name in task.class_names:
        pieces = [
            (i, a, start, min((start // CHUNK_ROWS + 1) * CHUNK_ROWS, end))
            for i, s in enumerate(manifest["shards"])
            for a in manifest["classes"]
            if task.aami_map.get(a) == name
            for first, end in kept_runs(s, a, skip_records)
            for start in [first, *range((first // CHUNK_ROWS + 1) * CHUNK_ROWS, end, CHUNK_ROWS)]
        ]
        out.append(pieces[index::count] if len(pieces) >= count else pieces)
    return out


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
    a draw takes random rows of the pool and puts the next rows of the open pieces in their place,
    taking them from each open piece in turn. Its position (`state`) is a few numbers per open piece and
    the pool's rows named by (piece, row): `restore` reads them back, so a resumed stream goes on exactly."""

    def __init__(
        self, files: list[str], pieces: list[Piece], rng: np.random.Generator, *, cycle: int, pool: int
    ) -> None:
        self.files, self.pieces, self.rng = files, pieces, rng
        self.cycle = max(1, min(cycle, len(pieces)))
        self.size = min(pool, sum(b - a for *_, a, b in pieces))  # the whole class, when it is smaller
        self.order: list[int] = []
        self.open: list[list] = []  # [piece, rows of it used, its rows]
        self.turn = 0
        self.pool: dict[str, np.ndarray] | None = None
        self.pool_ids: np.ndarray | None = None  # (size, 2): piece, row within it

    def _read(self, k: int) -> dict[str, np.ndarray]:
        import h5py

        shard, group, a, b = self.pieces[k]
        path = self.files[shard]
        try:
            with h5py.File(path, "r") as f:
                g = f[group]
                return {name: g[name][a:b] for name in ("x", "rr", "template") if name in g}
        except OSError as exc:
            raise HeartzooError(f"{path}: cannot read shard ({exc}); prepare the shards again") from None

    def _open_next(self) -> list:
        if not self.order:  # a new pass, in a new order
            self.order = self.rng.permutation(len(self.pieces)).tolist()
        k = self.order.pop()
        return [k, 0, self._read(k)]

    def _next_rows(self, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The next `n` rows off the open pieces, from one piece, then the next, in turn; and their ids."""
        while len(self.open) < self.cycle:
            self.open.append(self._open_next())
        parts, ids = [], []
        while n > 0:
            slot = self.open[self.turn]
            k, used, rows = slot
            if used == len(rows["x"]):  # that piece is done: the next takes its place
                self.open[self.turn] = self._open_next()
                continue
            m = min(n, len(rows["x"]) - used)
            parts.append({name: a[used : used + m] for name, a in rows.items()})
            ids.append(np.stack([np.full(m, k), np.arange(used, used + m)], axis=1))
            slot[1] += m
            n -= m
            self.turn = (self.turn + 1) % len(self.open)
        out = (
            parts[0]
            if len(parts) == 1
            else {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        )
        return out, np.concatenate(ids)

    def take(self, k: int) -> dict[str, np.ndarray]:
        """`k` rows drawn at random from the pool (without replacement, unless the whole class is
        fewer than `k` rows); the next rows of the pieces take their places."""
        if self.pool is None:
            rows, self.pool_ids = self._next_rows(self.size)
            self.pool = {name: np.array(a) for name, a in rows.items()}
        if k <= self.size:
            idx = self.rng.choice(self.size, size=k, replace=False)
        else:
            idx = self.rng.integers(0, self.size, size=k)
        out = {name: a[idx] for name, a in self.pool.items()}
        places = np.unique(idx)
        incoming, ids = self._next_rows(len(places))
        for name, a in self.pool.items():
            a[places] = incoming[name]
        self.pool_ids[places] = ids
        return out

    def state(self) -> dict[str, Any]:
        return {
            "order": list(self.order),
            "open": [[k, used] for k, used, _ in self.open],
            "turn": self.turn,
            "pool": None if self.pool_ids is None else self.pool_ids.tolist(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.order, self.turn = list(state["order"]), state["turn"]
        self.open = [[k, used, self._read(k)] for k, used in state["open"]]
        if state["pool"] is None:
            self.pool = self.pool_ids = None
            return
        ids = np.asarray(state["pool"], dtype=np.int64).reshape(-1, 2)
        rows: dict[str, np.ndarray] = {}
        for k in np.unique(ids[:, 0]):
            at = np.flatnonzero(ids[:, 0] == k)
            piece = self._read(int(k))
            for name, a in piece.items():
                rows.setdefault(name, np.empty((len(ids), *a.shape[1:]), a.dtype))[at] = a[ids[at, 1]]
        self.pool, self.pool_ids = rows, ids


class ShardStream:
    """Endless (inputs, one-hot labels, sample weights) batches from the shards in `folder`, as
    `pipeline.batch_stream` draws them from memory. The shards must have been made by `pre` (checked
    here, before any batch). `skip_records`: records training must not read (the validation ones:
    their rows are left out of the pieces, wherever they lie); `share`: (this worker, workers), each
    reading its own pieces of every class with a generator of its own, the classes drawn from the whole
    data's counts.

    Its position at each epoch boundary (the generator and every reader's `state`) is recorded in
    `epoch_states`, which also says where it starts, as `pipeline.EpochStates` does for memory."""

    def __init__(
        self,
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
        skip_records: Collection[str] = (),
        share: tuple[int, int] = (0, 1),
        premature: tuple[float, tuple[int, int]] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.task = get_task(task) if isinstance(task, str) else task
        self.pre, self.batch_size, self.augmenter, self.premature = pre, batch_size, augmenter, premature
        manifest = read_manifest(self.folder)
        check_cache_version(self.folder, manifest["contract"])
        if manifest["contract"]["input"] != pre.spec.key():
            raise HeartzooError(
                f"{self.folder}: shards prepared for another input ({manifest['contract']['input']}); prepare "
                "them again with this configuration's input"
            )
        if manifest["classes"] != list(self.task.source_classes):
            raise HeartzooError(
                f"{self.folder}: shards of {manifest['unit']}-labelled data ({', '.join(manifest['classes'])}); "
                f"{self.task.name} reads {', '.join(self.task.source_classes)}: prepare them from its sources"
            )
        every = class_pieces(manifest, self.task, skip_records=skip_records)
        self.counts = np.array([sum(b - a for *_, a, b in p) for p in every], dtype=np.float64)
        if not self.counts.sum():
            raise HeartzooError(f"{self.folder}: no row of the classes of {self.task.name}")
        self.probs, self.weights = draw_weights(self.counts, balance, power)
        self.pieces = class_pieces(manifest, self.task, skip_records=skip_records, share=share)
        self.files = [str(self.folder / s["file"]) for s in manifest["shards"]]
        # what a saved position is a position in: the shards' layout and contents, by their digests
        self.layout = hashlib.sha256(
            json.dumps([[s["file"], s.get("sha256")] for s in manifest["shards"]]).encode()
        ).hexdigest()[:16]
        self.seed = seed if share[1] == 1 else [seed, share[0]]  # one worker: the single process's draws
        self.cycle, self.pool = cycle, max(pool, batch_size)
        self.rng = np.random.default_rng(self.seed)
        self.readers = self._readers(self.rng)

    def _readers(self, rng: np.random.Generator) -> list[ClassReader | None]:
        return [
            ClassReader(self.files, p, rng, cycle=self.cycle, pool=self.pool) if p else None
            for p in self.pieces
        ]

    def state(self) -> dict[str, Any]:
        """The stream's position: its generator's state and every reader's (JSON-able)."""
        return {
            "rng": self.rng.bit_generator.state,
            "readers": [r and r.state() for r in self.readers],
            "shards": self.layout,
        }

    def check_state(self, state: dict[str, Any] | None) -> None:
        """An error where `state` is a position in other shards than these (the folder prepared again):
        its rows name pieces that are now others, or none."""
        if state is not None and state.get("shards", self.layout) != self.layout:
            raise HeartzooError(
                f"{self.folder}: the shards changed since this run saved its place in them (prepared again?); "
                "resume it on the shards it began with, or start it again (heartzoo train --restart)"
            )

    def start_from(self, state: dict[str, Any] | None) -> None:
        """Start at `state` (a `state()`, a bare generator state: fresh readers, or None: the seed's start)."""
        from .pipeline import rng_from_state

        self.check_state(state)
        if state is None:
            self.rng = np.random.default_rng(self.seed)
        else:
            self.rng = rng_from_state(state.get("rng", state))
        self.readers = self._readers(self.rng)
        for reader, st in zip(
            self.readers, (state or {}).get("readers") or [None] * len(self.readers), strict=True
        ):
            if reader is not None and st is not None:
                reader.restore(st)

    def batches(self, epoch_states=None) -> Iterator[tuple]:
        """The batches; with `epoch_states` from where it says, recording the position at each epoch."""
        first_epoch = 0
        if epoch_states is not None:
            first_epoch, state = epoch_states.start()
            self.start_from(state)
        every = epoch_states.steps_per_epoch if epoch_states is not None else 0
        pre, n_classes = self.pre, self.task.num_classes
        eye = np.eye(n_classes, dtype=np.float32)
        with_template = pre.spec.template_beats > 0
        for n in itertools.count():
            if every and n % every == 0:
                epoch_states.record(first_epoch + n // every, self.state())
            rng, b = self.rng, self.batch_size
            y = rng.choice(n_classes, size=b, p=self.probs)
            x = np.empty((b, pre.spec.frame_size), np.float32)
            rr = np.empty((b, RR_COLUMNS), np.float32)
            template = np.empty_like(x) if with_template else None
            for c, reader in enumerate(self.readers):
                hit = np.flatnonzero(y == c)
                if not len(hit) or reader is None:
                    continue
                rows = reader.take(len(hit))
                x[hit], rr[hit] = rows["x"], rows["rr"]
                if template is not None:
                    template[hit] = rows["template"]
            if self.augmenter is not None and self.augmenter.active:
                x = self.augmenter(x, rng)
            ecg = pre.ecg(x, template)
            features = pre.rr(rr) if pre.rr_features else None
            if self.premature is not None and features is not None:
                share, classes = self.premature
                early = self.readers[classes[1]]
                pool = (
                    pre.rr(early.pool["rr"]) if early is not None and early.pool is not None else features[:0]
                )
                features, y = premature_context(features, y, rng, share, classes, pool)
            yield ({"ecg": ecg, "rr": features} if features is not None else ecg), eye[y], self.weights[y]


def shard_batches(
    folder: str | os.PathLike[str], task: str | Task, pre: Preprocessor, **kw
) -> Iterator[tuple]:
    """`ShardStream(folder, task, pre, **kw).batches()`: checked now, drawn from the seed's start."""
    return ShardStream(folder, task, pre, **kw).batches()


def shard_dataset(
    folder: str | os.PathLike[str], task: str | Task, pre: Preprocessor, *, epoch_states=None, **kw
):
    """The shard stream as a prefetched tf.data.Dataset (for keras.Model.fit), with the signature of
    `pipeline.training_dataset`; `kw` go to `ShardStream` (each iteration starts the stream anew, from the
    seed or from where `epoch_states` says). A wrong folder or input is an error now, not at a batch."""
    return _dataset_of(ShardStream(folder, task, pre, **kw), epoch_states)()


def training_input(
    config: Any,
    skip_records: Collection[str],
    *,
    share: tuple[int, int] = (0, 1),
    replicas: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
):
    """What `heartzoo train` reads when `config.data.shards` names a folder: (the tf.data.Dataset, or
    with a tf.distribute strategy a function of its InputContext returning it; steps per epoch; the
    `pipeline.EpochStates` the stream records its position in; the beats of each class).

    Checked against the config before anything trains: the sources the shards were prepared from, the
    input (in `ShardStream`), what the stream does not do. `skip_records` (the validation patients') are
    left out; `share`: this worker of several, reading its own pieces, each of the `replicas` trained in
    this process taking a batch of `train.batch_size` / (workers x replicas) rows, so the global batch
    is the config's whatever the number of workers."""
    from .. import paths
    from ..errors import ConfigError
    from .augment import Augmenter, premature_classes
    from .pipeline import EpochStates

    folder, tc, task = Path(config.data.shards), config.train, get_task(config.task)
    if not (folder / MANIFEST).is_file():
        raise ConfigError(
            f"field 'data.shards': no shards' manifest in {folder.resolve()} (a relative folder is read from "
            "where heartzoo runs); prepare them there with `heartzoo data shard`"
        )
    sources = read_manifest(folder).get("sources")
    if sources != list(config.data.train):
        raise ConfigError(
            f"{folder}: shards prepared from {sources}, but field 'data.train' is "
            f"{list(config.data.train)}; prepare them from the config's sources"
        )
    for field, value, default in (
        ("train.balance.patient_power", tc.balance.patient_power, 1.0),
        ("train.max_train_frames", tc.max_train_frames, None),
        ("data.af_beats", config.data.af_beats, None),
    ):
        if value != default:
            raise ConfigError(f"field '{field}': not available when training from shards (data.shards)")
    per_batch = tc.batch_size // (share[1] * replicas)
    if per_batch * share[1] * replicas != tc.batch_size:
        raise ConfigError(
            f"field 'train.batch_size': {tc.batch_size} does not split evenly over "
            f"{share[1] * replicas} replicas"
        )
    premature = premature_classes(task) if config.augment.premature else None
    stream = ShardStream(
        folder,
        task,
        Preprocessor(config.input),
        batch_size=per_batch,
        balance=tc.balance.method,
        power=tc.balance.power,
        seed=tc.seed,
        augmenter=Augmenter(config.augment, config.input, data_dir=paths.data_dir(data_dir)),
        skip_records=skip_records,
        share=share,
        premature=(config.augment.premature, premature) if premature else None,
    )
    steps = tc.steps_per_epoch or max(1, int(stream.counts.sum()) // tc.batch_size)
    # one element of the stream per replica and step: an epoch is steps x replicas of this process's
    # a resumed run's saved place is checked when training sets it, not inside tf.data's generator
    epoch_states = EpochStates(steps * replicas, check=stream.check_state)
    make = _dataset_of(stream, epoch_states)
    dataset = make(None) if (share[1], replicas) == (1, 1) else make
    return dataset, steps, epoch_states, stream.counts.astype(np.int64)


def _dataset_of(stream: ShardStream, epoch_states):
    def make(_input_context=None):
        import tensorflow as tf

        from .pipeline import batch_signature

        signature = batch_signature(stream.pre, stream.task.num_classes)
        ds = tf.data.Dataset.from_generator(lambda: stream.batches(epoch_states), output_signature=signature)
        return ds.prefetch(4)

    return make


def stream_counts(
    folder: str | os.PathLike[str], task: str | Task, skip_records: Collection[str] = ()
) -> dict[str, int]:
    """Rows of each task class in the shards (from the manifest), less those of `skip_records`."""
    task = get_task(task) if isinstance(task, str) else task
    pieces = class_pieces(read_manifest(folder), task, skip_records=skip_records)
    return {name: sum(b - a for *_, a, b in p) for name, p in zip(task.class_names, pieces, strict=True)}
