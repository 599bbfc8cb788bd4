"""The benchmark scripts that measure the protocol: the selection comparison and the seed spread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import benchmark_script

REPO = Path(__file__).resolve().parents[1]


def test_selection_comparison_reads_the_published_zoo(tmp_path):
    from heartzoo.zoo.recommend import validation_macro_f1

    script = benchmark_script("selection_vs_ds2")
    zoo = REPO / "zoo"
    names = ["beat-3-cnn1", "beat-3-cnn3", "beat-3-baseline-cnn"]
    ds2 = {}
    for name in names:
        vdir = zoo / "beat-3" / name / "v1"
        ds2[name] = json.loads((vdir / "metrics.json").read_text())["float"]["macro_f1"]
        config = json.loads((vdir / "configuration.json").read_text())["config"]
        # a signal that ranks exactly as DS2 does, and one (fold mean) that ranks the other way
        cv = {"name": name, "task": "beat-3", "config": config, "pooled": {"macro_f1": ds2[name]}}
        cv["fold_macro_f1_mean"] = -ds2[name]
        (tmp_path / name).mkdir()
        (tmp_path / name / "cv.json").write_text(json.dumps(cv))
    table = script.rows(tmp_path, zoo)
    # the architectures whose v1 trained on DS1 (four came later, their v1 on the pool)
    v1 = {r["name"]: r for r in table if r["trained_on"] == "DS1" and r["task"] == "beat-3"}
    assert all(r["version"] == "v1" for r in v1.values())
    # every comparison architecture, the students, teachers and leaky twins left out
    assert "beat-3-cnn3-student" not in v1 and "beat-3-efficientnetv2-sm" not in v1
    assert not [n for n in v1 if n.endswith("-leaky")] and len(v1) == 10
    assert {n: v1[n]["val"] for n in names} == {
        n: validation_macro_f1(zoo / "beat-3" / n / "v1") for n in names
    }
    line = next(s for s in script.summary(table) if (s["task"], s["trained_on"]) == ("beat-3", "DS1"))
    best = max(names, key=ds2.get)
    assert line["configs"] == 10 and line["val"]["models"] == 10
    assert line["cv_pooled"] == {"models": 3, "spearman": 1.0, "picks": f"{best}@v1", "pick_ds2": ds2[best]}
    assert line["cv_fold_mean"]["spearman"] == -1.0
    # the pools compared over the architectures both have: the index's beat-3 comparison names published
    # again after v1 (zoo v2 retrained part of the comparison set on the pool)
    from heartzoo.zoo.index import read_index

    again = {e["name"] for e in read_index(zoo)["models"] if e["version"] != "v1"} & set(v1)
    assert line["val_shared"]["models"] == (len(again) or 10)

    # a cross-validation of another config than the published one is not compared with it
    cv["config"]["train"]["seed"] += 1
    (tmp_path / names[-1] / "cv.json").write_text(json.dumps(cv))
    again = {r["name"]: r for r in script.rows(tmp_path, zoo) if r["version"] == "v1"}
    assert again[names[-1]]["cv_pooled"] is None and again[names[0]]["cv_pooled"] == ds2[names[0]]


def test_seed_variant_changes_only_the_seed_and_the_name():
    from heartzoo.config import load_config

    script = benchmark_script("seed_spread")
    config = load_config(REPO / "configs" / "beat-3-cnn3-student.yaml")
    variant = script.seed_variant(config, 7)
    a, b = config.model_dump(mode="json"), variant.model_dump(mode="json")
    assert b["name"] == "beat-3-cnn3-student-seed7" and b["train"]["seed"] == 7
    a["train"]["seed"], a["name"] = 7, b["name"]
    assert a == b


def test_chain_distils_each_seed_from_its_teachers_same_seed_run(tmp_path):
    from heartzoo.config import load_config

    script = benchmark_script("seed_spread")
    config = load_config(REPO / "configs" / "beat-3-cnn3-born-again.yaml")  # teacher: a student@vN
    variant = script.seed_variant(config, 2)
    assert config.compress.distill.teacher.startswith("beat-3-cnn3-student@v")
    with pytest.raises(SystemExit, match="beat-3-cnn3-student-seed2: no finished model"):
        script.chained(variant, config, 2, tmp_path)

    def finished(run: Path) -> Path:
        # the student's run: train, then channel pruning, as its manifest records
        stage = run / "channel-pruned"
        stage.mkdir(parents=True)
        (stage / "model.keras").write_bytes(b"")
        stages = [{"stage": "distill", "dir": "."}, {"stage": "channel_prune", "dir": "channel-pruned"}]
        (run / "manifest.json").write_text(json.dumps({"config_sha256": "x", "stages": stages}))
        return stage

    stage = finished(tmp_path / "beat-3-cnn3-student-seed2")
    chain = script.chained(variant, config, 2, tmp_path)
    assert chain.compress.distill.teacher == str(stage)
    assert chain.name == "beat-3-cnn3-born-again-seed2-chain" and chain.train.seed == 2
    # a teacher that was itself chained is found as such
    chained_stage = finished(tmp_path / "beat-3-cnn3-student-seed2-chain")
    assert script.chained(variant, config, 2, tmp_path).compress.distill.teacher == str(chained_stage)
    undistilled = load_config(REPO / "configs" / "beat-3-cnn3.yaml")
    with pytest.raises(SystemExit, match=r"needs compress\.distill\.teacher"):
        script.chained(script.seed_variant(undistilled, 2), undistilled, 2, tmp_path)


@pytest.mark.slow
def test_calibration_benchmark_covers_the_models_with_batch_norm():
    """Every published inter-patient model with top-level batch norm, and none of the others."""
    import keras

    from heartzoo.errors import HeartzooError
    from heartzoo.models.adapt import batchnorm_layers
    from heartzoo.zoo.index import load_index

    names = {f.parent.name for f in benchmark_script("calibration").calibratable(REPO / "zoo")}
    published = {m["name"]: m["path"] for m in load_index(REPO / "zoo")["models"]}
    assert {"beat-3-cnn3-student", "beat-3-efficientnetv2-sm", "aami-5-nin-encoder"} <= names
    assert not {n for n in names if n.endswith(("-leaky", "-ensemble"))}
    assert "beat-3-baseline-cnn" not in names
    # every other inter-patient model left out has no batch-norm layer of its own
    for name in {n for n in published if not n.endswith(("-leaky", "-ensemble"))} - names:
        model = keras.saving.load_model(REPO / "zoo" / published[name] / "model.keras", compile=False)
        with pytest.raises(HeartzooError, match="has no BatchNormalization layer"):
            batchnorm_layers(model)


def test_calibration_summary_counts_what_rose():
    def line(model, split, plain, calibrated, version="v1"):
        return {
            "model": model,
            "version": version,
            "task": "beat-3",
            "split": split,
            "delta": round(calibrated - plain, 4),
            "plain": {"macro_f1": plain},
            "calibrated": {"macro_f1": calibrated},
        }

    lines = [line("a", "val", 0.4, 0.6), line("b", "val", 0.5, 0.45), line("c", "val", 0.3, 0.5)]
    lines += [line("a", "ds2", 0.8, 0.7), {"model": "a", "runtime": "int8", "split": "ds2"}]
    lines += [line("a", "val", 0.7, 0.6, version="v2")]  # a later version is a row of its own
    text = benchmark_script("calibration").summary(lines)
    assert "| a v1 | 0.4000 → 0.6000 | 0.8000 → 0.7000 |" in text and "| b v1 | 0.5000 → 0.4500 | – |" in text
    assert "| a v2 | 0.7000 → 0.6000 | – |" in text
    assert "| beat-3 | val | 4 | 2 | +0.0750 |" in text and "| beat-3 | ds2 | 1 | 0 | -0.1000 |" in text


def test_prune_keep_grafts_the_first_stage_of_the_same_recipe_only(tmp_path, monkeypatch):
    from heartzoo.config import load_config
    from heartzoo.io import write_json
    from heartzoo.training.runs import FIRST_STAGE_FILES, graft
    from heartzoo.zoo.manifest import Manifest, config_hash

    monkeypatch.syspath_prepend(str(REPO / "studies"))  # it borrows seed_spread's helpers
    script = benchmark_script("prune_keep")
    config = load_config(REPO / "configs" / "beat-3-cnn3-student.yaml")
    variant = script.keep_variant(config, 2, 0.75)
    a, b = config.model_dump(mode="json"), variant.model_dump(mode="json")
    assert b["name"] == "beat-3-cnn3-student-keep75-seed2"
    a["name"], a["train"]["seed"], a["compress"]["channel_prune"]["keep"] = b["name"], 2, 0.75
    assert a == b

    def finished_run(folder: Path, made) -> Path:
        """A run of `made` whose first stage is done (its files' contents do not matter here)."""
        folder.mkdir()
        write_json(folder / "config.json", made.model_dump(mode="json"))
        for name in FIRST_STAGE_FILES:
            (folder / name).write_text(name)
        record = {"stage": "distill", "dir": ".", "val_macro_f1": 0.5, "state": "done", "commit": "abc"}
        Manifest(folder / "manifest.json", config_hash(made), [record]).save()
        return folder

    # the seed's run of the recipe as published (keep 0.5) lends its distilled model
    source = finished_run(tmp_path / "seed2", script.keep_variant(config, 2, 0.5))
    run = tmp_path / "keep" / variant.name
    made, stages = script.source_run(source, variant)
    assert made.compress.channel_prune.keep == 0.5 and [s["stage"] for s in stages] == ["distill"]
    graft(source, stages[0], run, variant)
    manifest = Manifest.open(run, variant)  # the run resumes after the first stage
    (first,) = manifest.stages
    assert first["grafted_from"] == str(source) and first["commit"] == "abc"
    assert first["config_sha256"] == config_hash(variant)
    assert all((run / n).read_text() == n for n in FIRST_STAGE_FILES)
    assert load_config(run / "config.json") == variant  # evaluation reads the run's config back

    # a run of another recipe (here another learning rate) cannot stand for the first stage
    other = variant.model_copy(update={"train": variant.train.model_copy(update={"learning_rate": 0.01})})
    stranger = finished_run(tmp_path / "other", other)
    with pytest.raises(SystemExit, match="differs from beat-3-cnn3-student-keep75-seed2's"):
        script.source_run(stranger, variant)
    assert [p.name for p in (tmp_path / "keep").iterdir()] == [variant.name]  # refused before any graft


def test_s_errors_counts_each_kind_by_rhythm_and_by_record():
    import numpy as np

    script = benchmark_script("s_errors")
    labels = np.array([0, 1, 1, 1, 0, 0, 2, 1])
    called = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    rhythm = np.array(["AFIB", "N", "N", "SBR", "N", "AFIB", "", "SBR"])
    record = np.array(["a", "b", "b", "c", "b", "a", "d", "c"])
    r = script.s_errors(labels, called, 1, rhythm, record, top=2)
    # false alarms: beats 0, 5 (AFIB, record a) and 6; misses: beats 2 (N, b) and 7 (SBR, c)
    assert r["total"] == {"beats": 8, "s_beats": 4, "hits": 2, "false_alarm": 3, "miss": 2}
    assert list(r["by_rhythm"]) == ["AFIB", "", "N", "SBR"]  # most false alarms first, then by name
    assert r["by_rhythm"]["AFIB"] == {"beats": 2, "s_beats": 0, "hits": 0, "false_alarm": 2, "miss": 0}
    assert r["by_rhythm"]["SBR"] == {"beats": 2, "s_beats": 2, "hits": 1, "false_alarm": 0, "miss": 1}
    assert r["records_by_false_alarm"] == {"a": 2, "d": 1}
    assert r["records_by_miss"] == {"b": 1, "c": 1}


def test_s_errors_reads_each_beats_rhythm_from_the_real_annotations(mitdb):
    import numpy as np
    import wfdb

    script = benchmark_script("s_errors")
    records, samples, expected = [], [], []
    for record in ("201", "232"):  # 201 goes in and out of atrial fibrillation; 232 is sinus bradycardia
        ann = wfdb.rdann(str(mitdb / record), "atr")
        marks = zip(ann.sample, ann.symbol, ann.aux_note, strict=True)
        changes = [(s, a.strip("\x00 ")[1:]) for s, sym, a in marks if sym == "+"]
        beats = ann.sample[np.isin(ann.symbol, ["N", "A", "V"])][::50]
        records += [record] * len(beats)
        samples += beats.tolist()
        expected += [next((n for s, n in reversed(changes) if s <= b), "") for b in beats]
    got = script.beat_rhythms(np.array(records), np.array(samples))
    assert got.tolist() == expected
    assert {"AFIB", "N", "SBR"} <= set(got.tolist())
