"""`heartzoo tune`: a hyperparameter and architecture search with Optuna, on the validation patients.

Why Optuna: its TPE sampler and median pruner work trial by trial inside our own training loop (a Keras
callback reports each epoch's validation macro-F1), and its RDB storage is the resumable, shared study
the issue asks for: an SQLite file in the run folder by default, a PostgreSQL/MySQL URL for several
machines. KerasTuner would own the training loop, which the line of stages (distil, prune, fine-tune)
and its resumable runs already do.

A trial is a whole line (`runs.run_pipeline`, never published) of the base config with the trial's
values, in `<run>/trials/<hash of its values>/`: a trial retried after its process was killed resumes
its training at the last finished epoch. Before it trains, its model is built, thinned as its channel
pruning will thin it and converted to int8 (once per architecture in a process), and a trial over the
space's size constraints is pruned there. The objective is the validation macro-F1 (whole held-out
patients) of the stage `export.stage` selects; the test set is never loaded.

Every process running `tune` on one study (same run folder or `--storage` URL) takes distinct trials
from it (a process that finds trials running seeds its sampler apart, and a trial whose values another
running trial holds is pruned before it trains); a trial whose process stopped sending heartbeats is
failed and retried once with its values, its epochs' reports kept. A study holds the hashes of its base
config and space: another config or space in its run folder is refused, not mixed in.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import HeartzooConfig
from ..environment import LOCAL, Environment
from ..errors import ConfigError, HeartzooError
from .search_space import SearchSpace, trial_name, with_values

STUDY_FILE = "study.db"
HEARTBEAT_S = 5  # a trial's process writes a heartbeat this often;
GRACE_S = 20  # with none for this long, the trial is failed and retried


def trial_folder(run_dir: Path, values: dict[str, Any], name: str = "") -> Path:
    """Where a trial of the study `name` with these values trains: the same folder when it is retried,
    another for another study's (another base config) in the same run folder."""
    key = hashlib.sha256(json.dumps([name, values], sort_keys=True, default=str).encode()).hexdigest()[:12]
    return Path(run_dir) / "trials" / key


def trial_config(
    config: HeartzooConfig, space: SearchSpace, values: dict[str, Any], run_dir: Path
) -> tuple[HeartzooConfig, Path]:
    """(the recipe a trial with these values trains, its folder): named by its folder, not by the trial's
    number, so that a trial retried under another number resumes the run its values left there."""
    folder = trial_folder(run_dir, values, config.name)
    return with_values(config, space, values, trial_name(config.name, folder.name)), folder


