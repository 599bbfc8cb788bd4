"""Fold ensembles (`ensemble.by: fold`): member k holds out fold k of the training patients as its
validation side, so together the members train on every training patient, and the ensemble's validation
numbers are out of fold (each patient scored by the member that did not train on it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError, HeartzooError

FOLDS = {
    "name": "small-folds",
    "task": "beat-3",
    "model": {"arch": "cnn1"},
    "input": {"rr_features": True},
    "train": {"epochs": 1, "batch_size": 64, "steps_per_epoch": 5, "max_train_frames": 4000, "seed": 2},
    "ensemble": {"members": 2, "by": "fold"},
    # a few steps do not make a model whose int8 copy is guaranteed close: the bound is not tested here
    "export": {"max_f1_drop": 1.0, "verify_frames": 200, "int8_runtime": "litert"},
}


@pytest.fixture(scope="module")
def folds(data_root, shared_cache, tmp_path_factory):
    from heartzoo.training.runs import run_pipeline

    cfg = parse_config(FOLDS)
    root = tmp_path_factory.mktemp("folds")
    out = run_pipeline(cfg, root / "run", zoo=root / "zoo", env=Environment(cache_dir=shared_cache))
    return cfg, root, out


@pytest.mark.slow
def test_each_member_holds_out_its_fold_and_together_they_train_on_every_patient(folds, shared_cache):
    from heartzoo.data.prepare import load_task_split, training_records
    from heartzoo.models.ensemble import member_configs

    cfg, root, _ = folds
    members = member_configs(cfg)
    assert list(members) == [2, 3]
    held = [set(m.data.validation.records) for m in members.values()]
    assert not held[0] & held[1] and held[0] | held[1] == set(training_records(cfg))
    for seed, member in members.items():
        saved = json.loads((root / "run" / "members" / f"seed{seed}" / "config.json").read_text())
        assert saved["data"]["validation"]["records"] == sorted(member.data.validation.records)
        assert (saved["name"], saved["train"]["seed"], saved["ensemble"]) == (
            f"small-folds-seed{seed}",
            seed,
            None,
        )
        trained = set(load_task_split(member, "train", cache_dir=shared_cache)[0].record.tolist())
        assert trained and not trained & set(member.data.validation.records)
    # the validation side a seed ensemble would read: each of its patients trained one member
    standard = set(load_task_split(cfg, "val", cache_dir=shared_cache)[0].record.tolist())
    trained_by = [
        set(load_task_split(m, "train", cache_dir=shared_cache)[0].record.tolist()) for m in members.values()
    ]
    assert standard and all(any(r in t for t in trained_by) for r in standard)


@pytest.mark.slow
def test_the_validation_side_is_out_of_fold(folds, shared_cache):
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.evaluation.metrics import classification_report
    from heartzoo.inference import predict_probs
    from heartzoo.models.ensemble import member_configs, member_models
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    cfg, root, _ = folds
    env = Environment(cache_dir=shared_cache)
    model, _ = load_run(root / "run")
    probs, labels, ws = split_probabilities(model, cfg, "val", env=env)
    from heartzoo.integrity import load_keras

    configs = member_configs(cfg)
    expected, ys = [], []
    for seed in member_models(model, cfg):
        # each fold scored by the model trained in that member's own folder, the one that held it out
        trained = load_keras(root / "run" / "members" / f"seed{seed}" / "model.keras")
        fold_ws, y = load_task_split(configs[seed], "val", cache_dir=shared_cache)
        expected.append(predict_probs(trained, fold_ws.model_inputs(Preprocessor.of(cfg))))
        ys.append(y)
    np.testing.assert_allclose(probs, np.concatenate(expected), atol=1e-6)
    np.testing.assert_array_equal(labels, np.concatenate(ys))
    assert set(ws.record.tolist()) == set(configs[2].data.validation.records) | set(
        configs[3].data.validation.records
    )
    task = get_task("beat-3")
    summary = json.loads((root / "run" / "train_summary.json").read_text())
    report = classification_report(labels, probs.argmax(1), task.class_names, task.macro_classes)
    assert summary["val_macro_f1"] == pytest.approx(report["macro_f1"])
    with pytest.raises(HeartzooError, match="fold ensemble's validation is each member on the fold"):
        split_probabilities(model, cfg, "val", env=env, int8=b"any")


@pytest.mark.slow
def test_its_members_are_a_cross_validation(folds, shared_cache):
    """`heartzoo cv CONFIG --members RUN`: the report `heartzoo cv` writes, from the members, nothing
    trained; its pooled out-of-fold macro-F1 is the run's validation macro-F1, each fold its member's."""
    from conftest import run_cli

    _, root, _ = folds
    stamps = {p: p.stat().st_mtime_ns for p in (root / "run").rglob("model.keras")}
    config = root / "folds.json"
    config.write_text(json.dumps(FOLDS))
    out = run_cli("cv", str(config), "--members", str(root / "run"), "--cache-dir", str(shared_cache))
    assert out.returncode == 0, out.stdout + out.stderr
    rep = json.loads((root / "run" / "cv.json").read_text())
    summary = json.loads((root / "run" / "train_summary.json").read_text())
    assert rep["folds"] == 2 and rep["pooled"]["macro_f1"] == pytest.approx(summary["val_macro_f1"])
    assert [r["macro_f1"] for r in rep["per_fold"]] == pytest.approx(summary["member_val_macro_f1"])
    assert {p: p.stat().st_mtime_ns for p in (root / "run").rglob("model.keras")} == stamps
    member = run_cli("cv", str(config), "--members", str(root / "run" / "members" / "seed2"))
    assert member.returncode == 2 and "made by another configuration" in member.stderr, member.stderr
    # another fold seed deals other folds: each member would be scored on what it trained on
    other = root / "other.json"
    other.write_text(json.dumps({**FOLDS, "data": {"validation": {"fraction": 0.2, "seed": 1}}}))
    dealt = run_cli("cv", str(other), "--members", str(root / "run"))
    assert dealt.returncode == 2 and "made by another configuration" in dealt.stderr, dealt.stderr
    nothing = run_cli("cv", str(config), "--members", str(root / "nothing"))
    assert nothing.returncode == 2 and "not a run of small-folds" in nothing.stderr, nothing.stderr
    folds_too = run_cli("cv", str(config), "--members", str(root / "run"), "--folds", "3")
    assert folds_too.returncode == 2 and "--folds, --seed, --run-dir" in folds_too.stderr, folds_too.stderr
    # given at their defaults they are still options that do not apply (they slipped through)
    defaults = run_cli("cv", str(config), "--members", str(root / "run"), "--folds", "5", "--seed", "0")
    assert defaults.returncode == 2 and "--folds, --seed, --run-dir" in defaults.stderr, defaults.stderr


@pytest.mark.slow
def test_published_as_a_fold_ensemble(folds):
    from heartzoo.checkout import Checkout
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index

    _, root, out = folds
    vdir = root / "zoo" / "beat-3" / "small-folds" / "v1"
    assert out["published"] == str(vdir)
    e = json.loads((vdir / "metrics.json").read_text())["ensemble"]
    assert (e["by"], e["seeds"]) == ("fold", [2, 3])
    card = model_card(find(read_index(root / "zoo"), "small-folds"), vdir, Checkout.find())
    assert "fold ensemble: 2 members, each holding out one of 2 folds (seeds 2–3)" in card
    assert "each on the fold it held out" in card and "so that together they train on all of it" in card


@pytest.mark.slow
def test_an_export_refuses_folds_that_are_not_those_its_members_held_out(folds, tmp_path):
    """Out-of-fold numbers deal the folds again from the data here: a member that held out other records
    (other labels, another data folder) would score what it trained on."""
    import shutil

    from heartzoo.models.ensemble import check_folds

    cfg, root, _ = folds
    copy = tmp_path / "run"
    for seed in (2, 3):
        (copy / "members" / f"seed{seed}").mkdir(parents=True)
        shutil.copy(
            root / "run" / "members" / f"seed{seed}" / "config.json", copy / "members" / f"seed{seed}"
        )
    check_folds(cfg, copy)
    saved = copy / "members" / "seed3" / "config.json"
    raw = json.loads(saved.read_text())
    raw["data"]["validation"]["records"] = raw["data"]["validation"]["records"][1:]
    saved.write_text(json.dumps(raw))
    with pytest.raises(
        HeartzooError, match=r"seed3/config.json: field 'data.validation.records': member seed 3"
    ):
        check_folds(cfg, copy)


@pytest.mark.slow
def test_a_published_fold_ensemble_records_its_folds_and_its_validation_is_checked_by_them(
    folds, shared_cache, tmp_path
):
    """`heartzoo evaluate VERSION --split val` deals the folds again from the data here, and a version
    holds no member configs: it records each member's fold as a digest (metrics.json `ensemble.folds`),
    evaluate checks them, and a fold dealt otherwise (another `data.validation.seed`) is refused there."""
    from heartzoo.data.folds import fold_digest
    from heartzoo.evaluation.evaluate import evaluate
    from heartzoo.models.ensemble import check_folds, member_configs

    cfg, root, _ = folds
    vdir = root / "zoo" / "beat-3" / "small-folds" / "v1"
    members = member_configs(cfg)
    recorded = json.loads((vdir / "metrics.json").read_text())["ensemble"]["folds"]
    assert recorded == [fold_digest(members[s].data.validation.records) for s in (2, 3)]
    assert len(set(recorded)) == 2
    report = evaluate(vdir, "val", env=Environment(cache_dir=shared_cache))
    assert report["folds_checked"] is True and report["float"]["n"] > 0
    other = cfg.model_copy(
        update={
            "data": cfg.data.model_copy(
                update={"validation": cfg.data.validation.model_copy(update={"seed": 1})}
            )
        }
    )
    with pytest.raises(HeartzooError, match=r"metrics.json: field 'ensemble.folds': member seed 2"):
        check_folds(other, vdir)
    assert check_folds(cfg, vdir) is True
    # a record of fewer or more folds than members is refused, not read as no record (None) or as a match
    copy = tmp_path / "v1"
    copy.mkdir()
    (copy / "configuration.json").write_text((vdir / "configuration.json").read_text())
    for folds_recorded in ([], recorded[:1], [*recorded, recorded[0]]):
        raw = json.loads((vdir / "metrics.json").read_text())
        raw["ensemble"]["folds"] = folds_recorded
        (copy / "metrics.json").write_text(json.dumps(raw))
        with pytest.raises(HeartzooError, match=rf"{len(folds_recorded)} folds recorded for 2 members"):
            check_folds(cfg, copy)


def test_a_fold_ensemble_run_s_map_is_fitted_only_on_the_folds_its_members_held_out(tmp_path):
    """Evaluating or annotating with an af-4 fold-ensemble run fits its mean+max map on the out-of-fold
    windows, dealt again here: a run whose members held out other recordings is refused before any model
    is read (the check was only on `--split val`)."""
    from conftest import REPO

    from heartzoo.config import load_config
    from heartzoo.evaluation.evaluate import recording_aggregation

    config = load_config(REPO / "zoo" / "af-4" / "af-4-cnn5-fold-ensemble" / "v1" / "configuration.json")
    for seed in range(5):
        member = tmp_path / "members" / f"seed{seed}"
        member.mkdir(parents=True)
        (member / "config.json").write_text(json.dumps({"data": {"validation": {"records": ["A00001"]}}}))
    with pytest.raises(HeartzooError, match=r"seed0/config.json: field 'data.validation.records'"):
        recording_aggregation(tmp_path, None, config)


def test_a_fold_ensemble_published_before_it_recorded_its_folds_says_so():
    """af-4-cnn5-fold-ensemble v1 records no folds (published versions are immutable): its folds cannot be
    checked, and evaluate's report and table say so rather than pass them as checked."""
    from conftest import REPO

    from heartzoo.config import load_config
    from heartzoo.models.ensemble import check_folds

    vdir = REPO / "zoo" / "af-4" / "af-4-cnn5-fold-ensemble" / "v1"
    assert json.loads((vdir / "metrics.json").read_text())["ensemble"].get("folds") is None
    assert check_folds(load_config(vdir / "configuration.json"), vdir) is False


