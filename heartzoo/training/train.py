"""Training: one configuration in, one run folder out, resumable at the last finished epoch.

A run folder holds `config.json` (the validated config), `history.csv` (one row per epoch),
`state.json` (model-selection state), `best.weights.h5`, `backup/` (Keras BackupAndRestore, removed
when the run ends) and, at the end, `model.keras` (the weights of the best validation epoch) and
`train_summary.json`. Model selection and early stopping use macro-F1 on the validation records
(whole patients of the training pool); the test records are never looked at here.

A resumed run is identical to an uninterrupted one (history.csv equal but for `seconds`, same weights):
Keras' backup holds the weights and the optimizer (its step count drives the learning-rate schedule),
and `state.json` holds, after every finished epoch, the model-selection state, the batch stream's
numpy rng state at the start of the next epoch and the dropout layers' seed states.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import paths
from ..config import HeartzooConfig, parse_config
from ..environment import LOCAL, Environment
from ..errors import ConfigError, HeartzooError
from ..inference import input_rows
from ..io import atomic_path, check_outside_zoo, write_json
from ..preprocess import Preprocessor
from ..tasks import get_task
from .checkpoints import read_state
from .losses import loss_of
from .optimizer import optimizer_for


@dataclass
class TrainResult:
    run_dir: Path
    model_path: Path
    best_epoch: int
    best_val_macro_f1: float
    epochs_run: int
    resumed_at_epoch: int
    already_done: bool = False


def prepare_run_dir(config: HeartzooConfig, run_dir: Path, *, restart: bool = False) -> None:
    """Create the run folder, or check that an existing one belongs to the same configuration (up to
    the sections that only matter after training, which are updated, and unless it holds nothing yet)."""
    from ..zoo.manifest import AFTER_TRAINING, MANIFEST, Manifest

    run_dir = Path(run_dir)
    saved = run_dir / "config.json"
    current = config.model_dump(mode="json")
    if run_dir.exists() and not run_dir.is_dir():
        raise HeartzooError(f"run folder {run_dir}: a file is there; choose another --run-dir")
    check_outside_zoo(run_dir, what="a run", option="--run-dir")
    if restart:
        remove_run_folder(run_dir)
    if not saved.exists() and _not_ours(run_dir):
        # its config.json would make it a run, which --restart then deletes whole
        raise HeartzooError(
            f"run folder {run_dir}: holds files and no run (no config.json in it): choose a new or empty "
            "--run-dir"
        )
    if saved.exists():
        try:
            previous = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{saved}: not a readable run configuration ({exc}); use --restart to start the run again"
            ) from None
        # a run folder of the first heartzoo holds a schema-1 config: compare what it means (one that is
        # no longer valid is compared as written, and every section that differs is named below)
        with contextlib.suppress(ConfigError):
            previous = parse_config(previous, str(saved)).model_dump(mode="json")
        changed = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        # a run that failed before training anything (a bad model section) takes the corrected config
        started = any(p.name != "config.json" and not p.name.startswith(".") for p in run_dir.iterdir())
        if set(changed) - set(AFTER_TRAINING) and started:
            raise ConfigError(
                f"{run_dir} holds a run of a different configuration (sections that differ: "
                f"{', '.join(changed)}); use --restart to start it again or choose another --run-dir"
            )
        if changed:
            if (run_dir / MANIFEST).is_file():
                # a manifest hashed by an older schema is checked against this file: it takes today's
                # hash before the file changes (one of another recipe is refused here)
                Manifest.open(run_dir, config).save()
            write_json(saved, current)
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(saved, current)
    except OSError as exc:
        raise HeartzooError(f"run folder {run_dir}: cannot write there ({exc.strerror or exc})") from None


def remove_run_folder(run_dir: Path) -> None:
    """Delete a run folder for `--restart`: only one that is empty or holds a run's config.json, so a
    mistyped --run-dir (`.`, a data folder) is never wiped."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise HeartzooError(f"run folder {run_dir}: a file is there; choose another --run-dir")
    if _not_ours(run_dir) and not (run_dir / "config.json").is_file():
        raise HeartzooError(
            f"run folder {run_dir}: not a heartzoo run (no config.json in it), so --restart will not delete "
            "it; choose another --run-dir"
        )
    shutil.rmtree(run_dir)


