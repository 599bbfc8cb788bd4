"""The CLI a user meets: quiet unless --verbose, --version, defaults and whole summaries in --help, a zoo
listing that fits, verify's progress and hash-only mode, evaluate by zoo name with --int8 and
per-class rejection, and one default task."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import run_cli

from heartzoo.environment import Environment

REPO = Path(__file__).resolve().parents[1]


def heartzoo(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """`python -m heartzoo ARGS` in a process of its own: TensorFlow's C++ logging shows only there."""
    base = {k: v for k, v in os.environ.items() if k not in ("HEARTZOO_VERBOSE", "TF_CPP_MIN_LOG_LEVEL")}
    return subprocess.run(
        [sys.executable, "-m", "heartzoo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
    )


def _commands():
    """(path, click command) for every command and group of the app."""
    import typer

    from heartzoo.cli import app

    root = typer.main.get_command(app)
    todo = [("heartzoo", root)]
    while todo:
        path, cmd = todo.pop()
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            todo.append((f"{path} {name}", sub))


# ---- quiet by default ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_tensorflow_command_is_quiet_unless_verbose(small_run, shared_cache):
    """`evaluate` imports TensorFlow: without --verbose, stderr is empty (no absl/oneDNN/cuInit lines);
    with it, TensorFlow's start-up lines come through."""
    args = ("evaluate", str(small_run), "--split", "val", "--cache-dir", str(shared_cache))
    quiet = heartzoo(*args, env={"COLUMNS": "120"})
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stderr == ""
    assert "float: small-cnn2 on val" in quiet.stdout
    assert not any(s in quiet.stdout for s in ("cuInit", "oneDNN", "absl", "TensorSpec("))
    loud = heartzoo("--verbose", *args, env={"COLUMNS": "120"})
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert re.search(r"absl|oneDNN|cuda|I0000|W0000|E0000", loud.stderr), loud.stderr[-2000:]


@pytest.mark.slow
def test_the_converter_is_quiet_unless_verbose(small_run, shared_cache, capfd, monkeypatch):
    """What the TFLite converter prints (a TensorSpec line per variable, the quantizer's settings,
    warnings) is held back, at the level of the file descriptors; HEARTZOO_VERBOSE=1 lets it through."""
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.export import calibration_inputs, convert_int8, firmware_model

    model, config = load_run(small_run)
    calib = calibration_inputs(config, n=60, cache_dir=shared_cache)
    fw = firmware_model(model, config)
    capfd.readouterr()
    monkeypatch.delenv("HEARTZOO_VERBOSE", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_buf = convert_int8(fw, calib)
    out, err = capfd.readouterr()
    assert "TensorSpec(" not in out + err and "fully_quantize" not in out + err, (out + err)[-2000:]
    assert caught == []
    monkeypatch.setenv("HEARTZOO_VERBOSE", "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loud_buf = convert_int8(fw, calib)
    out, err = capfd.readouterr()
    assert "TensorSpec(" in out + err
    assert caught  # the converter's warnings are there to be seen
    assert quiet_buf == loud_buf  # holding the output back changes nothing of the model


def test_held_back_output_rides_on_an_error(capfd, monkeypatch):
    from heartzoo.quiet import silenced

    monkeypatch.delenv("HEARTZOO_VERBOSE", raising=False)
    with pytest.raises(RuntimeError) as info, silenced():
        os.write(2, b"native detail\n")
        print("python detail")
        raise RuntimeError("boom")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    note = "\n".join(getattr(info.value, "__notes__", []))
    assert "native detail" in note and "python detail" in note


# ---- --version and --help -----------------------------------------------------------------------


def test_version_is_the_package_version():
    from importlib.metadata import version

    from heartzoo.version import __version__

    proc = heartzoo("--version")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.strip() == f"heartzoo {__version__}" == f"heartzoo {version('heartzoo')}"


def test_no_help_text_carries_a_default_rich_would_eat():
    """`[default: x]` written into a help string is a rich markup tag and vanishes: defaults that are
    not values go in show_default, which typer prints as text."""
    for path, cmd in _commands():
        for p in cmd.params:
            assert "[default" not in (getattr(p, "help", None) or ""), f"{path} {p.name}"


def test_help_shows_defaults_and_the_cache_root():
    proc = heartzoo("zoo", "list", "--help", env={"COLUMNS": "200"})
    assert proc.returncode == 0
    assert "[default: ($HEARTZOO_ZOO_DIR, else ./zoo)]" in proc.stdout
    assert (
        "[default: ($HEARTZOO_ZOO_URL, else $HEARTZOO_ZOO_DIR's zoo, a checkout's zoo/, the published zoo)]"
        in " ".join(proc.stdout.split())
    )
    assert "[default: name]" in proc.stdout
    proc = heartzoo("download", "--help", env={"COLUMNS": "200"})
    assert "Cache root: the version lands in models/TASK/NAME/VERSION under it" in proc.stdout
    assert "prepared frames" not in proc.stdout  # what --cache-dir said before: wrong for download
    assert "[default: ($HEARTZOO_CACHE_DIR, else the per-user cache)]" in proc.stdout
    proc = heartzoo("evaluate", "--help", env={"COLUMNS": "200"})
    assert "[default: ds2]" in proc.stdout and "[default: ($HEARTZOO_DATA_DIR" in proc.stdout


def test_every_command_summary_is_a_whole_sentence():
    """A list of commands shows each one's first docstring paragraph: one line, a sentence, never cut
    (click cuts at 45 characters unless the summary is given whole)."""
    for path, cmd in _commands():
        if path == "heartzoo":
            continue
        summary = cmd.get_short_help_str(limit=45)
        assert "\n" not in summary and not summary.endswith("..."), path
        assert summary.endswith((".", ")")), f"{path}: {summary!r}"
    proc = heartzoo("--help", env={"COLUMNS": "200"})
    line = next(x for x in proc.stdout.splitlines() if " export " in x)
    assert "verified in LiteRT and TFLM." in line


def test_one_default_task_everywhere():
    from heartzoo.tasks import DEFAULT_TASK

    defaults = {
        path: p.default
        for path, cmd in _commands()
        for p in cmd.params
        if p.name == "task" and p.default is not None
    }
    assert defaults and set(defaults.values()) == {DEFAULT_TASK}, defaults


# ---- zoo list ---------------------------------------------------------------------------------------


def _listing_rows(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"^[★ ] \S+@v\d+", line)]


def _ref(row: str) -> str:
    return row[2:].split()[0]


def test_zoo_list_fits_80_columns_when_piped():
    index = json.loads((REPO / "zoo" / "index.json").read_text())
    proc = heartzoo("zoo", "list", "--zoo", str(REPO / "zoo"), env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = _listing_rows(proc.stdout)
    assert len(rows) == len(index["models"])  # one whole line per version, none wrapped
    assert not any(c in proc.stdout for c in "┃│━…")  # no table box, nothing cut with an ellipsis
    starred = {_ref(r) for r in rows if r.startswith("★")}
    assert starred == set(index.get("recommended", {}).values())
    if starred:
        assert "★ recommended for a wearable" in proc.stdout
    assert "not shown at this width" in proc.stdout
    # piped with no width given: every column, nothing left out
    wide = heartzoo("zoo", "list", "--zoo", str(REPO / "zoo"), env={"COLUMNS": ""})
    assert "params" in wide.stdout and "MACs" in wide.stdout and "not shown" not in wide.stdout


def test_zoo_list_filters_by_task_and_sorts():
    index = json.loads((REPO / "zoo" / "index.json").read_text())
    proc = heartzoo("zoo", "list", "--zoo", str(REPO / "zoo"), "--task", "beat-2", "--sort", "int8")
    assert proc.returncode == 0, proc.stderr
    rows = _listing_rows(proc.stdout)
    want = [m for m in index["models"] if m["task"] == "beat-2"]
    assert {_ref(r) for r in rows} == {f"{m['name']}@{m['version']}" for m in want}
    got = [_ref(r) for r in rows]
    best_first = sorted(want, key=lambda m: -m["summary"]["int8_macro_f1"])
    assert [m["summary"]["int8_macro_f1"] for m in best_first] == [
        next(m for m in want if f"{m['name']}@{m['version']}" == ref)["summary"]["int8_macro_f1"]
        for ref in got
    ]
    as_json = heartzoo("zoo", "list", "--zoo", str(REPO / "zoo"), "--task", "beat-2", "--json")
    assert {m["task"] for m in json.loads(as_json.stdout)["models"]} == {"beat-2"}
    # each with the digest `download --sha256` pins, as `zoo show` prints it
    from heartzoo.meta import version_digest

    listed = json.loads(as_json.stdout)["models"][0]
    shown = heartzoo("zoo", "show", f"{listed['name']}@{listed['version']}", "--zoo", str(REPO / "zoo"))
    assert listed["digest"] == version_digest(listed["files"]) and listed["digest"] in shown.stdout
    bad = heartzoo("zoo", "list", "--zoo", str(REPO / "zoo"), "--task", "beat-9")
    assert bad.returncode == 2 and "not a task" in bad.stderr


def test_zoo_list_calls_leaky_only_the_leaky_beat_models():
    """A beat model's "test" split is the leaky protocol's; af-4's is CinC 2017's own test split."""
    index = json.loads((REPO / "zoo" / "index.json").read_text())
    proc = heartzoo("zoo", "list", "--zoo", str(REPO / "zoo"), env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    leaky = {_ref(r) for r in _listing_rows(proc.stdout) if " LEAKY " in r}
    assert leaky and leaky == {
        f"{m['name']}@{m['version']}" for m in index["models"] if m["name"].endswith("-leaky")
    }


# ---- zoo verify -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_verify_shows_progress_and_hashes_without_data(small_zoo, tmp_path):
    from heartzoo.zoo.index import verify

    seen: list[str] = []
    assert verify(small_zoo, agreement=False, env=Environment(progress=seen.append)) == []
    assert seen == ["small-cnn2@v1"]
    env = {"HEARTZOO_DATA_DIR": str(tmp_path / "no-data"), "FORCE_COLOR": "1"}  # FORCE_COLOR: a terminal
    proc = heartzoo("zoo", "verify", "--zoo", str(small_zoo), "--hashes-only", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "verifying small-cnn2@v1" in proc.stderr
    said = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", proc.stdout).split())
    assert "1 model version(s) verified" in said and "agreement not run" in said


# ---- evaluate ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_a_zoo_name_float_and_int8(small_zoo, shared_cache, tmp_path, data_root):
    """By NAME@VERSION: the float and the int8 tables, their numbers those export published."""
    out = tmp_path / "report.json"
    done = run_cli(
        "evaluate",
        "small-cnn2@v1",
        "--zoo",
        str(small_zoo),
        "--int8",
        "--cache-dir",
        str(shared_cache),
        "--output",
        str(out),
        env={"COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the version is named as load_model takes it, in the titles and the JSON
    assert "float: small-cnn2@v1 on ds2" in done.stdout and "int8 (TFLM): small-cnn2@v1 on ds2" in done.stdout
    assert "int8 confusion" in done.stdout
    report = json.loads(out.read_text())
    assert (report["model"], report["version"]) == ("small-cnn2", "v1")
    published = json.loads((small_zoo / "beat-3" / "small-cnn2" / "v1" / "metrics.json").read_text())
    assert report["float"]["macro_f1"] == pytest.approx(published["float"]["macro_f1"], abs=1e-9)
    assert report["int8"]["macro_f1"] == pytest.approx(published["int8"]["macro_f1"], abs=1e-9)
    assert report["int8"]["confusion"] == published["int8"]["confusion"]


def test_evaluate_counts_rejected_beats_per_class(small_run, shared_cache, tmp_path):
    out = tmp_path / "report.json"
    done = run_cli(
        "evaluate",
        str(small_run),
        "--split",
        "val",
        "--threshold",
        "0.6",
        "--cache-dir",
        str(shared_cache),
        "--output",
        str(out),
        env={"COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    clean = json.loads(out.read_text())["float"]
    assert clean["rejected"] > 0
    assert "rejected" in done.stdout
    for name in clean["classes"]:
        row = next(x for x in done.stdout.splitlines() if x.strip("│ ").startswith(f"{name} "))
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells[:3] == [
            name,
            f"{clean['per_class'][name]['support']:,}",
            f"{clean['rejected_per_class'][name]:,}",
        ]


def test_evaluate_refuses_int8_with_calibration(small_run):
    done = run_cli("evaluate", str(small_run), "--int8", "--calibrate-minutes", "5")
    assert done.returncode == 2 and "one or the other" in done.stderr


# ---- data stats -------------------------------------------------------------------------------------


def test_data_stats_counts_for_the_configs_task(data_root, tmp_path):
    from heartzoo.tasks import DEFAULT_TASK

    cfg = tmp_path / "five.yaml"
    cfg.write_text("name: five\ntask: aami-5\ndata:\n  validation:\n    records: ['101', '106']\n")
    done = run_cli("data", "stats", "-c", str(cfg), "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["task"] == "aami-5" and stats["classes"] == ["N", "S", "V", "F", "Q"]
    assert stats["splits"]["val"]["records"] == ["101", "106"]
    over = json.loads(run_cli("data", "stats", "-c", str(cfg), "--task", "beat-2", "--json").stdout)
    assert over["task"] == "beat-2" and over["splits"]["val"]["records"] == ["101", "106"]
    plain = json.loads(run_cli("data", "stats", "--json").stdout)
    assert plain["task"] == DEFAULT_TASK


def test_verbose_after_the_command_says_where_it_goes():
    done = run_cli("zoo", "list", "--verbose")
    assert done.returncode == 2
    assert "it goes before the command: heartzoo --verbose COMMAND" in done.stderr
