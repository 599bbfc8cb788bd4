"""ISHNE Holter files (`heartzoo.recording.ishne`): five minutes of a real MIT-BIH record (100: MLII and
V5, 360 Hz) written as the ISHNE Holter standard lays a file out, read back sample for sample, annotated as
the same samples given as a .npy, and every way a header can be wrong refused with the file named."""

from __future__ import annotations

import binascii
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused

MODEL = "beat-3-cnn3-student@v6"
#: MIT-BIH's 200 units a mV: 5,000 nV a unit
NV = 5000


@pytest.fixture(scope="module")
def units(data_root: Path) -> np.ndarray:
    """Record 100's first 5 minutes in its ADC units (from zero), MLII then V5."""
    from heartzoo.data import mitbih

    leads = [
        mitbih.read_signal(data_root / "mitdb", "100", lead).values[: 300 * 360] for lead in ("MLII", "V5")
    ]
    return np.round(np.stack(leads, axis=1).astype(np.float64) * 1e6 / NV).astype(np.int16)


def holter(
    path: Path,
    units: np.ndarray,
    *,
    codes=(6, 15),
    quality=(1, 1),
    nv=(NV, NV),
    rate: int = 360,
    var_block: bytes = b"made by a test",
    per_lead: int | None = None,
    crc: int | None = None,
    n_leads: int | None = None,
) -> Path:
    """`units` (samples, leads) as an ISHNE Holter file, header fields overridable to break it."""
    n = units.shape[1]
    pad = lambda v, fill: (list(v) + [fill] * 12)[:12]  # noqa: E731
    fixed = struct.pack("<4ih", len(var_block), len(units) if per_lead is None else per_lead, 522,
                        522 + len(var_block), 1)  # fmt: skip
    fixed += b"Test".ljust(40, b"\0") + b"Person".ljust(40, b"\0") + b"ID-0042".ljust(20, b"\0")
    fixed += struct.pack("<2h", 1, 0) + struct.pack("<12h", 8, 1, 1990, 26, 7, 2026, 27, 7, 2026, 21, 56, 26)
    fixed += struct.pack("<h", n if n_leads is None else n_leads)
    fixed += struct.pack("<12h", *pad(codes, -9)) + struct.pack("<12h", *pad(quality, -9))
    fixed += struct.pack("<12h", *pad(nv, -9)) + struct.pack("<h", 0) + b"DigiHolter 3".ljust(40, b"\0")
    fixed += struct.pack("<h", rate) + bytes(80 + 80 + 88)
    assert len(fixed) == 512
    head = fixed + var_block
    check = binascii.crc_hqx(head, 0xFFFF) if crc is None else crc
    path.write_bytes(b"ISHNE1.0" + struct.pack("<H", check) + head + units.astype("<i2").tobytes())
    return path


def test_a_holter_file_reads_each_lead_sample_for_sample(units, tmp_path):
    from datetime import datetime

    from heartzoo.recording import ishne
    from heartzoo.recording.read import read_recording

    path = holter(tmp_path / "h100.ecg", units)
    for lead, col in (("II", 0), ("V5", 1)):
        rec = read_recording(path, lead, lead_given=True)
        assert (rec.format, rec.lead, rec.fs, rec.name) == ("ishne", lead, 360.0, "h100")
        assert np.array_equal(rec.signal, (units[:, col] * (NV * 1e-6)).astype(np.float32))
        assert rec.notes == ("an ISHNE Holter file (DigiHolter 3)",)  # never the person's name or ID
        assert rec.start == datetime(2026, 7, 26, 21, 56, 26)  # its recording date and start time
    # samples counted over every lead, as some writers do; a lead marked noisy; two leads of one code
    path = holter(tmp_path / "h.ecg", units, per_lead=units.size, quality=(1, 3), codes=(1, 1))
    rec = read_recording(path, "generic-2", lead_given=True)
    assert np.array_equal(rec.signal, (units[:, 1] * (NV * 1e-6)).astype(np.float32))
    assert rec.notes[-1] == "the Holter marked lead generic-2 'frequent noise'"
    # no checksum written: read, with a note; one lead: read for the model's, with a note
    rec = read_recording(holter(tmp_path / "one.ecg", units[:, :1], crc=0), "MLII")
    # a start the writer left 0 (or not a date) is no start, and no reason to refuse the samples
    assert ishne._start((0, 0, 0), (0, 0, 0)) is None and ishne._start((31, 2, 2026), (9, 0, 0)) is None
    assert rec.lead == "II" and rec.notes[1:] == (
        "its header carries no checksum (0); read without one",
        "II, the recording's one lead, read for the model's MLII",
    )


def test_annotate_reads_a_holter_file_as_the_same_samples_given_as_npy(units, tmp_path):
    holter(tmp_path / "h100.ecg", units)
    np.save(tmp_path / "same.npy", units[:, 0] * (NV * 1e-6))
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("h100.ecg", ["--lead", "II"]), ("same.npy", ["--fs", "360"]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["h100.ecg"]) > 300 and beats["h100.ecg"] == beats["same.npy"]
    assert got["h100.ecg"]["lead"] == "II" and got["h100.ecg"]["fs"] == 360.0


def _truncated(path: Path, units) -> Path:
    holter(path, units)
    path.write_bytes(path.read_bytes()[:-3])
    return path


def _tampered(path: Path, units) -> Path:
    data = bytearray(holter(path, units).read_bytes())
    data[232] ^= 1  # the recorder's name changed after the checksum was written
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("write", "args", "message"),
    [
        (lambda p, u: holter(p, u), ["--fs", "360"], r"an ISHNE file carries its sampling rate"),
        (
            lambda p, u: holter(p, u),
            [],
            r"no lead MLII \(the model's lead\); choose one with --lead, by name or number; leads: II, V5",
        ),
        (
            _truncated,
            ["--lead", "II"],
            r"gives 108000 samples a lead, .*431997 bytes of samples \(107999 a lead over 2 lead\(s\) "
            r"and 1 byte\(s\) more\): truncated",
        ),
        (_tampered, ["--lead", "II"], r"header checksum 0x[0-9a-f]{4} disagrees with the header .*corrupted"),
        (lambda p, u: p.write_bytes(b"ISHNE1.1" + bytes(600)) and p, [], r"not an ISHNE Holter file"),
        (lambda p, u: holter(p, u, n_leads=0), [], r"its header gives 0 leads; an ISHNE file holds 1 to 12"),
        (lambda p, u: holter(p, u, nv=(NV, 0)), [], r"lead V5's resolution is 0 nV a unit"),
        (lambda p, u: holter(p, u, rate=0), [], r"a sampling rate of 0 Hz"),
        (
            lambda p, u: holter(p, u, per_lead=5),
            [],
            r"its header gives 5 samples a lead, .*truncated or corrupted",
        ),
    ],
)
def test_a_bad_holter_file_is_one_clear_error_and_writes_nothing(units, tmp_path, write, args, message):
    assert_refused(write(tmp_path / "h.ecg", units), MODEL, message, *args, out=tmp_path / "out")
