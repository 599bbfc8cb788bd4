"""Runs of ventricular beats (`heartzoo.recording.ventricular_runs`): the definition on made-up beats, the
reference labels of MIT-BIH record 207 against its annotated `(VT` episodes, and `annotate` reporting them
in the JSON, the warnings and the WFDB file, naming any inside what the rhythm model calls AF."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO

from heartzoo.recording.ventricular_runs import ventricular_runs, vt_finding

FS = 360.0
ZOO = REPO / "zoo"


def beats_at(bpm: float, n: int, start: int = 0) -> np.ndarray:
    return start + np.round(np.arange(n) * 60.0 / bpm * FS).astype(np.int64)


def test_three_consecutive_v_beats_make_a_run_and_above_100_bpm_it_is_vt():
    peaks = beats_at(150, 12)
    v = np.zeros(12, bool)
    v[2:4] = True  # a couplet: no run
    v[6:9] = True  # three at 150 bpm
    (run,) = ventricular_runs(peaks, v, FS)
    assert (run.start, run.end, run.beats) == (peaks[6], peaks[8], 3)
    assert run.rate_bpm == pytest.approx(150, abs=0.5) and run.tachycardia and run.note.startswith("VT: 3")
    slow = ventricular_runs(beats_at(60, 5), np.ones(5, bool), FS)
    assert len(slow) == 1 and not slow[0].tachycardia and slow[0].note.startswith("ventricular run")
    assert vt_finding(slow, FS) is None  # a slow run is listed, not a warning


def test_a_beat_not_called_v_ends_a_run():
    peaks, v = beats_at(150, 7), np.ones(7, bool)
    v[3] = False  # e.g. a beat of an unreadable window, left unclassified
    assert [r.beats for r in ventricular_runs(peaks, v, FS)] == [3, 3]
    v[1] = False
    assert [r.beats for r in ventricular_runs(peaks, v, FS)] == [3]
    with pytest.raises(ValueError, match="6 V flags"):
        ventricular_runs(peaks, v[:6], FS)


def test_the_warning_names_vt_inside_what_the_rhythm_model_calls_af_or_noise():
    from heartzoo.recording.rhythm_annotation import Episode

    runs = ventricular_runs(beats_at(180, 10, start=3600), np.ones(10, bool), FS)
    alone = vt_finding(runs, FS)
    assert (
        alone.code == "vt"
        and "1 run of 3 or more" in alone.message
        and "10 beats at 180 bpm" in alone.message
    )
    assert "atrial fibrillation" not in alone.message
    af = (Episode(0, 10 * 3600, "A", 1, 0.9),)
    assert (
        "1 of them inside what the rhythm model calls atrial fibrillation" in vt_finding(runs, FS, af).message
    )
    n = (Episode(0, 10 * 3600, "N", 1, 0.9),)
    assert "atrial fibrillation" not in vt_finding(runs, FS, n).message
    assert "too noisy" not in vt_finding(runs, FS, n).message
    noisy = (Episode(0, 10 * 3600, "~", 1, 0.9),)
    assert (
        "1 of them inside what the rhythm model calls too noisy to read"
        in vt_finding(runs, FS, noisy).message
    )


def test_the_reference_v_beats_of_record_207_hold_its_vt_episodes(mitdb):
    from heartzoo.data.databases import get_database
    from heartzoo.tasks import AAMI_CLASSES

    db = get_database("mitdb")
    beats, rhythm = db.read_beats(mitdb, "207"), db.read_rhythms(mitdb, "207")
    runs = [
        r for r in ventricular_runs(beats.samples, beats.aami == AAMI_CLASSES.index("V"), FS) if r.tachycardia
    ]
    episodes = [
        (s, e) for s, e, lab in zip(rhythm.start, rhythm.end, rhythm.label, strict=True) if lab == "VT"
    ]
    assert len(episodes) == 2
    for s, e in episodes:  # the definition on the annotators' labels finds each episode they marked VT
        assert any(r.start < e and s <= r.end for r in runs)


def test_annotate_reports_vt_in_the_json_the_warnings_and_the_wfdb_file(mitdb, tmp_path):
    import wfdb

    from heartzoo.recording.annotation import annotate
    from heartzoo.recording.annotation_files import write_annotations
    from heartzoo.zoo.hub import load_model

    sig = wfdb.rdrecord(str(mitdb / "207"), sampfrom=30 * 360, sampto=70 * 360, channel_names=["MLII"])
    ref = wfdb.rdann(str(mitdb / "207"), "atr", sampfrom=30 * 360, sampto=70 * 360, shift_samps=True)
    beat = np.isin(ref.symbol, list("NLRBAaJSVrFejnE/fQ?"))
    x = sig.p_signal[:, 0]
    got = annotate(
        x, FS, load_model("beat-3-cnn3-student", format="tflite", zoo=ZOO), r_peaks=ref.sample[beat]
    )
    vt = [r for r in got.ventricular_runs if r.tachycardia]
    assert vt, "the model calls the VT episode at 38.5-40.0 s (8.5-10.0 s here) V"
    assert any(r.start <= 10.0 * FS and r.end >= 8.5 * FS for r in vt)
    summary = got.summary()
    assert summary["ventricular_runs"] == [r.to_dict() for r in got.ventricular_runs]
    assert any(w.startswith("possible ventricular tachycardia") for w in got.warnings)
    paths = write_annotations(got, tmp_path)
    back = wfdb.rdann(str(paths["wfdb"].with_suffix("")), paths["wfdb"].suffix[1:])
    notes = [a for s, a in zip(back.symbol, back.aux_note, strict=True) if s == '"' and a.startswith("VT:")]
    assert len(notes) == len(vt)
    assert json.loads(paths["json"].read_text())["ventricular_runs"] == summary["ventricular_runs"]
    # a model without a V class reports no runs at all
    ectopic = annotate(
        x, FS, load_model("beat-2-cnn3-wearable", format="tflite", zoo=ZOO), r_peaks=ref.sample[beat]
    )
    assert ectopic.ventricular_runs is None and ectopic.summary()["ventricular_runs"] is None


VRUN_DRIVER = r"""
#include <stdio.h>
#include "heartzoo_preprocess.h"
/* stdin: beats, then per beat its class (-1: unclassified) and R peak; stdout: per run, first last beats vt */
int main(void) {
  int n, cls;
  unsigned peak;
  hz_vrun_t run, done;
  hz_vrun_init(&run);
  if (scanf("%d", &n) != 1) return 1;
  while (n-- > 0) {
    if (scanf("%d %u", &cls, &peak) != 2) return 1;
    if (hz_vrun_push(&run, cls, peak, &done))
      printf("%u %u %u %d\n", done.first, done.last, done.beats, hz_vrun_tachycardia(&done));
  }
  if (hz_vrun_end(&run, &done)) printf("%u %u %u %d\n", done.first, done.last, done.beats, hz_vrun_tachycardia(&done));
  return 0;
}
"""


@pytest.mark.parametrize("fixed_point", [False, True], ids=["float", "fixed-point"])
def test_the_kit_finds_the_runs_python_finds(mitdb, tmp_path, fixed_point):
    """The C library's hz_vrun_* on record 207's reference beats (its V beats the class V, some beats left
    unclassified), at the record's 360 Hz: the same runs, and the same ones VT, as Python."""
    from conftest import run_c_driver

    from heartzoo.data.databases import get_database
    from heartzoo.meta import Configuration, read_meta
    from heartzoo.tasks import AAMI_CLASSES

    firmware = read_meta(
        Configuration, ZOO / "beat-3" / "beat-3-cnn3-student" / "v6" / "configuration.json"
    ).firmware
    v = firmware.class_names.index("V")
    beats = get_database("mitdb").read_beats(mitdb, "207")
    cls = np.where(beats.aami == AAMI_CLASSES.index("V"), v, 0)
    cls[::97] = -1  # unclassified beats (an unreadable window's) end runs
    cls[-3:] = v  # the record ends inside a run
    feed = f"{len(cls)}\n" + "".join(
        f"{c} {p}\n" for c, p in zip(cls.tolist(), beats.samples.tolist(), strict=True)
    )
    got = run_c_driver(tmp_path, firmware, VRUN_DRIVER, feed, recording_hz=360, fixed_point=fixed_point)
    expected = [
        f"{r.start} {r.end} {r.beats} {int(r.tachycardia)}"
        for r in ventricular_runs(beats.samples, cls == v, 360.0)
    ]
    assert got[:-1] == expected and len(expected) >= 4
    assert any(line.endswith(" 1") for line in expected) and any(line.endswith(" 0") for line in expected)