def _sha(model) -> str:
    return hashlib.sha256(json.dumps(model.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


#: sizes already measured in this process, by what they depend on: a search draws the same architecture
#: again with other training values (a conversion is seconds)
_SIZES: dict[str, dict[str, int]] = {}


def model_size(config: HeartzooConfig) -> dict[str, int]:
    """int8 .tflite bytes and MACs of the model `config` will publish, before training: built, thinned
    as its channel pruning will thin it (the channel counts do not depend on the weights), converted to
    int8 (and shrunk, as export does) with a few random calibration inputs."""
    shaping = {"task": True, "input": True, "model": True, "export": True, "compress": {"channel_prune"}}
    key = json.dumps(config.model_dump(mode="json", include=shaping), sort_keys=True)
    if key not in _SIZES:
        _SIZES[key] = _measured_size(config)
    return dict(_SIZES[key])


def _measured_size(config: HeartzooConfig) -> dict[str, int]:
    import numpy as np

    from ..export.convert import published_int8
    from ..models import describe
    from ..preprocess import Preprocessor
    from ..tasks import get_task
    from .train import build_from_config

    model = build_from_config(config)
    cp = config.compress.channel_prune
    if cp is not None:
        from ..compress.prune_channels import thin_model

        pre = Preprocessor.of(config)
        model, _ = thin_model(
            model,
            config.model.arch,
            dict(config.model.params),
            pre.ecg_shape,
            get_task(config.task).num_classes,
            pre.rr_inputs,
            cp.keep,
            cp.criterion,
        )
    rng = np.random.default_rng(0)
    # values like a trained model's: distinct in every tensor and channel (export's shrink stores
    # identical vectors once, so a fresh model's zero biases and equal per-channel scales would make the
    # estimate smaller than the trained model's file); positive, as batch-norm variances must be
    model.set_weights([np.abs(rng.normal(size=w.shape)).astype(w.dtype) + 0.1 for w in model.get_weights()])
    shapes = Preprocessor.of(config).input_shapes
    calib = {k: rng.normal(size=(4, *s)).astype(np.float32) for k, s in shapes.items()}
    buf = published_int8(model, config, calib if "rr" in calib else calib["ecg"])
    return {"tflite_bytes": len(buf), "macs": int(describe(model)["macs"])}


def over_limits(size: dict[str, int], space: SearchSpace) -> str | None:
    c = space.constraints
    if c.tflite_bytes is not None and size["tflite_bytes"] > c.tflite_bytes:
        return f"int8 .tflite {size['tflite_bytes']:,} B > {c.tflite_bytes:,} B"
    if c.macs is not None and size["macs"] > c.macs:
        return f"{size['macs']:,} MACs > {c.macs:,}"
    return None


def open_study(config: HeartzooConfig, space: SearchSpace, run_dir: Path, storage: str | None = None):
    """The study of this search, created or loaded: in `<run_dir>/study.db` unless `storage` (an RDB
    URL) is given, with heartbeats so that a killed process's trial is failed and retried. A study made
    with another base config or space is refused; trials whose process stopped are failed (and retried)."""
    import warnings

    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    if run_dir.exists() and not run_dir.is_dir():
        raise HeartzooError(f"{run_dir}: a file, not a folder (--run-dir)")
    url = storage or f"sqlite:///{(run_dir / STUDY_FILE).resolve()}"
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None

    def connect():
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5, and what we need
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                engine_kwargs=engine,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                    max_retry=1, inherit_intermediate_values=True
                ),
            )

    if storage is None:
        run_dir.mkdir(parents=True, exist_ok=True)
    try:
        rdb = _racing(connect)
    except ImportError as exc:  # SQLAlchemy's driver for the URL's database is not installed
        raise HeartzooError(
            f"--storage {storage}: {exc} (install its driver, e.g. psycopg2 or pymysql)"
        ) from None
    except Exception as exc:  # SQLAlchemy's ArgumentError for a URL it cannot parse, and the like
        if storage is None:
            raise
        raise HeartzooError(
            f"--storage {storage!r}: not a database URL SQLAlchemy can open ({exc})"
        ) from None
    run_dir.mkdir(parents=True, exist_ok=True)
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=space.pruning.startup_trials, n_warmup_steps=space.pruning.warmup_epochs
    )
    study = _racing(
        lambda: optuna.create_study(
            storage=rdb, study_name=config.name, direction="maximize", load_if_exists=True, pruner=pruner
        )
    )
    made = {"config_sha256": _sha(config), "space_sha256": _sha(space)}
    for key, sha in made.items():
        held = study.user_attrs.get(key)
        if held is None:  # a new study (or one from before studies held them)
            study.set_user_attr(key, sha)
        elif held != sha:
            what = "base config" if key.startswith("config") else "search space"
            raise ConfigError(
                f"{run_dir if storage is None else storage}: its study {config.name!r} was searched with "
                f"another {what}; its trials would be mixed with this one's. Give another --run-dir (or study name), "
                f"or the {what} it was made with"
            )
    with warnings.catch_warnings():  # a process killed since: its trial failed, and retried
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    # a process that finds trials running seeds its sampler apart from theirs (else both draw the same
    # values); alone, the seed follows the space's and the trials held, so that a search repeats
    trials = study.get_trials(deepcopy=False)
    running = any(t.state == TrialState.RUNNING for t in trials)
    seed = space.seed + len(trials) + (os.getpid() if running else 0)
    study.sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=space.pruning.startup_trials + 2)
    study.set_user_attr("sampler_seeds", sorted({*study.user_attrs.get("sampler_seeds", []), seed}))
    return study


