"""A recording given as the models do not read it (a lead in V, a rate that is not its own, annotations
that are not beats, a lead turned over) gets an answer all the same: `predict`, `classify_recording` and
`annotate` say so as `RecordingWarning`s, the CLI once, and `annotate --invert` turns a lead over. On real
MIT-BIH and CinC 2017 records (read from the data folder, written here only as test files)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

REPO = Path(__file__).resolve().parents[1]
BEATS = "beat-3-cnn3-student@v6"
MINUTES = 3


def _said(call) -> list[str]:
    from heartzoo.errors import RecordingWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, RecordingWarning)]


@pytest.fixture(scope="module")
def record_119(data_root):
    """MIT-BIH 119's first minutes (MLII, upright, bigeminy): the lead in mV and its reference beats."""
    from heartzoo.data import mitbih

    sig, beats = mitbih.read_signal(data_root / "mitdb", "119"), mitbih.read_beats(data_root / "mitdb", "119")
    n = MINUTES * 60 * 360
    return np.asarray(sig.values[:n], np.float64), beats.samples[beats.samples < n]


@pytest.fixture(scope="module")
def beats_model():
    import heartzoo

    return heartzoo.load_model(BEATS, format="tflite", zoo=REPO / "zoo")


CASES = {
    "as recorded": (lambda x, r: (x, 360, r), None),
    "turned over": (lambda x, r: (-x, 360, r), "of the beats point down as the lead is read"),
    "in volts": (lambda x, r: (x / 1000, 360, r), "is the lead in µV or V?"),
    "at a rate not its own": (lambda x, r: (x, 128, r), "per minute (median) at the stated 128 Hz"),
    "a noise annotation among the beats": (
        lambda x, r: (x, 360, np.sort(np.append(r, r[10] + 10))),
        "pair(s) of R peaks closer than 120 ms, the first r_peaks[10] and [11]",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_predict_says_what_was_given_wrong(record_119, beats_model, case):
    import heartzoo

    make, says = CASES[case]
    said = _said(lambda: heartzoo.predict(beats_model, *make(*record_119)))
    assert said == [] if says is None else (len(said) == 1 and says in said[0]), said


def test_the_warning_of_a_lead_turned_over_is_the_studys_rule():
    """studies/polarity.py's second round warns only if the beat models lose more than 0.05 of macro-F1 on
    their validation patients turned over: its latest record says they do, by what it measured."""
    lines = [json.loads(t) for t in (REPO / "results" / "polarity.jsonl").read_text().splitlines()]
    rule = [d for d in lines if d.get("round") == "validation turned over"][-1]
    cost = rule["scores"]["as recorded"]["macro_f1"] - rule["scores"]["turned over"]["macro_f1"]
    assert rule["warn"] and cost > 0.05 and rule["model"] == BEATS, rule


def test_a_rhythm_model_given_volts_says_so(data_root):
    import heartzoo
    from heartzoo.data.databases import get_database

    db = get_database("cinc2017")
    x = np.asarray(db.read_signal(db.folder(data_root), "A00001", "ECG").values, np.float64)
    model = heartzoo.load_model("af-4-cnn4-student@v1", format="tflite", zoo=REPO / "zoo")
    assert _said(lambda: heartzoo.classify_recording(model, x, 300)) == []
    said = _said(lambda: heartzoo.classify_recording(model, x / 1000, 300))
    assert len(said) == 1 and "is the lead in µV or V?" in said[0], said


def test_annotate_warns_in_python_and_the_cli_once_and_invert_turns_the_lead_over(
    record_119, beats_model, data_root, tmp_path
):
    import heartzoo

    x, _ = record_119
    said = _said(lambda: heartzoo.annotate(-x, 360, beats_model, record="r119"))
    assert len(said) == 1 and said[0].startswith("r119: ") and "point down" in said[0], said
    np.save(tmp_path / "up.npy", x.astype(np.float32))
    np.save(tmp_path / "down.npy", -x.astype(np.float32))
    env = _env(data_root)
    out = {}
    for name, extra in (("up", []), ("down", []), ("down", ["--invert"])):
        got = tmp_path / f"{name}{len(extra)}"
        done = run_cli(
            "annotate", str(tmp_path / f"{name}.npy"), "--model", BEATS, "--fs", "360", "--json",
            "--output-dir", str(got), *extra, env=env,
        )  # fmt: skip
        assert done.returncode == 0 and "RecordingWarning" not in done.stderr, done.stderr[-2000:]
        summary = json.loads(done.stdout)
        out[name, bool(extra)] = (summary, (got / f"{name}.heartzoo.csv").read_text())
    warned = [any("point down" in w for w in s["warnings"]) for s, _ in out.values()]
    assert warned == [False, True, False], warned
    inverted, _ = out["down", True]
    assert any("turned over (--invert)" in n for n in inverted["notes"]), inverted["notes"]
    # the inverted file turned over is the upright one, beat for beat (its CSV opens with the note)
    rows = {k: [t for t in csv.splitlines() if not t.startswith("#")] for k, (_, csv) in out.items()}
    assert rows["down", True] == rows["up", False] != rows["down", False]


def test_a_batch_plots_a_record_that_carries_its_rate_beside_a_file_given_one(data_root, tmp_path):
    """`--fs` is for the files that carry no rate; in a batch with `--plot`, a WFDB record's picture read
    it again with `--fs` and was refused, leaving its row an error."""
    from conftest import write_record

    signal, _ = write_record(tmp_path, "rec", seconds=20)
    np.save(tmp_path / "lead.npy", signal[:, 0].astype(np.float32))
    done = run_cli(
        "annotate", str(tmp_path / "rec"), str(tmp_path / "lead.npy"), "--model", BEATS, "--fs", "360",
        "--plot", "--output-dir", str(tmp_path / "out"), env=_env(data_root),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert {p.name for p in (tmp_path / "out").glob("*.png")} == {"rec.heartzoo.png", "lead.heartzoo.png"}


def _env(data_root) -> dict[str, str]:
    import os

    return {**os.environ, "HEARTZOO_DATA_DIR": str(data_root), "HEARTZOO_ZOO_DIR": str(REPO / "zoo")}


def test_a_lead_of_zeros_is_not_told_to_change_its_unit(beats_model):
    """A lead that holds 0 but for one spike: the filters' ringing gives a few detections, the gate calls
    the minute unreadable, and the warning asks whether the lead is connected, not whether it is in µV
    (no unit makes 0 mV a QRS)."""
    import heartzoo

    x = np.zeros(360 * 60)
    x[10_000] = 1.0
    got = heartzoo.annotate(x, 360, beats_model)
    assert any("holds one value where the beats were found" in w for w in got.warnings), got.warnings
    assert not any("µV or V" in w for w in got.warnings), got.warnings
    assert "flat" in {f.code for f in got.findings} and "unit" not in {f.code for f in got.findings}
