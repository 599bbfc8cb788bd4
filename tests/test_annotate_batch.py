"""`heartzoo annotate A B C ...` (`heartzoo.recording.batch`): real CinC 2017 recordings (training side),
each annotated as it is alone, a bad one reported while the others go on, and one summary table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli

ZOO = REPO / "zoo"
MODEL = "beat-3-cnn3-student@v6"
RHYTHM = "af-4-cnn3-student@v3"
RECORDS = ("A00005", "A00008")  # AF and other rhythm, outside the committed test split


@pytest.fixture(scope="module")
def cinc(data_root: Path) -> Path:
    folder = data_root / "cinc2017" / "training2017"
    if not (folder / "A00005.hea").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    return folder


def _annotate(*paths, out: Path, extra=()):
    return run_cli(
        "annotate", *map(str, paths), "--model", MODEL, "--zoo", str(ZOO), "--lead", "ECG",
        "--rhythm", RHYTHM, "--output-dir", str(out), *extra,
    )  # fmt: skip


def test_each_recording_as_alone_a_bad_one_reported_and_one_summary(cinc, tmp_path):
    batch = tmp_path / "batch"
    paths = [cinc / RECORDS[0], tmp_path / "absent.csv", cinc / RECORDS[1]]
    res = _annotate(*paths, out=batch)
    assert res.returncode == 2, res.stderr  # one was not annotated; the others were
    assert f"{tmp_path / 'absent.csv'}:nosuchfile" in "".join(
        res.stderr.split()
    )  # rich may wrap a path anywhere
    with open(batch / "annotate-summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == [str(p) for p in paths]
    assert rows[1]["error"].endswith("absent.csv: no such file") and rows[1]["beats"] == ""
    for record, row in zip(RECORDS, (rows[0], rows[2]), strict=True):
        alone = tmp_path / f"alone-{record}"
        done = _annotate(cinc / record, out=alone)
        assert done.returncode == 0
        assert not done.stderr.startswith("\n")  # no progress bar on a piped stderr, not even its blank line
        one = json.loads((alone / f"{record}.heartzoo.json").read_text())
        many = json.loads((batch / f"{record}.heartzoo.json").read_text())
        assert many == one  # the same annotations, written the same
        assert int(row["beats"]) == one["beats"] > 20 and row["error"] == "" and row["model"] == one["model"]
        # the detector and the gate that found and kept them
        assert row["r_peaks"] == one["r_peaks"] and row["r_peaks"].startswith("detected")
        assert row["quality_gate"] == one["quality"]["index"] != ""
        assert {c: int(row[f"beats_{c}"]) for c in one["counts"]} == one["counts"]
        assert row["rhythm"] == one["rhythm"]["recording"]["class"]
        assert row["rhythm_model"] == one["rhythm"]["model"] and row["rhythm_model"].startswith("af-4-")
        assert float(row["af_burden_pct"]) == pytest.approx(
            100 * one["rhythm"]["af_burden"]["burden"], abs=0.05
        )
        assert "no checksum" in row["notes"]  # CinC's checksum 0, read as none
    assert sorted(p.name for p in batch.iterdir()) == sorted(
        ["annotate-summary.csv", *(f"{r}.heartzoo{x}" for r in RECORDS for x in ("", ".csv", ".json"))]
    )


def test_all_annotated_is_exit_0_and_json_lists_each_with_its_picture(cinc, tmp_path):
    res = _annotate(*(cinc / r for r in RECORDS), out=tmp_path / "out", extra=["--json", "--plot"])
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [r["record"] for r in got["recordings"]] == list(RECORDS)
    assert all(r["error"] is None and Path(r["files"]["wfdb"]).is_file() for r in got["recordings"])
    assert all(Path(r["files"]["png"]).read_bytes()[:4] == b"\x89PNG" for r in got["recordings"])
    assert Path(got["summary"]).is_file()


@pytest.mark.parametrize("other", ["x.npy", "X.npy"])  # one file on the disks of macOS and Windows
def test_two_recordings_of_one_name_are_refused_before_anything_is_written(tmp_path, other):
    for d, name in (("a", "x.npy"), ("b", other)):
        (tmp_path / d).mkdir()
        np.save(tmp_path / d / name, np.zeros(10))
    out = tmp_path / "out"
    res = run_cli(
        "annotate", str(tmp_path / "a" / "x.npy"), str(tmp_path / "b" / other), "--model", MODEL,
        "--zoo", str(ZOO), "--fs", "250", "--output-dir", str(out),
    )  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "would both be written as" in " ".join(res.stderr.split()) and not out.exists()


def test_names_follow_the_reader_and_one_unreadable_file_stops_nothing(cinc, tmp_path):
    """`rec.1` is written `rec_1` (WFDB's letters), as its reader names it: beside `rec_1.csv` it is refused,
    beside `rec.2` it is not; a file that is not text is one row's error, not the batch's end."""
    import shutil

    w = tmp_path / "w"
    w.mkdir()
    shutil.copy(cinc / "A00005.mat", w / "A00005.mat")  # the signal file both headers name
    for name in ("rec.1", "rec.2"):
        shutil.copy(cinc / "A00005.hea", w / f"{name}.hea")
    (w / "rec_1.csv").write_bytes(b"Name,x\nSample Rate,300 hertz\nUnit,uV\n" + b"1\n" * 5000 + b"\xff\n")
    res = _annotate(w / "rec.1", w / "rec_1.csv", out=tmp_path / "o1")
    assert res.returncode == 2 and "would both be written as" in " ".join(res.stderr.split())
    assert not (tmp_path / "o1").exists()
    out = tmp_path / "o2"
    res = _annotate(w / "rec.1", w / "rec.2", out=out)
    assert res.returncode == 0, res.stderr
    assert {p.name for p in out.glob("*.heartzoo")} == {"rec_1.heartzoo", "rec_2.heartzoo"}
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(w / "rec_1.csv", bad / "rec_1.csv")
    res = _annotate(bad / "rec_1.csv", w / "rec.2", out=tmp_path / "o3")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    with open(tmp_path / "o3" / "annotate-summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert "cannot be read as UTF-8 text" in rows[0]["error"] and rows[1]["error"] == "" and rows[1]["beats"]


def test_fs_is_for_the_files_of_a_batch_that_carry_no_rate(cinc, tmp_path):
    """`--fs` with a CSV and a CinC record: the record keeps its header's 300 Hz (it was refused, as a
    WFDB record given --fs alone is), the CSV is read at the rate given."""
    import wfdb

    x = wfdb.rdrecord(str(cinc / RECORDS[0])).p_signal[:, 0]
    np.savetxt(tmp_path / "same.csv", x, header="ECG", comments="")
    res = _annotate(cinc / RECORDS[0], tmp_path / "same.csv", out=tmp_path / "out", extra=["--fs", "300"])
    assert res.returncode == 0, res.stderr
    with open(tmp_path / "out" / "annotate-summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["fs"]) for r in rows] == [300.0, 300.0] and rows[0]["beats"] == rows[1]["beats"]
    alone = _annotate(cinc / RECORDS[0], out=tmp_path / "alone", extra=["--fs", "300"])
    assert alone.returncode == 2 and "carries its sampling rate" in " ".join(alone.stderr.split())


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--keep-s-in-af"], "--keep-s-in-af keeps the S calls inside the AF that --rhythm finds"),
        (["--no-quality", "--gate", "quality-cnn3"], "--gate quality-cnn3 scores windows that --no-quality"),
        (
            ["--reference-peaks", "atr", "--gate", "quality-cnn3"],
            "reference peaks (--reference-peaks) are never",
        ),
    ],
)
def test_options_that_would_be_ignored_are_refused(cinc, tmp_path, extra, said):
    res = run_cli(
        "annotate", str(cinc / RECORDS[0]), "--model", MODEL, "--zoo", str(ZOO), "--lead", "ECG",
        "--output-dir", str(tmp_path / "out"), *extra,
    )  # fmt: skip
    assert res.returncode == 2 and said in " ".join(res.stderr.split()), res.stderr
    assert not (tmp_path / "out").exists()


def test_a_model_is_named_by_its_version_folder_too(cinc, tmp_path):
    """`--model zoo/TASK/NAME/vN`, as `evaluate` and `load_model` take it (it was "not a model name")."""
    folder = ZOO / "beat-3" / "beat-3-cnn3-student" / "v5"
    res = run_cli(
        "annotate", str(cinc / RECORDS[0]), "--model", str(folder), "--lead", "ECG", "--json",
        "--output-dir", str(tmp_path / "out"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["model"].startswith("beat-3-cnn3-student@v5")


def test_an_unknown_rhythm_model_is_refused_before_any_recording(cinc, tmp_path):
    out = tmp_path / "out"
    res = run_cli(
        "annotate", str(cinc / "A00005"), str(cinc / "A00008"), "--model", MODEL, "--zoo", str(ZOO),
        "--lead", "ECG", "--rhythm", "af-4-no-such@v1", "--output-dir", str(out),
    )  # fmt: skip
    assert res.returncode == 2 and "no model 'af-4-no-such'" in " ".join(res.stderr.split())
    assert not out.exists()


def test_a_message_holding_brackets_is_printed_as_written(cinc, tmp_path):
    """Errors, record names and warnings are the file's text, never rich markup: a cell `[/x]` crashed the
    batch's report with a MarkupError (exit 1, the good recording's lines never printed)."""
    bad = tmp_path / "[red]x.csv"
    bad.write_text("ecg\n0.1\n[/x]\n0.3\n")
    res = _annotate(cinc / RECORDS[0], bad, out=tmp_path / "out")
    assert res.returncode == 2, res.stderr
    err, out = "".join(res.stderr.split()), "".join(res.stdout.split())
    assert "[red]x.csv" in err and "'[/x]'" in err
    assert f"{RECORDS[0]}:" in out and "1of2recordingsannotated" in out


def test_a_recording_that_now_fails_leaves_no_earlier_outputs_beside_its_error(tmp_path):
    """Annotated once, then broken: its earlier WFDB, CSV, JSON and picture sat beside the summary row
    that said it failed, as if they were this run's. A file heartzoo did not write is never removed."""
    from conftest import synthetic_ecg

    x, _ = synthetic_ecg(360, 30)
    for name in ("good", "broken"):
        np.save(tmp_path / f"{name}.npy", np.asarray(x, np.float32))
    out = tmp_path / "out"

    def both():
        return run_cli(
            "annotate", str(tmp_path / "good.npy"), str(tmp_path / "broken.npy"), "--model", MODEL,
            "--zoo", str(ZOO), "--fs", "360", "--plot", "--output-dir", str(out),
        )  # fmt: skip

    assert both().returncode == 0
    (out / "notes.txt").write_text("mine")
    (tmp_path / "broken.npy").write_bytes(b"not an array")
    assert both().returncode == 2
    with open(out / "annotate-summary.csv", newline="") as f:
        rows = {Path(r["file"]).stem: r for r in csv.DictReader(f)}
    assert rows["broken"]["error"].endswith("(an earlier run's outputs of it removed)"), rows["broken"]
    assert sorted(p.name for p in out.iterdir()) == [
        "annotate-summary.csv", "good.heartzoo", "good.heartzoo.csv", "good.heartzoo.json", "good.heartzoo.png",
        "notes.txt",
    ]  # fmt: skip


