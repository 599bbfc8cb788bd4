"""The zoo committed in this repository: complete, intact, and each entry made from its config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heartzoo.cards import STUDENT_TARGETS
from heartzoo.config import load_config, parse_config
from heartzoo.tasks import get_task
from heartzoo.zoo import latest_version_dir, read_index, verify

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
    """The firmware C pair is generated from model.tflite and metrics.json; the zoo keeps the model only."""
    import re

    from heartzoo.export import write_c_array

    assert not [f["path"] for e in ENTRIES for f in e["files"] if f["path"].endswith((".h", ".cc"))]
    entry = next(e for e in ENTRIES if e["name"] == "beat-3-cnn3-student")
    vdir = ZOO / entry["path"]
    header, source = sorted(write_c_array(vdir, tmp_path), key=lambda p: p.suffix != ".h")
    data = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", source.read_text()))
    assert data == (vdir / "model.tflite").read_bytes()
    metrics = json.loads((vdir / "metrics.json").read_text())
    assert f"_num_ops = {len(metrics['ops'])};" in header.read_text()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e['name']}@{e['version']}")
def test_entry_was_made_from_its_config(entry):
    vdir = ZOO / entry["path"]
    published = json.loads((vdir / "configuration.json").read_text())["config"]
    source = REPO / "configs" / f"{entry['name']}.yaml"
    assert source.exists(), f"{entry['path']}: no configs/{source.name}"
    # compared as configs: a section added to heartzoo since (at its default) changes no published one
    assert load_config(source) == parse_config(published, str(vdir / "configuration.json"))
    m = json.loads((vdir / "metrics.json").read_text())
    assert m["model"] == entry["name"] and m["task"] == entry["task"]
    assert m["int8_macro_f1_drop"] <= published["export"]["max_f1_drop"] + 1e-9
    assert m["verification"]["litert_reference_vs_tflm"] == "bit-identical"
    if m["leaky"]:
        assert m["protocol"] == "leaky-random-beat" and entry["name"].endswith("-leaky")
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
    assert {"distill", "channel_prune"} <= {s.split(":")[0] for s in m["compression"]}


def test_zoo_show_names_the_runtime_of_the_int8_metrics():
    import os
    import subprocess
    import sys

    litert = [e for e in ENTRIES if json.loads((ZOO / e["path"] / "metrics.json").read_text())["verification"].get("int8_metrics_runtime")]  # fmt: skip
    assert litert, "no published model took its int8 metrics from LiteRT"
    name = f"{litert[0]['name']}@{litert[0]['version']}"
    env = {**os.environ, "COLUMNS": "200", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "heartzoo", "zoo", "show", name, "--zoo", str(ZOO)],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert proc.returncode == 0 and "int8 (LiteRT optimized) on" in proc.stdout
    assert "int8 (TFLM)" not in proc.stdout and "ms a frame (host TFLM)" in proc.stdout


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if "-ensemble" in e["name"]], ids=lambda e: f"{e['name']}@{e['version']}"
)
def test_an_ensemble_reports_every_member(entry):
    from heartzoo.ensemble import member_config

    cfg = load_config(REPO / "configs" / f"{entry['name']}.yaml")
    m = json.loads((ZOO / entry["path"] / "metrics.json").read_text())
    e = m["ensemble"]
    assert (
        e["seeds"] == cfg.ensemble.seeds(cfg.train.seed) and len(e["member_float_macro_f1"]) == e["members"]
    )
    assert "ensemble" in m["compression"]
    # where the zoo also holds the single-seed recipe, the member with its seed is that very model
    single_file = REPO / "configs" / f"{entry['name'].removesuffix('-ensemble')}.yaml"
    if single_file.exists():
        single = load_config(single_file)
        member = member_config(cfg, single.train.seed)
        same = {"name", "description"}
        if member.model_dump(exclude=same) == single.model_dump(exclude=same):
            vdir = latest_version_dir(ZOO, single.task, single.name)
            published = json.loads((vdir / "metrics.json").read_text())
            i = e["seeds"].index(single.train.seed)
            assert e["member_float_macro_f1"][i] == published["float"]["macro_f1"]
