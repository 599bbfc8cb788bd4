"""The zoo committed in this repository: complete, intact, and each entry made from its config file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from heartzoo.config import load_config, parse_config
from heartzoo.data.prepare import dealt_records
from heartzoo.data.splits import DS2 as DS2_RECORDS
from heartzoo.site.cards import STUDENT_TARGETS, teacher_name
from heartzoo.tasks import get_task
from heartzoo.zoo.index import read_index, verify

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"
INDEX = read_index(ZOO)
ENTRIES = INDEX["models"]
#: DS2 beats per AAMI class (de Chazal 2004); a task keeps the classes of its aami_map
DS2 = {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7}


def test_every_file_is_what_the_index_says():
    assert ENTRIES, "zoo/index.json lists no model"
    assert verify(ZOO, agreement=False) == []
    folders = {p.parent.relative_to(ZOO).as_posix() for p in ZOO.glob("*/*/v*/metrics.json")}
    assert folders == {e["path"] for e in ENTRIES}


def test_c_arrays_are_derived_not_stored(tmp_path):
    """The firmware C files are generated from model.tflite and the typed metadata; the zoo keeps the
    model only."""
    import re

    from heartzoo.export import write_c_array

    assert not [f["path"] for e in ENTRIES for f in e["files"] if f["path"].endswith((".h", ".cc"))]
    vdir = ZOO / "beat-3" / "beat-3-cnn3-student" / "v1"
    files = {p.name: p for p in write_c_array(vdir, tmp_path)}
    assert set(files) == {
        "beat_3_cnn3_student_model.h",
        "beat_3_cnn3_student_model.cc",
        "beat_3_cnn3_student_model_golden.h",
    }
    source = files["beat_3_cnn3_student_model.cc"].read_text()
    data = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", source))
    assert data == (vdir / "model.tflite").read_bytes()
    metrics = json.loads((vdir / "metrics.json").read_text())
    assert f"_num_ops = {len(metrics['ops'])};" in files["beat_3_cnn3_student_model.h"].read_text()


def test_golden_vectors_hold_what_the_model_and_its_preprocessing_give(tmp_path):
    """The golden vectors: the student's own Preprocessor turns the golden recording into the golden
    inputs, LiteRT's reference kernels turn the int8 inputs into the golden outputs (written by TFLM),
    and the C header, compiled and run, holds exactly those numbers."""
    import shutil
    import subprocess

    import numpy as np

    from heartzoo.export import write_c_array
    from heartzoo.export.codegen import golden_vectors
    from heartzoo.export.runtimes import run_litert
    from heartzoo.preprocess import Preprocessor

    vdir = ZOO / "beat-3" / "beat-3-cnn3-student" / "v1"
    g = golden_vectors(vdir)
    config = parse_config(json.loads((vdir / "configuration.json").read_text())["config"])
    mine = Preprocessor.of(config)(g["signal"], g["fs"], g["r_peaks"])
    for k, v in mine.items():
        np.testing.assert_array_equal(v.reshape(len(v), -1), g["inputs"][k])
    q = [
        g["inputs_int8"][name].reshape(-1, 1, 512, 1) if name == "ecg" else g["inputs_int8"][name]
        for name in g["inputs_int8"]
    ]
    np.testing.assert_array_equal(run_litert((vdir / "model.tflite").read_bytes(), q), g["outputs_int8"])
    assert len(set(g["outputs_int8"].argmax(axis=1).tolist())) == 1  # one rhythm, one class

    if shutil.which("g++") is None:
        pytest.skip("no C++ compiler to check the header with")
    write_c_array(vdir, tmp_path)
    (tmp_path / "check.cc").write_text(
        '#include <cstdio>\n#include "beat_3_cnn3_student_model_golden.h"\n'
        "int main() {\n"
        '  for (float v : beat_3_cnn3_student_model_golden_signal) std::printf("%.9g\\n", v);\n'
        "  for (auto& row : beat_3_cnn3_student_model_golden_output_int8)\n"
        '    for (int v : row) std::printf("%d\\n", v);\n'
        "}\n"
    )
    subprocess.run(
        ["g++", "-std=c++17", "-Wall", "-Werror", "-o", str(tmp_path / "check"), str(tmp_path / "check.cc")],
        check=True,
        cwd=tmp_path,
    )
    printed = subprocess.run(
        [str(tmp_path / "check")], capture_output=True, text=True, check=True
    ).stdout.split()
    n = len(g["signal"])
    np.testing.assert_array_equal(np.array(printed[:n], np.float32), g["signal"])
    np.testing.assert_array_equal(np.array(printed[n:], int), g["outputs_int8"].reshape(-1))


@pytest.mark.slow
def test_re_exporting_the_student_gives_the_same_model(data_root, shared_cache):
    """The published beat-3 student converted again from its model.keras and configuration (the same
    class-stratified DS1 calibration frames) is its model.tflite: the same size, inputs and outputs, and
    the same int8 outputs on every calibration frame. Not always the same bytes: the converter runs the
    float model over the calibration frames with kernels chosen for the CPU at hand, so an intermediate
    tensor's scale can differ in its last bits from one CPU to another (seen: 132 of 28,768 bytes on an
    AVX-512 machine, every output identical)."""
    from heartzoo.export import calibration_inputs, convert_int8, firmware_model
    from heartzoo.export.runtimes import io_specs, quantize_inputs, run_litert
    from heartzoo.integrity import load_keras

    vdir = ZOO / "beat-3" / "beat-3-cnn3-student" / "v1"
    config = parse_config(json.loads((vdir / "configuration.json").read_text())["config"])
    calibration = calibration_inputs(config, n=config.export.calibration_frames, cache_dir=shared_cache)
    buf = convert_int8(firmware_model(load_keras(vdir / "model.keras"), config), calibration)
    published = (vdir / "model.tflite").read_bytes()
    assert len(buf) == len(published) and io_specs(buf) == io_specs(published)
    differing = sum(a != b for a, b in zip(buf, published, strict=True))
    assert differing < 0.01 * len(buf), differing
    q = quantize_inputs(io_specs(published)[0], calibration)
    np.testing.assert_array_equal(run_litert(buf, q), run_litert(published, q))


def recipe_of(entry) -> Path:
    """The recipe a version was made from: its own configuration.json (`heartzoo zoo retrain` trains it)."""
    return ZOO / entry["path"] / "configuration.json"


def test_configs_hold_the_current_recipes_alone():
    """A published version's recipe is its configuration.json; configs/ holds no frozen copy of one."""
    assert not [p for p in (REPO / "configs").glob("v[0-9]*") if p.is_dir()]


