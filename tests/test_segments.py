"""WFDB multi-segment records (`heartzoo.recording.segments`), as the MIMIC waveform databases lay them
out, written here from three minutes of MIT-BIH 100: a layout segment naming MLII and V5, a minute of
both, 3 s that no segment covers (`~`), a minute of V5 alone, a minute of both. MLII is read across them,
missing where no segment holds it, and annotated as the same samples with that stretch NaN in a .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused

from heartzoo.errors import HeartzooError

MODEL = "beat-3-cnn3-student@v6"
FS = 360
MINUTE = 60 * FS
GAP = 3 * FS


@pytest.fixture(scope="module")
def leads(mitdb) -> np.ndarray:
    import wfdb

    return wfdb.rdrecord(str(mitdb / "100"), sampto=3 * MINUTE).p_signal  # MLII, V5


def write_segments(folder: Path, leads: np.ndarray, master: str | None = None) -> Path:
    """The multi-segment record `folder/icu` (its segments icu_0001..3 and layout icu_layout)."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)

    def segment(name: str, signal: np.ndarray, names: list[str]) -> None:
        wfdb.wrsamp(name, fs=FS, units=["mV"] * len(names), sig_name=names, p_signal=signal,
                    fmt=["16"] * len(names), adc_gain=[200.0] * len(names), baseline=[0] * len(names),
                    write_dir=str(folder))  # fmt: skip

    segment("icu_layout", leads[:1], ["MLII", "V5"])
    (folder / "icu_layout.hea").write_text(
        (folder / "icu_layout.hea").read_text().replace("icu_layout 2 360 1", "icu_layout 2 360 0")
    )
    (folder / "icu_layout.dat").unlink()
    segment("icu_0001", leads[:MINUTE], ["MLII", "V5"])
    segment("icu_0002", leads[MINUTE : 2 * MINUTE, 1:], ["V5"])
    segment("icu_0003", leads[2 * MINUTE :], ["MLII", "V5"])
    total = 3 * MINUTE + GAP
    (folder / "icu.hea").write_text(
        master
        or f"icu/5 2 360 {total} 08:12:00 27/11/2026\nicu_layout 0\nicu_0001 {MINUTE}\n~ {GAP}\n"
        f"icu_0002 {MINUTE}\nicu_0003 {MINUTE}\n"
    )
    return folder / "icu"


def test_a_lead_is_read_across_the_segments(leads, tmp_path):
    from datetime import datetime

    from heartzoo.recording.read import read_recording

    rec = read_recording(write_segments(tmp_path / "icu", leads), "MLII")
    assert (rec.format, rec.lead, rec.fs, len(rec.signal)) == ("wfdb", "MLII", FS, 3 * MINUTE + GAP)
    assert rec.missing == ((MINUTE, 2 * MINUTE + GAP),)  # no segment, then one without MLII
    assert rec.start == datetime(2026, 11, 27, 8, 12)
    x = np.asarray(rec.signal)
    np.testing.assert_allclose(x[:MINUTE], leads[:MINUTE, 0], atol=0.0026)
    np.testing.assert_allclose(x[2 * MINUTE + GAP :], leads[2 * MINUTE :, 0], atol=0.0026)
    assert rec.notes[0] == "a multi-segment record: lead MLII read from 2 of its 4 segments"
    v5 = read_recording(tmp_path / "icu" / "icu", "V5", lead_given=True)
    assert v5.missing == ((MINUTE, MINUTE + GAP),)
    # a date that is none (a year past any clock's) leaves the start unknown, said, the samples read
    hea = tmp_path / "icu" / "icu.hea"
    hea.write_text(hea.read_text().replace("27/11/2026", "27/11/99999999999999999999"))
    late = read_recording(tmp_path / "icu" / "icu", "MLII")
    assert late.start is None and np.array_equal(late.signal, rec.signal)
    assert late.notes[0].startswith("the record line's base date (6th field) is '27/11/9999999")
    assert late.notes[0].endswith("read without a start time") and late.notes[1:] == rec.notes
    hea.write_text(hea.read_text().replace("08:12:00", "25:99:00"))  # so is a time of day that is none
    assert "base time (5th field) is '25:99:00'" in read_recording(hea.with_suffix(""), "MLII").notes[0]


