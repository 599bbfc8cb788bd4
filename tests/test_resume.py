"""Resuming an interrupted training run on real DS1 frames: the resumed run is the uninterrupted one
(history.csv equal in every column but `seconds`, the same weights and model-selection state), also
when it was killed between the model-selection state of an epoch and Keras' backup of that epoch."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.environment import Environment

# cnn1 has batch norm and dropout; noise, jitter and amplitude make the augmenter draw from the rng
SMALL = {
    "name": "resume",
    "task": "beat-3",
    "model": {"arch": "cnn1"},
    "input": {"rr_features": True},
    "augment": {
        "noise": {"probability": 0.5, "snr_db": [6, 24], "kinds": ["bw", "em", "ma"]},
        "amplitude": [0.9, 1.1],
        "jitter": 3,
    },
    "train": {
        "epochs": 4,
        "batch_size": 64,
        "steps_per_epoch": 4,
        "max_train_frames": 3000,
        "patience": 10,
        "balance": {"method": "sampling", "power": 0.5},
    },
}


def _config(data_root: Path):
    return parse_config({**SMALL})


def _interrupt_after(epoch: int | None):
    """A callback that stops training like Ctrl-C at the end of `epoch` (0-based), or with None at the
    end of training. User callbacks run after the built-in ones (validation, model selection, Keras'
    backup, which removes itself at the end of training), so that epoch is backed up."""
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, e, logs=None):
            if e == epoch:
                raise KeyboardInterrupt

        def on_train_end(self, logs=None):
            if epoch is None:
                raise KeyboardInterrupt

    return Interrupt()


def _rows(run: Path) -> list[dict]:
    with open(run / "history.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]


def _h5_arrays(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.update({name: obj[()]}) if isinstance(obj, h5py.Dataset) else None)
    return out


def _assert_same_run(run: Path, reference: Path, started_at: int = 2) -> None:
    import keras

    assert _rows(run) == _rows(reference)  # every column but `seconds`, exactly
    best, best_ref = _h5_arrays(run / "best.weights.h5"), _h5_arrays(reference / "best.weights.h5")
    assert best.keys() == best_ref.keys()  # weights and optimizer state of the best epoch
    for name in best_ref:
        np.testing.assert_array_equal(best[name], best_ref[name], err_msg=name)
    final = keras.saving.load_model(run / "model.keras", compile=False).get_weights()
    final_ref = keras.saving.load_model(reference / "model.keras", compile=False).get_weights()
    assert len(final) == len(final_ref)
    for w, w_ref in zip(final, final_ref, strict=True):
        np.testing.assert_array_equal(w, w_ref)
    state, state_ref = (json.loads((r / "state.json").read_text()) for r in (run, reference))
    assert state.pop("started_at_epoch") == started_at and state_ref.pop("started_at_epoch") == 0
    assert state == state_ref  # best, wait, epochs_done and every epoch's snapshot


@pytest.fixture(scope="module")
def uninterrupted(data_root, shared_cache, tmp_path_factory) -> Path:
    from heartzoo.training.train import train

    run = tmp_path_factory.mktemp("resume") / "uninterrupted"
    result = train(_config(data_root), run, env=Environment(cache_dir=shared_cache))
    assert result.epochs_run == 4 and result.resumed_at_epoch == 0
    return run


@pytest.mark.slow
def test_interrupted_run_resumes_exactly(uninterrupted, data_root, shared_cache, tmp_path):
    from heartzoo.training.checkpoints import finished_epochs
    from heartzoo.training.train import train

    cfg, run = _config(data_root), tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run, env=Environment(cache_dir=shared_cache), callbacks=[_interrupt_after(1)])
    assert finished_epochs(run) == 2
    assert not (run / "model.keras").exists()
    said: list[str] = []
    result = train(cfg, run, env=Environment(cache_dir=shared_cache, progress=said.append))
    assert said == ["resuming at epoch 3"]
    assert result.resumed_at_epoch == 2 and result.epochs_run == 4
    assert finished_epochs(run) == 4
    _assert_same_run(run, uninterrupted)


@pytest.mark.slow
def test_kill_between_selection_and_backup_rolls_back(uninterrupted, data_root, shared_cache, tmp_path):
    from heartzoo.training.checkpoints import finished_epochs
    from heartzoo.training.train import train

    cfg, run = _config(data_root), tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run, env=Environment(cache_dir=shared_cache), callbacks=[_interrupt_after(2)])
    # As if killed after model selection wrote epoch 3 (its history row, best weights, state.json) but
    # before the backup of it was in place: the backup still names the end of epoch 2, whose weights
    # file is kept until the next one is in place.
    meta = run / "backup" / "training_metadata.json"
    assert json.loads(meta.read_text())["epoch"] == 3 and (run / "backup" / "epoch2.weights.h5").exists()
    meta.write_text(json.dumps({"epoch": 2, "batch": 0, "weights": "epoch2.weights.h5"}))
    assert len(_rows(run)) == 3 and json.loads((run / "state.json").read_text())["epochs_done"] == 3
    assert finished_epochs(run) == 2
    said: list[str] = []
    train(cfg, run, env=Environment(cache_dir=shared_cache, progress=said.append))
    assert said == ["resuming at epoch 3"]
    _assert_same_run(run, uninterrupted)  # epoch 3 trained again from the same state, counted once


@pytest.mark.slow
def test_killed_after_the_last_epoch_trains_nothing_again(uninterrupted, data_root, shared_cache, tmp_path):
    import keras

    from heartzoo.training.checkpoints import finished_epochs
    from heartzoo.training.train import train

    cfg, run = _config(data_root), tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):  # after Keras removed its backup, before model.keras
        train(cfg, run, env=Environment(cache_dir=shared_cache), callbacks=[_interrupt_after(None)])
    assert not (run / "backup").exists() and not (run / "model.keras").exists()
    assert finished_epochs(run) == 4
    epochs: list[int] = []
    said: list[str] = []
    seen = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))
    result = train(
        cfg,
        run,
        env=Environment(cache_dir=shared_cache, progress=said.append),
        callbacks=[seen],
    )
    assert epochs == [] and said == [] and result.epochs_run == 4
    _assert_same_run(run, uninterrupted, started_at=0)


def _interruptible() -> None:
    """In the child, before exec: SIGINT as a user's shell gives it (default action, not blocked). A test
    worker that ran other tests before may hold another disposition or mask, which the child inherits."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.slow