def _same_recipe(current, made) -> bool:
    """Equal as configs (a section added to heartzoo since, at its default, changes no published one).
    v1 named its teacher by run folder (runs/NAME[/stage]); configs now name the zoo version that run
    published (NAME@v1): the same model."""
    if made.compress.distill is not None and made.compress.distill.zoo_ref is None:
        if current.compress.distill is None or current.compress.distill.zoo_ref != (
            teacher_name(made.compress.distill.teacher),
            "v1",
        ):
            return False
        distill = made.compress.distill.model_copy(update={"teacher": current.compress.distill.teacher})
        made = made.model_copy(update={"compress": made.compress.model_copy(update={"distill": distill})})
    return current == made


@pytest.mark.parametrize("name", sorted({e["name"] for e in ENTRIES}))
def test_a_current_recipe_is_one_a_published_version_was_made_from(name):
    """configs/NAME.yaml, where there is one, made a published version of NAME (the latest, or an earlier
    one trained again by later code, as beat-3-cnn3-student v6 is v3's): no recipe drifts unpublished."""
    current = REPO / "configs" / f"{name}.yaml"
    if not current.exists():
        return
    versions = [e for e in ENTRIES if e["name"] == name]
    assert any(_same_recipe(load_config(current), load_config(recipe_of(e))) for e in versions), name