def _racing(make, attempts: int = 5):
    """`make()`, tried again when another process sharing the study is creating its tables or the study
    itself at the same moment (SQLAlchemy then raises OperationalError or IntegrityError)."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(attempts):
        try:
            return make()
        except (OperationalError, IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def finished(study) -> list:
    """The trials that trained, to the end or until the pruner stopped them (a trial refused by the
    size constraints costs seconds and does not count)."""
    from optuna.trial import TrialState

    return [
        t
        for t in study.trials
        if t.state == TrialState.COMPLETE
        or (t.state == TrialState.PRUNED and not {"rejected", "interrupted"} & set(t.user_attrs))
    ]


def tune(
    config: HeartzooConfig,
    space: SearchSpace,
    run_dir: str | os.PathLike[str],
    *,
    trials: int,
    storage: str | None = None,
    env: Environment = LOCAL,
    zoo: str | os.PathLike[str] | None = None,
    callbacks: list | None = None,
    on_trial: Callable[[Any, Any], None] | None = None,
):
    """Run the study until it holds `trials` trials that trained (to the end or until pruned), and the
    trials it waits for (the space's enqueued values, retries) have run; return it. Interrupted, it
    resumes where it stopped: finished trials are never run again. What every trial needs (its data, its
    teacher, in `zoo`) is checked before the study is touched."""
    import optuna
    from optuna.trial import TrialState

    from ..io import check_outside_zoo
    from .runs import run_pipeline

    run_dir = Path(run_dir)
    check_outside_zoo(run_dir, what="a search", option="--run-dir")  # before its study is written there
    _check_ready(config, env, zoo)
    study = open_study(config, space, run_dir, storage)
    # the space's own values, first, until each has trained (a failed attempt is made again) ...
    held = [  # a trial enqueued and not yet run holds its values as `fixed_params`
        {**t.system_attrs.get("fixed_params", {}), **t.params}
        for t in study.trials
        if t.state != TrialState.FAIL and not t.user_attrs.get("rejected")
    ]
    for values in space.enqueue:  # (which may name some of the parameters only)
        if not any(all(h.get(k) == v for k, v in values.items()) for h in held):
            study.enqueue_trial(values, user_attrs={"note": "enqueued by the search space"})
    # ... and a trial stopped by Ctrl-C again with its values, in its folder, resuming its training
    again = {t.user_attrs.get("retried_from") for t in study.trials}
    for t in study.trials:
        if t.user_attrs.get("interrupted") and t.number not in again:
            study.add_trial(
                optuna.create_trial(
                    state=TrialState.WAITING,
                    params=t.params,
                    distributions=t.distributions,
                    user_attrs={"note": f"trial {t.number} again", "retried_from": t.number},
                    intermediate_values=t.intermediate_values,  # its epochs keep their numbers
                )
            )
    say = env.say
    interrupted = False

    def objective(trial) -> float:
        values = {name: p.suggest(trial, name) for name, p in space.params.items()}
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        cfg, folder = trial_config(config, space, values, run_dir)
        where = str(folder.relative_to(run_dir))
        trial.set_user_attr("folder", where)  # at once: another process drawing them sees it held
        # two processes can draw the same values: the first to take them trains, in their one folder
        if (holder := _held_by(trial, where)) is not None:
            trial.set_user_attr("rejected", f"trial {holder} is training these values")
            say(f"trial {trial.number}: trial {holder} is training these values, not trained")
            raise optuna.TrialPruned("values taken")
        size = model_size(cfg)
        trial.set_user_attr("size", size)
        reason = over_limits(size, space)
        if reason is not None:
            trial.set_user_attr("rejected", reason)
            say(f"trial {trial.number}: {reason}, not trained")
            raise optuna.TrialPruned(reason)
        say(f"trial {trial.number}: {values}")
        try:
            out = run_pipeline(
                cfg,
                folder,
                zoo=zoo,
                publish=False,
                env=replace(env, progress=None),  # the trial's line is one step of the study
                callbacks=[*(callbacks or []), _reporter(trial)],
            )
        except KeyboardInterrupt:
            # not a failure (Optuna's traceback, and new values drawn in its place): stopped, and run again
            # by the next search of this study
            nonlocal interrupted
            interrupted = True
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr(
                "note", "interrupted (Ctrl-C): runs again with its values when the search resumes"
            )
            trial.study.stop()
            raise optuna.TrialPruned("interrupted") from None
        return float(out["selected"]["val_macro_f1"])  # the stage the trial would publish

    def waiting(s) -> int:
        return len(s.get_trials(deepcopy=False, states=(TrialState.WAITING,)))

    left = trials - len(finished(study))
    if left > 0 or waiting(study):

        def done(s, _trial) -> None:
            if len(finished(s)) >= trials and not waiting(s):
                s.stop()

        extra = [(lambda s, t: on_trial(s, t))] if on_trial is not None else []
        # `done` stops at `trials` trained; the cap bounds a study whose trials keep failing or are refused
        study.optimize(
            objective,
            n_trials=4 * max(left, 0) + waiting(study) + 4,
            callbacks=[done, _mlflow_logger(run_dir), *extra],
            catch=(ConfigError,),
        )
    if interrupted:
        raise KeyboardInterrupt
    return study


def _check_ready(config: HeartzooConfig, env: Environment, zoo) -> None:
    """What every trial of `config` needs, checked once: the folders of its training data and its teacher
    (a missing one failed every trial alike, each a traceback in the study)."""
    from ..data.databases import get_database
    from .teacher import teacher_folder

    for source in config.data.train:
        get_database(source.partition(":")[0], env.data_dir).folder(env.data_dir)
    if config.compress.distill is not None:
        teacher_folder(config, zoo=zoo, cache_dir=env.cache_dir)


def _held_by(trial, folder: str) -> int | None:
    """The number of an earlier trial of the study that is running in `folder`, if one is."""
    from optuna.trial import TrialState

    running = trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return min(
        (t.number for t in running if t.number < trial.number and t.user_attrs.get("folder") == folder),
        default=None,
    )


def _reporter(trial):
    """Each epoch's validation macro-F1 to Optuna, numbered across the line's stages (a retried trial
    holds its first attempt's reports, and its resumed run goes on from their number); a trial the pruner
    stops raises TrialPruned out of training."""
    import keras
    import optuna

    (held,) = [t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number]

    class Report(keras.callbacks.Callback):
        step = max(held.intermediate_values, default=-1) + 1

        def on_epoch_end(self, epoch, logs=None):
            trial.report(float((logs or {})["val_macro_f1"]), Report.step)
            Report.step += 1
            if trial.should_prune():  # the report says why it stopped early, as the live table does
                why = f"stopped by the median pruner after epoch {Report.step}: below earlier trials there"
                trial.set_user_attr("note", "; ".join(filter(None, (trial.user_attrs.get("note"), why))))
                raise optuna.TrialPruned(f"pruned at epoch {Report.step}")

    return Report()


def _mlflow_logger(run_dir: Path):
    """Each finished trial as one run of the MLflow file store `<run_dir>/mlruns` (nothing without
    MLflow installed: `pip install 'heartzoo[mlflow]'`)."""
    try:
        import mlflow
    except ImportError:
        return lambda study, trial: None

    import logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # not "creating experiment" in the live table

    def log(study, trial) -> None:
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri((run_dir.resolve() / "mlruns").as_uri())
        mlflow.set_experiment(f"heartzoo-tune-{study.study_name}")
        with mlflow.start_run(run_name=f"trial-{trial.number}"):
            mlflow.log_params({k: str(v) for k, v in trial.params.items()})
            mlflow.set_tags({"state": trial.state.name, **{k: str(v) for k, v in trial.user_attrs.items()}})
            if trial.value is not None:
                mlflow.log_metric("val_macro_f1", trial.value)
            for step, value in sorted(trial.intermediate_values.items()):
                mlflow.log_metric("epoch_val_macro_f1", value, step=step)

    return log
