"""Patient-fold cross-validation: folds of whole patients, out-of-fold pooling on real DS1 frames."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from heartzoo.data.mitbih import DS1, DS2, patient_of
from heartzoo.data.splits import patient_folds

TINY_CV = {
    "name": "tiny-cv",
    "task": "beat-3",
    "model": {"arch": "cnn1"},
    "input": {"rr_features": True},
    "train": {"epochs": 1, "batch_size": 64, "steps_per_epoch": 4, "max_train_frames": 3000, "seed": 3},
}


def _counts(records, seed=0):
    rng = np.random.default_rng(seed)
    return {r: {"N": int(rng.integers(500, 3000)), "S": int(rng.integers(0, 200)), "V": 50} for r in records}


def test_folds_hold_every_patient_once_and_keep_patients_whole():
    records = [*DS1, "202"]  # 202 is the patient of 201: they must share a fold
    folds = patient_folds(_counts(records), k=4, seed=2)
    assert len(folds) == 4 and all(folds)
    flat = [r for f in folds for r in f]
    assert sorted(flat) == sorted(records)
    assert next(f for f in folds if "201" in f) == next(f for f in folds if "202" in f)
    assert patient_folds(_counts(records), k=4, seed=2) == folds  # seeded
    assert patient_folds(_counts(records), k=4, seed=5) != folds


def test_folds_spread_the_beats():
    counts = _counts(DS1)
    totals = [sum(sum(counts[r].values()) for r in f) for f in patient_folds(counts, k=5)]
    # patients are whole, so not exact; but far from one fold holding everything
    assert max(totals) < 2 * min(totals)


@pytest.mark.parametrize("k", [1, 23])
def test_fold_count_out_of_range_is_an_error(k):
    with pytest.raises(ValueError, match=f"cannot make {k} folds of 22 patient"):
        patient_folds(_counts(DS1), k=k)


def test_configs_that_would_leak_are_refused(tmp_path):
    from heartzoo.config import parse_config
    from heartzoo.errors import ConfigError
    from heartzoo.training.crossval import cross_validate

    distilled = parse_config(
        {**TINY_CV, "compress": {"distill": {"teacher": str(tmp_path / "teacher")}}}, source="d.yaml"
    )
    with pytest.raises(ConfigError, match=r"compress\.distill"):
        cross_validate(distilled, tmp_path / "cv")
    leaky = parse_config({**TINY_CV, "data": {"protocol": "leaky-random-beat"}}, source="l.yaml")
    with pytest.raises(ConfigError, match=r"data\.protocol"):
        cross_validate(leaky, tmp_path / "cv")
    ensemble = parse_config({**TINY_CV, "ensemble": {"members": 3}}, source="e.yaml")
    with pytest.raises(ConfigError, match=r"field 'ensemble'.*--first-member"):
        cross_validate(ensemble, tmp_path / "cv")
    with pytest.raises(ConfigError, match=r"first_member needs a seed ensemble"):
        cross_validate(leaky.model_copy(update={"data": ensemble.data}), tmp_path / "cv", first_member=True)
    assert not (tmp_path / "cv").exists()


@pytest.mark.slow
def test_cv_pools_out_of_fold_predictions_over_all_ds1(data_root, shared_cache, tmp_path):
    from typer.testing import CliRunner

    from heartzoo.cli import app
    from heartzoo.evaluation.metrics import report_from_probabilities

    cfg_file = tmp_path / "tiny.json"
    cfg_file.write_text(json.dumps({**TINY_CV}))
    out = tmp_path / "cv"
    args = ["cv", str(cfg_file), "--folds", "2", "--run-dir", str(out), "--cache-dir", str(shared_cache)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rep = json.loads((out / "cv.json").read_text())
    assert f"out-of-fold macro-F1 {rep['pooled']['macro_f1']:.4f}" in result.output

    # every DS1 patient held out exactly once; no DS2 record anywhere
    held = [r for fold in rep["per_fold"] for r in fold["records"]]
    assert sorted(held) == sorted(DS1) and not set(held) & set(DS2)
    assert {patient_of(r) for r in rep["per_fold"][0]["records"]}.isdisjoint(
        {patient_of(r) for r in rep["per_fold"][1]["records"]}
    )
    # each fold trained without its held-out patients, validated on them
    for fold in rep["per_fold"]:
        summary = json.loads((out / f"fold-{fold['fold']}" / "train_summary.json").read_text())
        assert summary["val_records"] == fold["records"]

    # the pooled report is the report of the concatenated out-of-fold predictions
    probs, labels = [], []
    for i in range(2):
        with np.load(out / f"fold-{i}" / "oof.npz") as z:
            probs.append(z["probs"])
            labels.append(z["labels"])
    again = report_from_probabilities(np.concatenate(probs), np.concatenate(labels), ["N", "S", "V"])
    assert again["confusion"] == rep["pooled"]["confusion"]
    assert again["macro_f1"] == pytest.approx(rep["pooled"]["macro_f1"])
    assert rep["pooled"]["n"] == sum(f["beats"] for f in rep["per_fold"])

    # a fold's model is not what the recipe trains: export refuses it, and names why
    refused = run_cli("export", str(out / "fold-0"), "--zoo", str(tmp_path / "zoo"))
    assert refused.returncode == 2 and "a fold of a cross-validation" in refused.stderr, refused.stderr
    assert not (tmp_path / "zoo").exists()

    # run again: nothing is retrained, the same report comes back
    stamp = (out / "fold-0" / "model.keras").stat().st_mtime_ns
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (out / "fold-0" / "model.keras").stat().st_mtime_ns == stamp
    assert json.loads((out / "cv.json").read_text())["pooled"] == rep["pooled"]
    # --restart (which cv's errors named, and cv did not have) trains every fold again from scratch: the
    # same recipe makes the same report
    assert CliRunner().invoke(app, [*args, "--restart"]).exit_code == 0
    assert (out / "fold-0" / "model.keras").stat().st_mtime_ns != stamp
    assert json.loads((out / "cv.json").read_text())["pooled"] == rep["pooled"]


def test_too_many_folds_is_a_clear_error(data_root, tmp_path):
    from typer.testing import CliRunner

    from heartzoo.cli import app

    cfg_file = tmp_path / "tiny.json"
    cfg_file.write_text(json.dumps({**TINY_CV}))
    result = CliRunner().invoke(
        app, ["cv", str(cfg_file), "--folds", "23", "--run-dir", str(tmp_path / "cv")]
    )
    assert result.exit_code != 0
    assert "folds=23: cannot make 23 folds of 22 patient(s)" in str(result.exception)
    assert not (tmp_path / "cv").exists()


@pytest.mark.slow
def test_an_ensembles_recipe_is_cross_validated_by_its_first_member(data_root, shared_cache, tmp_path):
    """`heartzoo cv --first-member` on a seed ensemble: one model per fold, trained as the first member
    (its seed, its name), into runs/cv/<name>-seed<seed> by default."""
    from typer.testing import CliRunner

    from heartzoo.cli import app

    cfg_file = tmp_path / "ens.json"
    cfg_file.write_text(json.dumps({**TINY_CV, "ensemble": {"members": 3}}))
    out = tmp_path / "cv"
    args = ["cv", str(cfg_file), "--folds", "2", "--run-dir", str(out), "--cache-dir", str(shared_cache)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code != 0 and "--first-member" in str(refused.exception)
    result = CliRunner().invoke(app, [*args, "--first-member"])
    assert result.exit_code == 0, result.output
    rep = json.loads((out / "cv.json").read_text())
    assert rep["name"] == "tiny-cv-seed3" and rep["config"]["ensemble"] is None
    for i in range(2):
        fold = json.loads((out / f"fold-{i}" / "config.json").read_text())
        assert fold["train"]["seed"] == 3 and fold["name"] == "tiny-cv-seed3"