def test_the_teachers_are_the_students_teachers():
    """An EfficientNetV2 trained on the comparison recipe (`model.comparison`) is listed with the
    comparison architectures; every version the site calls a teacher teaches a published student."""
    from heartzoo.zoo.published import family, published_config

    cfgs = {(e["name"], e["version"]): published_config(ZOO / e["path"]) for e in ENTRIES}
    taught = {
        teacher_name(c["compress"]["distill"]["teacher"]) for c in cfgs.values() if c["compress"]["distill"]
    }
    metrics = [json.loads((ZOO / e["path"] / "metrics.json").read_text()) for e in ENTRIES]
    leaky = {k: m["leaky"] for k, m in zip(cfgs, metrics, strict=True)}
    teachers = {k[0] for k, c in cfgs.items() if family(c, leaky[k]) == "teachers"}
    assert teachers and teachers <= taught
    for k, c in cfgs.items():
        if c["model"]["comparison"]:
            assert family(c, leaky[k]) == "comparison architectures", k


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e['name']}@{e['version']}")
def test_entry_was_made_from_its_config(entry, data_root):
    vdir = ZOO / entry["path"]
    published = json.loads((vdir / "configuration.json").read_text())["config"]
    made = load_config(recipe_of(entry))  # the recipe `heartzoo train` and `zoo retrain` read
    assert made == parse_config(published, str(vdir / "configuration.json"))
    m = json.loads((vdir / "metrics.json").read_text())
    assert m["model"] == entry["name"] and m["task"] == entry["task"]
    assert m["int8_macro_f1_drop"] <= published["export"]["max_f1_drop"] + 1e-9
    assert m["verification"]["litert_reference_vs_tflm"] == "bit-identical"
    if m["leaky"]:
        assert m["protocol"] == "leaky-random-beat" and entry["name"].endswith("-leaky")
    elif (
        get_task(m["task"]).protocol == "patient-deal"
    ):  # tested on the dealt patients, the same for every config
        assert m["protocol"] == "patient-deal" and m["split"] == "test"
        assert m["records"] == dealt_records(made)["test"]
    elif get_task(m["task"]).per_recording:  # af-4: CinC 2017's committed test split, per recording
        from heartzoo.data.cinc2017 import held_out_records

        assert m["split"] == "test" and sorted(m["records"]) == sorted(held_out_records())
        assert m["float"]["n"] == len(held_out_records())
    elif get_task(m["task"]).unit == "window":  # the quality gate: DS2's windows and CinC 2017's test split
        from heartzoo.data.cinc2017 import held_out_records

        assert m["protocol"] == "inter-patient" and m["split"] == "ds2"
        assert set(m["records"]) == set(DS2_RECORDS) | set(held_out_records())
    else:
        assert m["split"] == "ds2" and m["float"]["n"] == sum(DS2[c] for c in get_task(m["task"]).aami_map)
        assert not entry["name"].endswith("-leaky")


@pytest.mark.parametrize(
    "entry",
    # a seed ensemble holds K students side by side: its card measures it against these targets
    [
        e
        for e in ENTRIES
        if ("-student" in e["name"] or "-born-again" in e["name"]) and "-ensemble" not in e["name"]
    ],
    ids=lambda e: f"{e['name']}@{e['version']}",
)
def test_students_fit_a_wearable(entry):
    m = json.loads((ZOO / entry["path"] / "metrics.json").read_text())
    assert m["tflite_bytes"] <= STUDENT_TARGETS["tflite_bytes"]
    assert m["tflm_arena_bytes"] <= STUDENT_TARGETS["tflm_arena_bytes"]
    steps = {s.split(":")[0] for s in m["compression"]}
    config = json.loads((ZOO / entry["path"] / "configuration.json").read_text())["config"]
    # channel pruning is left out only where the recipe publishes its best-validating stage
    assert "distill" in steps and (
        "channel_prune" in steps or config["export"].get("stage") == "best_validation"
    )