def test_annotate_reads_a_multi_segment_record_as_the_same_samples_given_as_npy(leads, tmp_path):
    from heartzoo.recording.read import read_recording

    base = write_segments(tmp_path / "icu", leads)
    x = np.asarray(read_recording(base, "MLII").signal, dtype=np.float64)
    x[MINUTE : 2 * MINUTE + GAP] = np.nan
    np.save(tmp_path / "icu.npy", x)
    got = {
        name: annotated_json(path, tmp_path / "out", MODEL, *extra)
        for name, path, extra in (("icu", base, []), ("npy", tmp_path / "icu.npy", ["--fs", "360"]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["icu"]) > 120 and beats["icu"] == beats["npy"]
    assert any("63.0 s of the lead are missing in the file" in w for w in got["icu"]["warnings"])


@pytest.mark.parametrize(
    ("master", "message"),
    [
        (
            "icu/2 2 360 21600\n../icu_0001 21600\n~ 0\n",
            r"segment line 1 is '../icu_0001 21600', not a record's name",
        ),
        (
            "icu/2 2 360 40000\nicu_0001 21600\n~ 1080\n",
            r"the record line gives 40000 samples, its segments 22,680",
        ),
        ("icu/3 2 360\nicu_0001 21600\n", r"the record line gives 3 segments, the header lists 1"),
        ("icu/1 2 360\nicu_0009 21600\n", r"its segment icu_0009: .*header file missing"),
        (
            "icu/1 2 250\nicu_0001 21600\n",
            r"segment icu_0001 gives 21600 samples at 360 Hz, its record icu 21600 at 250 Hz",
        ),
        ("icu/1 2 360\n~ 21600\n", r"its samples cover 0 % of the 1.0 min its segments' lengths span"),
        (
            "icu/2 2 360\nicu_0001 21600\n~ 9999999\n",
            r"its samples cover 0.22 % of the 7.7 h its segments' lengths span",
        ),
        (
            "icu/2 2 360\nicu_0001 21600\n~ 99999999999999\n",
            r"its segments' lengths span 3215021 days: not one recording",
        ),
    ],
)
def test_a_bad_multi_segment_header_is_one_clear_error(leads, tmp_path, master, message):
    base = write_segments(tmp_path / "icu", leads, master)
    assert_refused(base, MODEL, message, out=tmp_path / "out")


def test_made_up_master_headers_are_read_or_refused_naming_the_header(leads, tmp_path):
    """A seeded draw of 300 master headers made of a valid one's pieces (counts, names, lengths, rates,
    paths, times): each is read or refused with a `HeartzooError` naming the record, never another
    exception; what is read holds no NaN."""
    import random

    from heartzoo.recording.read import read_recording

    base = write_segments(tmp_path / "icu", leads)
    pieces = ["icu/5", "icu/0", "icu/x", "icu/-1", "2", "360", "0", "-360", "abc", "1e9", str(3 * MINUTE + GAP),
              "08:12:00", "27/11/2026", "99:99:99", "icu_layout", "icu_0001", "icu_0002", "icu_0003", "~",
              "../icu_0001", "/etc/passwd", "icu_9999", "icu", str(MINUTE), str(GAP), "", "#", "\t"]  # fmt: skip
    rng = random.Random(46)
    read = 0
    right = {
        "icu_layout": 0,
        "icu_0001": MINUTE,
        "icu_0002": MINUTE,
        "icu_0003": MINUTE,
        "~": GAP,
        "icu_9999": 1,
    }
    for _ in range(300):
        segs = [rng.choice(list(right)) for _ in range(rng.randint(1, 6))]
        # most fields right, so that reading goes on past them; the rest drawn from the pieces
        rows = [f"{s} {right[s] if rng.random() < 0.85 else rng.choice([0, GAP, MINUTE + 1])}" for s in segs]
        count = len(rows) if rng.random() < 0.85 else rng.randint(1, 6)
        lines = [f"icu/{count} 2 {rng.choice(['360'] * 6 + ['250', '360/1', 'x'])}", *rows]
        if rng.random() < 0.3:  # a line of pieces in place of one
            lines[rng.randrange(len(lines))] = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
        (base.parent / "icu.hea").write_text("\n".join(lines) + "\n")
        try:
            rec = read_recording(base, "MLII")
        except HeartzooError as exc:
            assert "icu" in str(exc), str(exc)
        else:
            assert np.isfinite(np.asarray(rec.signal)).all()
            read += 1
    assert read >= 10  # the draw reaches records that read, not only refusals


@pytest.mark.parametrize(
    ("fields", "start", "problem"),
    [
        ([], None, None),
        (["8:05:00"], "08:05:00", None),  # WFDB writes one-digit hours; the segments' reader refused them
        (["10:30"], "00:10:30", None),  # minutes and seconds, as wfdb reads a single record's
        (["5.5"], "00:00:05.500000", None),
        (["10:30:15.25", "28/11/2026"], "2026-11-28 10:30:15.250000", None),
        (["25:99:00"], None, "base time (5th field) is '25:99:00'"),
        (["1e1:00:00"], None, "base time (5th field)"),
        (["10:30:00", "31/02/2026"], None, "base date (6th field) is '31/02/2026'"),
    ],
)
def test_one_reader_of_the_wfdb_clock(fields, start, problem):
    """`records.base_start`, the start of a multi-segment record and the reason a single record's header is
    read without one: what WFDB writes is read as wfdb reads it (s, m:s, h:m:s), anything else names its
    field."""
    from heartzoo.data.records import base_start

    got, said = base_start(fields)
    assert (str(got) if got is not None else None) == start
    assert (said is None) if problem is None else (problem in said)