def test_names_of_other_alphabets_stay_apart():
    """`ä.npy` and `ö.npy` (and two names in Chinese) were both written `_`, so a batch refused them as
    "the same recording twice"; accents are dropped, and letters with no ASCII form add a digest."""
    from heartzoo.data.wfdb_names import wfdb_letters

    assert (wfdb_letters("ä"), wfdb_letters("ö"), wfdb_letters("Müller ECG")) == ("a", "o", "Muller_ECG")
    assert wfdb_letters("心电") != wfdb_letters("心率")
    assert all(c.isascii() for c in wfdb_letters("心电")) and wfdb_letters("rec.1") == "rec_1"


def test_ctrl_c_leaves_a_summary_of_what_was_done_never_an_earlier_run_s(cinc, tmp_path):
    """Ctrl-C in a batch ended silently (typer swallowed the handler's "interrupted") and left the
    earlier run's summary beside the new files: another model's counts, other recordings. The summary now
    lists the recordings done before the interrupt, and says how many."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from test_resume import _interruptible

    out = tmp_path / "out"
    assert _annotate(cinc / "A00005", out=out).returncode == 0  # an earlier run's summary
    records = sorted(cinc.glob("A0*.hea"))[:400]
    cmd = [
        sys.executable,
        "-m",
        "heartzoo",
        "annotate",
        *map(str, records),
        "--model",
        "beat-2-cnn3-wearable@v2",
    ]
    cmd += ["--zoo", str(ZOO), "--lead", "ECG", "--output-dir", str(out)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(list(out.glob("*.heartzoo.json"))) < 6 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 130, err
    said = next(line for line in err.splitlines() if line.startswith("interrupted: "))
    done = int(said.split()[1])
    assert said.endswith(
        f"{done} of {len(records)} recordings done, listed in {out / 'annotate-summary.csv'}"
    )
    with open(out / "annotate-summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == done and 1 <= done < len(records)
    assert {r["model"] for r in rows} == {"beat-2-cnn3-wearable@v2"}  # none of the earlier run's
    for r in rows:  # each listed recording written whole, by this run
        got = json.loads((out / f"{Path(r['file']).stem}.heartzoo.json").read_text())
        assert got["model"] == "beat-2-cnn3-wearable@v2"


def test_a_recording_that_would_be_written_over_the_summary_is_refused(cinc, tmp_path):
    (tmp_path / "annotate-summary.npy").write_bytes(b"")
    res = _annotate(
        tmp_path / "annotate-summary.npy", cinc / "A00005", out=tmp_path / "out", extra=("--extension", "csv")
    )
    assert res.returncode == 2 and "the batch's summary: give another --extension" in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.batch import check_names

    with pytest.raises(HeartzooError, match="the batch's summary"):  # one file where case is ignored
        check_names([tmp_path / "ANNOTATE-SUMMARY.npy"], tmp_path / "out", "csv")


def test_a_record_s_other_files_and_heartzoo_s_own_outputs_are_left_out_of_a_batch(cinc, tmp_path):
    """`annotate folder/*` named each record's .hea and .mat, and the .mat got an error row (53 of 89
    rows, exit 2, in the review); run again in its output folder, `annotate *.csv` read the summary and
    each RECORD.heartzoo.csv as recordings."""
    out = tmp_path / "out"
    assert _annotate(cinc / "A00008", out=out).returncode == 0
    files = [cinc / f"{r}.{ext}" for r in RECORDS for ext in ("hea", "mat")]
    res = _annotate(*files, out / "A00008.heartzoo.csv", out / "annotate-summary.csv", out=out)
    assert res.returncode == 0, res.stderr
    assert "note: 4 file(s) left out" in " ".join(res.stderr.split())
    with open(out / "annotate-summary.csv", newline="") as f:
        assert [Path(r["file"]).name for r in csv.DictReader(f)] == [f"{r}.hea" for r in RECORDS]


def test_a_refused_batch_leaves_the_earlier_summary_and_an_empty_one_is_refused(cinc, tmp_path):
    """The earlier summary was removed before the model was loaded (a typo in --model left none), and a
    batch of heartzoo's own outputs alone wrote an empty summary over it, exit 0."""
    out = tmp_path / "out"
    assert _annotate(cinc / "A00005", cinc / "A00008", out=out).returncode == 0
    before = (out / "annotate-summary.csv").read_text()
    res = run_cli("annotate", str(cinc / "A00005"), str(cinc / "A00008"), "--model", "beat-3-cnn3-studnet@v6",
                  "--zoo", str(ZOO), "--lead", "ECG", "--output-dir", str(out))  # fmt: skip
    assert res.returncode == 2 and (out / "annotate-summary.csv").read_text() == before
    res = _annotate(out / "annotate-summary.csv", out / "A00005.heartzoo.csv", out=out)
    assert res.returncode == 2 and "no recording to annotate" in res.stderr
    assert (out / "annotate-summary.csv").read_text() == before
