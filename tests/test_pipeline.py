"""The whole line of `heartzoo train`: distillation, channel pruning, magnitude pruning, export, publish;
each stage resumable."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import benchmark_script

from heartzoo.config import parse_config
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError

STUDENT = {
    "name": "student",
    "task": "beat-3",
    "model": {"arch": "cnn3"},
    "input": {"rr_features": True},
    "train": {"epochs": 3, "batch_size": 128, "steps_per_epoch": 20, "max_train_frames": 20000},
    "compress": {
        "channel_prune": {"keep": 0.5, "finetune_epochs": 2},
        "magnitude_prune": {"sparsity": 0.5, "epochs": 1},
        "qat": {"epochs": 1},
    },
    # a few training steps do not make a model whose int8 copy is guaranteed close: the bound is not
    # what this test is about
    "export": {"max_f1_drop": 1.0, "verify_frames": 300, "int8_runtime": "litert"},
    "logging": {"epoch_weights": True},
}


@pytest.fixture(scope="module")
def pipeline(small_run, data_root, shared_cache, tmp_path_factory):
    import keras

    from heartzoo.training.runs import run_pipeline

    teacher_file = small_run / "model.keras"
    before = [np.asarray(w) for w in keras.saving.load_model(teacher_file, compile=False).weights]
    cfg = parse_config(
        {**STUDENT, "compress": {**STUDENT["compress"], "distill": {"teacher": str(small_run)}}}
    )
    root = tmp_path_factory.mktemp("pipe")
    out = run_pipeline(cfg, root / "run", zoo=root / "zoo", env=Environment(cache_dir=shared_cache))
    return cfg, root, out, before


@pytest.mark.slow
def test_stages_in_order(pipeline):
    _, root, out, _ = pipeline
    assert [s["stage"] for s in out["stages"]] == ["distill", "channel_prune", "magnitude_prune", "qat"]
    assert out["final"] == str(root / "run" / "qat")
    assert out["published"] == str(root / "zoo" / "beat-3" / "student" / "v1")
    summary = json.loads((root / "run" / "train_summary.json").read_text())
    assert summary["distilled_from"]


@pytest.mark.slow
def test_each_stage_keeps_every_epochs_validated_weights(pipeline, shared_cache):
    """`logging.epoch_weights`: a stage's epochs/ holds every epoch's weights as validated, a distiller's
    student's alone. Read back by studies/selection_rules.py, they score history.csv's validation
    macro-F1 again, and the best epoch's are the saved model's."""
    import csv

    import keras

    from heartzoo.evaluation.metrics import classification_report

    rules = benchmark_script("selection_rules")
    _, root, _, _ = pipeline
    for stage in (root / "run", root / "run" / "channel-pruned"):
        state = json.loads((stage / "state.json").read_text())
        with open(stage / "history.csv", newline="") as f:
            logged = [float(r["val_macro_f1"]) for r in csv.DictReader(f)]
        preds, labels, patients, task = rules.epoch_predictions(stage, cache_dir=shared_cache)
        assert len(preds) == len(logged) == state["epochs_done"]
        again = [
            classification_report(labels, p, task.class_names, task.macro_classes)["macro_f1"] for p in preds
        ]
        np.testing.assert_allclose(again, logged, rtol=1e-6)
        saved = keras.saving.load_model(stage / "model.keras", compile=False).get_weights()
        with np.load(stage / "epochs" / f"{state['best_epoch']:03d}.npz") as kept:
            assert len(kept.files) == len(saved)
            for i, w in enumerate(saved):
                np.testing.assert_array_equal(kept[f"arr_{i}"], w)
        half = rules.halves(patients, labels, task, seed=0)
        assert not set(patients[half == 0]) & set(patients[half == 1])  # whole patients
        rarest = int(np.argmin(np.bincount(labels, minlength=task.num_classes)))  # beat-3: all are macro
        assert len(set(patients[labels == rarest])) >= 2
        assert set(half[labels == rarest]) == {0, 1}  # the rarest class's patients spread over both
        f1 = rules.curves(preds, labels, half, task)
        scores = rules.rule_scores(f1, ["best", "smooth-3", "last"])
        assert scores["best"]["epochs"] == [int(np.argmax(f1[0])), int(np.argmax(f1[1]))]
        assert scores["last"]["held_out"] == [f1[1][-1], f1[0][-1]]
    # --ds2, after the comparison: the kept epoch's weights score on DS2 what the saved model scores there
    from heartzoo.evaluation.evaluate import load_run, split_probabilities

    ds2 = rules.ds2_scores(stage, {"best": state["best_epoch"], "last": len(logged) - 1}, shared_cache)
    model, config = load_run(stage)
    probs, labels, _ = split_probabilities(model, config, "test", env=Environment(cache_dir=shared_cache))
    saved = classification_report(labels, probs.argmax(axis=1), task.class_names, task.macro_classes)
    assert ds2["best"]["macro_f1"] == saved["macro_f1"] and ds2["last"]["epoch"] == len(logged) - 1


@pytest.mark.slow
def test_teacher_is_left_untouched(small_run, pipeline):
    import keras

    *_, before = pipeline
    after = [np.asarray(w) for w in keras.saving.load_model(small_run / "model.keras", compile=False).weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.slow
def test_channel_pruning_removes_filters_and_macs(pipeline):
    import keras

    from heartzoo.models import describe

    _, root, _, _ = pipeline
    full = keras.saving.load_model(root / "run" / "model.keras", compile=False)
    thin = keras.saving.load_model(root / "run" / "channel-pruned" / "model.keras", compile=False)
    manifest = json.loads((root / "run" / "manifest.json").read_text())
    arch = next(st for st in manifest["stages"] if st["stage"] == "channel_prune")["arch"]
    widths = [full.get_layer(f"res{j}_a_conv").filters for j in range(4)]
    assert list(arch["params"]["inner"]) == [round(w / 2) for w in widths]
    assert [thin.get_layer(f"res{j}_a_conv").filters for j in range(4)] == list(arch["params"]["inner"])
    assert describe(thin)["macs"] < 0.8 * describe(full)["macs"]
    assert describe(thin)["params"] < describe(full)["params"]


def _grafted_run(pipeline, config, run, cache) -> None:
    """A run of `config` in `run` whose first stage is the pipeline run's distilled model (`runs.graft`,
    as studies/prune_keep.py does), its later stages trained here."""
    from heartzoo.training.runs import graft, run_pipeline
    from heartzoo.zoo.manifest import MANIFEST

    source = pipeline[1] / "run"
    first = json.loads((source / MANIFEST).read_text())["stages"][0]
    graft(source, first, run, config)
    run_pipeline(config, run, publish=False, env=Environment(cache_dir=cache))


@pytest.mark.slow
def test_the_pruning_stage_trains_the_same_model_whatever_ran_before_it(pipeline, tmp_path, shared_cache):
    """The distilled model grafted into a new run and pruned in a process whose global RNG is
    elsewhere: the same fine-tune as the whole run's, row for row, same weights."""
    import random

    import keras

    from heartzoo.training.retrain import history_rows

    cfg, root, _, _ = pipeline
    only = cfg.model_copy(
        update={"compress": cfg.compress.model_copy(update={"magnitude_prune": None, "qat": None})}
    )
    random.seed(2024)  # what a model built now would draw its dropout seeds from
    keras.utils.set_random_seed(7)
    _grafted_run(pipeline, only, tmp_path / "graft", shared_cache)
    made, again = (d / "channel-pruned" for d in (root / "run", tmp_path / "graft"))
    assert len(history_rows(made / "history.csv")) == 2
    assert history_rows(again / "history.csv") == history_rows(made / "history.csv")
    weights = [keras.saving.load_model(d / "model.keras", compile=False).get_weights() for d in (made, again)]
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))


