"""Polar chest-strap ECG files (`heartzoo.recording.polar`): five minutes of a real Icentia11k chest-patch
segment written as Polar Sensor Logger writes a Polar H10's ECG (130 Hz by a crystal that runs a little
fast, µV, nanosecond sensor timestamps), read back, and annotated as the same samples given as a .npy."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused

from heartzoo.errors import HeartzooError

MODEL = "beat-3-cnn3-student@v6"
HEADER = "Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]"
#: the strap's true rate: 130 Hz by a crystal 400 ppm fast
RATE = 130.0 * (1 + 400e-6)
#: nanoseconds since 2000-01-01 at the first sample, as the strap counts
T0_NS = 838_432_586_543_515_816


@pytest.fixture(scope="module")
def chest_uv(data_root: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first 5 minutes of Icentia11k p00000_s00 (250 Hz) at 130 samples a second, in whole µV, as the
    strap samples it, and its reference beats as samples of it."""
    from heartzoo.data.icentia11k import DATABASE
    from heartzoo.preprocess import resample

    folder = DATABASE.folder(data_root)
    if not (folder / "p00" / "p00000" / "p00000_s00.hea").is_file():
        pytest.skip("icentia11k_sample not found beside mitdb")
    sig = DATABASE.read_signal(folder, "p00000_s00", "ecg")
    x = sig.values[: int(300 * sig.fs)].astype(np.float64)
    beats = DATABASE.read_beats(folder, "p00000_s00").samples * (130 / sig.fs)
    return np.round(resample(x, sig.fs, 130) * 1000), beats[beats < 299 * 130]


