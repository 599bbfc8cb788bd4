"""The hourly table of a Holter report (`heartzoo.recording.hours`): `annotate` on two and a half hours of
real MIT-BIH records end to end (100, 201, 203, 119, 105: sinus rhythm, AF, runs of V, noise) gives each
hour's beats, rate, unreadable time, pauses, V runs and AF, and they add up to the recording's own."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json

MODEL = "beat-3-cnn3-student@v6"
RHYTHM = "af-4-cnn4-student@v1"
RECORDS = ("100", "201", "203", "119", "105")


@pytest.fixture(scope="module")
def holter(data_root: Path, tmp_path_factory) -> tuple[dict, int]:
    """The JSON `annotate --rhythm` writes for the records end to end (a .npy at 360 Hz), and its length."""
    import wfdb

    x = np.concatenate(
        [wfdb.rdrecord(str(data_root / "mitdb" / r), channels=[0]).p_signal[:, 0] for r in RECORDS]
    ).astype(np.float32)
    folder = tmp_path_factory.mktemp("holter")
    np.save(folder / "holter.npy", x)
    got = annotated_json(folder / "holter.npy", folder / "out", MODEL, "--fs", "360", "--rhythm", RHYTHM)
    return got, len(x)


def test_each_hour_holds_the_beats_of_its_hour_and_they_add_up(holter):
    got, length = holter
    hours = got["hours"]
    assert len(hours) == -(-length // (3600 * 360)) == 3
    beats = np.array([b["sample"] for b in got["beat_list"]])
    classes = np.array([b["class"] for b in got["beat_list"]])
    for h in hours:
        start, end = round(h["start_s"] * 360), round((h["start_s"] + h["seconds"]) * 360)
        mine = (beats >= start) & (beats < end)
        assert h["beats"] == mine.sum() and h["counts"] == {c: int((classes[mine] == c).sum()) for c in "NSV"}
    assert sum(h["beats"] for h in hours) == got["beats"]
    assert {c: sum(h["counts"][c] for h in hours) for c in "NSV"} == got["counts"]
    assert sum(h["seconds"] for h in hours) == pytest.approx(length / 360)


def test_the_hours_add_up_to_the_recordings_unreadable_time_pauses_runs_and_af(holter):
    got, _ = holter
    hours = got["hours"]
    unreadable = sum(s["end"] - s["start"] for s in got["quality"]["unreadable"]) / 360
    assert unreadable > 0 and sum(h["seconds"] - h["readable_s"] for h in hours) == pytest.approx(
        unreadable, abs=0.01
    )
    gap = next(f["message"] for f in got["findings"] if f["code"] == "gap")
    assert sum(h["pauses"] for h in hours) == int(re.match(r"(\d+) stretch", gap)[1]) > 0
    assert sum(h["ventricular_runs"] for h in hours) == len(got["ventricular_runs"]) > 0
    af = got["rhythm"]["af_burden"]["af_s"]
    assert af > 0 and sum(h["af_s"] for h in hours) == pytest.approx(af)


def test_an_hours_rate_counts_its_beats_over_the_time_the_gate_read(holter):
    got, _ = holter
    beats = np.array([b["sample"] for b in got["beat_list"]])
    unreadable = [(s["start"], s["end"]) for s in got["quality"]["unreadable"]]
    for h in got["hours"]:
        start = round(h["start_s"] * 360)
        assert h["bpm"] == pytest.approx(60 * h["beats"] / h["readable_s"], abs=0.05)
        minutes = [
            int(((beats >= m) & (beats < m + 60 * 360)).sum())
            for m in range(start, start + round(h["seconds"] * 360) - 60 * 360 + 1, 60 * 360)
            if not any(s < m + 60 * 360 and e > m for s, e in unreadable)  # whole minutes read
        ]
        assert (h["bpm_min_minute"], h["bpm_max_minute"]) == (min(minutes), max(minutes))
        assert h["bpm_min_minute"] < h["bpm_max_minute"]


def test_a_model_without_v_and_no_rhythm_leave_those_columns_empty(data_root, tmp_path):
    import wfdb

    x = wfdb.rdrecord(str(data_root / "mitdb" / "100"), channels=[0], sampto=600 * 360).p_signal[:, 0]
    np.save(tmp_path / "r.npy", x.astype(np.float32))
    got = annotated_json(tmp_path / "r.npy", tmp_path / "out", "beat-2-cnn3-student", "--fs", "360")
    (hour,) = got["hours"]
    assert hour["ventricular_runs"] is None and hour["af_s"] is None and hour["beats"] == got["beats"]
    # no rhythm model: AF's intervals are counted as NN, and the summary says so
    assert got["hrv"]["af_left_out"] is False


def test_no_variability_is_given_for_less_than_five_minutes_of_nn_intervals(data_root, tmp_path):
    import wfdb

    x = wfdb.rdrecord(str(data_root / "mitdb" / "100"), channels=[0], sampto=240 * 360).p_signal[:, 0]
    np.save(tmp_path / "r.npy", x.astype(np.float32))
    got = annotated_json(tmp_path / "r.npy", tmp_path / "out", MODEL, "--fs", "360")["hrv"]
    assert got["nn_intervals"] > 250 and got["sdnn_ms"] is got["rmssd_ms"] is got["pnn50"] is None


def _nn(beats: list[dict], af: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NN intervals written out from the JSON, apart from the module: (end times s, ms, follows an NN)."""
    t = np.array([b["time_s"] for b in beats])
    normal = np.array([b["class"] == "N" for b in beats])
    ok = normal[:-1] & normal[1:] & (np.diff(t) < 3.0)
    for a, b in af:
        ok &= (t[1:] <= a) | (t[:-1] >= b)
    follows = np.r_[False, ok[:-1]]
    return t[1:][ok], 1000 * np.diff(t)[ok], follows[ok]