@pytest.mark.slow
def test_the_tfmot_stages_train_the_same_model_whatever_ran_before_them(pipeline, tmp_path, shared_cache):
    """Magnitude pruning and QAT (tf_keras, whose dropout draws from TensorFlow's global seed) trained
    again after the same channel-pruned model, in this process with its RNGs moved elsewhere: the
    weights the whole run's stages made."""
    import random

    import keras

    from heartzoo.training.runs import run_pipeline

    cfg, root, _, _ = pipeline
    run = shutil.copytree(root / "run", tmp_path / "run")
    for stage in ("sparse", "qat"):  # as if killed after channel pruning
        shutil.rmtree(run / stage)
    random.seed(11)
    keras.utils.set_random_seed(11)
    keras.random.uniform((3,))  # and TensorFlow's op seeds moved on from there
    out = run_pipeline(cfg, run, publish=False, env=Environment(cache_dir=shared_cache))
    assert [s["stage"] for s in out["stages"]] == ["distill", "channel_prune", "magnitude_prune", "qat"]
    for stage in ("sparse", "qat"):
        made, again = (
            keras.saving.load_model(d / stage / "model.keras", compile=False).get_weights()
            for d in (root / "run", run)
        )
        assert len(made) == len(again)
        assert all(np.array_equal(x, y) for x, y in zip(made, again, strict=True)), stage