def _write(path: Path, uv: np.ndarray, *, packet: int = 1, drop: slice | None = None, lines=None) -> Path:
    """`uv` as Polar Sensor Logger writes it; `packet`: samples that share one sensor timestamp (the last
    one's, as an SDK that stamps Bluetooth packets gives them); `drop`: samples Bluetooth lost."""
    i = np.arange(len(uv))
    ns = T0_NS + np.round((i // packet * packet + packet - 1) * 1e9 / RATE).astype(np.int64)
    phone = datetime(2026, 7, 26, 21, 56, 26, 765000)
    rows = [
        f"{(phone + timedelta(seconds=k / RATE)).isoformat(timespec='milliseconds')};{ns[k]};"
        f"{k * 1000 / RATE:.6f};{int(uv[k])}"
        for k in i
        if drop is None or not drop.start <= k < drop.stop
    ]
    path.write_text("\n".join([HEADER, *(lines or []), *rows]) + "\n", encoding="utf-8")
    return path


def test_a_polar_file_reads_its_rate_from_the_sensor_clock(chest_uv, tmp_path):
    from heartzoo.recording.read import output_name, read_recording

    uv, _ = chest_uv
    for packet in (1, 73):  # stamped per sample, or per Bluetooth packet of 73 samples
        path = _write(tmp_path / f"Polar_H10_A1B2C3D4_20260726_215626_ECG{packet}.txt", uv, packet=packet)
        rec = read_recording(path, "MLII")
        assert (rec.format, rec.lead) == ("polar", "ECG")
        assert abs(rec.fs - RATE) < 1e-3 * (packet > 1) + 1e-6, rec.fs  # not the nominal 130 Hz
        assert np.array_equal(rec.signal, (uv / 1000).astype(np.float32))
        assert rec.notes[0].startswith(f"a Polar ECG file (Polar Sensor Logger): {rec.fs:.3f} Hz measured")
        assert "recorded from 2026-07-26T21:56:26.765" in rec.notes[0]
        assert rec.start == datetime(2026, 7, 26, 21, 56, 26, 765000)  # the phone's clock, as the file says
        assert rec.notes[1] == "ECG, the recording's one lead, read for the model's MLII"
    assert output_name(path) == "Polar_H10_A1B2C3D4_20260726_215626_ECG73"


def test_annotate_reads_a_polar_file_as_the_same_samples_given_as_npy(chest_uv, tmp_path):
    from heartzoo.recording.read import read_recording

    uv, reference = chest_uv
    path = _write(tmp_path / "strap_ECG.txt", uv)
    rate = read_recording(path, "MLII").fs
    np.save(tmp_path / "same.npy", uv / 1000)
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("strap_ECG.txt", []), ("same.npy", ["--fs", repr(rate)]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert beats["strap_ECG.txt"] == beats["same.npy"]
    # the beats are the patch's own: each reference beat found within 150 ms
    found = np.array([b for b, _ in beats["strap_ECG.txt"]])
    reference = reference[reference < found[-1]]
    assert np.mean([np.min(np.abs(found - r)) <= 0.15 * rate for r in reference]) > 0.99
    assert np.mean([np.min(np.abs(reference - f)) <= 0.15 * rate for f in found]) > 0.98
    assert got["strap_ECG.txt"]["lead"] == "ECG" and got["strap_ECG.txt"]["fs"] == rate
    assert any(w.startswith("a Polar ECG file") for w in got["strap_ECG.txt"]["notes"])


def test_a_stretch_bluetooth_lost_is_missing_where_the_sensor_clock_puts_it(chest_uv, tmp_path):
    """400 samples (3.1 s) lost at sample 2000: read as missing there, the rate still the strap's, the
    rest the samples written; stamped per packet, within a packet of where they were; annotated as the
    same samples with the stretch NaN given as a .npy."""
    from heartzoo.recording.read import read_recording

    uv = chest_uv[0]
    for packet in (1, 73):
        path = _write(tmp_path / f"lost{packet}_ECG.txt", uv, packet=packet, drop=slice(2000, 2400))
        rec = read_recording(path, "MLII")
        assert abs(rec.fs - RATE) < 1e-3 * (packet > 1) + 1e-6, rec.fs
        ((a, b),) = rec.missing
        assert abs(a - 2000) <= packet and abs(b - 2400) <= packet, rec.missing
        assert len(rec.signal) - (b - a) == len(uv) - 400
        kept = np.r_[0:a, b : len(rec.signal)]
        assert np.array_equal(rec.signal[kept], (np.r_[uv[:2000], uv[2400:]] / 1000).astype(np.float32))
    lost = np.array(uv / 1000)
    lost[2000:2400] = np.nan
    np.save(tmp_path / "same.npy", lost)
    rate = read_recording(tmp_path / "lost1_ECG.txt", "MLII").fs
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("lost1_ECG.txt", []), ("same.npy", ["--fs", repr(rate)]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["same.npy"]) > 300 and beats["lost1_ECG.txt"] == beats["same.npy"]
    assert any("3.1 s of the lead are missing in the file" in w for w in got["lost1_ECG.txt"]["warnings"])


@pytest.mark.parametrize(
    ("write", "args", "message"),
    [
        (lambda p, uv: _write(p, uv), ["--fs", "130"], r"carries its sampling rate in its sensor timestamps"),
        (
            lambda p, uv: _write(p, uv, lines=["2026-07-26T21:56:26.700;838432586000000000;0.0;lead off"]),
            [],
            r"line 2 is '2026-07-26T21:56:26\.700;838432586000000000;0\.0;lead off', not a sample",
        ),
        (
            lambda p, uv: _write(p, uv, lines=["2026-07-26T21:56:26.700;838432587000000000;0.0;12"]),
            [],
            r"the sensor timestamps go back at line 3",
        ),
        (  # a timestamp past 64 bits
            lambda p, uv: _write(p, uv, lines=["2026-07-26T21:56:26.700;99999999999999999999;0.0;12"]),
            [],
            r"line 2 is '2026-07-26T21:56:26\.700;99999999999999999999;0\.0;12', not a sample",
        ),
        (lambda p, uv: _write(p, uv[:1]), [], r"a Polar ECG file with 1 sample\(s\)"),
        (
            lambda p, uv: (
                _write(p, uv)
                and p.open("a").write(f"2026-08-05T21:56:26.700;{T0_NS + 10 * 86400 * 10**9};0.0;12\n")
                and p
            ),
            [],
            r"its samples cover 0\.0027 % of the 240\.0 h its sensor timestamps span: not one recording",
        ),
        (lambda p, uv: _write(p, uv), ["--lead", "II"], r"no lead II; leads: ECG"),
    ],
)
def test_a_bad_polar_file_is_one_clear_error_and_writes_nothing(chest_uv, tmp_path, write, args, message):
    path = write(tmp_path / "strap_ECG.txt", chest_uv[0][:3000])
    assert_refused(path, MODEL, message, *args, out=tmp_path / "out")


def test_another_text_file_is_not_a_recording(tmp_path):
    from heartzoo.recording import polar
    from heartzoo.recording.read import read_recording

    (tmp_path / "notes.txt").write_text("Phone timestamp;HR [bpm];RR-interval [ms]\n2026-07-26;60;1000\n")
    assert not polar.is_export(tmp_path / "notes.txt")  # Polar Sensor Logger's heart-rate file, no ECG
    with pytest.raises(HeartzooError, match=r"not a recording heartzoo reads; .*a Polar ECG file"):
        read_recording(tmp_path / "notes.txt", "MLII")
