"""Seed ensembles: one recipe trained once per seed (its whole line, distillation and pruning included),
published as one int8 model that averages the members' logits, with each member's own numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError

ENSEMBLE = {
    "name": "small-ensemble",
    "task": "beat-3",
    "model": {"arch": "cnn3"},
    "input": {"rr_features": True},
    "train": {"epochs": 2, "batch_size": 128, "steps_per_epoch": 15, "max_train_frames": 8000, "seed": 3},
    "compress": {"channel_prune": {"keep": 0.5, "finetune_epochs": 1}},
    "ensemble": {"members": 2},
    # a few steps do not make a model whose int8 copy is guaranteed close: the bound is not tested here
    "export": {"max_f1_drop": 1.0, "verify_frames": 200, "int8_runtime": "litert"},
}


@pytest.fixture(scope="module")
def ensemble(small_run, data_root, shared_cache, tmp_path_factory):
    from heartzoo.training.runs import run_pipeline

    cfg = parse_config(
        {**ENSEMBLE, "compress": {**ENSEMBLE["compress"], "distill": {"teacher": str(small_run)}}}
    )
    root = tmp_path_factory.mktemp("ensemble")
    out = run_pipeline(cfg, root / "run", zoo=root / "zoo", env=Environment(cache_dir=shared_cache))
    return cfg, root, out


@pytest.mark.slow
def test_members_are_the_recipe_with_its_seeds(ensemble):
    cfg, root, out = ensemble
    members = root / "run" / "members"
    assert sorted(p.name for p in members.iterdir()) == ["seed3", "seed4"]
    for seed in (3, 4):
        saved = json.loads((members / f"seed{seed}" / "config.json").read_text())
        expected = cfg.model_dump(mode="json")
        assert saved == {
            **expected,
            "name": f"small-ensemble-seed{seed}",
            "ensemble": None,
            "train": {**expected["train"], "seed": seed},
        }
        # each member ran the whole line: distillation, then channel pruning
        last = json.loads((members / f"seed{seed}" / "manifest.json").read_text())["stages"][-1]
        assert (last["dir"], last["applied"]) == ("channel-pruned", ["distill", "channel_prune"])
    assert [s["stage"] for s in out["stages"]] == ["member-seed3", "member-seed4", "ensemble"]
    assert out["stages"][-1]["applied"] == ["distill", "channel_prune", "ensemble"]
    assert out["final"] == str(root / "run")


@pytest.mark.slow
def test_the_ensemble_averages_its_members_logits(ensemble, shared_cache):
    import keras

    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.evaluation.metrics import classification_report
    from heartzoo.inference import predict_logits
    from heartzoo.models.ensemble import member_models
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    cfg, root, _ = ensemble
    model, saved_cfg = load_run(root / "run")
    assert saved_cfg == cfg
    ws, labels = load_task_split(cfg, "val", cache_dir=shared_cache)
    x = ws.model_inputs(Preprocessor.of(cfg))
    members = [
        keras.saving.load_model(
            root / "run" / "members" / f"seed{s}" / "channel-pruned" / "model.keras", compile=False
        )
        for s in (3, 4)
    ]
    alone = [predict_logits(m, x) for m in members]
    assert not np.allclose(alone[0], alone[1], atol=1e-3), "two seeds trained the same model"
    mean = predict_logits(model, x)
    np.testing.assert_allclose(mean, (alone[0] + alone[1]) / 2, atol=1e-4)
    # the nested members are the trained ones, weight for weight
    for nested, m in zip(member_models(model, cfg).values(), members, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(nested.get_weights(), m.get_weights(), strict=True))
    summary = json.loads((root / "run" / "train_summary.json").read_text())
    task = get_task("beat-3")
    report = classification_report(labels, mean.argmax(1), task.class_names, task.macro_classes)
    assert summary["val_macro_f1"] == pytest.approx(report["macro_f1"])
    assert summary["params"] == sum(m.count_params() for m in members)


@pytest.mark.slow
def test_published_with_each_members_own_numbers(ensemble, shared_cache):
    from heartzoo.checkout import Checkout
    from heartzoo.evaluation.evaluate import evaluate_model, load_run
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index
    from heartzoo.zoo.recommend import validation_macro_f1

    _, root, out = ensemble
    vdir = root / "zoo" / "beat-3" / "small-ensemble" / "v1"
    assert out["published"] == str(vdir)
    m = json.loads((vdir / "metrics.json").read_text())
    assert m["compression"] == ["distill", "channel_prune", "ensemble", "int8_ptq"]
    from heartzoo.version import git_commit

    commit = git_commit()  # every member's stages and the average: one code
    assert m["trained_at"] == ([commit] if commit else None)
    from heartzoo.training.machine import this_machine

    assert m["trained_on"] == [this_machine()]
    # the members' dense heads are 1x1 convolutions too: no FULLY_CONNECTED kernel left to disagree
    assert "FULLY_CONNECTED" not in m["ops"]
    assert m["verification"]["litert_reference_vs_tflm"] == "bit-identical"
    e = m["ensemble"]
    assert e["seeds"] == [3, 4]
    for seed, f1 in zip(e["seeds"], e["member_float_macro_f1"], strict=True):
        member, member_cfg = load_run(root / "run" / "members" / f"seed{seed}" / "channel-pruned")
        alone = evaluate_model(member, member_cfg, "test", env=Environment(cache_dir=shared_cache))
        assert f1 == pytest.approx(alone["macro_f1"])
    assert e["member_mean"] == pytest.approx(np.mean(e["member_float_macro_f1"]))
    assert e["val_macro_f1"] == json.loads((root / "run" / "train_summary.json").read_text())["val_macro_f1"]
    assert validation_macro_f1(vdir) == e["val_macro_f1"]
    card = model_card(find(read_index(root / "zoo"), "small-ensemble"), vdir, Checkout.find())
    assert "seed ensemble: 2 members (seeds 3–4)" in card
    assert f"seed 4: {e['member_float_macro_f1'][1]:.4f}" in card
    shown = subprocess.run(
        [sys.executable, "-m", "heartzoo", "zoo", "show", "small-ensemble", "--zoo", str(root / "zoo")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert shown.returncode == 0, shown.stderr
    first = e["member_float_macro_f1"][0]
    assert f"seed ensemble of 2 (seeds 3, 4): each member alone, float on ds2: {first:.4f}" in shown.stdout


@pytest.mark.slow
def test_a_second_run_redoes_nothing(ensemble, shared_cache):
    from heartzoo.training.runs import run_pipeline

    cfg, root, out = ensemble
    stamps = {p: p.stat().st_mtime_ns for p in (root / "run").rglob("model.keras")}
    assert len(stamps) == 5  # two members with two stages each, and the average
    again = run_pipeline(cfg, root / "run", zoo=root / "zoo", env=Environment(cache_dir=shared_cache))
    assert again["published"] == out["published"]
    assert {p: p.stat().st_mtime_ns for p in (root / "run").rglob("model.keras")} == stamps
    assert not (root / "zoo" / "beat-3" / "small-ensemble" / "v2").exists()


@pytest.mark.slow
def test_an_ensemble_teaches(ensemble, data_root, shared_cache, tmp_path):
    from heartzoo.training.runs import run_pipeline

    _, root, _ = ensemble
    cfg = parse_config(
        {
            "name": "pupil",
            "task": "beat-3",
            "model": {"arch": "cnn1"},
            "input": {"rr_features": True},
            "train": {"epochs": 1, "batch_size": 64, "steps_per_epoch": 3, "max_train_frames": 2000},
            "compress": {"distill": {"teacher": str(root / "run")}},
        }
    )
    out = run_pipeline(cfg, tmp_path / "run", publish=False, env=Environment(cache_dir=shared_cache))
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert out["stages"][0]["stage"] == "distill"
    assert summary["distilled_from"] == "small_ensemble"


@pytest.mark.slow
def test_a_changed_member_count_is_another_run(ensemble):
    from heartzoo.training.runs import run_pipeline

    cfg, root, _ = ensemble
    more = cfg.model_copy(update={"ensemble": cfg.ensemble.model_copy(update={"members": 3})})
    with pytest.raises(ConfigError, match=r"different configuration \(sections that differ: ensemble\)"):
        run_pipeline(more, root / "run", publish=False)
    assert not (root / "run" / "members" / "seed5").exists()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"members": 1}, r"ensemble\.members.*greater than or equal to 2"),
        ({"member": 4}, r"ensemble\.member"),
    ],
)
def test_a_bad_ensemble_section_is_named(section, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"name": "x", "task": "beat-3", "model": {"arch": "cnn1"}, "ensemble": section})
