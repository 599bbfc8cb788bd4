"""Apple Watch ECG exports (`heartzoo.recording.apple_watch`): a real CinC 2017 AliveCor recording (lead I
from the fingers, as the watch records it) written as the Health app writes an ECG, read back and
annotated as the same samples given as a .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused

from heartzoo.errors import HeartzooError

MODEL = "beat-3-cnn3-student@v6"
HEAD = (
    "Name,Test Person\n"
    'Date of Birth,"Jan 8, 2002"\n'
    "Recorded Date,2026-05-30 16:32:18 -0700\n"
    "Classification,Atrial Fibrillation\n"
    "Symptoms,\n"
    "Software Version,1.90\n"
    'Device,"Watch7,12"\n'
    "Sample Rate,512 hertz\n"
    "\n\n"
    "Lead,Lead I\n"
    "Unit,µV\n"
    "\n\n"
)


@pytest.fixture(scope="module")
def lead_i(data_root: Path) -> np.ndarray:
    """CinC 2017's A00005 (atrial fibrillation; training side) at the watch's 512 Hz, in µV as the watch
    writes it, rounded to its three decimals."""
    from heartzoo.data.cinc2017 import DATABASE
    from heartzoo.preprocess import resample

    folder = data_root / "cinc2017"
    if not (folder / "REFERENCE-v3.csv").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    sig = DATABASE.read_signal(DATABASE.folder(data_root), "A00005", "ECG")
    return np.round(resample(sig.values.astype(np.float64), sig.fs, 512.0) * 1000, 3)


def _export(path: Path, uv: np.ndarray, head: str = HEAD, decimal: str = ".") -> Path:
    text = head + "".join(f"{v:.3f}\n".replace(".", decimal) for v in uv)
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))  # a lone \udcff: the byte 0xff
    return path


def test_an_export_reads_as_its_samples_in_mv(lead_i, tmp_path):
    from heartzoo.recording.read import read_recording

    for decimal in (".", ","):  # the phone's locale: "-265,868" where a comma is the decimal mark
        rec = read_recording(_export(tmp_path / "ecg_2026-05-30.csv", lead_i, decimal=decimal), "MLII")
        assert (rec.fs, rec.lead, rec.format, rec.name) == (512.0, "Lead I", "apple-watch", "ecg_2026-05-30")
        assert np.allclose(rec.signal, lead_i / 1000, atol=1e-6)
        assert rec.notes == (
            "an Apple Watch ECG export (device Watch7,12, software version 1.90)",
            "the watch classified this recording as 'Atrial Fibrillation'",
            "Lead I, the recording's one lead, read for the model's MLII",
        )
        # the recorded date, in the watch's time zone
        assert rec.start.isoformat() == "2026-05-30T16:32:18-07:00"
    # another language: found by its values ("512 Hertz", "µV"), not by the keys
    german = HEAD.replace("Sample Rate", "Abtastrate").replace("hertz", "Hertz").replace("Unit,", "Einheit,")
    rec = read_recording(_export(tmp_path / "de.csv", lead_i, german), "MLII")
    assert rec.fs == 512.0 and np.allclose(rec.signal, lead_i / 1000, atol=1e-6)
    # French, every key another word: still found by its values; samples quoted for their decimal comma
    french = HEAD.replace("Name,", "Nom,").replace("Sample Rate", "Fréquence").replace("Unit,", "Unité,")
    rec = read_recording(_export(tmp_path / "fr.csv", lead_i, french.replace("Lead,", "Dérivation,")), "MLII")
    assert rec.fs == 512.0 and np.allclose(rec.signal, lead_i / 1000, atol=1e-6)
    assert rec.start.isoformat() == "2026-05-30T16:32:18-07:00"  # found by its value too
    quoted = "".join(f'"{v:.3f}"\n'.replace(".", ",") for v in lead_i)
    (tmp_path / "q.csv").write_text(french + quoted, encoding="utf-8")
    assert np.allclose(read_recording(tmp_path / "q.csv", "MLII").signal, lead_i / 1000, atol=1e-6)
    # a header whose rate cannot be read: the rate given is taken, as for any CSV
    rec = read_recording(
        _export(tmp_path / "x.csv", lead_i, german.replace("512 Hertz", "512/s")), "MLII", fs=512
    )
    assert rec.fs == 512.0 and rec.format == "apple-watch"


def test_annotate_reads_an_export_as_the_same_samples_given_as_npy(lead_i, tmp_path):
    np.save(tmp_path / "same.npy", lead_i / 1000)
    _export(tmp_path / "ecg.csv", lead_i)
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("ecg.csv", []), ("same.npy", ["--fs", "512"]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["ecg.csv"]) > 20 and beats["ecg.csv"] == beats["same.npy"]
    assert got["ecg.csv"]["fs"] == 512.0 and got["ecg.csv"]["lead"] == "Lead I"
    assert "the watch classified this recording as 'Atrial Fibrillation'" in got["ecg.csv"]["notes"]


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (lambda h: h, ["--fs", "512"], r"carries its sampling rate; --fs is for CSV, .mat and .npy"),
        (
            lambda h: h.replace("Sample Rate,512 hertz\n", ""),
            [],
            r"states no sampling rate .*give it \(--fs HZ\)",
        ),
        (lambda h: h.replace("512 hertz", "0 hertz"), [], r"its header states 0 Hz, not one rate"),
        (lambda h: h.replace("Unit,µV", "Unit,V"), [], r"its header's unit is 'V'; an Apple Watch export"),
        (lambda h: h + "12.5\n-3.0\nlead off\n", [], r"line 17 is 'lead off', not a sample"),
        (lambda h: h, ["--lead", "II"], r"no lead II; leads: Lead I"),
        (lambda h: h + "1.0\n" * 50 + "\udcff\n", [], r"cannot be read as UTF-8 text"),
    ],
)
def test_a_bad_export_is_one_clear_error_and_writes_nothing(lead_i, tmp_path, edit, args, message):
    assert_refused(
        _export(tmp_path / "ecg.csv", lead_i, edit(HEAD)), MODEL, message, *args, out=tmp_path / "out"
    )


def test_a_recorded_date_that_is_no_date_leaves_the_start_unknown(lead_i, tmp_path):
    from heartzoo.recording.read import read_recording

    for wrong in ("2026-13-30 16:32:18 -0700", "2026-05-30 16:32:18 -9100"):  # month 13; a 91 h offset
        rec = read_recording(
            _export(tmp_path / "e.csv", lead_i, HEAD.replace("2026-05-30 16:32:18 -0700", wrong)), "MLII"
        )
        assert rec.start is None and np.allclose(rec.signal, lead_i / 1000, atol=1e-6)


def test_a_plain_csv_is_not_taken_for_an_export(tmp_path):
    from heartzoo.recording import apple_watch

    (tmp_path / "leads.csv").write_text("Name,MLII\n1,2\n")  # a lead column called Name, no rate
    assert not apple_watch.is_export(tmp_path / "leads.csv")
    with pytest.raises(HeartzooError, match="carries no sampling rate"):
        from heartzoo.recording.read import read_recording

        read_recording(tmp_path / "leads.csv", "MLII")
