"""rhythm-3: rhythm episodes read the MIT-BIH way (real mitdb records and small records written here),
labelled windows, the patient-deal protocol, and the configuration rules of a window task."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_record

from heartzoo.config import parse_config
from heartzoo.data.mitbih import DATABASE as MITDB
from heartzoo.data.rhythms import read_change_rhythms, rhythm_class, window_labels, window_starts
from heartzoo.errors import ConfigError, DataError
from heartzoo.tasks import RHYTHM_CLASSES, get_task

RHYTHM = {
    "name": "rhythm-test",
    "task": "rhythm-3",
    "data": {"train": ["mitdb:all"], "protocol": "patient-deal", "exclude_paced": False},
    "input": {"fs": 50, "frame_size": 500},
    "model": {"arch": "cnn1"},
}


def _write_rhythms(folder, name, changes: list[tuple[int, str]], *, seconds=60.0, fs=360):
    """A record of `seconds` whose .atr holds beats and the `+` rhythm changes (sample, aux note)."""
    import wfdb

    _, peaks = write_record(folder, name, fs=fs, seconds=seconds)
    marks = [(int(p), "N", "") for p in peaks] + [(s, "+", note) for s, note in changes]
    marks.sort(key=lambda m: (m[0], m[1] != "+"))
    wfdb.wrann(
        name,
        "atr",
        np.array([m[0] for m in marks]),
        [m[1] for m in marks],
        aux_note=[m[2] for m in marks],
        write_dir=str(folder),
    )


def test_rhythm_names_map_to_three_classes():
    assert [RHYTHM_CLASSES[rhythm_class(n)] for n in ("N", "AFIB", "AFL", "B", "P", "SVTA")] == [
        "NSR",
        "AF",
        "AF",
        "other",
        "other",
        "other",
    ]
    assert get_task("rhythm-3").labels(np.array([0, 1, 2])).tolist() == [0, 1, 2]


def test_real_record_201_has_its_atrial_fibrillation(mitdb):
    r = MITDB.read_rhythms(mitdb, "201")
    assert {"N", "AFIB"} <= set(r.label.tolist())
    # each rhythm lasts until the next change, the last until the end of the record
    assert (r.end[:-1] == r.start[1:]).all() and r.end[-1] == r.sig_len == 650000
    assert r.start[0] < 300  # mitdb labels its records from their first seconds
    assert 0 < r.seconds()["AFIB"] < r.sig_len / r.fs


def test_windows_take_the_one_rhythm_that_covers_them(tmp_path):
    fs = 360
    _write_rhythms(tmp_path, "r1", [(0, "(N"), (25 * fs, "(AFIB"), (45 * fs, "(B")])
    r = read_change_rhythms(tmp_path, "r1", fs=fs)
    assert r.label.tolist() == ["N", "AFIB", "B"] and r.end.tolist() == [25 * fs, 45 * fs, 60 * fs]
    length = 10 * fs
    starts = window_starts(r.sig_len, length)
    assert starts.tolist() == [0, 10 * fs, 20 * fs, 30 * fs, 40 * fs, 50 * fs]
    # 20-30 s and 40-50 s cross a change: left out
    assert window_labels(r, starts, length).tolist() == [0, 0, -1, 1, -1, 2]


def test_time_before_the_first_change_is_unlabelled(tmp_path):
    fs = 360
    _write_rhythms(tmp_path, "r2", [(15 * fs, "(N")], seconds=40)
    r = read_change_rhythms(tmp_path, "r2", fs=fs)
    length = 10 * fs
    assert window_labels(r, window_starts(r.sig_len, length), length).tolist() == [-1, -1, 0, 0]


def test_a_rhythm_change_without_a_name_is_named_in_the_error(tmp_path):
    _write_rhythms(tmp_path, "r3", [(0, "(N"), (3600, "AFIB")])
    with pytest.raises(DataError, match=r"r3\.atr.*|sample 3600") as exc:
        read_change_rhythms(tmp_path, "r3", fs=360)
    assert "3600" in str(exc.value) and "r3.atr" in str(exc.value)


def test_window_frames_are_the_preprocessors_frames(mitdb, tmp_path):
    from heartzoo.config import InputSpec
    from heartzoo.data.prepare import window_arrays
    from heartzoo.preprocess import Preprocessor

    spec = InputSpec(fs=50, frame_size=500)
    arrays = window_arrays(MITDB, "201", spec, mitdb)
    sig = MITDB.read_signal(mitdb, "201", "MLII")
    assert arrays["x"].shape == (len(arrays["aami"]), 500)
    assert set(np.unique(arrays["aami"]).tolist()) == {0, 1, 2}
    # centres of whole 10 s windows (3600 samples at 360 Hz), framed by the shared Preprocessor
    assert ((arrays["sample"] - 1800) % 3600 == 0).all()
    np.testing.assert_array_equal(
        arrays["x"], Preprocessor(spec).frames(sig.values, sig.fs, arrays["sample"])
    )


def test_patient_deal_keeps_patients_whole_and_its_test_fixed(data_root):
    from heartzoo.data.prepare import dealt_records

    deal = dealt_records(parse_config(RHYTHM))
    other_seed = dealt_records(
        parse_config({**RHYTHM, "data": {**RHYTHM["data"], "validation": {"seed": 3}}})
    )
    assert deal["test"] == other_seed["test"]  # no config chooses its test
    assert deal["val"] != other_seed["val"]
    sides = [set(deal[k]) for k in ("train", "val", "test")]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    everything = set().union(*sides)
    assert everything == set(MITDB.records) - {"102", "104"}  # the two records without MLII
    for split in sides:  # 201 and 202 are one patient
        assert ("201" in split) == ("202" in split)
    assert sum(1 for r in deal["test"] if r in {"201", "202", "203", "210", "217", "219", "221", "222"}) >= 1


def test_window_task_rules_name_the_field():
    with pytest.raises(ConfigError, match=r"data\.protocol"):
        parse_config({**RHYTHM, "data": {"train": ["mitdb:DS1"]}})
    with pytest.raises(ConfigError, match="rr_features"):
        parse_config({**RHYTHM, "input": {**RHYTHM["input"], "rr_features": True}})
    with pytest.raises(ConfigError, match="patient-deal is for window tasks"):
        parse_config({**RHYTHM, "task": "beat-3"})
    with pytest.raises(ConfigError, match="DS2"):  # a beat task still never trains on DS2
        parse_config({"name": "x", "task": "beat-3", "data": {"train": ["mitdb:all"]}})


def test_a_plus_annotation_marks_a_change_of_rhythm_only():
    """A missing stretch is cut out of the rhythm as `~` of its own: beside the model's own `~` the WFDB
    file wrote two `+ (NOISE` in a row, where WFDB's `+` marks a change of rhythm."""
    from heartzoo.recording.missing import episodes
    from heartzoo.recording.rhythm_annotation import Episode, annotation_rows

    found = (Episode(0, 300, "N", 3, 0.9), Episode(300, 500, "~", 2, 0.8), Episode(500, 700, "A", 2, 0.9))
    cut = episodes(found, ((200, 300), (600, 650)))  # just before the model's ~, and inside the AF
    assert [e.label for e in cut] == ["N", "~", "~", "A", "~", "A"]
    rows = annotation_rows(cut)
    assert [(s, aux) for s, _, _, aux in rows] == [
        (0, "(N"),
        (200, "(NOISE"),
        (500, "(AFIB"),
        (600, "(NOISE"),
        (650, "(AFIB"),
    ]