def test_the_cli_counts_the_runs_and_warns_of_vt(mitdb, tmp_path):
    from conftest import run_annotate

    res = run_annotate(mitdb / "207.hea", "beat-3-cnn3-student@v6", tmp_path, "--reference-peaks", "atr")
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())  # the terminal wraps long lines
    summary = json.loads((tmp_path / "207.heartzoo.json").read_text())
    runs = summary["ventricular_runs"]
    vt = sum(r["tachycardia"] for r in runs)
    assert vt and f"ventricular runs (3 or more V beats): {len(runs):,}, {vt:,} above 100 bpm" in text
    assert "warning: possible ventricular tachycardia, to review" in text


EDGE_DRIVER = r"""
#include <stdio.h>
#include "heartzoo_preprocess.h"
/* hz_vrun_tachycardia on runs no stream of ordered peaks makes: empty, and peaks that went back */
int main(void) {
  hz_vrun_t run, done;
  hz_vrun_init(&run);
  printf("%d\n", hz_vrun_tachycardia(&run));  /* no beat at all */
  hz_vrun_push(&run, HZ_V_CLASS, 90000u, &done);
  hz_vrun_push(&run, HZ_V_CLASS, 90200u, &done);
  hz_vrun_push(&run, HZ_V_CLASS, 100u, &done);  /* the stream restarted inside the run */
  printf("%d\n", hz_vrun_end(&run, &done) && hz_vrun_tachycardia(&done));
  return 0;
}
"""


def test_the_kit_calls_no_vt_for_a_run_of_unknown_length(tmp_path):
    """A run with no beat, or one whose peaks go back (the stream restarted, or its 32-bit counts wrapped,
    inside it), has no length to read a rate from: never VT (it once read as one sample long)."""
    from conftest import run_c_driver

    from heartzoo.meta import Configuration, read_meta

    firmware = read_meta(
        Configuration, ZOO / "beat-3" / "beat-3-cnn3-student" / "v6" / "configuration.json"
    ).firmware
    got = run_c_driver(tmp_path, firmware, EDGE_DRIVER, "", recording_hz=360, fixed_point=False)
    assert got[:-1] == ["0", "0"]
