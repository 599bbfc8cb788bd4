"""`heartzoo zoo remade` (make demo's last step): a version exported again is the published one byte for
byte, or it says where each trained, and fails only where one kind of machine made different bytes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ZOO = Path(__file__).resolve().parents[1] / "zoo"
#: the one published version that records its machine (published after heartzoo recorded them)
RECORDED = "af-4/af-4-cnn4-student/v1"
REF = "af-4-cnn4-student@v1"


def remade(made: Path, ref: str = REF) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "heartzoo", "zoo", "remade", str(made), ref, "--zoo", str(ZOO)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def _made_again(tmp_path: Path, machine: dict | None, tflite_tail: bytes = b"") -> Path:
    """A copy of the published version as if exported here: its .tflite (with `tflite_tail` appended,
    bytes that another training would have changed) and its metrics.json trained on `machine`."""
    made = tmp_path / "made"
    shutil.copytree(ZOO / RECORDED, made)
    with (made / "model.tflite").open("ab") as f:
        f.write(tflite_tail)
    metrics = json.loads((made / "metrics.json").read_text())
    metrics["trained_on"] = None if machine is None else [machine]
    (made / "metrics.json").write_text(json.dumps(metrics))
    return made


def _published_machine() -> dict:
    return json.loads((ZOO / RECORDED / "metrics.json").read_text())["trained_on"][0]


def test_the_same_bytes_are_the_published_version():
    proc = remade(ZOO / RECORDED)
    assert proc.returncode == 0, proc.stderr
    assert "byte for byte the published af-4-cnn4-student@v1's" in proc.stdout


def test_other_bytes_from_the_same_machine_kind_fail(tmp_path):
    # the core count is not the machine's kind: training pins the thread pool
    made = _made_again(tmp_path, {**_published_machine(), "cores": 16}, b"\0")
    proc = remade(made)
    assert proc.returncode == 1
    assert "differs" in proc.stdout and "no longer makes the version" in proc.stdout


@pytest.mark.parametrize(
    "machine, why",
    [
        ({"isa": "AVX2"}, "another machine kind"),
        ({"keras": "3.14.0"}, "another machine kind"),
        (None, "records no machine"),
    ],
)
def test_other_bytes_from_another_or_unknown_machine_say_so_with_both_numbers(tmp_path, machine, why):
    made = _made_again(tmp_path, None if machine is None else {**_published_machine(), **machine}, b"\0")
    proc = remade(made)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert why in out and "differs" in out
    published = json.loads((ZOO / RECORDED / "metrics.json").read_text())
    assert f"validation macro-F1 {published['val_macro_f1']:.4f}" in out
    assert f"test int8 macro-F1 {published['int8']['macro_f1']:.4f}" in out


def test_a_ref_the_zoo_does_not_list_is_an_error_naming_it(tmp_path):
    proc = remade(ZOO / RECORDED, "af-4-cnn4-student@v99")
    assert proc.returncode != 0
    assert "af-4-cnn4-student" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("missing", ["metrics.json", "model.tflite"])
def test_a_folder_that_is_no_exported_version_is_an_error_naming_the_file(tmp_path, missing):
    made = _made_again(tmp_path, None)
    (made / missing).unlink()
    proc = remade(made)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{made}/{missing}" in " ".join((proc.stdout + proc.stderr).split())


def test_machines_are_of_one_kind_but_for_their_cores():
    from heartzoo.meta import TrainingMachine
    from heartzoo.zoo.remade import same_kind, why_another_model

    here = TrainingMachine(**_published_machine())
    assert same_kind([here], [TrainingMachine(**{**_published_machine(), "cores": 64})]) is True
    assert same_kind([here], [TrainingMachine(**{**_published_machine(), "onednn": "off"})]) is False
    assert same_kind([here], None) is None and same_kind(None, [here]) is None
    assert "no longer makes" in why_another_model(True)
    assert "another machine kind" in why_another_model(False)
    assert "records no machine" in why_another_model(None)
    # a retraining check, against the machine its version records
    from heartzoo.training.retrain import why_not_made_again

    assert "no longer makes" in why_not_made_again(REF, ZOO, [here])
    assert "another machine kind" in why_not_made_again(
        REF, ZOO, [TrainingMachine(**{**_published_machine(), "isa": "AVX2"})]
    )
    # one side without its machine counts against the recipe, as the recommendation weighs it: not "not a
    # broken recipe", which the retrain command printed beside its failed check
    unknown = why_not_made_again(REF, ZOO, None)
    assert "records no machine" in unknown and "counts against the recipe" in unknown
    assert "Not a broken recipe" not in unknown


def test_another_recipe_or_a_changed_published_version_is_refused(tmp_path):
    """Any folder was compared with any version ("not a broken recipe" for another architecture), and the
    published side was read without checking its files."""
    other = tmp_path / "other"
    shutil.copytree(ZOO / "beat-3" / "beat-3-cnn3-student" / "v6", other)
    proc = remade(other)
    assert proc.returncode != 0 and "is not the recipe of" in " ".join(proc.stderr.split())
    zoo = shutil.copytree(ZOO, tmp_path / "zoo")
    metrics = zoo / RECORDED / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"macro_f1": 0.', '"macro_f1": 1.', 1))
    proc = subprocess.run(
        [sys.executable, "-m", "heartzoo", "zoo", "remade", str(ZOO / RECORDED), REF, "--zoo", str(zoo)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode != 0 and "metrics.json: sha256" in " ".join(proc.stderr.split())