def test_ctrl_c_on_the_command_line_says_where_a_rerun_resumes(data_root, shared_cache, tmp_path):
    """A real SIGINT to `heartzoo train` (the run is long enough never to end by itself here): exit
    code 130 and a message naming the epoch a re-run resumes after, which is the one the run folder
    holds (what a re-run reads and says is tested above, in this process)."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    import yaml

    from heartzoo.training.checkpoints import finished_epochs

    cfg = tmp_path / "resume.yaml"
    cfg.write_text(yaml.safe_dump({**SMALL, "train": {**SMALL["train"], "epochs": 500, "patience": 500}}))
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "heartzoo",
        "train",
        str(cfg),
        "--run-dir",
        str(run),
        "--no-publish",
        "--data-dir",
        str(data_root),
        "--cache-dir",
        str(shared_cache),
    ]
    env = {**os.environ, "COLUMNS": "200"}

    def interrupted(ready) -> tuple[int, list[str]]:
        """Run the command, send SIGINT once `ready(lines)` holds, return its exit code and stderr."""
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_interruptible,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        deadline = time.monotonic() + 300
        while not ready(lines) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)  # a loaded machine may take a while to unwind TensorFlow
        reader.join(timeout=10)
        return proc.returncode, lines

    history = run / "history.csv"
    code, err = interrupted(lambda _: history.exists() and len(history.read_text().splitlines()) >= 3)
    assert code == 130, "".join(err)
    line = next(x for x in err if x.startswith("interrupted after epoch"))
    done = int(line.split()[3].rstrip(";"))
    assert done >= 1 and line.strip().endswith(
        "re-run to resume"
    )  # the second epoch may not be backed up yet
    assert finished_epochs(run) == done


def test_a_run_that_trained_nothing_takes_the_corrected_config(tmp_path):
    from heartzoo.errors import ConfigError
    from heartzoo.training.train import prepare_run_dir

    first = parse_config({**SMALL, "model": {"arch": "cnn1", "params": {"filters": 8}}})
    corrected = parse_config(SMALL)
    run = tmp_path / "run"
    prepare_run_dir(first, run)  # then the build failed: nothing but config.json was written
    prepare_run_dir(corrected, run)
    assert json.loads((run / "config.json").read_text()) == corrected.model_dump(mode="json")
    (run / "state.json").write_text("{}")  # once it has trained, a different config is refused
    with pytest.raises(ConfigError, match="holds a run of a different configuration"):
        prepare_run_dir(first, run)


@pytest.mark.slow
def test_a_run_on_averaged_weights_selects_and_saves_the_average_and_resumes_exactly(
    data_root, shared_cache, tmp_path
):
    import keras

    from heartzoo.training.train import train

    cfg = parse_config({**SMALL, "train": {**SMALL["train"], "ema": 0.9}})
    seen: dict[int, tuple[list, list]] = {}

    class Watch(keras.callbacks.Callback):  # after validation, selection and the backup
        def on_epoch_end(self, epoch, logs=None):
            opt = self.model.optimizer
            seen[epoch] = tuple(
                [keras.ops.convert_to_numpy(v) for v in vs]
                for vs in (opt._trainable_variables, opt._model_variables_moving_average)
            )

    reference = tmp_path / "uninterrupted"
    result = train(cfg, reference, env=Environment(cache_dir=shared_cache), callbacks=[Watch()])
    trained, average = seen[result.best_epoch]
    saved = keras.saving.load_model(reference / "model.keras", compile=False).trainable_weights
    assert len(saved) == len(average)
    for w, avg in zip(saved, average, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), avg)  # the average is published
    assert any(not np.array_equal(avg, raw) for avg, raw in zip(average, trained, strict=True))

    run = tmp_path / "run"  # training goes on from its own weights, not the average, after a resume
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run, env=Environment(cache_dir=shared_cache), callbacks=[_interrupt_after(1)])
    train(cfg, run, env=Environment(cache_dir=shared_cache))
    _assert_same_run(run, reference)


@pytest.mark.slow
def test_a_run_that_keeps_its_last_epoch_saves_it_and_resumes_exactly(
    uninterrupted, data_root, shared_cache, tmp_path
):
    import keras

    from heartzoo.training.train import train

    cfg = _config(data_root)
    rows = _rows(uninterrupted)  # the same training, kept by the best epoch: here not the last one
    best = max(range(len(rows)), key=lambda e: float(rows[e]["val_macro_f1"]))
    assert best != len(rows) - 1
    weights: dict[int, list] = {}

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights[epoch] = [keras.ops.convert_to_numpy(w) for w in self.model.weights]

    reference = tmp_path / "last"
    result = train(
        cfg, reference, env=Environment(cache_dir=shared_cache), callbacks=[Watch()], select="last"
    )
    assert _rows(reference) == rows  # the same epochs trained; only the one kept differs
    assert result.best_epoch == 3 and result.best_val_macro_f1 == float(rows[3]["val_macro_f1"])
    saved = keras.saving.load_model(reference / "model.keras", compile=False).weights
    for w, last in zip(saved, weights[3], strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), last)

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(
            cfg, run, env=Environment(cache_dir=shared_cache), callbacks=[_interrupt_after(1)], select="last"
        )
    train(cfg, run, env=Environment(cache_dir=shared_cache), select="last")
    _assert_same_run(run, reference)


@pytest.mark.slow
def test_the_fine_tune_stage_keeps_the_epoch_its_config_selects(shared_cache, tmp_path):
    from heartzoo.config import ConfigError
    from heartzoo.training.runs import run_pipeline

    prune = {"keep": 1.0, "finetune_epochs": 4, "select": "last"}
    cfg = parse_config({**SMALL, "compress": {"channel_prune": prune}})
    run = tmp_path / "run"
    stages = run_pipeline(cfg, run, publish=False, env=Environment(cache_dir=shared_cache))["stages"]
    rows = _rows(run / "channel-pruned")
    scores = [float(r["val_macro_f1"]) for r in rows]
    assert len(rows) == 4 and scores.index(max(scores)) != 3  # the best epoch would be another model
    summary = json.loads((run / "channel-pruned" / "train_summary.json").read_text())
    assert summary["best_epoch"] == 3 and stages[-1]["val_macro_f1"] == scores[3]

    assert parse_config({**SMALL, "compress": {"channel_prune": {}}}).compress.channel_prune.select == "best"
    with pytest.raises(ConfigError, match="select"):
        parse_config({**SMALL, "compress": {"channel_prune": {"select": "lats"}}})


def test_an_interrupted_tfmot_stage_is_named_and_said_to_start_over(tmp_path):
    """Ctrl-C during magnitude pruning said "interrupted after epoch 2 of channel-pruned": the stage
    before it, whose epochs were all done. A tfmot stage saves no epoch and starts over on a re-run."""
    import json

    from heartzoo.training.checkpoints import interrupted_unsaved

    planned = ["distill", "channel_prune", "magnitude_prune", "qat"]
    assert interrupted_unsaved(tmp_path, planned) is None  # nothing done: the first stage saves its epochs

    def done(*stages: str) -> None:
        (tmp_path / "manifest.json").write_text(json.dumps({"stages": [{"stage": s} for s in stages]}))

    done("distill")
    assert interrupted_unsaved(tmp_path, planned) is None  # channel pruning's fine-tune saves its epochs
    done("distill", "channel_prune")
    assert interrupted_unsaved(tmp_path, planned) == "magnitude_prune"
    done("distill", "channel_prune", "magnitude_prune")
    assert interrupted_unsaved(tmp_path, planned) == "qat"