#: what a folder may hold and still be made a run, or deleted by --restart as one: what heartzoo writes
#: before config.json (`train --workers`' logs, a worker's scratch, an atomic write's temporary file) and
#: what a file browser or a placeholder leaves
_OURS = (".worker", ".config.json.", ".DS_Store", ".gitkeep", "Thumbs.db")


def _not_ours(run_dir: Path) -> list[Path]:
    """What `run_dir` holds besides `_OURS`."""
    if not run_dir.is_dir():
        return []
    return [p for p in run_dir.iterdir() if not p.name.startswith(_OURS)]


@contextlib.contextmanager
def removed_if_refused(run_dir: Path, fresh: bool):
    """A run folder this call made (`fresh`) goes again when what runs inside refuses (a data folder
    missing, a bad record) before anything but its config.json was written: a refused run leaves nothing
    behind, and nothing trained is ever removed."""
    try:
        yield
    except HeartzooError:
        if fresh and {p.name for p in run_dir.iterdir() if not p.name.startswith(".")} <= {"config.json"}:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _subset(ws, labels: np.ndarray, n: int | None, seed: int):
    if n is None or n >= len(labels):
        return ws, labels
    idx = np.sort(np.random.default_rng(seed).choice(len(labels), size=n, replace=False))
    return ws.subset(idx), labels[idx]