@pytest.mark.slow
def test_magnitude_pruning_reaches_its_sparsity(pipeline):
    _, root, _, _ = pipeline
    s = json.loads((root / "run" / "sparse" / "train_summary.json").read_text())
    assert s["sparsity_of_kernels"] == pytest.approx(0.5, abs=0.03)
    assert s["nonzero_params"] < 0.7 * s["params"]


@pytest.mark.slow
def test_the_tfmot_stages_keep_the_zeros_and_the_data_of_the_line(pipeline):
    """Plain `quantize_model` gave back a 60 % sparse model 0.5 % sparse, and metrics.json still listed
    magnitude_prune: QAT after it is tfmot's pruning-preserving QAT."""
    _, root, _, _ = pipeline
    sparse = json.loads((root / "run" / "sparse" / "train_summary.json").read_text())
    qat = json.loads((root / "run" / "qat" / "train_summary.json").read_text())
    assert qat["sparsity_of_kernels"] >= sparse["sparsity_of_kernels"] - 0.01
    # and both fine-tune on what the first stage trained on: train.max_train_frames of the split (they
    # read it whole, and left out data.shards and data.af_beats)
    first = json.loads((root / "run" / "train_summary.json").read_text())
    assert sparse["train_frames"] == qat["train_frames"] == first["train_frames"] == 20000


@pytest.mark.slow
def test_published_metrics_are_the_final_models(pipeline):
    import keras

    from heartzoo.models import describe

    _, root, _, _ = pipeline
    m = json.loads((root / "zoo" / "beat-3" / "student" / "v1" / "metrics.json").read_text())
    final = keras.saving.load_model(root / "run" / "qat" / "model.keras", compile=False)
    assert m["macs"] == describe(final)["macs"]
    assert m["tflite_gzip_bytes"] < m["tflite_bytes"]
    assert m["compression"] == ["distill", "channel_prune", "magnitude_prune", "qat", "int8_ptq"]
    # the validation score model selection saw travels with the model: the last stage's own
    qat = json.loads((root / "run" / "qat" / "train_summary.json").read_text())
    assert m["val_macro_f1"] == qat["val_macro_f1"]
    # the code that trained it is recorded beside the code that exported it: here one and the same
    from heartzoo.version import git_commit

    commit = git_commit()
    assert m["trained_at"] == ([commit] if commit else None) and m["commit"] == commit
    from heartzoo.training.machine import this_machine

    assert m["trained_on"] == [this_machine()]  # and the machine, every stage on this one


@pytest.mark.slow
def test_the_manifest_records_every_stage(pipeline):
    from heartzoo.training.runs import config_hash

    cfg, root, out, _ = pipeline
    manifest = json.loads((root / "run" / "manifest.json").read_text())
    assert [(st["stage"], st["dir"], st["state"]) for st in manifest["stages"]] == [
        ("distill", ".", "done"),
        ("channel_prune", "channel-pruned", "done"),
        ("magnitude_prune", "sparse", "done"),
        ("qat", "qat", "done"),
    ]
    assert {st["config_sha256"] for st in manifest["stages"]} == {manifest["config_sha256"], config_hash(cfg)}
    assert manifest["stages"][-1]["applied"] == ["distill", "channel_prune", "magnitude_prune", "qat"]
    from heartzoo.version import git_commit

    assert [st["commit"] for st in manifest["stages"]] == [git_commit()] * 4
    assert manifest["published"] == out["published"]
    # no side files beside the models any more
    assert not list((root / "run").rglob("arch.json")) and not list((root / "run").rglob("applied.json"))


@pytest.mark.slow
def test_a_second_run_redoes_nothing(pipeline, shared_cache):
    from heartzoo.training.runs import run_pipeline

    cfg, root, out, _ = pipeline
    stamps = {p: p.stat().st_mtime_ns for p in (root / "run").rglob("model.keras")}
    again = run_pipeline(cfg, root / "run", zoo=root / "zoo", env=Environment(cache_dir=shared_cache))
    assert again["published"] == out["published"]
    assert {p: p.stat().st_mtime_ns for p in (root / "run").rglob("model.keras")} == stamps
    assert not (root / "zoo" / "beat-3" / "student" / "v2").exists()


