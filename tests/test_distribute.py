"""Training under tf.distribute on real DS1 frames: two worker processes on 127.0.0.1
(MultiWorkerMirroredStrategy) compute what one process computes with the same global batch, and
MirroredStrategy over two devices does the same. A killed worker's job resuming from the chief's last
backup is tested on shards (test_shard_training.py), where each worker also restores its own stream.

Stated tolerance (20 steps of 64 frames, learning rate 3e-4): training and validation loss
of every epoch within 1e-4 relative, the saved models' logits on the validation frames within 5e-4
(they span +-45). Measured: at most 1.3e-5 relative and 8.4e-5; with batch norm left unsynchronised
across replicas, 2e-3 relative and 2e-3, so these bounds tell the two apart. Float summation order
differs between one batch and two all-reduced halves, and training amplifies it (at the recipes'
learning rate, after 125 steps, the losses were 2 % apart; at this one, 1.2e-4 relative after 50), so the
runs are short. No dropout: each replica would draw its own masks.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from heartzoo.environment import Environment
from heartzoo.errors import ConfigError
from heartzoo.training.distribute import Worker, cluster_env, worker_from_env

CONFIG = {
    "name": "distributed",
    "task": "beat-3",
    "model": {"arch": "cnn1", "params": {"dropout": 0.0}},
    "input": {"rr_features": True},
    "augment": {"amplitude": [0.9, 1.1], "jitter": 3},
    "train": {
        "epochs": 2,
        "batch_size": 64,
        "steps_per_epoch": 10,
        "max_train_frames": 3000,
        "patience": 10,
        "learning_rate": 3e-4,
    },
}


def _history(run: Path) -> list[dict[str, float]]:
    with open(run / "history.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _logits(run: Path, cache: Path) -> np.ndarray:
    """The run's saved model on the validation frames (the same for both configs)."""
    from heartzoo.config import parse_config
    from heartzoo.data.prepare import load_task_split
    from heartzoo.inference import predict_logits
    from heartzoo.integrity import load_keras
    from heartzoo.preprocess import Preprocessor

    config = parse_config(CONFIG)
    ws, _ = load_task_split(config, "val", cache_dir=cache)
    return predict_logits(load_keras(run / "model.keras"), ws.model_inputs(Preprocessor.of(config)))


@pytest.fixture(scope="module")
def setup(tmp_path_factory, data_root, shared_cache):
    import yaml

    from heartzoo.config import parse_config
    from heartzoo.training.train import train

    root = tmp_path_factory.mktemp("distribute")
    (root / "distributed.yaml").write_text(yaml.safe_dump(CONFIG))
    # the reference: one process, no strategy (in this process: no second TensorFlow start-up to pay)
    train(parse_config(CONFIG), root / "single", env=Environment(cache_dir=shared_cache))
    return root, shared_cache


def _cli(root: Path, cache: Path, run: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "heartzoo",
        "train",
        str(root / "distributed.yaml"),
        "--run-dir",
        str(root / run),
        "--no-publish",
        "--cache-dir",
        str(cache),
        *extra,
    ]


def _assert_same_training(a: Path, b: Path, cache: Path, rel: float = 1e-4, logits: float = 5e-4) -> None:
    ha, hb = _history(a), _history(b)
    assert [r["epoch"] for r in ha] == [r["epoch"] for r in hb]
    for ra, rb in zip(ha, hb, strict=True):
        assert rb["loss"] == pytest.approx(ra["loss"], rel=rel)
        assert rb["val_loss"] == pytest.approx(ra["val_loss"], rel=rel)
    assert np.abs(_logits(a, cache) - _logits(b, cache)).max() < logits


