"""The `heartzoo` command as a user runs it: a real subprocess, real records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def heartzoo(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "heartzoo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
    )


def test_help_lists_commands_without_tensorflow():
    proc = heartzoo("--help")
    assert proc.returncode == 0 and "data" in proc.stdout
    proc = heartzoo("data", "--help")
    assert all(cmd in proc.stdout for cmd in ("download", "prepare", "stats"))
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, heartzoo.cli; print(sorted(m for m in sys.modules if m in "
            "('tensorflow', 'keras', 'wfdb', 'h5py', 'scipy', 'pydantic')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "[]"


@pytest.mark.slow
def test_stats_json_equals_published_counts(data_root):
    proc = heartzoo("data", "stats", "--task", "aami-5", "--json", "--data-dir", str(data_root))
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["splits"]["ds1"]["counts"] == {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8}
    assert stats["splits"]["ds2"]["counts"] == {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7}
    tr, va = stats["splits"]["train"], stats["splits"]["val"]
    assert tr["total"] + va["total"] == 51021
    assert not set(tr["records"]) & set(va["records"])


@pytest.mark.slow
def test_stats_table_for_beat_2(data_root):
    proc = heartzoo("data", "stats", "--task", "beat-2", "--data-dir", str(data_root))
    assert proc.returncode == 0, proc.stderr
    ds1 = next(line for line in proc.stdout.splitlines() if line.strip("│ ").startswith("ds1"))
    # normal 45,866, ectopic 944 + 3,788 = 4,732, F and Q left out: 423
    assert "45,866" in ds1 and "4,732" in ds1 and "423" in ds1


@pytest.mark.slow
def test_stats_of_a_pool_config_name_its_databases(data_root):
    """A config training on DS1 + svdb is counted and described as such, not as DS1 alone."""
    configs = Path(__file__).parents[1] / "configs"
    proc = heartzoo(
        "data",
        "stats",
        "-c",
        str(configs / "beat-3-cnn3-student.yaml"),
        "--json",
        "--data-dir",
        str(data_root),
    )
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["dataset"] == "mitdb+svdb" and "mitdb:DS1 + svdb:all train" in stats["protocol"]
    assert any(r.startswith("8") for r in stats["splits"]["val"]["records"])  # svdb patients drawn too


def test_a_set_is_selected_in_any_letters(data_root):
    """`data stats --select ds2` was refused: the set is DS2. Configs keep the exact names."""
    proc = heartzoo(
        "data", "stats", "--dataset", "mitdb", "--select", "ds2", "--json", "--data-dir", str(data_root)
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["records"] == 22


def test_unknown_task_is_refused():
    proc = heartzoo("data", "stats", "--task", "beat-4")
    assert proc.returncode == 2 and "not a task" in proc.stderr


@pytest.mark.slow
def test_prepare_writes_the_cache(data_root, tmp_path):
    proc = heartzoo(
        "data",
        "prepare",
        "--config",
        str(Path(__file__).parents[1] / "configs" / "beat-3.yaml"),
        "--splits",
        "val",
        "--data-dir",
        str(data_root),
        "--cache-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "val" in proc.stdout and "cache:" in proc.stdout
    assert len(list(tmp_path.rglob("*.h5"))) == 5  # five validation records


def test_window_tasks_are_counted_from_their_config_never_a_traceback(data_root, tmp_path):
    """The defaults describe the beat tasks' data: a window task is asked for its configuration, `stats`
    (beats per split) points to `prepare` for its windows, which counts them, CinC 2017's included."""
    configs = Path(__file__).parents[1] / "configs"
    for args, said in [
        (
            ("data", "stats", "--task", "af-4"),  # sent where its windows are counted, not to a dead end
            "labelled per window or recording: `heartzoo data prepare --config configs/af-4-cnn3.yaml` counts",
        ),
        (("data", "prepare", "--task", "af-4"), "give its configuration instead"),
        (
            ("data", "stats", "-c", str(configs / "rhythm-3-cnn3.yaml")),
            "labelled per window or recording: `heartzoo data prepare",
        ),
        (("data", "stats", "--select", "800"), "--select chooses within a database: give it with --dataset"),
        (("data", "stats", "--dataset", "svdb", "--task", "beat-2"), "per AAMI class, whatever the task"),
    ]:
        proc = heartzoo(*args, "--data-dir", str(data_root))
        assert proc.returncode == 2 and said in " ".join(proc.stderr.split()), (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    proc = heartzoo(
        "data", "prepare", "-c", str(configs / "af-4-cnn3.yaml"), "--splits", "val",
        "--data-dir", str(data_root), "--cache-dir", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    val = next(line for line in proc.stdout.splitlines() if line.strip("│ ").startswith("val"))
    assert (
        len([c for c in val.split("│") if c.strip().replace(",", "").isdigit()]) == 4
        and "cache: None" not in proc.stdout
    )


def test_config_typo_is_a_clear_error(tmp_path):
    cfg = tmp_path / "typo.yaml"
    cfg.write_text("name: x\ntask: beat-3\ndata:\n  protocl: inter-patient\n")
    proc = heartzoo("data", "prepare", "--config", str(cfg))
    assert proc.returncode == 2
    assert (
        str(cfg) in proc.stderr and "data.protocl" in proc.stderr and "did you mean 'protocol'" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_missing_data_dir_says_what_to_do(tmp_path):
    proc = heartzoo("data", "prepare", "--task", "beat-3", "--data-dir", str(tmp_path / "none"))
    assert proc.returncode == 2
    assert "heartzoo data download mitdb" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("split", ["val"])
def test_prepare_leaky_protocol_is_labelled(data_root, tmp_path, split):
    cfg = tmp_path / "leaky.yaml"
    cfg.write_text("name: leaky\ntask: beat-3\ndata:\n  protocol: leaky-random-beat\n")
    proc = heartzoo(
        "data",
        "prepare",
        "--config",
        str(cfg),
        "--splits",
        split,
        "--data-dir",
        str(data_root),
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "leaky" in proc.stdout.lower() and "same patients" in proc.stdout


@pytest.mark.slow
def test_unknown_split_and_bad_validation_records(data_root, tmp_path):
    proc = heartzoo("data", "prepare", "--task", "beat-3", "--splits", "tset", "--data-dir", str(data_root))
    assert proc.returncode == 2 and "unknown split 'tset'" in proc.stderr
    cfg = tmp_path / "val.yaml"
    cfg.write_text("name: v\ntask: beat-3\ndata:\n  validation:\n    records: ['100']\n")
    proc = heartzoo("data", "prepare", "--config", str(cfg), "--data-dir", str(data_root))
    assert proc.returncode == 2
    assert "data.validation.records" in proc.stderr and "not in DS1: 100" in proc.stderr


def test_published_line_never_calls_leaky_beats_ds2():
    from heartzoo.cli.common import tested_on

    assert tested_on({"leaky": False, "split": "ds2"}) == "DS2"
    assert tested_on({"leaky": True, "split": "test"}) == "LEAKY beats"