@pytest.mark.slow
def test_a_finished_run_is_read_as_it_is_and_an_unfinished_one_refused(pipeline, tmp_path):
    """What `heartzoo zoo retrain --run` reads: the stages run_pipeline returned, nothing run again."""
    from heartzoo.training.runs import finished_run

    cfg, root, out, _ = pipeline
    stamps = {p: p.stat().st_mtime_ns for p in (root / "run").rglob("*") if p.is_file()}
    assert [s["dir"] for s in finished_run(cfg, root / "run")["stages"]] == [s["dir"] for s in out["stages"]]
    assert {p: p.stat().st_mtime_ns for p in (root / "run").rglob("*") if p.is_file()} == stamps
    with pytest.raises(ConfigError, match="made by a different configuration"):
        finished_run(cfg.model_copy(update={"train": cfg.train.model_copy(update={"seed": 7})}), root / "run")
    part = tmp_path / "part"
    shutil.copytree(root / "run", part)
    (part / "qat" / "model.keras").unlink()
    with pytest.raises(ConfigError, match=rf"{part}: stages qat are not finished"):
        finished_run(cfg, part)
    with pytest.raises(ConfigError, match=r"manifest\.json: missing"):
        finished_run(cfg, tmp_path)


@pytest.mark.slow
def test_export_of_a_run_s_folder_exports_the_stage_the_run_publishes(pipeline, tmp_path):
    """A run's folder holds its first stage: `heartzoo export RUN` published that one, under a
    configuration saying it was pruned and quantization-aware trained. It now exports the stage `train`
    publishes, and refuses a run whose stages are not all finished; a stage's folder is its own."""
    from heartzoo.training.runs import stage_to_export

    _, root, out, _ = pipeline
    assert stage_to_export(root / "run") == root / "run" / "qat" == root / out["final"]
    assert stage_to_export(root / "run" / "sparse") == root / "run" / "sparse"
    part = tmp_path / "part"
    shutil.copytree(root / "run", part)
    (part / "qat" / "model.keras").unlink()
    with pytest.raises(ConfigError, match=rf"{part}: stages qat are not finished"):
        stage_to_export(part)


@pytest.mark.slow
def test_a_rerun_given_another_zoo_publishes_into_it(pipeline, shared_cache, tmp_path):
    """A finished run published into zoo A, run again with zoo B: it said "published A/...", and B
    stayed empty. It publishes into B; run once more with B, nothing new."""
    from heartzoo.training.runs import run_pipeline

    cfg, root, _, _ = pipeline
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    other = tmp_path / "other-zoo"
    again = run_pipeline(cfg, run, zoo=other, env=Environment(cache_dir=shared_cache))
    assert again["published"] == str((other / "beat-3" / "student" / "v1").resolve())
    assert (other / "index.json").is_file() and (root / "zoo" / "beat-3" / "student" / "v1").is_dir()
    third = run_pipeline(cfg, run, zoo=other, env=Environment(cache_dir=shared_cache))
    assert third["published"] == again["published"] and not (other / "beat-3" / "student" / "v2").exists()


def test_teacher_must_fit_the_student(small_run, data_root, tmp_path):
    from heartzoo.training.runs import run_pipeline

    cfg = parse_config(
        {**STUDENT, "input": {"rr_features": False}, "compress": {"distill": {"teacher": str(small_run)}}}
    )
    with pytest.raises(
        ConfigError, match=r"compress.distill.teacher.*does not fit the student: rr_features True vs False"
    ):
        run_pipeline(cfg, tmp_path / "run", publish=False)


@pytest.mark.slow
def test_channel_pruning_refuses_other_families(small_run, data_root, tmp_path, shared_cache):
    from heartzoo.training.runs import run_pipeline

    cfg = parse_config(
        {
            **STUDENT,
            "model": {"arch": "efficientnetv2-xs"},
            "train": {**STUDENT["train"], "epochs": 1, "steps_per_epoch": 2},
        }
    )
    with pytest.raises(ConfigError, match="efficientnetv2-xs is not prunable by channels"):
        run_pipeline(cfg, tmp_path / "run", publish=False, env=Environment(cache_dir=shared_cache))


@pytest.mark.slow
def test_quantization_aware_finetuning_moves_the_weights(pipeline):
    import keras

    _, root, _, _ = pipeline
    before = keras.saving.load_model(root / "run" / "sparse" / "model.keras", compile=False)
    after = keras.saving.load_model(root / "run" / "qat" / "model.keras", compile=False)
    k0 = before.get_layer("res1_b_conv").get_weights()[0]
    k1 = after.get_layer("res1_b_conv").get_weights()[0]
    assert k0.shape == k1.shape and not np.allclose(k0, k1)
    s = __import__("json").loads((root / "run" / "qat" / "train_summary.json").read_text())
    assert s["stage"] == "qat" and s["epochs"] == 1


