"""The Keras callbacks of one training run, and `epoch_callbacks`, which assembles them: validation
macro-F1 into the logs, model selection and early stopping with their state (`state.json`, with a
snapshot per epoch of the batch stream's rng and the dropout layers' seeds), history rows, and Keras
backups written atomically; with `logging.epoch_weights`, each epoch's weights. `checkpoints` reads
what they leave on disk without Keras.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..config import HeartzooConfig
from ..inference import predict_logits, softmax
from ..io import atomic_path, write_json
from ..tasks import Task
from .checkpoints import read_state

COUNTERS = ("best", "best_epoch", "wait", "epochs_done")


def layer_rng_variables(model) -> list:
    """The state variables of the layers' random seed generators (dropout): Keras' weight files, and so
    its BackupAndRestore, leave them out."""
    return [v for v in model.variables if v.name == "seed_generator_state"]


def initial_state() -> dict[str, Any]:
    return {"best": -1.0, "best_epoch": -1, "wait": 0, "epochs_done": 0, "finished": False, "snapshots": []}


class Validation(keras.callbacks.Callback):
    """Validation macro-F1 and loss into the epoch logs (before anything that reads them). `predict`
    scores in this process alone under a multi-worker strategy."""

    def __init__(self, task: Task, val_inputs, val_labels, predict: Callable = predict_logits) -> None:
        super().__init__()
        self.task, self.val_inputs, self.val_labels, self.predict = task, val_inputs, val_labels, predict

    def on_epoch_end(self, epoch, logs=None):
        from ..evaluation.metrics import classification_report

        task, labels = self.task, self.val_labels
        probs = softmax(self.predict(self.model, self.val_inputs))
        rep = classification_report(labels, probs.argmax(axis=1), task.class_names, task.macro_classes)
        nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)).mean()
        logs.update(val_loss=float(nll), val_macro_f1=rep["macro_f1"])
        for name in task.class_names:
            logs[f"val_f1_{name}"] = rep["per_class"][name]["f1"]


class Selection(keras.callbacks.Callback):
    """Best-epoch weights, early stopping and history rows, persisted so a resumed run goes on.

    `state.json` holds the current `best`, `best_epoch`, `wait`, `epochs_done`, `started_at_epoch`
    and `finished` (no epoch left to train), and in `snapshots[k]` those after epoch k with the batch
    stream's rng state at the start of epoch k + 1 and the dropout layers' seed states. When training
    (re)starts at epoch S (Keras' backup decides S), the state rolls back to the snapshot after
    epoch S - 1: a run killed after this callback wrote epoch S but before Keras backed it up
    trains epoch S again, from the same state. It reads the state in `run_dir` (the chief's) and writes
    to `write_dir` (another worker's scratch folder, or `run_dir`). `select`: `best` keeps the epoch of
    highest validation macro-F1 and stops early; `last` keeps the last.
    """

    def __init__(
        self,
        config: HeartzooConfig,
        run_dir: Path,
        write_dir: Path,
        *,
        epochs: int,
        seed: int,
        epoch_states,
        select: str = "best",
        progress: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__()
        self.config, self.run_dir, self.write_dir = config, run_dir, write_dir
        self.epochs, self.seed, self.epoch_states = epochs, seed, epoch_states
        self.select, self.progress = select, progress
        self.state_path = write_dir / "state.json"
        self.history_path = write_dir / "history.csv"
        self.state = initial_state()
        if (run_dir / "state.json").exists():
            self.state.update(json.loads((run_dir / "state.json").read_text()))
        self._t0 = time.perf_counter()
        self._first = True

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self._first:
            self._first = False
            self._truncate_history(epoch)
            self._roll_back(epoch)
            self.state["started_at_epoch"] = epoch  # where Keras' backup let this session begin
            if epoch > 0 and self.progress is not None:
                self.progress(f"resuming at epoch {epoch + 1}")

    def _roll_back(self, epoch: int) -> None:
        """The state after epoch `epoch` - 1, and the batch stream set to start at `epoch`."""
        snapshots = self.state.get("snapshots", [])
        snap = snapshots[epoch - 1] if 0 < epoch <= len(snapshots) else None
        if epoch == 0:
            self.state = initial_state()
            rng = None  # the stream's own start (its seed; a worker's share of the shards, its own)
        elif snap is not None and snap.get("rng") is not None:
            self.state.update({k: snap[k] for k in COUNTERS}, finished=False, snapshots=snapshots[:epoch])
            rng = own_stream_state(self.write_dir, self.run_dir, epoch, snap["rng"])
            for v, value in zip(layer_rng_variables(self.model), snap["layer_rng"], strict=True):
                v.assign(np.asarray(value, dtype=v.dtype))
        else:  # a run folder written before the snapshots: not reproducible, only new batches
            rng = np.random.default_rng(self.seed + epoch).bit_generator.state
        self.epoch_states.start_at(epoch, rng)

    def _truncate_history(self, first_epoch: int) -> None:
        # Rows of epochs that will be trained again (killed after the row, before the backup).
        if not self.history_path.exists():
            return
        with open(self.history_path, newline="") as f:
            rows = list(csv.DictReader(f))
        keep = [r for r in rows if int(r["epoch"]) < first_epoch]
        if len(keep) != len(rows):
            self._write_rows(keep, list(rows[0]) if rows else [])

    def _write_rows(self, rows: list[dict], fields: list[str]) -> None:
        with atomic_path(self.history_path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)

    def on_epoch_end(self, epoch, logs=None):
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch, "seconds": round(time.perf_counter() - self._t0, 2), "learning_rate": lr}
        row.update({k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"})
        rows = []
        if self.history_path.exists():
            with open(self.history_path, newline="") as f:
                rows = list(csv.DictReader(f))
        self._write_rows([*rows, row], list(row))
        if self.config.logging.epoch_weights:  # the saved model's arrays alone (a distiller's student)
            with atomic_path(self.write_dir / "epochs" / f"{epoch:03d}.npz", suffix=".npz") as tmp:
                np.savez(tmp, *getattr(self.model, "student", self.model).get_weights())
        score = float(logs["val_macro_f1"])
        # with `last`, every epoch replaces the one kept ("best" is then the kept epoch's score)
        if score > self.state["best"] or self.select == "last":
            self.state.update(best=score, best_epoch=epoch, wait=0)
            with atomic_path(self.write_dir / "best.weights.h5", suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
        else:
            self.state["wait"] += 1
        self.state["epochs_done"] = epoch + 1
        stop = self.state["wait"] >= self.config.train.patience
        finished = stop or epoch + 1 >= self.epochs
        snap = {k: self.state[k] for k in COUNTERS}
        snap["rng"] = None if finished else self.epoch_states.state_at(epoch + 1)
        snap["layer_rng"] = [keras.ops.convert_to_numpy(v).tolist() for v in layer_rng_variables(self.model)]
        snapshots = self.state.get("snapshots", [])[:epoch]
        # None for epochs of a run folder written before the snapshots
        self.state["snapshots"] = [*snapshots, *[None] * (epoch - len(snapshots)), snap]
        self.state["finished"] = finished
        write_json(self.state_path, self.state)
        if stop:
            self.model.stop_training = True


class EmaSwap(keras.callbacks.Callback):
    """Swaps the model's weights with the optimizer's moving average of them at each epoch end; run
    twice, around validation and selection, so that those see (and `best.weights.h5` holds) the
    average while Keras' backup, after them, holds the training weights a resumed run goes on from.
    Keras' own SwapEMAWeights swaps back at the next epoch's start, after the backup was written."""

    def on_epoch_end(self, epoch, logs=None):
        opt = self.model.optimizer
        for var, avg in zip(opt._trainable_variables, opt._model_variables_moving_average, strict=True):
            value = keras.ops.convert_to_numpy(var)
            var.assign(avg)
            avg.assign(value)


class AtomicBackup(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, made safe against Ctrl-C in the middle of a write: Keras writes the
    weights in place and then the epoch, so an interrupt during or between the two left a backup that
    failed to load (a half-written weights file) or named the wrong epoch. Here each epoch's weights go
    to their own file, renamed into place whole, then the metadata naming them replaces the old one;
    the previous epoch's file is kept until the next one is in place. It resumes from `read_from`
    (default: `folder`), the chief's backup when this is another worker's."""

    def __init__(self, folder: Path, read_from: Path | None = None) -> None:
        super().__init__(str(folder))
        self.folder, self.read_from = folder, folder if read_from is None else read_from

    def _save_model(self):
        name = f"epoch{self._current_epoch}.weights.h5"
        with atomic_path(self.folder / name, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
        meta = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": name}
        write_json(self.folder / "training_metadata.json", meta)
        for old in self.folder.glob("epoch*.weights.h5"):
            if old.name not in (name, f"epoch{self._current_epoch - 1}.weights.h5"):
                old.unlink()

    def _load_model(self):
        meta = read_state(self.read_from / "training_metadata.json")
        if meta is None:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.read_from / meta["weights"])
        self.model._initial_epoch = meta["epoch"]


def epoch_callbacks(
    config: HeartzooConfig,
    run_dir: Path,
    task: Task,
    val_inputs,
    val_labels,
    *,
    epochs: int,
    seed: int,
    epoch_states,
    progress: Callable[[str], Any] | None = None,
    write_dir: Path | None = None,
    predict: Callable = predict_logits,
    select: str = "best",
    barrier: Callable[[], None] | None = None,
) -> list:
    """The callbacks of one training run in `run_dir`, in the order they must run. Under a multi-worker
    strategy every worker runs them: all read the state and backup in `run_dir` (the chief's), and each
    writes to its `write_dir` (the chief's is `run_dir`); `predict` is then one that scores in this
    process alone, and `barrier` one that returns once every worker reached it."""
    write_dir = run_dir if write_dir is None else write_dir
    selection = Selection(
        config,
        run_dir,
        write_dir,
        epochs=epochs,
        seed=seed,
        epoch_states=epoch_states,
        select=select,
        progress=progress,
    )
    cbs: list = [Validation(task, val_inputs, val_labels, predict), selection]
    if config.train.ema is not None:  # validate, select and save the averaged weights; back them up raw
        swap = EmaSwap()
        cbs = [swap, *cbs, swap]
    if barrier is not None:
        # every worker's state.json (a shard stream's position is each worker's own) holds the epoch
        # before the chief's backup does: a resume from that backup finds every worker's position
        cbs.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: barrier()))
    cbs.append(AtomicBackup(write_dir / "backup", read_from=run_dir / "backup"))
    if write_dir != run_dir:  # a worker's scratch copy: logs and tracking are the chief's
        return cbs
    if config.logging.tensorboard:
        cbs.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")))
    if config.logging.mlflow:
        from .tracking import mlflow_callback

        cbs.append(mlflow_callback(config, run_dir))
    return cbs


def own_stream_state(write_dir: Path, run_dir: Path, epoch: int, chief: dict) -> dict:
    """The batch stream's position at `epoch` for this worker: its own as it recorded it (a stream over
    its own share of shards), else the chief's (every worker draws the same stream from memory)."""
    own, snap = write_dir / "state.json", None
    if write_dir != run_dir and own.is_file():
        snapshots = json.loads(own.read_text()).get("snapshots", [])
        snap = snapshots[epoch - 1] if epoch <= len(snapshots) else None
    if snap is not None and snap.get("rng") is not None:
        return snap["rng"]
    if write_dir != run_dir and "readers" in chief:
        raise RuntimeError(
            f"{own}: this worker recorded no position of its shard stream for epoch {epoch}, where the "
            "chief's backup resumes; start the run again with --restart"
        )
    return chief


def ctrl_c_between_batches():
    """A callback after which Ctrl-C during training stops at the end of the current batch (the SIGINT
    handler it installs): raised inside TensorFlow's tracing of the first step, a KeyboardInterrupt came
    out as another error (a TypeError, a SystemError). A second Ctrl-C, or one outside training, stops at
    once."""
    import signal

    class StopAtBatchEnd(keras.callbacks.Callback):
        fitting = pending = False

        def on_train_begin(self, logs=None):
            StopAtBatchEnd.fitting = True

        def on_train_batch_end(self, batch, logs=None):
            if StopAtBatchEnd.pending:
                StopAtBatchEnd.pending = False
                raise KeyboardInterrupt

        def on_train_end(self, logs=None):
            StopAtBatchEnd.fitting = False

    def handler(_signum, _frame):
        if StopAtBatchEnd.fitting and not StopAtBatchEnd.pending:
            StopAtBatchEnd.pending = True
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    return StopAtBatchEnd()