def test_zoo_show_names_the_runtime_of_the_int8_metrics():
    import os
    import subprocess
    import sys

    litert = [
        e
        for e in ENTRIES
        if json.loads((ZOO / e["path"] / "metrics.json").read_text())["verification"].get(
            "int8_metrics_runtime"
        )
    ]
    assert litert, "no published model took its int8 metrics from LiteRT"
    name = f"{litert[0]['name']}@{litert[0]['version']}"
    env = {**os.environ, "COLUMNS": "200", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-m", "heartzoo", "zoo", "show", name, "--zoo", str(ZOO)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0 and "int8 (LiteRT optimized) on" in proc.stdout
    assert "int8 (TFLM)" not in proc.stdout and "ms a frame (host TFLM)" in proc.stdout


# Single-seed versions that are not the ensemble's member of their seed: v2 was exported from a working
# tree that held more than its commit ("-dirty"; docs/training.md, "Which code made the v2 student"); v6
# is v3's recipe trained again after channel pruning began to seed its own dropout (docs/history.md).
NOT_THE_MEMBER = {
    ("beat-3-cnn3-student-ensemble@v2", "beat-3-cnn3-student@v2"),
    ("beat-3-cnn3-student-ensemble@v2", "beat-3-cnn3-student@v6"),
}


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if "-ensemble" in e["name"]], ids=lambda e: f"{e['name']}@{e['version']}"
)
def test_an_ensemble_reports_every_member(entry):
    from heartzoo.models.ensemble import member_config

    cfg = load_config(recipe_of(entry))
    m = json.loads((ZOO / entry["path"] / "metrics.json").read_text())
    e = m["ensemble"]
    assert (
        e["seeds"] == cfg.ensemble.seeds(cfg.train.seed) and len(e["member_float_macro_f1"]) == e["members"]
    )
    assert "ensemble" in m["compression"]
    # where the zoo also holds the single-seed recipe (any version of it), the member with its seed is
    # that very model, unless NOT_THE_MEMBER says why not
    same = {"name", "description"}
    for single_entry in (x for x in ENTRIES if x["name"] == entry["name"].removesuffix("-ensemble")):
        single = load_config(recipe_of(single_entry))
        if member_config(cfg, single.train.seed).model_dump(exclude=same) == single.model_dump(exclude=same):
            published = json.loads((ZOO / single_entry["path"] / "metrics.json").read_text())
            i = e["seeds"].index(single.train.seed)
            alike = e["member_float_macro_f1"][i] == published["float"]["macro_f1"]
            pair = (
                f"{entry['name']}@{entry['version']}",
                f"{single_entry['name']}@{single_entry['version']}",
            )
            assert alike != (pair in NOT_THE_MEMBER), pair


#: the commit from which an export records the commits that trained the model (metrics.json `trained_at`)
TRAINING_COMMITS_RECORDED_SINCE = "2026-11-24T02:03:23Z"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e['name']}@{e['version']}")
def test_a_version_exported_since_training_commits_are_recorded_was_trained_by_its_clean_commit(entry):
    m = json.loads((ZOO / entry["path"] / "metrics.json").read_text())
    if m["exported_at"] < TRAINING_COMMITS_RECORDED_SINCE and "trained_at" not in m:
        return  # published before the record; its card says what is known of its commit
    # one clean commit trained every stage and exported it: that commit's recipe makes this model
    assert not m["commit"].endswith("-dirty"), (
        f"{entry['path']}: exported from a working tree ({m['commit']})"
    )
    assert m.get("trained_at") == [m["commit"]], f"{entry['path']}: trained at {m.get('trained_at')}"
