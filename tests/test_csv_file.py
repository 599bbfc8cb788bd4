"""Text recordings as people have them (`heartzoo.recording.csv_file`): PhysioNet's own CSV export (quoted
names, a row of units, an elapsed-time column), the MIT-BIH CSVs shared on Kaggle (a sample-number
column), a logger's time column in whole milliseconds. Each is written here from a real MIT-BIH record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused

from heartzoo.errors import HeartzooError
from heartzoo.recording.read import read_recording

MODEL = "beat-3-cnn3-student@v6"
SECONDS = 60


@pytest.fixture(scope="module")
def leads(mitdb) -> tuple[np.ndarray, np.ndarray]:
    """MIT-BIH 100's first minute: MLII and V5 in mV, rounded to PhysioNet's three decimals."""
    mlii, v5 = (
        np.asarray(read_recording(mitdb / "100", lead, lead_given=True).signal[: 360 * SECONDS])
        for lead in ("MLII", "V5")
    )
    return np.round(mlii.astype(np.float64), 3), np.round(v5.astype(np.float64), 3)


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:06.3f}"


def physionet_csv(path: Path, leads, *, clock: bool = True, unit: str = "mV", scale: float = 1.0) -> Path:
    """What PhysioNet writes for a record's samples as CSV: names and units quoted with ', then rows of
    elapsed time (a clock, or seconds) and values."""
    mlii, v5 = leads
    time_unit = "hh:mm:ss.mmm" if clock else "seconds"
    lines = ["'Elapsed time','MLII','V5'", f"'{time_unit}','{unit}','{unit}'"]
    for i, (a, b) in enumerate(zip(mlii * scale, v5 * scale, strict=True)):
        t = f"'{_clock(i / 360)}'" if clock else f"{i / 360:.3f}"
        lines.append(f"{t},{a:.6g},{b:.6g}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_physionet_csv_carries_its_rate_its_units_and_its_lead_names(leads, tmp_path):
    for clock in (True, False):
        rec = read_recording(physionet_csv(tmp_path / f"100-{clock}.csv", leads, clock=clock), "MLII")
        assert rec.lead == "MLII" and abs(rec.fs - 360) < 0.05, (clock, rec.fs)
        assert np.allclose(rec.signal, leads[0], atol=1e-6) and not rec.notes
    # a lead's unit in its name: "V5 [uV]" is lead V5, read in mV
    mlii, v5 = leads
    (tmp_path / "named.csv").write_text(
        "time (s),MLII (mV),V5 [uV]\n"
        + "".join(f"{i / 360:.4f},{a},{b * 1000:g}\n" for i, (a, b) in enumerate(zip(mlii, v5, strict=True)))
    )
    rec = read_recording(tmp_path / "named.csv", "V5", lead_given=True)
    assert rec.fs == 360 and np.allclose(rec.signal, v5, atol=1e-6)
    # the same samples in µV are read in mV, and V5 by its name
    rec = read_recording(
        physionet_csv(tmp_path / "uv.csv", leads, unit="uV", scale=1000), "V5", lead_given=True
    )
    assert np.allclose(rec.signal, leads[1], atol=1e-5)


def test_kaggle_mitbih_csv_reads_its_leads_not_its_sample_numbers(leads, tmp_path):
    mlii, v5 = leads
    adu = np.round(np.stack([mlii, v5], axis=1) * 200 + 1024).astype(int)  # MIT-BIH's gain and zero
    path = tmp_path / "100.csv"
    path.write_text("'sample #','MLII','V5'\n" + "".join(f"{i},{a},{b}\n" for i, (a, b) in enumerate(adu)))
    rec = read_recording(path, "V5", fs=360, lead_given=True)
    assert np.array_equal(rec.signal, adu[:, 1])
    with pytest.raises(HeartzooError, match=r"no lead II.*leads: MLII, V5$"):
        read_recording(path, "II", fs=360, lead_given=True)  # the sample numbers are no lead


@pytest.mark.parametrize("fs", [250, 360])
def test_a_loggers_time_column_in_whole_milliseconds_gives_its_rate(leads, tmp_path, fs):
    x = leads[0][: fs * 20]
    ms = np.round(np.arange(len(x)) * 1000 / fs).astype(int)  # whole ms: 2 or 3 ms apart at 360 Hz
    for name, head in (("ms", "time (ms)"), ("bare", "t")):  # the unit stated, and none
        path = tmp_path / f"log-{name}-{fs}.csv"
        path.write_text(f"{head},ECG\n" + "".join(f"{t},{v:.3f}\n" for t, v in zip(ms, x, strict=True)))
        rec = read_recording(path, "MLII")  # the one lead, read for the model's MLII
        assert abs(rec.fs / fs - 1) < 1e-3 and np.allclose(rec.signal, x, atol=1e-6), (name, rec.fs)
        assert ("states no unit" in " ".join(rec.notes)) == (name == "bare")
    read_recording(path, "ECG", fs=fs)  # a rate given that agrees with it
    with pytest.raises(HeartzooError, match=rf"--fs {fs * 2} disagrees with its time column"):
        read_recording(path, "ECG", fs=fs * 2)


@pytest.mark.parametrize(("unit", "per_second"), [("µs", 1e6), ("ns", 1e9)])
def test_a_unitless_time_column_of_micro_or_nanoseconds_gives_its_rate_and_its_date(
    leads, tmp_path, unit, per_second
):
    """A logger's micros() or Android's epoch nanoseconds, with no unit: read as milliseconds, they gave
    a rate of 0.00036 Hz, refused without naming the time column."""
    x = leads[0][:3600]
    t = 1714552200 * int(per_second) + np.round(np.arange(len(x)) * per_second / 360).astype(np.int64)
    path = tmp_path / "android.csv"
    path.write_text("timestamp,ecg\n" + "".join(f"{a},{v}\n" for a, v in zip(t, x, strict=True)))
    rec = read_recording(path, "ECG")
    notes = " ".join(rec.notes)
    assert rec.fs == pytest.approx(360, rel=1e-6) and np.allclose(rec.signal, x, atol=1e-6)
    assert f"which states no unit, read in {unit}" in notes and "2024-05-01T08:30:00+00:00" in notes


def test_a_time_column_that_does_not_start_at_0_says_where_the_outputs_count_from(leads, tmp_path):
    """The outputs count time from the file's first row; a time column starting elsewhere says so (its
    offset was dropped without a word), and one starting at 0 says nothing."""
    x = leads[0][:3600]
    for t0, said in ((1000.0, True), (0.0, False)):
        path = tmp_path / f"from-{t0:g}.csv"
        rows = "".join(f"{t0 + i / 360:.5f},{v}\n" for i, v in enumerate(x))
        path.write_text("time,ECG\n" + rows)
        rec = read_recording(path, "ECG")
        assert rec.fs == 360 and np.allclose(rec.signal, x, atol=1e-6)
        notes = " ".join(rec.notes)
        assert ("its time column starts at 1000 s" in notes and "add 1000 s" in notes) == said, notes
    # a logger's Unix time in ms: the offset exactly (it was 1.71235e+09 s, 72 minutes off), and its date
    path = tmp_path / "epoch.csv"
    ms = 1712345678123 + np.round(np.arange(len(x)) * 1000 / 360).astype(np.int64)
    path.write_text("time (ms),ECG\n" + "".join(f"{t},{v}\n" for t, v in zip(ms, x, strict=True)))
    notes = " ".join(read_recording(path, "ECG").notes)
    assert "add 1712345678.123 s for the file's own; as Unix time, 2024-04-05T19:34:38.123000+00:00" in notes


def test_a_cell_that_is_no_number_is_named_by_its_data_row_and_column_from_1(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("time,ECG\n" + "".join(f"{i / 360:.4f},0.1\n" for i in range(500)) + "1.3889,O.2\n")
    with pytest.raises(
        HeartzooError, match=r"typo\.csv: not a CSV of numbers.*'O\.2'.* in data row 501, column 2"
    ):
        read_recording(path, "ECG")


def test_loggers_text_comment_lines_trailing_separators_and_spaces(leads, tmp_path):
    """What loggers write around the numbers: `#` lines before the header, a separator ending each line,
    columns between spaces (rdsamp's text, many a logger's .txt)."""
    x = leads[0][:3600]
    t = [f"{i / 360:.4f}" for i in range(len(x))]
    files = {
        "comments.csv": "# device: logger 1.2\n# started 08:00\ntime,ECG\n",
        "trailing.csv": "time,ECG,\n",
        "spaces.txt": "time   ECG\n",
    }
    for name, head in files.items():
        sep, end = ("   ", "") if name.endswith(".txt") else (",", "," if "trailing" in name else "")
        (tmp_path / name).write_text(head + "".join(f"{a}{sep}{v}{end}\n" for a, v in zip(t, x, strict=True)))
        rec = read_recording(tmp_path / name, "ECG")
        assert rec.fs == 360 and np.allclose(rec.signal, x, atol=1e-6), name


def test_a_time_column_of_dates_and_times_gives_the_rate_and_the_recorders_clock(leads, tmp_path):
    from datetime import datetime, timedelta

    x = leads[0][:3600]
    t0 = datetime(2026, 11, 27, 8, 12, 8)
    for name, fmt in (("iso.csv", "%Y-%m-%dT%H:%M:%S.%f"), ("space.csv", "%Y-%m-%d %H:%M:%S.%f")):
        times = [(t0 + timedelta(seconds=i / 360)).strftime(fmt)[:-3] for i in range(len(x))]  # in ms
        (tmp_path / name).write_text(
            "timestamp,ECG\n" + "".join(f"{a},{v}\n" for a, v in zip(times, x, strict=True))
        )
        rec = read_recording(tmp_path / name, "ECG")
        assert rec.fs == 360 and rec.start == t0 and np.allclose(rec.signal, x, atol=1e-6), name


def test_a_time_column_that_stops_or_jumps_is_said(leads, tmp_path):
    x = leads[0][:3600]
    t = np.arange(len(x)) / 360
    back = t.copy()
    back[10] = back[8]
    path = tmp_path / "back.csv"
    path.write_text("time,ECG\n" + "".join(f"{a:.4f},{v}\n" for a, v in zip(back, x, strict=True)))
    with pytest.raises(
        HeartzooError, match=r"back.csv: its time column does not increase \(at data row 11\)"
    ):
        read_recording(path, "ECG")
    gap = np.where(np.arange(len(x)) < 1800, t, t + 5.0)  # 5 s of samples missing after the first 5
    path = tmp_path / "gap.csv"
    path.write_text("time,ECG\n" + "".join(f"{a:.4f},{v}\n" for a, v in zip(gap, x, strict=True)))
    rec = read_recording(path, "ECG")
    # the 5 s are missing where the times put them, and the samples after lie at their own times
    assert rec.fs == 360 and len(rec.signal) == 5400 and rec.missing == ((1800, 3600),)
    np.testing.assert_allclose(rec.signal[3600:], x[1800:], atol=1e-6)
    assert any("jumps 1 time(s) (5 s in all, the longest 5 s from 5 s)" in n for n in rec.notes)
    # every time is read, not the first rows': a time going back far into the file is refused by row
    back = t.copy()
    back[3000] = back[2990]
    path.write_text("time,ECG\n" + "".join(f"{a:.4f},{v}\n" for a, v in zip(back, x, strict=True)))
    with pytest.raises(HeartzooError, match=r"does not increase \(at data row 3001\)"):
        read_recording(path, "ECG")


def test_times_written_coarser_than_a_sample_and_a_gap_in_seconds_without_a_unit(leads, tmp_path):
    """Times written with few digits (`%g`, as MATLAB's csvwrite writes them) repeat once they pass 100 s:
    read at their span's rate, not refused; a seconds column without a unit and with a gap is read in
    seconds (the rate is the typical step's, which a gap does not move), and a gap longer than the samples
    a file holds is two sessions, refused by name."""
    x = np.resize(leads[0], 360 * 300)  # 5 min, the fixture's lead repeated
    t = np.arange(len(x)) / 360
    path = tmp_path / "g.csv"
    path.write_text("time,ECG\n" + "".join(f"{a:.5g},{v}\n" for a, v in zip(t, x, strict=True)))
    rec = read_recording(path, "ECG")
    assert rec.fs == pytest.approx(360, rel=1e-3) and len(rec.signal) == len(x)
    gap = np.where(np.arange(len(x)) < 360 * 150, t, t + 120.0)  # 2 min lost after 150 s
    path.write_text("time,ECG\n" + "".join(f"{a:.4f},{v}\n" for a, v in zip(gap, x, strict=True)))
    rec = read_recording(path, "ECG")
    assert rec.fs == 360 and rec.missing == ((360 * 150, 360 * 270),)
    far = np.where(np.arange(len(x)) < 360 * 150, t, t + 6 * 3600.0)
    path.write_text("time,ECG\n" + "".join(f"{a:.4f},{v}\n" for a, v in zip(far, x, strict=True)))
    with pytest.raises(
        HeartzooError, match=r"jumps 21,600 s in all, more than the 300 s of samples it holds"
    ):
        read_recording(path, "ECG")


@pytest.mark.parametrize("dated", [True, False])
def test_a_recording_over_midnight_goes_on_the_next_day(leads, tmp_path, dated):
    """Clock times that pass midnight: PhysioNet's carry the date ('[00:00:00.002 02/12/2000]'), a
    logger's may not ('00:00:00.002'); either goes on the next day, not back to 0 (it was refused, and an
    overnight Holter is the common case)."""
    x = np.resize(leads[0], 360 * 120)
    t0 = 23 * 3600 + 59 * 60  # 23:59:00, two minutes over midnight

    def clock(s: float) -> str:
        day, s = 1 + int(s // 86400), s % 86400
        text = f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"
        return f"'[{text} {day:02d}/12/2000]'" if dated else text

    path = tmp_path / "night.csv"
    head = "'Elapsed time','MLII'\n'hh:mm:ss.mmm','mV'\n" if dated else "time,MLII\n"
    path.write_text(head + "".join(f"{clock(t0 + i / 360)},{v:.3f}\n" for i, v in enumerate(x)))
    rec = read_recording(path, "MLII")
    assert rec.fs == 360 and len(rec.signal) == len(x) and not rec.missing


@pytest.mark.parametrize(
    ("unit", "per_second"), [("us", 1e6), ("µs", 1e6), ("min", 1 / 60), ("ms", 1e3), ("ns", 1e9)]
)
def test_a_time_column_in_any_unit_it_names_gives_the_rate(leads, tmp_path, unit, per_second):
    x = leads[0][:3600]
    t = np.arange(len(x)) / 360 * per_second
    path = tmp_path / "t.csv"
    path.write_text(f"time ({unit}),ECG\n" + "".join(f"{a:.9g},{v}\n" for a, v in zip(t, x, strict=True)))
    assert read_recording(path, "ECG").fs == pytest.approx(360, rel=1e-6)
    path.write_text("time (h),ECG\n" + "".join(f"{a:.9g},{v}\n" for a, v in zip(t, x, strict=True)))
    with pytest.raises(HeartzooError, match=r"t.csv: its time column's unit is 'h', not one heartzoo reads"):
        read_recording(path, "ECG")


def test_annotate_reads_a_physionet_csv_as_the_same_samples_given_as_npy(leads, tmp_path):
    path = physionet_csv(tmp_path / "100.csv", leads)
    np.save(tmp_path / "100.npy", leads[0])
    csv = annotated_json(path, tmp_path / "csv", MODEL)  # no --fs: the time column carries it
    npy = annotated_json(tmp_path / "100.npy", tmp_path / "npy", MODEL, "--fs", "360")
    assert [b["sample"] for b in csv["beat_list"]] == [b["sample"] for b in npy["beat_list"]]
    assert [b["class"] for b in csv["beat_list"]] == [b["class"] for b in npy["beat_list"]]
    assert len(csv["beat_list"]) >= 70  # 100 holds about 75 beats a minute
    lines = ["time,ECG", "0.000,0.1", "0.004,0.2", "oops,0.3"]
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    assert_refused(
        tmp_path / "bad.csv",
        MODEL,
        r"bad.csv: its time column holds a value that is no time",
        out=tmp_path / "bad",
    )


def _mat73(path: Path, **arrays) -> Path:
    """A MATLAB 7.3 file as MATLAB writes it: HDF5 behind a 512-byte text header, arrays transposed."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in arrays.items():
            f[name] = np.asarray(value).T
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Fri Nov 27 12:00:00 2026 HDF5 schema 1.00 ."
    with open(path, "r+b") as f:
        f.write(text.ljust(116) + bytes(8) + b"\x00\x02IM")  # subsystem offset, version, endianness
    return path


def test_a_matlab_file_of_samples_is_read_in_each_version(leads, tmp_path):
    """A .mat with no WFDB header beside it: v4, v5 (a struct's fields too) and 7.3 (HDF5), the leads
    whichever way round the array is, the rate from a variable fs or --fs."""
    from scipy.io import savemat

    both = np.stack(leads)  # leads x samples, as PhysioNet's val
    savemat(tmp_path / "v5.mat", {"val": both, "Fs": 360.0})
    savemat(tmp_path / "v4.mat", {"ecg": both.T}, format="4")
    savemat(tmp_path / "struct.mat", {"ECG": {"data": leads[0], "fs": 360}})
    _mat73(tmp_path / "v73.mat", val=both, fs=np.array([[360.0]]))
    for name, fs in (("v5.mat", None), ("v4.mat", 360), ("struct.mat", None), ("v73.mat", None)):
        rec = read_recording(tmp_path / name, "0", fs=fs, lead_given=True)
        assert rec.fs == 360 and np.allclose(rec.signal, leads[0], atol=1e-6), name
    assert np.allclose(read_recording(tmp_path / "v73.mat", "1", lead_given=True).signal, leads[1], atol=1e-6)
    with pytest.raises(HeartzooError, match=r"v4.mat: a .mat file carries no sampling rate; .*a variable fs"):
        read_recording(tmp_path / "v4.mat", "0", lead_given=True)
    savemat(tmp_path / "named.mat", {"ecg": leads[0], "resp": leads[1], "fs": 360})  # one named the ECG
    rec = read_recording(tmp_path / "named.mat", "0", lead_given=True)
    assert np.allclose(rec.signal, leads[0], atol=1e-6) and "its variable 'ecg' read, of 2" in rec.notes[0]
    savemat(tmp_path / "two.mat", {"a": leads[0], "b": leads[1], "fs": 360})
    with pytest.raises(
        HeartzooError,
        match=r"two.mat: 2 arrays could be the ECG \(a \(21600,\), b \(21600,\)\); choose one with --lead",
    ):
        read_recording(tmp_path / "two.mat", "0", lead_given=True)
    with pytest.raises(HeartzooError, match=r"two.mat: no array named 'c', and 2 arrays could be the ECG"):
        read_recording(tmp_path / "two.mat", "c", lead_given=True)  # a typo was not said to be one
    # --lead chooses the array: by its name, without case, or a struct's field by its own name
    for lead, name, want in (
        ("b", "two.mat", leads[1]),
        ("A", "two.mat", leads[0]),
        ("data", "struct.mat", leads[0]),
    ):
        rec = read_recording(tmp_path / name, lead, lead_given=True)
        assert rec.lead == lead and np.allclose(rec.signal, want, atol=1e-6), lead
        assert ("chosen by --lead" in " ".join(rec.notes)) == (lead != "b"), rec.notes
    with pytest.raises(
        HeartzooError, match=r"v5.mat: its variable val \(2, 21600\) holds 2 leads; --lead names"
    ):
        read_recording(tmp_path / "v5.mat", "val", lead_given=True)
    np.save(tmp_path / "100.npy", leads[0])
    mat = annotated_json(tmp_path / "v5.mat", tmp_path / "mat", MODEL, "--lead", "0")  # its Fs: no --fs
    npy = annotated_json(tmp_path / "100.npy", tmp_path / "npy", MODEL, "--fs", "360")
    assert [b["sample"] for b in mat["beat_list"]] == [b["sample"] for b in npy["beat_list"]]
    (tmp_path / "junk.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    with pytest.raises(HeartzooError, match=r"junk.mat: not a readable MATLAB .mat file"):
        read_recording(tmp_path / "junk.mat", "0", lead_given=True)


def test_text_and_matlab_files_of_any_shape_are_read_or_refused_never_a_traceback(tmp_path):
    """Made-up files from the pieces real ones hold (names, units, clocks, dates, decimal commas, quotes,
    each separator, NaN, 1e400): each is read or refused with an error that names it, never another
    exception."""
    import random

    rng = random.Random(45)
    pieces = [
        "time", "ECG", "'Elapsed time'", "'MLII'", "mV", "uV", "'hh:mm:ss.mmm'", "0:00.003", "0.004", "-0,145",
        "1,2", "#c", "", '"3.5"', "nan", "inf", "1e400", "2026-11-27T08:12:08.004", "abc", "-0", "065", "12",
        "[08:12:08.000 01/12/2000]", "-7.25",
    ]  # fmt: skip
    for k in range(300):
        lines = [
            rng.choice([",", ";", "\t", " "]).join(rng.choice(pieces) for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(0, 12))
        ]
        path = tmp_path / f"f{k}{rng.choice(['.csv', '.txt', '.tsv'])}"
        path.write_text("\n".join(lines) + rng.choice(["", "\n"]))
        for fs in (None, 250):
            try:
                read_recording(path, "ECG", fs=fs)
            except HeartzooError as exc:
                assert path.name in str(exc)
    for k in range(60):
        head = b"MATLAB 5.0 MAT-file" if k % 2 else b""
        (tmp_path / f"m{k}.mat").write_bytes(
            head + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 600)))
        )
        with pytest.raises(HeartzooError, match=f"m{k}.mat"):
            read_recording(tmp_path / f"m{k}.mat", "0", fs=250, lead_given=True)


