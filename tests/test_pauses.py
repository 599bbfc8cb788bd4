"""Pauses as a Holter report counts them (`heartzoo.recording.pauses`): each one between two beats, over a
live lead, located in the JSON and the WFDB file even where the gate could not read its window; a lead
off and a recording's first or last seconds without a beat are no pause, though still said."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import annotated_json

MODEL = "beat-3-cnn3-student@v6"


def test_every_pause_of_record_232_is_located_where_the_gate_read_it_or_not(data_root, tmp_path):
    """MIT-BIH 232 (sinus bradycardia with long pauses): the gate reads most windows holding a pause as
    unreadable, and the WFDB file said 3 of its 32 reference pauses (a `~` hid the rest), the JSON none."""
    import wfdb

    got = annotated_json(data_root / "mitdb" / "232", tmp_path, MODEL)
    ref = wfdb.rdann(str(data_root / "mitdb" / "232"), "atr")
    beats = ref.sample[np.isin(ref.symbol, list("NLRejAaJSVFEf/Q"))]
    want = beats[:-1][np.diff(beats) >= 3 * 360]
    found = np.array([p["start"] for p in got["pauses"]])
    assert len(found) == pytest.approx(len(want), abs=2) and len(want) > 20
    assert all(np.abs(found - w).min() < 0.15 * 360 for w in want)  # each at its reference beat
    assert sum(h["pauses"] for h in got["hours"]) == len(found)
    written = wfdb.rdann(str(tmp_path / "232"), "heartzoo")
    comments = {s for s, sym, aux in zip(written.sample, written.symbol, written.aux_note, strict=True)
                if sym == '"' and aux.startswith("no beat for")}  # fmt: skip
    assert set(found.tolist()) <= comments
    gated = got["quality"]["unreadable"]
    assert sum(any(u["start"] <= s < u["end"] for u in gated) for s in found) > len(found) // 2  # the case


def test_a_lead_off_and_the_first_seconds_are_no_pause(data_root, tmp_path):
    """Ten minutes of record 100 with its first 5 s and 40 s in its middle held at one value (a lead off):
    no pause is counted in the hours or listed, and the stretches are still said (the `gap` finding)."""
    import wfdb

    x = wfdb.rdrecord(str(data_root / "mitdb" / "100"), channels=[0], sampto=600 * 360).p_signal[:, 0]
    x[: 5 * 360] = x[5 * 360]
    x[300 * 360 : 340 * 360] = x[300 * 360]
    np.save(tmp_path / "off.npy", x.astype(np.float32))
    got = annotated_json(tmp_path / "off.npy", tmp_path / "out", MODEL, "--fs", "360")
    assert got["pauses"] == [] and got["hours"][0]["pauses"] == 0
    gap = [f for f in got["findings"] if f["code"] == "gap"]
    assert gap and "2 stretch(es)" in gap[0]["message"]


def test_a_stretch_before_the_first_beat_or_after_the_last_is_no_pause():
    """Both ends of a pause are beats: a recording's first seconds before its first detected beat, over a
    live lead, are no RR interval (the rule the flat-lead test above does not tell apart)."""
    from heartzoo.recording.pauses import pauses

    fs = 250.0
    x = np.random.default_rng(0).standard_normal(round(60 * fs)) * 0.05  # a live lead, never one value
    peaks = np.array([round(5 * fs), round(9 * fs), round(50 * fs)])
    stretches = [(0, peaks[0]), (peaks[1], peaks[2]), (peaks[2], len(x) - 1)]
    assert pauses(x, fs, peaks, stretches) == ((peaks[1], peaks[2]),)
    x[round(20 * fs) : round(22 * fs)] = 0.3  # a lead off inside it: a signal lost, no pause
    assert pauses(x, fs, peaks, stretches) == ()