def test_the_heart_rate_variability_is_the_task_forces_of_the_written_beats(holter):
    """SDNN, RMSSD, pNN50 and SDANN written out from the Task Force's table (Circulation 1996): pNN50 is
    NN50 over all NN intervals (it was over the successive pairs, 59.7 % where the Task Force's is 30.8 %
    on record 201), SDANN over whole 5-minute segments (it took the recording's remainder for one: 31.9 ms
    on record 100, whose six segments give 15.1)."""
    got, length = holter
    af = [(e["start"] / 360, e["end"] / 360) for e in got["rhythm"]["episodes"] if e["class"] == "A"]
    assert af
    t, nn, follows = _nn(got["beat_list"], af)
    d = np.diff(nn)[follows[1:]]
    whole = got["hrv"]
    assert whole["nn_intervals"] == len(nn) and whole["af_left_out"] is True
    # the JSON's times are rounded to 0.1 ms: equal to about that
    assert whole["sdnn_ms"] == pytest.approx(np.std(nn), abs=0.1)
    assert whole["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(d**2)), abs=0.1)
    # in samples, where "more than 50 ms" is exact (18 samples at 360 Hz is 50 ms, which the JSON's
    # rounded times would tip either way)
    steps = np.diff(np.round(nn * 360 / 1000))[follows[1:]]
    assert whole["pnn50"] == pytest.approx(np.sum(np.abs(steps) > 50 * 360 / 1000) / len(nn), abs=1e-4)
    segment = t // 300
    whole_segments = [k for k in np.unique(segment) if (k + 1) * 300 * 360 <= length]
    assert len(whole_segments) < len(np.unique(segment))  # the remainder holds NN intervals: the case
    segments = [nn[segment == k].mean() for k in whole_segments]
    assert whole["sdann_ms"] == pytest.approx(np.std(segments), abs=0.1)
    for h in got["hours"]:
        mine = (t >= h["start_s"]) & (t < h["start_s"] + h["seconds"])
        assert h["hrv"]["nn_intervals"] == mine.sum()
        assert h["hrv"]["sdnn_ms"] == pytest.approx(np.std(nn[mine]), abs=0.1)


def test_the_heart_rate_variability_of_a_sinus_record_is_its_reference_beats(data_root, tmp_path):
    """Record 100 (sinus rhythm, few ectopic beats): the detected and classified beats give the NN
    intervals, SDNN and RMSSD of the cardiologists' beats to a few per cent."""
    import wfdb

    from heartzoo.recording.hours import hrv, nn_intervals

    got = annotated_json(data_root / "mitdb" / "100", tmp_path, MODEL)["hrv"]
    ref = wfdb.rdann(str(data_root / "mitdb" / "100"), "atr")
    beat = np.isin(ref.symbol, list("NLRejAaJSVFEf/Q"))
    labels = np.where(np.isin(np.array(ref.symbol)[beat], list("NLRej")), "N", "other")
    want = hrv(*nn_intervals(ref.sample[beat], labels, 360.0), 360.0, length=650000)
    assert got["nn_intervals"] == pytest.approx(want.intervals, rel=0.02)
    assert got["sdnn_ms"] == pytest.approx(want.sdnn_ms, rel=0.05)
    assert got["rmssd_ms"] == pytest.approx(want.rmssd_ms, rel=0.05)
    assert got["sdann_ms"] == pytest.approx(want.sdann_ms, rel=0.05)


def test_the_hours_are_on_the_recorders_clock_where_the_header_gives_it(data_root, tmp_path):
    """A WFDB Holter record whose header gives its start (base time and date: 23:30 the day before, so the
    second hour starts after midnight): the JSON's start, each hour's clock and the terminal's table are on
    the recorder's clock; a header with a time and no date gives times of day; one with neither, none."""
    import wfdb
    from conftest import run_annotate

    x = np.concatenate(
        [
            wfdb.rdrecord(str(data_root / "mitdb" / r), channels=[0]).p_signal[:, 0]
            for r in ("100", "201", "105")
        ]
    )
    kinds = {
        "dated": {"base_date": date(2026, 11, 26), "base_time": time(23, 30, 0)},
        "timed": {"base_time": time(23, 30, 0)},
        "plain": {},
    }
    for name, when in kinds.items():
        wfdb.wrsamp(
            name, 360, ["mV"], ["MLII"], p_signal=x[:, None], fmt=["16"], write_dir=str(tmp_path), **when
        )
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, "--rhythm", RHYTHM) for name in kinds
    }
    assert got["dated"]["start"] == "2026-11-26T23:30:00" and got["timed"]["start"] == "23:30:00"
    assert got["plain"]["start"] is None
    assert [h["clock"] for h in got["dated"]["hours"]] == ["2026-11-26T23:30:00", "2026-11-27T00:30:00"]
    assert [h["clock"] for h in got["timed"]["hours"]] == ["23:30:00", "00:30:00"]
    assert {h["clock"] for h in got["plain"]["hours"]} == {None}
    # every event with a start sample gives its clock time too
    dated, fs = got["dated"], got["dated"]["fs"]
    episodes = dated["rhythm"]["af_burden"]["episodes"]  # 201's AF: its clock was left out
    events = [*dated["findings"], *dated["quality"]["unreadable"], *dated["ventricular_runs"], *episodes]
    assert episodes and all(
        e["clock"]
        == (datetime(2026, 11, 26, 23, 30) + timedelta(seconds=e["start"] / fs)).isoformat(timespec="seconds")
        for e in events
    )
    assert all("clock" not in e for e in got["plain"]["findings"])
    for name, clocks in (("dated", ("23:30", "00:30")), ("plain", ())):
        res = run_annotate(tmp_path / name, MODEL, tmp_path / "printed", "--plot")
        text = " ".join(res.stdout.split())
        assert (
            tmp_path / "printed" / f"{name}.heartzoo.png"
        ).stat().st_size > 10_000  # its strips' clock too
        assert ("from 2026-11-26 23:30:00" in text) == (name == "dated")
        # the last hour is the recording's last 30 min, and says so
        assert all(f"hour {i} ({c}){', its last 30 min' * i}:" in text for i, c in enumerate(clocks))
        assert ("(recorder's clock: 2026-11-27 00:" in text) == (name == "dated")  # a warning's time
        assert name == "dated" or "hour 1, its last 30 min: " in text


def test_a_last_hour_under_a_minute_says_its_seconds():
    from heartzoo.recording.hours import Hour, hours_table

    fs = 250.0
    hour = Hour(start=0, end=round(3600 * fs), counts={"N": 4000}, readable_s=3600.0, bpm=66.7,
                bpm_min=60, bpm_max=70, pauses=0, ventricular_runs=None, af_s=None)  # fmt: skip
    last = Hour(start=round(3600 * fs), end=round(3620 * fs), counts={"N": 22}, readable_s=20.0, bpm=66.0,
                bpm_min=None, bpm_max=None, pauses=0, ventricular_runs=None, af_s=None)  # fmt: skip
    lines = hours_table([hour, last], fs)
    assert lines[0].startswith("hour 0: ") and lines[1].startswith("hour 1, its last 20 s: ")  # not "0 min"