@pytest.mark.parametrize("name", ["Zeit [s]", "temps (s)", "tiempo", "Tijd", "time_ms"])
def test_a_time_column_in_a_spreadsheet_s_language_carries_the_rate(leads, tmp_path, name):
    """A German, French, Spanish or Dutch spreadsheet's export: semicolons, decimal commas, the time
    column named in its language (in ms where its name says so)."""
    mlii = leads[0]
    scale = 1000 if name.endswith("ms") else 1
    rows = "".join(f"{i / 360 * scale:.4f};{a:.3f}\n".replace(".", ",") for i, a in enumerate(mlii))
    (tmp_path / "export.csv").write_text(f"{name};EKG\n" + rows)
    rec = read_recording(tmp_path / "export.csv", "EKG")
    assert rec.fs == 360 and rec.lead == "EKG" and np.allclose(rec.signal, mlii, atol=1e-6)


def test_times_in_whole_seconds_give_the_rate_of_their_changes(leads, tmp_path):
    """A logger writing whole seconds: 60 s at 360 Hz, each time 360 times. Read over the span of its
    times (59 s) it was 366 Hz, and the true --fs was refused as disagreeing with it."""
    x = leads[0]
    t = np.arange(len(x)) // 360
    path = tmp_path / "seconds.csv"
    path.write_text("t,ECG\n" + "".join(f"{a},{v}\n" for a, v in zip(t, x, strict=True)))
    rec = read_recording(path, "ECG")
    assert rec.fs == 360 and len(rec.signal) == len(x)
    assert any("read at 360 Hz" in n for n in rec.notes), rec.notes
    # a recording that starts and ends inside a second: its first and last times hold part of their step
    path.write_text("t,ECG\n" + "".join(f"{a},{v}\n" for a, v in list(zip(t, x, strict=True))[100:-50]))
    assert read_recording(path, "ECG").fs == 360
    assert read_recording(path, "ECG", fs=360).fs == 360