def test_the_selected_stage_is_the_last_or_the_best_validating():
    from heartzoo.zoo.manifest import selected_stage, stage_rule

    best = {"export": {"stage": "best_validation"}}
    assert stage_rule(best) == "best_validation" and stage_rule({}) == "last"  # {}: a config from before
    assert stage_rule({**best, "ensemble": {"members": 4}}) == "last"  # its average, whatever members chose
    recs = [
        {"stage": "distill", "val_macro_f1": 0.84},
        {"stage": "channel_prune", "val_macro_f1": 0.78},
        {"stage": "qat", "val_macro_f1": 0.84},
    ]
    assert selected_stage(recs)["stage"] == "qat"
    assert selected_stage(recs[:2], "best_validation")["stage"] == "distill"
    assert selected_stage(recs, "best_validation")["stage"] == "qat"  # a tie: the more compressed one
    with pytest.raises(ConfigError, match=r"export\.stage.*'best'"):
        parse_config({**STUDENT, "export": {"stage": "best"}})


@pytest.mark.slow
def test_best_validation_on_a_finished_run_publishes_its_stage_training_nothing(
    pipeline, shared_cache, tmp_path
):
    """export.stage is read after training: set on a finished run, the rerun publishes the stage it
    selects as a new version, once, from the models already there."""
    from heartzoo.training.runs import run_pipeline
    from heartzoo.zoo.manifest import final_stage_dir

    cfg, root, out, _ = pipeline
    run, zoo = tmp_path / "run", tmp_path / "zoo"
    shutil.copytree(root / "run", run)
    shutil.copytree(root / "zoo", zoo)
    # the case under test, written into the copy: the distilled stage validated best
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stages"][0]["val_macro_f1"] = 0.99
    (run / "manifest.json").write_text(json.dumps(manifest))
    stamps = {p: p.stat().st_mtime_ns for p in run.rglob("model.keras")}
    best = cfg.model_copy(update={"export": cfg.export.model_copy(update={"stage": "best_validation"})})
    again = run_pipeline(best, run, zoo=zoo, env=Environment(cache_dir=shared_cache))
    assert again["selected"]["stage"] == "distill" and again["final"] == str(run.resolve())
    assert again["published"] == str(zoo / "beat-3" / "student" / "v2")
    assert {p: p.stat().st_mtime_ns for p in run.rglob("model.keras")} == stamps
    m = json.loads((zoo / "beat-3" / "student" / "v2" / "metrics.json").read_text())
    assert m["compression"] == ["distill", "int8_ptq"] and m["val_macro_f1"] == 0.99
    assert json.loads((run / "manifest.json").read_text())["published_stage"] == "."
    assert final_stage_dir(run) == run
    # once published, a rerun publishes nothing more
    assert (
        run_pipeline(best, run, zoo=zoo, env=Environment(cache_dir=shared_cache))["published"]
        == again["published"]
    )
    assert not (zoo / "beat-3" / "student" / "v3").exists()
    assert [s["stage"] for s in again["stages"]] == [s["stage"] for s in out["stages"]]


def test_magnitude_pruning_ends_with_the_batch_norm_statistics_of_the_pruned_model():
    """Batch norm's moving statistics trail the weights by about a hundred steps, and the schedule prunes
    until 80 % of the fine-tune: after a short one they described the model before its last pruning
    steps, and validation fell. They are estimated again on the training stream."""
    import keras
    import tensorflow as tf

    from heartzoo.compress.prune_magnitude import magnitude_prune, sparsity_of
    from heartzoo.models import build_model

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(256, 1, 256, 1)) * 2 + 1).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 256)]
    ds = tf.data.Dataset.from_tensor_slices((x, y, np.ones(256, np.float32))).batch(64).repeat()
    model = build_model("cnn1", (1, 256, 1), 3)
    out = magnitude_prune(model, "cnn1", {}, (1, 256, 1), 3, 0, ds, 4, 1, 0.5, 1e-3)
    assert sparsity_of(out) > 0.4
    norms = [layer for layer in out.layers if isinstance(layer, keras.layers.BatchNormalization)]
    seen = keras.Model(out.inputs, [layer.input for layer in norms]).predict(x, verbose=0)
    for layer, h in zip(norms, seen, strict=True):
        assert np.allclose(np.asarray(layer.moving_mean), h.mean(axis=(0, 1, 2)), rtol=1e-3, atol=1e-4)
        assert np.allclose(np.asarray(layer.moving_variance), h.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-4)
