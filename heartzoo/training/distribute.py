"""Training on several devices or machines with tf.distribute, and launching local workers.

Strategies: "none" (today's single-process path, unchanged), "mirrored" (`MirroredStrategy`, every
GPU of one machine) and "multi-worker" (`MultiWorkerMirroredStrategy`, one process per machine, the
cluster read from `TF_CONFIG`). With a strategy, every replica takes its slice of the same global batch
(`train.batch_size`), so a distributed run computes what a single process does with that batch, up to
float summation order; batch normalisation is synchronised across replicas while training for that reason.

Keras 3's `Model.fit` does not run under `MultiWorkerMirroredStrategy` (keras-team/keras#20585: the
metric reduction it hard-codes fails there), so a strategy trains through `distributed_fit` below: the
model's own `train_step` run by `strategy.run`, with the same callbacks `fit` would call.

Every worker runs the same callbacks; worker 0 (the chief) writes the run folder, the others write to
a scratch folder of their own and read the chief's state and backup when resuming, as TensorFlow's
multi-worker checkpointing does. The run folder must therefore be on storage every worker sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

STRATEGIES = ("none", "mirrored", "multi-worker")


@dataclass(frozen=True)
class Worker:
    """Which process of a multi-worker cluster this is (index 0 is the chief)."""

    index: int = 0
    count: int = 1

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    def scratch(self, folder: Path) -> Path:
        """Where this worker writes what belongs in `folder`: the folder itself for the chief."""
        return folder if self.is_chief else folder / f".worker{self.index}"


def worker_from_env(environ=None) -> Worker:
    """This process's place in the cluster `TF_CONFIG` describes (validated: a clear error naming the
    field), or a lone worker when it is unset."""
    raw = (os.environ if environ is None else environ).get("TF_CONFIG")
    if not raw:
        return Worker()
    try:
        spec = json.loads(raw)
        workers = spec["cluster"]["worker"]
        kind, index = spec["task"]["type"], spec["task"]["index"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"TF_CONFIG: expected {{'cluster': {{'worker': [host:port, ...]}}, 'task': {{'type': 'worker', "
            f"'index': i}}}} ({exc.__class__.__name__}: {exc})"
        ) from None
    if set(spec["cluster"]) - {"worker"}:
        raise ConfigError(
            f"TF_CONFIG: field 'cluster': only 'worker' jobs are used (worker 0 is the chief), got "
            f"{sorted(spec['cluster'])}"
        )
    if kind != "worker" or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ConfigError(
            f"TF_CONFIG: field 'task': type 'worker' with an index below {len(workers)}, got {spec['task']}"
        )
    return Worker(index, len(workers))


def make_strategy(kind: str):
    """The tf.distribute strategy named `kind`, or None for "none"."""
    if kind not in STRATEGIES:
        raise ConfigError(f"strategy: expected one of {', '.join(STRATEGIES)}, got {kind!r}")
    if kind == "none":
        return None
    import tensorflow as tf

    if kind == "mirrored":
        return tf.distribute.MirroredStrategy()
    if not os.environ.get("TF_CONFIG"):
        raise ConfigError("strategy 'multi-worker' needs TF_CONFIG (or use `heartzoo train --workers N`)")
    worker_from_env()  # a malformed TF_CONFIG is named here, not deep inside TensorFlow
    return tf.distribute.MultiWorkerMirroredStrategy()


def worker_of(strategy) -> Worker:
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return worker_from_env()
    return Worker()


def strategy_kind(strategy) -> str:
    """The name of `strategy` among STRATEGIES ("mirrored" for any other single-machine one)."""
    import tensorflow as tf

    if strategy is None:
        return "none"
    return "multi-worker" if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) else "mirrored"


def check_distributable(config) -> None:
    """A ConfigError for a config the workers of a cluster cannot share: an ensemble's members train one
    after another, each on one device (the chief would train them all while the others wait)."""
    if config.ensemble is not None:
        raise ConfigError(
            f"{config.name}: an ensemble's members train one after another; run it without a multi-worker "
            "strategy"
        )


def check_batch(strategy, batch_size: int) -> None:
    n = strategy.num_replicas_in_sync
    if batch_size % n:
        raise ConfigError(
            f"field 'train.batch_size': {batch_size} does not split evenly over {n} replicas; "
            "each replica trains on an equal slice of the global batch"
        )


@contextlib.contextmanager
def synchronized_batch_norm(model):
    """Batch statistics over the global batch while training (as one process computes them), set back
    afterwards so the saved model is the same as a single-process one."""
    layers = [la for la in _all_layers(model) if la.__class__.__name__ == "BatchNormalization"]
    for la in layers:
        la.synchronized = True
    try:
        yield
    finally:
        for la in layers:
            la.synchronized = False


def _all_layers(model):
    for la in model.layers:
        yield la
        if hasattr(la, "layers"):
            yield from _all_layers(la)


def distributed_fit(model, dataset, *, strategy, epochs: int, steps_per_epoch: int, callbacks: list) -> None:
    """`model.fit(dataset, epochs=..., steps_per_epoch=...)` under `strategy`: the model's `train_step`
    on each replica's slice of every global batch, with the callbacks called as `fit` calls them
    (BackupAndRestore's epoch to resume at, `stop_training`). Build and compile the model in
    `strategy.scope()` first."""
    import keras
    import tensorflow as tf

    with strategy.scope():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    # a function of the InputContext: each worker's own stream (of its shards); a dataset: the global
    # batch, drawn alike everywhere, sliced across the replicas
    batches = (
        strategy.distribute_datasets_from_function(dataset)
        if callable(dataset)
        else strategy.experimental_distribute_dataset(dataset)
    )

    @tf.function
    def step(iterator):
        out = strategy.run(model.train_step, args=(next(iterator),))
        # each replica's loss is its own slice's: their mean is the global batch's
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in out.items()}

    cbs = keras.callbacks.CallbackList(
        callbacks, model=model, epochs=epochs, steps=steps_per_epoch, verbose=0
    )
    model.stop_training = False
    model._initial_epoch = None
    cbs.on_train_begin()
    first = model._initial_epoch or 0  # set by BackupAndRestore when resuming
    iterator = iter(batches)
    with synchronized_batch_norm(model):
        for epoch in range(first, epochs):
            model.reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs: dict[str, Any] = {}
            for batch in range(steps_per_epoch):
                cbs.on_train_batch_begin(batch)
                logs = {k: float(v) for k, v in step(iterator).items()}
                cbs.on_train_batch_end(batch, logs)
            cbs.on_epoch_end(epoch, dict(logs))
            if model.stop_training:
                break
    cbs.on_train_end()


def barrier(strategy) -> None:
    """Return once every worker has reached this point (a one-number all-reduce)."""
    if strategy is None:
        return
    import tensorflow as tf

    strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)


def local_predict(model, inputs, batch_size: int = 1024):
    """The model's outputs computed in this process alone (Keras' `predict` would split them across
    workers): every worker scores the whole validation set, so all make the same selection."""
    import numpy as np

    n = len(inputs["ecg"] if isinstance(inputs, dict) else inputs)
    out = []
    for i in range(0, n, batch_size):
        part = (
            {k: v[i : i + batch_size] for k, v in inputs.items()}
            if isinstance(inputs, dict)
            else inputs[i : i + batch_size]
        )
        out.append(np.asarray(model(part, training=False)))
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def cluster_env(workers: int, host: str = "127.0.0.1") -> list[dict[str, str]]:
    """One TF_CONFIG per local worker, on free ports of `host`."""
    addresses = [f"{host}:{p}" for p in free_ports(workers, host)]
    return [
        {"TF_CONFIG": json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}})}
        for i in range(workers)
    ]


def launch_local(
    argv: list[str], workers: int, *, log_dir: Path, env: dict[str, str] | None = None, poll: float = 0.5
) -> int:
    """Run `python -m heartzoo <argv>` once per worker on this machine, each with its TF_CONFIG, and
    wait. When one fails, the others are stopped (a collective cannot finish without it) and its exit
    code returned: running the same command again resumes every worker from the chief's last backup.
    Worker 0 keeps this terminal; worker i writes to `log_dir/worker<i>.log`, its process id to
    `log_dir/worker<i>.pid`."""
    base = {**os.environ, **(env or {})}
    procs: list[subprocess.Popen] = []
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        for i, extra in enumerate(cluster_env(workers)):
            log = None if i == 0 else open(log_dir / f"worker{i}.log", "ab")  # noqa: SIM115
            with log or contextlib.nullcontext():
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "heartzoo", *argv],
                        env={**base, **extra},
                        stdout=log,
                        stderr=log,
                    )
                )
            (log_dir / f"worker{i}.pid").write_text(f"{procs[-1].pid}\n")
        while True:
            codes = [p.poll() for p in procs]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                return failed[0]
            if all(c == 0 for c in codes):
                return 0
            time.sleep(poll)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
