"""Training on real DS1 frames: the stream, the run folder, resuming a killed run, evaluation on DS2."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from heartzoo.config import InputSpec, parse_config
from heartzoo.data.pipeline import (
    batch_stream,
    beat_draw_probabilities,
    class_draw_probabilities,
    class_weights,
    patients_of,
)
from heartzoo.data.windows import WindowSet
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError
from heartzoo.preprocess import Preprocessor
from heartzoo.preprocess.rr_features import rr_ratios

SMALL = {
    "name": "tiny",
    "task": "beat-3",
    "model": {"arch": "cnn1"},
    "train": {"epochs": 4, "batch_size": 64, "steps_per_epoch": 4, "max_train_frames": 3000, "patience": 10},
}


def _history(run: Path) -> list[dict]:
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_class_balance_math():
    labels = np.array([0] * 900 + [1] * 100)
    np.testing.assert_allclose(class_draw_probabilities(labels, 2, 0.0), [0.5, 0.5])
    np.testing.assert_allclose(class_draw_probabilities(labels, 2, 1.0), [0.9, 0.1])
    np.testing.assert_allclose(class_draw_probabilities(labels, 2, 0.5), [0.75, 0.25])
    w = class_weights(labels, 2, 0.0)
    assert w[0] * 900 == pytest.approx(w[1] * 100)  # fully balanced: equal total weight
    assert (w[labels]).mean() == pytest.approx(1.0)


def test_batch_stream_draws_balanced_batches():
    n = 1000
    labels = np.array([0] * 950 + [1] * 40 + [2] * 10)
    ws = WindowSet(
        np.random.default_rng(0).standard_normal((n, 32)).astype(np.float32),
        np.zeros(n, np.int8),
        np.full(n, "100"),
        np.arange(n),
        np.ones((n, 5), np.float32),
    )
    stream = batch_stream(
        ws,
        labels,
        3,
        batch_size=3000,
        balance="sampling",
        power=0.0,
        augmenter=None,
        pre=Preprocessor(InputSpec(frame_size=32, rr_features=True)),
        seed=1,
    )
    inputs, y, w = next(stream)
    assert inputs["ecg"].shape == (3000, 1, 32, 1) and inputs["rr"].shape == (3000, 4)
    share = y.mean(axis=0)
    np.testing.assert_allclose(share, [1 / 3] * 3, atol=0.04)
    np.testing.assert_array_equal(w, 1.0)


def test_patient_power_spreads_a_class_over_patients():
    # class 1: 800 beats of patient mitdb:201 (records 201 and 202: one patient), 150 of mitdb:100, 50 of
    # svdb:800; class 0: one patient. Each frame holds its own index, so a batch says which beats it drew.
    records = np.array(["201"] * 500 + ["202"] * 300 + ["100"] * 150 + ["800"] * 50 + ["101"] * 1000)
    labels = np.array([1] * 1000 + [0] * 1000)
    patients = patients_of(records)
    assert set(patients) == {"mitdb:201", "mitdb:100", "svdb:800", "mitdb:101"}
    n, names = len(labels), ("mitdb:201", "mitdb:100", "svdb:800")
    ws = WindowSet(
        np.repeat(np.arange(n, dtype=np.float32)[:, None], 32, axis=1),
        np.zeros(n, np.int8),
        records,
        np.arange(n),
        np.ones((n, 5), np.float32),
    )
    pre = Preprocessor(InputSpec(frame_size=32, normalization="none"))
    for patient_power in (0.0, 0.5, 1.0):
        shares = np.array([800, 150, 50], dtype=float) ** patient_power
        shares /= shares.sum()
        probs = beat_draw_probabilities(labels, patients, 2, patient_power)[1]
        np.testing.assert_allclose([probs[patients[labels == 1] == p].sum() for p in names], shares)
        stream = batch_stream(
            ws,
            labels,
            2,
            batch_size=20000,
            balance="sampling",
            power=0.0,
            patient_power=patient_power,
            augmenter=None,
            pre=pre,
            seed=3,
        )
        x, y, _ = next(stream)
        idx = x[:, 0, :, 0][:, 0].round().astype(int)
        assert y[:, 1].mean() == pytest.approx(0.5, abs=0.02)  # the class balance stays
        got = [np.mean(patients[idx[y[:, 1] == 1]] == p) for p in names]
        np.testing.assert_allclose(got, shares, atol=0.02)
    with pytest.raises(ConfigError, match=r"patient_power 0\.5 needs method: sampling"):
        parse_config({**SMALL, "train": {"balance": {"method": "class_weight", "patient_power": 0.5}}})


def test_rr_ratios():
    rr = np.array([[0.8, 0.4, 0.8, 1.0, 0.3]], np.float32)
    four = [0.8 / 0.801, 0.4 / 0.801, 0.8 / 1.001, 0.4 / 1.001]
    np.testing.assert_allclose(rr_ratios(rr), [four], rtol=1e-5)
    np.testing.assert_allclose(rr_ratios(rr, irregularity=True), [[*four, 0.3]], rtol=1e-5)


def test_a_model_with_the_rr_irregularity_takes_five_rr_features():
    from heartzoo.training.train import build_from_config

    config = parse_config(
        {
            "name": "t",
            "task": "beat-3",
            "input": {"frame_size": 64, "rr_features": True, "rr_irregularity": True},
            "model": {"arch": "cnn1"},
        },
    )
    model = build_from_config(config)
    assert tuple(model.input["rr"].shape) == (None, 5)


def test_model_section_errors(tmp_path):
    from heartzoo.training.train import build_from_config

    with pytest.raises(ConfigError, match="field 'model' is required"):
        build_from_config(parse_config({"name": "x", "task": "beat-3"}))
    # train and cv name the file that lacks it (the config's name may be another), and write nothing
    path = tmp_path / "recipe.yaml"
    path.write_text("name: other-name\ntask: beat-3\n")
    for command in ("train", "cv"):
        out = run_cli(command, str(path), "--run-dir", str(tmp_path / "run"))
        assert out.returncode != 0
        assert f"{path}: field 'model' is required to train" in " ".join(out.stderr.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recipe.yaml"]
    # refused when the config is read, before a run folder exists
    with pytest.raises(
        ConfigError,
        match=r"field 'model.params': unknown parameter\(s\) 'filterz' \(did you mean 'filters'\?\) of cnn1",
    ):
        parse_config({**SMALL, "model": {"arch": "cnn1", "params": {"filterz": 3}}})
    with pytest.raises(ConfigError, match=r"field 'model.arch'.*unknown architecture 'cnn9'"):
        parse_config({**SMALL, "model": {"arch": "cnn9"}})


@pytest.fixture(scope="module")
def trained(data_root, shared_cache, tmp_path_factory):
    from heartzoo.training.train import train

    cfg = parse_config({**SMALL, "logging": {"mlflow": True}})
    run = tmp_path_factory.mktemp("runs") / "tiny"
    result = train(cfg, run, env=Environment(cache_dir=shared_cache))
    return cfg, run, result


@pytest.mark.slow
def test_run_folder(trained):
    _, run, result = trained
    assert {
        "config.json",
        "history.csv",
        "state.json",
        "best.weights.h5",
        "model.keras",
        "train_summary.json",
    } <= {p.name for p in run.iterdir()}
    assert not (run / "backup").exists()  # removed once the run is complete
    rows = _history(run)
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    f1 = [float(r["val_macro_f1"]) for r in rows]
    assert result.best_val_macro_f1 == pytest.approx(max(f1))
    assert result.best_epoch == int(np.argmax(f1))
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["train_frames"] == 3000 and summary["params"] > 1000
    assert set(summary["val_records"]) <= set(
        "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()
    )


@pytest.mark.slow
def test_mlflow_local_store_has_every_epoch(trained):
    from mlflow.tracking import MlflowClient

    _, run, _ = trained
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient((run / "mlruns").resolve().as_uri())
    exp = client.get_experiment_by_name("heartzoo-beat-3")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    hist = client.get_metric_history(runs[0].info.run_id, "val_macro_f1")
    assert sorted(m.step for m in hist) == [0, 1, 2, 3]
    assert runs[0].data.params["model.arch"] == "cnn1"


@pytest.mark.slow
def test_completed_run_is_not_trained_again(trained, shared_cache):
    from heartzoo.training.train import train

    cfg, run, result = trained
    again = train(cfg, run, env=Environment(cache_dir=shared_cache))
    assert again.already_done and again.best_epoch == result.best_epoch


@pytest.mark.slow
def test_other_config_in_the_same_run_folder_is_refused(trained, shared_cache):
    from heartzoo.training.train import train

    cfg, run, _ = trained
    other = cfg.model_copy(update={"train": cfg.train.model_copy(update={"epochs": 9})})
    with pytest.raises(
        ConfigError, match=r"holds a run of a different configuration \(sections that differ: train\)"
    ):
        train(other, run, env=Environment(cache_dir=shared_cache))


@pytest.mark.slow
def test_export_settings_change_without_retraining(trained, shared_cache, tmp_path):
    import json
    import shutil

    from heartzoo.training.train import train

    cfg, run, result = trained
    copy = shutil.copytree(run, tmp_path / "run")
    other = cfg.model_copy(update={"export": cfg.export.model_copy(update={"verify_frames": 7})})
    again = train(other, copy, env=Environment(cache_dir=shared_cache))
    assert again.already_done and again.best_epoch == result.best_epoch
    assert json.loads((copy / "config.json").read_text())["export"]["verify_frames"] == 7


@pytest.mark.slow
def test_evaluate_on_ds2(trained, shared_cache):
    from heartzoo.evaluation.evaluate import evaluate

    _, run, _ = trained
    out = evaluate(run, "ds2", env=Environment(cache_dir=shared_cache), threshold=0.6)
    clean = out["float"]
    assert clean["split"] == "ds2" and not clean["leaky"]
    assert clean["n"] + clean["rejected"] == 44259 + 1837 + 3221  # every DS2 N, S, V beat
    assert clean["rejected_fraction"] == pytest.approx(clean["rejected"] / (44259 + 1837 + 3221))
    assert clean["records"][0] == "100" and len(clean["records"]) == 22
    # by patient: the records' matrices are the gross one's beats, the rejected left out of both
    summed = sum(np.asarray(c) for c in clean["per_record"].values())
    assert sorted(clean["per_record"]) == clean["records"] and summed.tolist() == clean["confusion"]
    assert clean["patients"]["records"] == 22 and clean["patients"]["interval"]["macro_f1"] is not None
    assert 0.0 <= clean["macro_f1"] <= 1.0


@pytest.mark.slow
def test_killed_run_resumes_at_its_last_epoch(data_root, shared_cache, tmp_path):
    cfg = {
        **SMALL,
        "name": "resume",
        "train": {**SMALL["train"], "epochs": 6},
    }
    cfg_file = tmp_path / "resume.json"
    cfg_file.write_text(json.dumps(cfg))
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "heartzoo",
        "train",
        str(cfg_file),
        "--run-dir",
        str(run),
        "--cache-dir",
        str(shared_cache),
        "--no-publish",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 240
    while time.time() < deadline:
        backup = run / "backup" / "training_metadata.json"
        try:
            if json.loads(backup.read_text())["epoch"] >= 2:  # Keras' own backup holds two epochs
                break
        except (OSError, ValueError, KeyError):
            pass
        if proc.poll() is not None:
            pytest.fail("training finished before it could be killed")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads((run / "state.json").read_text())["epochs_done"]
    assert 2 <= done < 6
    assert not (run / "model.keras").exists()
    # run again in this process (the killed one had a process of its own, as a user's has)
    out = run_cli(*cmd[3:], env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr[-2000:]
    resumed = json.loads((run / "train_summary.json").read_text())["resumed_at_epoch"]
    assert 2 <= resumed <= done
    assert f"resumed at epoch {resumed + 1}" in out.stdout
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1, 2, 3, 4, 5]  # each epoch once


def test_beat_templates_are_causal_running_means():
    from heartzoo.preprocess import beat_templates

    x = np.arange(12, dtype=np.float32).reshape(6, 2)  # 6 beats of 2 samples
    record = np.array(["a", "a", "a", "a", "b", "b"])
    t = beat_templates(x, record, beats=2)
    np.testing.assert_allclose(t[0], x[0])  # first beat of a record: itself
    np.testing.assert_allclose(t[1], x[0])
    np.testing.assert_allclose(t[3], (x[1] + x[2]) / 2)  # only the 2 beats before
    np.testing.assert_allclose(t[4], x[4])  # a new record starts afresh
    np.testing.assert_allclose(t[5], x[4])


def test_template_channel_reaches_the_model(data_root, shared_cache):
    from heartzoo.data.prepare import load_task_split
    from heartzoo.preprocess import Preprocessor
    from heartzoo.training.train import build_from_config

    cfg = parse_config({**SMALL, "input": {"template_beats": 4}})
    ws, _ = load_task_split(cfg, "val", cache_dir=shared_cache)
    x = ws.model_inputs(Preprocessor.of(cfg))
    assert x.shape == (len(ws), 1, 512, 2)
    np.testing.assert_allclose(x[:, 0, :, 1], ws.x - ws.template, atol=1e-6)
    assert build_from_config(cfg).input_shape == (None, 1, 512, 2)


@pytest.mark.slow
def test_evaluate_cli_json_and_noise(trained, shared_cache, tmp_path):
    _, run, _ = trained
    out_file = tmp_path / "eval.json"
    proc = run_cli(
        "evaluate", str(run), "--json", "--noise", "--output", str(out_file), "--cache-dir", str(shared_cache)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert json.loads(out_file.read_text()) == result
    assert result["float"]["n"] == 44259 + 1837 + 3221 and result["float"]["rejected"] == 0
    assert sorted(result["noise"]) == sorted(f"em@{s}dB" for s in (24, 18, 12, 6, 0))
    assert all(r["n"] == result["float"]["n"] for r in result["noise"].values())
    cm = np.array(result["float"]["confusion"])
    assert cm.sum() == result["float"]["n"] and cm.sum(axis=1).tolist() == [44259, 1837, 3221]


def test_models_cli_lists_params_and_macs():
    proc = run_cli("models", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert {"efficientnetv2-sm", "cnn3", "recurrent-lstm"} <= set(rows)
    assert all(r["params"] > 0 and r["macs"] > 0 for r in rows.values())
