"""Samples a file marks missing (NaN, WFDB's invalid value, a CSV's empty cell) are read as a stretch the
line cannot read, not refused: on MIT-BIH 100 with a lost stretch written in each format, the beats
away from it are those of the whole record, none is found or classified in it, and the user is told."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO

from heartzoo.data.records import read_signal
from heartzoo.errors import DataError, HeartzooError
from heartzoo.recording import missing
from heartzoo.recording.annotation import annotate, annotate_file
from heartzoo.recording.annotation_files import write_annotations
from heartzoo.recording.hours import nn_intervals
from heartzoo.recording.read import read_recording
from heartzoo.recording.rhythm_annotation import Episode

ZOO = REPO / "zoo"
MODEL = "beat-3-cnn3-student@v6"
FS = 360
#: a lost stretch of 3 s at 60 s and a dropout of 5 samples at 120 s, in 3 minutes of record 100
LOST = ((60 * FS, 63 * FS), (120 * FS, 120 * FS + 5))


@pytest.fixture(scope="module")
def record_100(mitdb) -> np.ndarray:
    import wfdb

    return wfdb.rdrecord(str(mitdb / "100"), channels=[0], sampto=180 * FS).p_signal[:, 0]


def _with_lost(x: np.ndarray) -> np.ndarray:
    y = np.array(x, dtype=np.float64)
    for a, b in LOST:
        y[a:b] = np.nan
    return y


def test_fill_bridges_each_stretch_with_a_line():
    x = np.array([np.nan, np.nan, 1.0, 2.0, np.nan, np.nan, np.nan, 6.0, 7.0, np.nan], np.float32)
    y, spans = missing.fill(x)
    assert spans == ((0, 2), (4, 7), (9, 10))
    assert np.allclose(y, [1, 1, 1, 2, 3, 4, 5, 6, 7, 7])
    assert np.isnan(x).sum() == 6  # the caller's array is left as it was
    same = np.arange(5, dtype=np.float32)
    assert missing.fill(same)[0] is same and missing.fill(same)[1] == ()
    with pytest.raises(HeartzooError, match="every one of the lead's 3 samples is missing"):
        missing.fill(np.full(3, np.nan, np.float32))


def test_stretch_arithmetic():
    assert missing.merged([(5, 8), (0, 2)], [(2, 3), (7, 10)]) == ((0, 3), (5, 10))
    assert missing.covered(np.array([0, 6, 7, 14, 15]), ((10, 12),), 3).tolist() == [
        False,
        False,
        True,
        True,
        False,
    ]
    assert missing.overlap(((0, 10), (20, 30)), 5, 25) == 10


def test_stretches_after_a_jump_are_placed_where_their_clock_says_never_over_the_one_before():
    """`placed` (the CSV time column's and Polar's sensor clock's): a stretch goes where its clock puts its
    first sample, the missing ones between; a clock that puts it inside the stretch before (one that ran
    fast) starts it right after that stretch instead, so no two samples share a place."""
    assert missing.placed([0, 8], [3, 2]).tolist() == [0, 1, 2, 8, 9]
    assert missing.placed([0, 2, 9], [4, 2, 1]).tolist() == [0, 1, 2, 3, 4, 5, 9]
    assert missing.placed([5], [2]).tolist() == [5, 6]


def test_rhythm_episodes_hold_the_missing_stretch_as_noise():
    found = (Episode(0, 3000, "A", 1, 0.6), Episode(3000, 9000, "N", 2, 0.9))
    out = missing.episodes(found, ((2000, 4000),))
    assert [(e.start, e.end, e.label, e.windows) for e in out] == [
        (0, 2000, "A", 1),
        (2000, 3000, "~", 0),
        (3000, 4000, "~", 0),
        (4000, 9000, "N", 2),
    ]
    assert missing.episodes(found, ()) == found


def test_each_part_of_a_cut_episode_has_the_windows_that_read_it():
    """A missing stretch cuts an episode of four windows (1000 samples each): each part counts the windows
    that read any of it, with their mean probability, not the whole episode's four."""
    e = Episode(0, 4000, "A", 4, 0.65, (0, 1000, 2000, 3000), (0.9, 0.7, 0.6, 0.4))
    before, gone, after = missing.episodes((e,), ((1500, 1800),))
    assert (before.start, before.end, before.windows) == (0, 1500, 2)
    assert before.probability == pytest.approx(0.8)
    assert (gone.label, gone.windows, gone.window_starts) == ("~", 0, ())
    assert (after.start, after.end, after.windows) == (1800, 4000, 3)  # the window across it reads both
    assert after.probability == pytest.approx((0.7 + 0.6 + 0.4) / 3)


def test_a_stretch_takes_in_the_beats_it_left_unclassified():
    spans = ((100, 200), (1000, 1100))
    assert missing.taking_in(spans, np.array([40, 230, 990, 1180])) == ((40, 231), (990, 1181))
    assert missing.taking_in(spans, np.array([500])) == ((100, 501), (1000, 1100))  # the nearer: the first
    assert missing.taking_in(spans, np.zeros(0, int)) == spans


def test_the_beats_beside_a_stretch_are_those_whose_rr_interval_reaches_it():
    peaks = np.array([100, 300, 500, 700, 900])
    assert missing.beside(peaks, ((350, 360),), 10).tolist() == [False, True, True, False, False]
    assert missing.beside(peaks, ((0, 5), (950, 960)), 10).tolist() == [True, False, False, False, True]
    # widened by the margin, a stretch that ends just before a beat reaches the interval after it too
    assert missing.beside(peaks, ((490, 495),), 10).tolist() == [False, True, True, True, False]
    assert missing.unbridged(((0, 36), (100, 137)), 360.0, 0.1) == ((100, 137),)


def test_the_rhythm_restarts_after_each_stretch_an_interval_crosses():
    peaks = np.array([100, 300, 500, 700, 900])
    assert missing.restarts(peaks, ((350, 360),)).tolist() == [2]
    assert missing.restarts(peaks, ((0, 50), (950, 990))).tolist() == []  # before the first, after the last
    assert missing.restarts(peaks, ((300, 500),)).tolist() == [2]  # from a beat to the next: one interval
    assert missing.restarts(peaks, ((250, 650),)).tolist() == [1, 2, 3]  # the beats inside stand alone
    assert missing.restarts(peaks, ()).tolist() == [] and missing.restarts(peaks[:1], ((0, 999),)).size == 0


def test_a_lead_off_calls_no_beat_after_it_premature(record_100, tmp_path):
    """40 s of a lead off (the lead flat at 0) in record 100: the beats after it are classed as in the whole
    record. An RR interval of 40 s in the means of the next beats made them look premature (called S)."""
    off = np.array(record_100, dtype=np.float64)
    off[60 * FS : 100 * FS] = 0.0
    whole = annotate(record_100, FS, MODEL, zoo=ZOO)
    lead_off = annotate(off, FS, MODEL, zoo=ZOO)
    assert sum(e - s for s, e in lead_off.unreadable()) / FS >= (100 * FS - 60 * FS) / FS - 5
    s_whole = set(whole.samples[whole.classes == "S"].tolist())
    s_off = set(lead_off.samples[lead_off.classes == "S"].tolist())
    assert s_off <= s_whole, sorted(s_off - s_whole)
    # a lead off for a fifth of the recording is no sign that the file was read wrong
    assert not any("sampling rate" in w for w in lead_off.warnings), lead_off.warnings
    after = lead_off.samples > 100 * FS
    assert after.sum() > 80 and set(lead_off.samples[after].tolist()) <= set(whole.samples.tolist())


def test_no_nn_interval_crosses_a_missing_stretch():
    samples = np.arange(10) * 360
    times, nn, _ = nn_intervals(samples, np.array(["N"] * 10), 360.0, None, ((1900, 2000),))
    assert 6 * 360 not in times.tolist() and len(nn) == 8  # the interval 5 -> 6 crosses it


def test_a_npy_with_lost_samples_is_annotated_around_them(record_100, tmp_path):
    np.save(tmp_path / "whole.npy", record_100)
    np.save(tmp_path / "lost.npy", _with_lost(record_100))
    whole = annotate_file(tmp_path / "whole.npy", MODEL, fs=FS, zoo=ZOO)
    lost = annotate_file(tmp_path / "lost.npy", MODEL, fs=FS, zoo=ZOO)

    assert lost.missing == LOST
    found = [f for f in lost.findings if f.code == "missing"]
    assert len(found) == 1 and (found[0].start, found[0].end) == LOST[0]
    assert "3.0 s of the lead are missing in the file (2 stretch(es)" in found[0].message
    # no beat is classified from a frame that holds the 3 s stretch (beat-3's frame: 5.12 s); around the
    # 5-sample dropout (under missing.BRIDGE_S) only the beat either side of it goes unclassified
    half = round(512 / 100 * FS / 2)
    assert not missing.covered(lost.samples, LOST[:1], half).any()
    near = whole.samples[missing.covered(whole.samples, LOST[1:], half)]
    after = np.searchsorted(whole.samples, LOST[1][0])
    assert len(near) > 4 and set(np.setdiff1d(near, lost.samples).tolist()) == {
        int(whole.samples[after - 1]),
        int(whole.samples[after]),
    }
    # away from them, the beats of the whole record, classed alike
    assert set(lost.samples.tolist()) <= set(whole.samples.tolist())
    gone = np.setdiff1d(whole.samples, lost.samples)
    # each lies in a stretch written unreadable: beside a stretch too, not only in it (a review found the
    # beats its frame or RR intervals reach dropped from every output without a mark)
    assert len(gone) and missing.covered(gone, lost.unreadable()).all()
    kept = np.searchsorted(whole.samples, lost.samples)
    assert np.array_equal(whole.classes[kept], lost.classes)
    # the same lead given to the Python API with its NaN
    api = annotate(_with_lost(record_100), FS, MODEL, zoo=ZOO)
    assert api.missing == LOST and np.array_equal(api.samples, lost.samples)

    files = write_annotations(lost, tmp_path / "out")
    import wfdb

    ann = wfdb.rdann(str(tmp_path / "out" / "lost"), "heartzoo")
    noise = [
        (int(s), int(t)) for s, sym, t in zip(ann.sample, ann.symbol, ann.subtype, strict=True) if sym == "~"
    ]
    for a, b in lost.unreadable():  # each stretch written as WFDB noise: unreadable from a, readable at b
        assert (a, -1) in noise and (b, 0) in noise
    summary = json.loads(files["json"].read_text())
    assert [(m["start"], m["end"]) for m in summary["missing"]] == list(LOST)

    from heartzoo.recording.plot import plot_annotated

    drawn = plot_annotated(
        read_recording(tmp_path / "lost.npy", "0", fs=FS).signal, lost, tmp_path / "lost.png"
    )
    assert drawn.stat().st_size > 0


def test_wfdb_invalid_samples_are_missing_and_a_database_still_refuses_them(record_100, tmp_path):
    import wfdb

    wfdb.wrsamp(
        "lost",
        fs=FS,
        units=["mV"],
        sig_name=["MLII"],
        p_signal=_with_lost(record_100)[:, None],
        fmt=["16"],
        adc_gain=[200.0],
        baseline=[0],
        write_dir=str(tmp_path),
    )
    rec = read_recording(tmp_path / "lost", "MLII")
    assert rec.missing == LOST and np.isfinite(rec.signal).all()
    away = ~missing.covered(np.arange(len(rec.signal)), LOST)
    assert np.allclose(rec.signal[away], record_100[away], atol=0.0051)  # 1/200 mV steps
    with pytest.raises(
        DataError, match=r"1085 missing \(NaN\) samples in lead MLII, the first at sample 21600"
    ):
        read_signal(tmp_path, "lost", "MLII")  # training reads a database's beats whole


def test_a_few_missing_samples_are_said_in_ms():
    from heartzoo.recording.quality import missing_finding

    assert missing_finding(((100, 101),), 360.0).message.startswith("2.78 ms of the lead are missing")
    assert "the longest 3.0 s" in missing_finding(LOST, FS).message


def test_a_csv_with_empty_cells_has_them_missing(record_100, tmp_path):
    """Empty cells, the first rows' too: a first row with an empty cell is no row of units."""
    y = _with_lost(record_100)
    y[:3] = np.nan
    rows = "".join(f"{i / FS:.4f},{'' if np.isnan(v) else f'{v:.3f}'}\n" for i, v in enumerate(y))
    (tmp_path / "logger.csv").write_text("time,ECG\n" + rows)
    rec = read_recording(tmp_path / "logger.csv", "ECG")
    assert (rec.fs, rec.missing, rec.notes) == (FS, ((0, 3), *LOST), ())
    (tmp_path / "words.csv").write_text("time,ECG\n" + rows.replace(",\n", ",lead off\n"))
    with pytest.raises(HeartzooError, match=r"words\.csv: not a CSV of numbers"):
        read_recording(tmp_path / "words.csv", "ECG")


def test_a_recording_s_class_is_read_from_its_windows_without_missing_samples(data_root, tmp_path):
    """A CinC 2017 recording (60 s, six 10-s windows) with 4 s lost at 10 s: its class comes from the five
    windows that hold none, in `classify_recording` and in `annotate --rhythm` alike; lost in every window,
    it has no class."""
    from heartzoo.data.cinc2017 import DATABASE
    from heartzoo.recording.rhythm_annotation import classify_recording

    sig = DATABASE.read_signal(DATABASE.folder(data_root), "A00005", "ECG")
    x = np.asarray(sig.values, dtype=np.float64)
    lost = x.copy()
    lost[3000:4200] = np.nan
    rhythm = "af-4-cnn4-student@v1"
    whole = classify_recording(rhythm, lost, sig.fs)
    assert whole["windows"] == 5
    got = annotate(lost, sig.fs, MODEL, zoo=ZOO, rhythm=rhythm)
    assert got.rhythm_recording == whole
    assert [(e.start, e.end, e.label) for e in got.rhythm if e.label == "~" and e.windows == 0] == [
        (3000, 4200, "~")
    ]
    every = x.copy()
    every[::2400] = np.nan  # a sample lost in each 8 s
    with pytest.raises(HeartzooError, match="every 10-s window of the recording holds missing"):
        classify_recording(rhythm, every, sig.fs)