def steps_per_epoch(config: HeartzooConfig, n_frames: int) -> int:
    tc = config.train
    return tc.steps_per_epoch or max(1, n_frames // tc.batch_size)


def training_input_of(
    config: HeartzooConfig,
    val_records,
    *,
    data_dir=None,
    cache_dir=None,
    share: tuple[int, int] = (0, 1),
    replicas: int = 1,
):
    """What `config` trains on, from its seed: (the tf.data stream, steps per epoch, the `EpochStates` it
    records its place in, the beats of each class). The shards `data.shards` names, streamed (never all in
    memory; `val_records` left out), or the training split `train.max_train_frames` of it, with
    `data.af_beats`' negatives. The tfmot stages fine-tune on the same (`runs.Tfmot`)."""
    from ..data.pipeline import EpochStates
    from ..data.prepare import load_task_split

    tc = config.train
    if config.data.shards is not None:
        from ..data.shard_stream import training_input

        return training_input(config, val_records, data_dir=data_dir, share=share, replicas=replicas)
    train_ws, train_y = load_task_split(config, "train", data_dir=data_dir, cache_dir=cache_dir)
    train_ws, train_y = _subset(train_ws, train_y, tc.max_train_frames, tc.seed)
    epoch_states = EpochStates(steps_per_epoch(config, len(train_y)))
    negatives = None
    if config.data.af_beats is not None:  # unlabelled AF beats, "not S"
        from .af_beats import negatives_of

        negatives = negatives_of(config, data_dir, cache_dir)
    ds, steps = training_stream(
        config,
        train_ws,
        train_y,
        seed=tc.seed,
        epoch_states=epoch_states,
        data_dir=data_dir,
        negatives=negatives,
    )
    return ds, steps, epoch_states, np.bincount(train_y, minlength=get_task(config.task).num_classes)


def training_stream(
    config: HeartzooConfig,
    ws,
    labels: np.ndarray,
    *,
    seed: int | None = None,
    epoch_states=None,
    data_dir: str | os.PathLike[str] | None = None,
    negatives=None,
):
    """The augmented, class-balanced tf.data stream the config trains on, and its steps per epoch.

    It draws from `np.random.default_rng(seed)`, or, with `epoch_states` (a `data.pipeline.EpochStates`),
    from where that says and recording the rng state at each epoch boundary there.
    """
    from ..data.augment import Augmenter, premature_classes
    from ..data.pipeline import training_dataset

    tc, share = config.train, config.augment.premature
    ds = training_dataset(
        ws,
        labels,
        get_task(config.task).num_classes,
        pre=Preprocessor.of(config),
        batch_size=tc.batch_size,
        balance=tc.balance.method,
        power=tc.balance.power,
        patient_power=tc.balance.patient_power,
        augmenter=Augmenter(config.augment, config.input, data_dir=paths.data_dir(data_dir)),
        seed=seed,
        epoch_states=epoch_states,
        premature=(share, premature_classes(get_task(config.task))) if share else None,
        negatives=negatives,
    )
    return ds, steps_per_epoch(config, len(labels))


def build_from_config(config: HeartzooConfig, ks: Any = None):
    from ..models import build_model

    if config.model is None:
        raise ConfigError(
            f"{config.where}: field 'model' is required to build a model (model.arch, model.params)"
        )
    task, pre = get_task(config.task), Preprocessor.of(config)
    try:
        return build_model(
            config.model.arch,
            pre.ecg_shape,
            task.num_classes,
            ks=ks,
            rr_inputs=pre.rr_inputs,
            **config.model.params,
        )
    except ConfigError:
        raise  # the builder's own, naming its field
    except KeyError as exc:
        raise ConfigError(f"{config.where}: field 'model.arch': {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:  # a value Keras refuses (kernel 0, filters -2, kernel "three")
        raise ConfigError(f"{config.where}: field 'model.params': {exc}") from None


def train(
    config: HeartzooConfig,
    run_dir: str | os.PathLike[str],
    *,
    env: Environment = LOCAL,
    restart: bool = False,
    callbacks: list | None = None,
    build=None,
    teacher=None,
    epochs: int | None = None,
    learning_rate: float | None = None,
    select: str = "best",
) -> TrainResult:
    """Train `config` into `run_dir`, resuming where an interrupted run stopped (exactly: the resumed
    run is the uninterrupted one; `env.progress` is told "resuming at epoch N").

    The compression stages reuse it: `build` gives the model to train (a thinned one to fine-tune),
    `teacher` turns the run into distillation, `epochs` and `learning_rate` override the config's, and
    `select` says which epoch the run keeps (`best` on validation, or `last`).
    With a tf.distribute `env.strategy` (`distribute.make_strategy`) every replica trains on its slice of
    each global batch; under a multi-worker one, call this on every worker with the same arguments:
    the chief writes `run_dir`, the others a scratch folder inside it, removed when they finish.
    """
    from .distribute import worker_of

    run_dir = Path(run_dir)
    data_dir, cache_dir, strategy = env.data_dir, env.cache_dir, env.strategy
    task = get_task(config.task)
    worker = worker_of(strategy)
    out_dir = worker.scratch(run_dir)
    fresh = worker.is_chief and (restart or not run_dir.exists())  # a folder this call makes
    if worker.is_chief:
        prepare_run_dir(config, run_dir, restart=restart)
    state_path, model_path = run_dir / "state.json", run_dir / "model.keras"
    if model_path.exists() and (run_dir / "train_summary.json").exists():
        summary = json.loads((run_dir / "train_summary.json").read_text())
        return TrainResult(
            run_dir,
            model_path,
            summary["best_epoch"],
            summary["best_val_macro_f1"],
            summary["epochs_run"],
            0,
            True,
        )

    import keras

    from ..data.prepare import load_task_split
    from ..models import describe
    from .threads import pin_threads

    threads = pin_threads()  # a no-op where run_pipeline pinned it already
    tc = config.train.model_copy(
        update={k: v for k, v in (("epochs", epochs), ("learning_rate", learning_rate)) if v is not None}
    )
    keras.utils.set_random_seed(tc.seed)
    with removed_if_refused(run_dir, fresh):
        val_ws, val_y = load_task_split(config, "val", data_dir=data_dir, cache_dir=cache_dir)
        # where the stream starts is set once Keras' backup has chosen the first epoch (Selection)
        replicas = 1 if strategy is None else strategy.num_replicas_in_sync // worker.count
        ds, steps, epoch_states, train_counts = training_input_of(
            config,
            val_ws.meta["records"],
            data_dir=data_dir,
            cache_dir=cache_dir,
            share=(worker.index, worker.count),
            replicas=replicas,
        )
    val_inputs = val_ws.model_inputs(Preprocessor.of(config))
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        fit_model, model = _compiled(config, tc, steps, build, teacher, val_inputs, strategy)
    t0 = time.perf_counter()
    state = read_state(state_path) or {}
    # killed after the last epoch was written but before model.keras: nothing left to train
    if not (state.get("finished") and (run_dir / "best.weights.h5").exists()):
        from .callbacks import epoch_callbacks
        from .distribute import barrier, distributed_fit, local_predict

        out_dir.mkdir(parents=True, exist_ok=True)
        own = epoch_callbacks(
            config,
            run_dir,
            task,
            val_inputs,
            val_y,
            epochs=tc.epochs,
            seed=tc.seed,
            epoch_states=epoch_states,
            progress=env.progress,
            write_dir=out_dir,
            select=select,
            **({} if strategy is None else {"predict": local_predict, "barrier": lambda: barrier(strategy)}),
        )
        if strategy is None:
            fit_model.fit(
                ds,
                epochs=tc.epochs,
                steps_per_epoch=steps,
                shuffle=False,  # the stream draws its own random batches
                callbacks=[*own, *(callbacks or [])],
                verbose=0,
            )
        else:
            distributed_fit(
                fit_model,
                ds,
                strategy=strategy,
                epochs=tc.epochs,
                steps_per_epoch=steps,
                callbacks=[*own, *(callbacks or [])],
            )
        state = json.loads((out_dir / "state.json").read_text())
    elif worker.is_chief:
        shutil.rmtree(run_dir / "backup", ignore_errors=True)  # what Keras does at the end of fit
    if not worker.is_chief:
        return _after_chief(strategy, out_dir, run_dir, model_path, state)
    resumed_at = state.get("started_at_epoch", 0)
    fit_model.load_weights(run_dir / "best.weights.h5")  # the student's weights, with the distiller's
    with atomic_path(model_path, suffix=".keras") as tmp:
        model.save(tmp)
    summary = {
        "name": config.name,
        "task": config.task,
        "arch": config.model.arch,
        "best_epoch": state["best_epoch"],
        "best_val_macro_f1": state["best"],
        "epochs_run": state["epochs_done"],
        "resumed_at_epoch": resumed_at,
        "train_frames": int(train_counts.sum()),
        "train_class_counts": train_counts.tolist(),
        **({"train_shards": config.data.shards} if config.data.shards is not None else {}),
        "val_records": val_ws.meta.get("records"),
        "val_frames": len(val_y),
        "seconds_this_session": round(time.perf_counter() - t0, 1),
        "distilled_from": getattr(teacher, "name", None),
        "intra_op_threads": threads,  # TensorFlow's pool, pinned (None: this machine's own)
        **describe(model),
    }
    if strategy is not None:
        from .distribute import strategy_kind

        summary["strategy"] = {
            "kind": strategy_kind(strategy),
            "replicas": strategy.num_replicas_in_sync,
            "workers": worker.count,
        }
    write_json(run_dir / "train_summary.json", summary)
    from .distribute import barrier

    barrier(strategy)  # the other workers wait for model.keras before their next stage reads it
    return TrainResult(
        run_dir, model_path, state["best_epoch"], state["best"], state["epochs_done"], resumed_at
    )


def _compiled(config: HeartzooConfig, tc, steps: int, build, teacher, val_inputs, strategy):
    """The model to fit (the distiller around the student when there is a teacher) and the model to
    save, compiled; under a strategy, built in its scope (a given model is copied into it)."""
    import keras

    if build is None:
        model = build_from_config(config)
    else:
        model = build()
        if strategy is not None:  # its variables were made outside the strategy: mirror a copy
            given, model = model, keras.models.clone_model(model)
            model.set_weights(given.get_weights())
    if teacher is not None:
        from ..compress.distill import make_distiller

        dc = config.compress.distill
        fit_model = make_distiller(model, teacher, dc.temperature, dc.alpha, loss_of(config))
        fit_model(input_rows(val_inputs, slice(1)))  # build it, as BackupAndRestore needs
        fit_model.compile(optimizer=optimizer_for(tc, steps), jit_compile=False)
    else:
        fit_model = model
        fit_model.compile(optimizer=optimizer_for(tc, steps), loss=loss_of(config), jit_compile=False)
    # Built here, not inside the first step: a tf.function that makes variables is traced twice, and
    # the trace is most of a short run's time. The weight files hold the optimizer's state too.
    fit_model.optimizer.build(fit_model.trainable_variables)
    if strategy is not None:
        from .distribute import check_batch

        check_batch(strategy, tc.batch_size)
    return fit_model, model


def _after_chief(strategy, out_dir: Path, run_dir: Path, model_path: Path, state: dict) -> TrainResult:
    """A non-chief worker's end of training: wait for the chief's model, drop the scratch folder."""
    from .distribute import barrier

    barrier(strategy)
    shutil.rmtree(out_dir, ignore_errors=True)
    return TrainResult(
        run_dir,
        model_path,
        state.get("best_epoch", -1),
        state.get("best", -1.0),
        state.get("epochs_done", 0),
        state.get("started_at_epoch", 0),
    )