@pytest.mark.parametrize("header", ["ECG [uV]", "Lead II"])
def test_one_column_whose_name_holds_a_space_keeps_its_name_and_unit(leads, tmp_path, header):
    """One column under "ECG [uV]" was split at the space as a space-separated table, its header dropped:
    the µV the docs' example states was lost (read as mV), and "Lead II" could not be chosen."""
    x = leads[0][: 360 * 20]
    path = tmp_path / "one.csv"
    path.write_text(f"{header}\n" + "".join(f"{1000 * v:.0f}\n" for v in x))
    name = header.split(" [")[0]
    rec = read_recording(path, name, fs=360, lead_given=True)
    expected = x if header.endswith("[uV]") else np.round(1000 * x)
    np.testing.assert_allclose(rec.signal, expected, atol=1e-3)


@pytest.mark.parametrize(("name", "per_second"), [("millis", 1e3), ("micros", 1e6)])
def test_an_arduino_clock_column_gives_the_rate(leads, tmp_path, name, per_second):
    """Arduino loggers name the column after millis() or micros(): it was not taken for time, so the file
    was refused for lacking a rate."""
    x = leads[0][:3600]
    t = np.round(np.arange(len(x)) / 360 * per_second)
    path = tmp_path / "arduino.csv"
    path.write_text(f"{name},ECG\n" + "".join(f"{a:.0f},{v}\n" for a, v in zip(t, x, strict=True)))
    assert read_recording(path, "ECG").fs == pytest.approx(360, rel=1e-3)