@pytest.mark.slow
def test_two_workers_train_what_one_process_trains(setup):
    """Two workers split each global batch and train what one process trains; the chief alone keeps
    what the run wrote."""
    root, cache = setup
    run = root / "workers"
    proc = subprocess.run(
        _cli(root, cache, "workers", "--workers", "2"), capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["strategy"] == {"kind": "multi-worker", "replicas": 2, "workers": 2}
    assert summary["epochs_run"] == CONFIG["train"]["epochs"]
    losses = [r["loss"] for r in _history(run)]
    assert losses[-1] < losses[0]  # it learns
    assert not (run / ".worker1").exists()  # the other worker's scratch copy is gone
    _assert_same_training(root / "single", run, cache)


@pytest.mark.slow
def test_mirrored_over_two_devices_equals_one_and_refuses_a_batch_that_does_not_split(setup):
    """One process for both (each TensorFlow start-up is seconds): a batch of 63 is refused before
    anything trains, then the recipe trains what one device trains."""
    root, cache = setup
    script = textwrap.dedent(f"""
        import sys
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from heartzoo.config import parse_config
        from heartzoo.environment import Environment
        from heartzoo.errors import ConfigError
        from heartzoo.training.train import train
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        env = Environment(cache_dir={str(cache)!r}, strategy=strategy)
        odd = {{**{CONFIG!r}, "train": {{**{CONFIG["train"]!r}, "batch_size": 63}}}}
        try:
            train(parse_config(odd), {str(root / "odd")!r}, env=env)
        except ConfigError as exc:
            print("refused:", exc, file=sys.stderr)
        train(parse_config({CONFIG!r}), {str(root / "mirrored")!r}, env=env)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    refused = next(line for line in proc.stderr.splitlines() if line.startswith("refused:"))
    assert "train.batch_size" in refused and "2 replicas" in refused
    assert not (root / "odd" / "history.csv").exists()
    summary = json.loads((root / "mirrored" / "train_summary.json").read_text())
    assert summary["strategy"] == {"kind": "mirrored", "replicas": 2, "workers": 1}
    _assert_same_training(root / "single", root / "mirrored", cache)


def test_tf_config_is_validated():
    assert worker_from_env({}) == Worker()
    envs = cluster_env(3)
    assert [worker_from_env(e) for e in envs] == [Worker(0, 3), Worker(1, 3), Worker(2, 3)]
    assert worker_from_env(envs[0]).is_chief and not worker_from_env(envs[2]).is_chief
    bad = {
        "not json": "{",
        "no cluster": json.dumps({"task": {"type": "worker", "index": 0}}),
        "index out of range": json.dumps(
            {"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}
        ),
        "a ps job": json.dumps(
            {"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker", "index": 0}}
        ),
    }
    for raw in bad.values():
        with pytest.raises(ConfigError, match="TF_CONFIG"):
            worker_from_env({"TF_CONFIG": raw})


def test_a_cluster_worker_refuses_restart(tmp_path):
    # each worker would delete the run folder the others are reading: delete it before starting them
    import yaml

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "runs" / "distributed").mkdir(parents=True)
    env = {**os.environ, **cluster_env(2)[0]}
    proc = subprocess.run(
        [sys.executable, "-m", "heartzoo", "train", "c.yaml", "--strategy", "multi-worker", "--restart"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env=env,
    )
    assert proc.returncode != 0 and "--restart" in proc.stderr
    assert (tmp_path / "runs" / "distributed").is_dir()


def test_an_ensemble_is_refused_before_any_worker_trains(tmp_path):
    """The chief of a multi-worker run trained an ensemble's members and its average, printed the stage it
    publishes, then the command failed on worker 1's refusal: every worker, the chief included, now
    refuses it before anything trains, and no run folder is made."""
    import yaml

    (tmp_path / "e.yaml").write_text(yaml.safe_dump({**CONFIG, "ensemble": {"members": 2}}))
    for args, env in (
        (["--workers", "2"], os.environ),
        (["--strategy", "multi-worker"], {**os.environ, **cluster_env(2)[0]}),  # the chief
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "heartzoo", "train", "e.yaml", "--no-publish", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 2 and "members train one after another" in " ".join(proc.stderr.split())
        assert not (tmp_path / "runs").exists()


def test_tf_config_without_a_strategy_is_said(tmp_path):
    """A cluster launcher sets TF_CONFIG for every worker: without --strategy each trained alone into one
    run folder, without a word. It is said before anything trains."""
    import yaml

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CONFIG))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "heartzoo",
            "train",
            "c.yaml",
            "--no-publish",
            "--data-dir",
            str(tmp_path / "none"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={**os.environ, **cluster_env(2)[1]},
    )
    said = " ".join(proc.stderr.split())
    assert (
        proc.returncode != 0 and "TF_CONFIG is set, but --strategy is none: this process trains alone" in said
    )