def test_a_fold_ensemble_teaches_no_student():
    """Its members trained on every fold, the student's validation side included."""
    from heartzoo.compress.distill import check_compatible

    student = parse_config({**FOLDS, "name": "pupil", "ensemble": None})
    with pytest.raises(ConfigError, match=r"'compress.distill.teacher' \(small-folds\) is a fold ensemble"):
        check_compatible(student, parse_config(FOLDS))
    check_compatible(student, parse_config({**FOLDS, "ensemble": {"members": 2}}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"compress": {"distill": {"teacher": "any-teacher@v1"}}},
            r"field 'ensemble\.by': fold, and compress\.distill names a teacher, which saw every fold",
        ),
        ({"data": {"validation": {"records": ["101"]}}}, r"leave data\.validation\.records out"),
        (
            {"data": {"protocol": "leaky-random-beat"}},
            r"field 'ensemble\.by': fold, and data\.protocol is 'leaky-random-beat'; folds deal whole patients",
        ),
        ({"ensemble": {"members": 2, "by": "folds"}}, r"ensemble\.by.*'seed' or 'fold'"),
        (
            {"task": "quality", "input": {"lead": "MLII"}, "model": {"arch": "cnn1"}},
            r"fold deals beat records or CinC 2017 recordings, not quality's windows",
        ),
    ],
)
def test_a_fold_ensemble_that_cannot_be_out_of_fold_is_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**FOLDS, **change}, "folds.yaml")


def test_the_published_fold_ensemble_s_card_says_how_it_was_selected():
    """af-4-cnn5-fold-ensemble v1: no recording outside the test split was held back from the whole, so
    its card does not say "model selection on a stratified fifth of the rest" as the others' do."""
    from conftest import REPO

    from heartzoo.checkout import Checkout
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index

    root = REPO / "zoo"
    entry = find(read_index(root), "af-4-cnn5-fold-ensemble", "v1")
    card = model_card(entry, root / entry["path"], Checkout.find())
    assert "each member choosing its epoch on the fold of them it held out" in card
    assert "selection on a stratified fifth of the rest" not in card
    assert "fold ensemble: 5 members, each holding out one of 5 folds (seeds 0–4)" in card
    # its AF-screen threshold: chosen where it has a validation side, out of fold, and said so
    assert "## As an AF screen" in card
    assert (
        "specificity on the 6,822 out-of-fold recordings (each by the float member that held it out" in card
    )