def test_cells_that_say_missing_are_samples_missing(leads, tmp_path):
    """`N/A` (a spreadsheet's, pandas' "NaN", a database's "null") was refused as not a number, where an
    empty cell is read as a sample missing."""
    x = leads[0][: 360 * 20]
    cells = [f"{v}" for v in x]
    cells[1000:1010] = ["N/A", "NaN", "null", "none", "NULL", "NA", "None", "-", "n/a", "nan"]
    path = tmp_path / "gaps.csv"
    path.write_text("ECG\n" + "\n".join(cells) + "\n")
    rec = read_recording(path, "ECG", fs=360)
    assert rec.missing == ((1000, 1010),) and len(rec.signal) == len(x)


def test_a_footer_row_is_named_by_its_data_row(tmp_path):
    """A trailing "End of recording" gave numpy's "invalid column index 1 at row 501 with 1 columns"."""
    path = tmp_path / "footer.csv"
    rows = "".join(f"{i / 360:.4f},{np.sin(i / 20):.4f}\n" for i in range(500))
    path.write_text("time,ECG\n" + rows + "End of recording\n")
    with pytest.raises(HeartzooError, match=r"footer.csv: .*data row 501 has 1 cell\(s\) where the others"):
        read_recording(path, "ECG")


def test_pandas_index_column_is_no_lead(tmp_path):
    """`DataFrame.to_csv()` writes an unnamed index first: it was offered as a lead named ''."""
    path = tmp_path / "frame.csv"
    path.write_text(",ECG\n" + "".join(f"{i},{np.sin(i / 20):.4f}\n" for i in range(3600)))
    rec = read_recording(path, "ECG", fs=360)
    assert rec.lead == "ECG" and np.allclose(rec.signal[:3], np.sin(np.arange(3) / 20), atol=1e-4)
    with pytest.raises(HeartzooError, match=r"lead.*ECG") as exc:
        read_recording(path, "nope", fs=360, lead_given=True)
    assert "'', " not in str(exc.value) and ": , ECG" not in str(exc.value)
