"""EDF and EDF+ files (`heartzoo.recording.edf`), as a wearable writes them: five minutes of a real MIT-BIH
record (100's MLII) in µV at 360 Hz beside an accelerometer at 25 Hz and an EDF+ annotation signal, read
back at its own rate and annotated as the same samples given as a .npy; the same as BDF (24-bit samples);
each way a header or file can be wrong refused with the file named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused

MODEL = "beat-3-cnn3-student@v6"


@pytest.fixture(scope="module")
def mlii(data_root: Path) -> np.ndarray:
    from heartzoo.data import mitbih

    return mitbih.read_signal(data_root / "mitdb", "100").values[: 300 * 360].astype(np.float64)


def edf(
    path: Path,
    signals,
    *,
    record_s: float = 1.0,
    plus: str = "EDF+C",
    records: str | None = None,
    bdf: bool = False,
) -> Path:
    """`signals`: (label, unit, physical range, samples per record, physical values) each; the values are
    written as 16-bit digital samples over +-32767, or with `bdf` as BDF's 24-bit ones over +-8388607."""

    def field(value, width: int) -> bytes:
        return str(value).ljust(width)[:width].encode("latin-1")

    n_rec, top = min(len(v) // k for *_, k, v in signals), 8388607 if bdf else 32767
    head = b"".join(
        [
            b"\xffBIOSEMI" if bdf else field("0", 8), field("X X X X", 80), field("Startdate X X X X", 80), field("27.11.26", 8),
            field("04.00.00", 8), field(256 * (1 + len(signals)), 8), field(plus, 44),
            field(n_rec if records is None else records, 8), field(f"{record_s:g}", 8), field(len(signals), 4),
        ]
    )  # fmt: skip
    columns = (
        (16, [s[0] for s in signals]),
        (80, [""] * len(signals)),
        (8, [s[1] for s in signals]),
        (8, [-s[2] for s in signals]),
        (8, [s[2] for s in signals]),
        (8, [-top] * len(signals)),
        (8, [top] * len(signals)),
        (80, [""] * len(signals)),
        (8, [s[3] for s in signals]),
        (32, [""] * len(signals)),
    )
    for width, values in columns:
        head += b"".join(field(v, width) for v in values)
    blocks = [
        np.round(np.clip(v[: n_rec * k] / (r or 1.0), -1, 1) * top).astype("<i4").reshape(n_rec, k)
        for _, _, r, k, v in signals
    ]
    digital = np.concatenate(blocks, axis=1)
    if not bdf:
        return path.write_bytes(head + digital.astype("<i2").tobytes()) and path
    # BDF: each sample's three low bytes, little-endian two's complement
    path.write_bytes(head + digital[..., None].view(np.uint8)[..., :3].tobytes())
    return path


def wearable(path: Path, mlii: np.ndarray, **kw) -> Path:
    """MLII in µV at 360 Hz, an accelerometer at 25 Hz and an EDF+ annotation signal, records of 1 s."""
    accel = np.sin(np.arange(len(mlii) * 25 // 360) / 7.0)
    return edf(
        path,
        [
            ("MLII", "uV", 5000.0, 360, mlii * 1000),
            ("Accel X", "g", 2.0, 25, accel),
            ("EDF Annotations", "", 1.0, 30, np.zeros(len(mlii) // 12)),
        ],
        **kw,
    )


def test_an_edf_lead_reads_at_its_own_rate_in_mv(mlii, tmp_path):
    from datetime import datetime

    from heartzoo.recording import edf as edf_module
    from heartzoo.recording.read import read_recording

    path = wearable(tmp_path / "patch.edf", mlii)
    rec = read_recording(path, "MLII")
    assert (rec.format, rec.lead, rec.fs, len(rec.signal)) == ("edf", "MLII", 360.0, len(mlii))
    np.testing.assert_allclose(rec.signal, mlii, atol=5.0 / 32767 / 2 + 1e-6)  # µV read in mV, to a step
    assert rec.notes == () and rec.start == datetime(2026, 11, 27, 4, 0, 0)  # startdate 27.11.26, 04.00.00
    accel = read_recording(path, "Accel X", lead_given=True)
    assert accel.fs == 25.0 and accel.notes == ("signal Accel X's unit is g, not a voltage: read as mV",)
    nano = edf(tmp_path / "nano.edf", [("MLII", "nV", 5e6, 360, mlii * 1e6)])  # a recorder's nanovolts
    assert np.allclose(read_recording(nano, "MLII").signal, mlii, atol=1e-3)
    # one lead in mV, records of 0.5 s, a count the recorder left unknown (-1)
    one = edf(tmp_path / "one.edf", [("ECG", "mV", 5.0, 180, mlii)], record_s=0.5, records="-1")
    got = read_recording(one, "MLII")
    assert got.fs == 360.0 and got.lead == "ECG" and np.allclose(got.signal, mlii, atol=1e-3)
    # the standard's years: 85-99 are 1985-1999, 00-84 2000-2084; a clock left unset is no start
    assert edf_module._start("01.01.85", "00.00.00") == datetime(1985, 1, 1)
    assert edf_module._start("31.12.84", "23.59.59") == datetime(2084, 12, 31, 23, 59, 59)
    assert (
        edf_module._start("xx.yy.zz", "00.00.00") is None and edf_module._start("31.02.26", "1.2.3") is None
    )
    # a file whose start is no date is read without one, and says so (it was dropped without a word)
    unset = tmp_path / "unset.edf"
    unset.write_bytes(one.read_bytes().replace(b"27.11.26", b"31.02.24", 1))
    got = read_recording(unset, "MLII")
    assert (
        got.start is None and "its header's start, '31.02.24 04.00.00', is no date and time" in got.notes[-1]
    )
    # the patch's one lead under another name, beside its accelerometer: the lead, with a note
    path = edf(
        tmp_path / "named.edf", [("ECG1", "uV", 5000.0, 360, mlii * 1000), ("Accel", "g", 2.0, 25, mlii)]
    )
    got = read_recording(path, "MLII")
    assert got.lead == "ECG1" and got.notes == ("ECG1, the recording's one lead, read for the model's MLII",)


def test_an_edf_lead_is_read_in_stretches_across_its_data_records(mlii, tmp_path, monkeypatch):
    """A day's lead is read a stretch at a time, never converted whole: stretches that start and end inside
    data records give the samples of one read, and the lead checked in chunks of 997 samples is byte for
    byte the lead checked at once."""
    from heartzoo.preprocess import lead as lead_module
    from heartzoo.preprocess.lead import CheckedLead
    from heartzoo.recording import edf as edf_module
    from heartzoo.recording.read import read_recording

    path = wearable(tmp_path / "patch.edf", mlii)
    lead = edf_module.read(path).lead("MLII")
    whole = lead[0 : len(lead)]
    assert len(lead) == len(mlii) and whole.dtype == np.float64
    for a, b in ((0, 1), (359, 361), (100, 1_000), (len(mlii) - 7, len(mlii)), (5, 5)):
        assert np.array_equal(lead[a:b], whole[a:b]), (a, b)
    at_once = read_recording(path, "MLII").signal
    assert isinstance(at_once, CheckedLead)  # left on disk, read where sliced
    monkeypatch.setattr(lead_module, "READ_SAMPLES", 997)  # checked, and read whole, 997 samples at a time
    chunked = np.asarray(read_recording(path, "MLII").signal)
    assert chunked.dtype == np.float32 and chunked.tobytes() == np.asarray(at_once).tobytes()
    assert np.asarray(at_once).tobytes() == whole.astype(np.float32).tobytes()
    assert at_once[359:1_000].tobytes() == chunked[359:1_000].tobytes()
    # arithmetic reads it whole, as on the array readers gave before
    assert np.array_equal(at_once * 1000, chunked * 1000) and np.array_equal(2 - at_once, 2 - chunked)
    assert float(np.mean(at_once)) == float(np.mean(chunked)) and (at_once > 0).sum() == (chunked > 0).sum()


def test_annotate_reads_an_edf_lead_as_the_same_samples_given_as_npy(mlii, tmp_path):
    from heartzoo.recording.read import read_recording

    path = wearable(tmp_path / "patch.edf", mlii)
    np.save(tmp_path / "same.npy", read_recording(path, "MLII").signal)
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("patch.edf", []), ("same.npy", ["--fs", "360"]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["patch.edf"]) > 300 and beats["patch.edf"] == beats["same.npy"]


def test_a_bdf_file_is_read_as_an_edf_of_24_bit_samples(mlii, tmp_path):
    """BDF (BioSemi's EDF: version byte 255 'BIOSEMI', three bytes a sample) and BDF+ with its annotation
    signal: the lead to a 24-bit step (256 times finer than EDF's), negative samples included, read where
    sliced as an EDF lead is; annotated as the same samples given as a .npy; a BDF+D file whose records
    carry no onset refused."""
    from heartzoo.recording import edf as edf_module
    from heartzoo.recording.read import read_recording

    accel = np.sin(np.arange(len(mlii) * 25 // 360) / 7.0)
    signals = [
        ("MLII", "uV", 5000.0, 360, mlii * 1000),
        ("Accel X", "g", 2.0, 25, accel),
        ("BDF Annotations", "", 1.0, 30, np.zeros(len(mlii) // 12)),
    ]
    path = edf(tmp_path / "patch.bdf", signals, plus="BDF+C", bdf=True)
    rec = read_recording(path, "MLII")
    assert (rec.format, rec.lead, rec.fs, len(rec.signal)) == ("edf", "MLII", 360.0, len(mlii))
    np.testing.assert_allclose(rec.signal, mlii, atol=5.0 / 8388607 / 2 + 1e-6)
    assert mlii.min() < 0 and np.asarray(rec.signal).min() < 0
    assert edf_module.read(path).names == ["MLII", "Accel X"]
    lead = edf_module.read(path).lead("Accel X")
    assert np.array_equal(lead[3:80], lead[0 : len(lead)][3:80]) and np.allclose(
        lead[0:50], accel[:50], atol=1e-6
    )
    plain = edf(tmp_path / "plain.bdf", signals[:1], plus="24BIT", bdf=True)  # BDF without the +
    assert np.array_equal(np.asarray(read_recording(plain, "MLII").signal), np.asarray(rec.signal))
    np.save(tmp_path / "same.npy", rec.signal)
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("patch.bdf", []), ("same.npy", ["--fs", "360"]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["patch.bdf"]) > 300 and beats["patch.bdf"] == beats["same.npy"]
    gaps = edf(tmp_path / "gaps.bdf", signals, plus="BDF+D", bdf=True)
    assert_refused(
        gaps, MODEL, r"data record 1's annotations do not open with its onset", out=tmp_path / "none"
    )


def timed(path: Path, onsets, *, k: int = 2) -> Path:
    """`path` (its last signal EDF+'s annotations) with each data record's time-keeping annotation: its
    onset in seconds, as an EDF+D recorder writes it ("+onset", two bytes 20, a 0)."""
    data = bytearray(path.read_bytes())
    n = int(data[252:256])  # the header's signal count, then each signal's samples per record
    pers = [int(data[256 + 216 * n + 8 * i : 256 + 216 * n + 8 * (i + 1)]) for i in range(n)]
    width, at = k * sum(pers), 256 * (1 + n) + k * sum(pers[:-1])
    for r, onset in enumerate(onsets):
        tal = f"+{onset}\x14\x14\x00".encode().ljust(k * pers[-1], b"\x00")
        data[at + r * width : at + r * width + len(tal)] = tal
    path.write_bytes(bytes(data))
    return path


def test_an_edf_d_file_is_read_on_its_clock_its_gaps_missing(mlii, tmp_path):
    """EDF+D and BDF+D (a recorder that paused: records with gaps between them, each placed by its
    time-keeping annotation): MIT-BIH 100's five minutes less three 1-s records at 60 s, the first record at
    2 s after the header's start. Each lead is read on the file's clock, the gap missing (at the lead's own
    rate) and bridged, the rest the samples written, in stretches as whole; annotated as the same samples
    with the gap NaN given as a .npy."""
    from datetime import datetime

    from heartzoo.recording.read import read_recording

    kept = [r for r in range(300) if not 60 <= r < 63]
    held = np.concatenate([mlii[r * 360 : (r + 1) * 360] for r in kept])
    accel = np.sin(np.arange(len(held) * 25 // 360) / 7.0)
    for ext, bdf in (("edf", False), ("bdf", True)):
        kind = "BDF" if bdf else "EDF"
        signals = [
            ("MLII", "uV", 5000.0, 360, held * 1000),
            ("Accel X", "g", 2.0, 25, accel),
            (f"{kind} Annotations", "", 1.0, 30, np.zeros(len(held) // 12)),
        ]
        path = timed(
            edf(tmp_path / f"paused.{ext}", signals, plus=f"{kind}+D", bdf=bdf),
            [r + 2 for r in kept],
            k=3 if bdf else 2,
        )
        rec = read_recording(path, "MLII")
        assert (len(rec.signal), rec.missing, rec.start) == (
            300 * 360,
            ((60 * 360, 63 * 360),),
            datetime(2026, 11, 27, 4, 0, 2),
        ), ext
        whole = np.asarray(rec.signal)  # a lead left on disk is read whole, or sliced
        away = np.r_[0 : 60 * 360, 63 * 360 : 300 * 360]
        np.testing.assert_allclose(whole[away], mlii[away], atol=5.0 / 32767 / 2 + 1e-6)
        a, b = 60 * 360 - 1, 63 * 360  # the bridge: a line from the last sample before to the first after
        np.testing.assert_allclose(whole[a : b + 1], np.linspace(whole[a], whole[b], b - a + 1), atol=1e-6)
        assert np.array_equal(rec.signal[21000:23000], whole[21000:23000])  # in stretches
        assert read_recording(path, "Accel X", lead_given=True).missing == ((60 * 25, 63 * 25),)
    gap = np.asarray(rec.signal, dtype=np.float64)
    gap[60 * 360 : 63 * 360] = np.nan
    np.save(tmp_path / "same.npy", gap)
    got = {
        name: annotated_json(tmp_path / name, tmp_path / "out", MODEL, *extra)
        for name, extra in (("paused.bdf", []), ("same.npy", ["--fs", "360"]))
    }
    beats = {k: [(b["sample"], b["class"]) for b in v["beat_list"]] for k, v in got.items()}
    assert len(beats["paused.bdf"]) > 300 and beats["paused.bdf"] == beats["same.npy"]
    assert any("3.0 s of the lead are missing" in w for w in got["paused.bdf"]["warnings"])


def _cut(path: Path, mlii) -> Path:
    wearable(path, mlii)
    path.write_bytes(path.read_bytes()[:-100])
    return path


@pytest.mark.parametrize(
    ("write", "args", "message"),
    [
        (
            lambda p, x: wearable(p, x, plus="EDF+D"),
            [],
            r"data record 1's annotations do not open with its onset",
        ),
        (
            lambda p, x: timed(wearable(p, x, plus="EDF+D"), [0.0, 0.5, *list(range(2, 300))]),
            [],
            r"data record 2 starts at 0.5 s, 0.5 s after record 1 \(records last 1 s\): records out of order",
        ),
        (
            lambda p, x: timed(wearable(p, x, plus="EDF+D"), [0, 10**7, *range(10**7 + 1, 10**7 + 299)]),
            [],
            r"its data records' onsets span 116 days: not one recording",
        ),
        (  # 300 s of samples in a clock of 28 h: a corrupted last onset, not 28 h of missing samples
            lambda p, x: timed(wearable(p, x, plus="EDF+D"), [*range(299), 10**5]),
            [],
            r"its samples cover 0.3 % of the 27.8 h its data records' onsets span: not one recording",
        ),
        (
            lambda p, x: edf(p, [("MLII", "uV", 5000.0, 360, x * 1000)], plus="EDF+D"),
            [],
            r"an EDF\+D file with no 'EDF Annotations' signal: its records have no times",
        ),
        (_cut, [], r"its header gives 300 data records of 830 bytes, .*truncated or corrupted"),
        (lambda p, x: wearable(p, x, records="many"), [], r"its header's number of data records is 'many'"),
        (
            lambda p, x: edf(p, [("MLII", "mV", 0.0, 360, x)]),
            [],
            r"signal 1 \(MLII\) has 360 samples a record",
        ),
        (lambda p, x: wearable(p, x), ["--lead", "V1"], r"no lead V1; leads: MLII, Accel X"),
        (lambda p, x: wearable(p, x), ["--fs", "360"], r"an EDF file carries its sampling rate"),
        (lambda p, x: p.write_bytes(b"1" + bytes(300)) and p, [], r"not an EDF file"),
        (
            lambda p, x: p.write_bytes(b"0       " + bytes(192)) and p,
            [],
            r"truncated: 200 bytes, fewer than the 256",
        ),
    ],
)
def test_a_bad_edf_file_is_one_clear_error_and_writes_nothing(mlii, tmp_path, write, args, message):
    assert_refused(write(tmp_path / "patch.edf", mlii), MODEL, message, *args, out=tmp_path / "out")


def test_edf_and_bdf_files_that_pyedflib_writes(mlii, tmp_path):
    """The files of a writer that is not this module's test writer (pyedflib, EDF+ and BDF+, the header's
    digital range the full 16 or 24 bits, a start date and time): the lead in µV read in mV to a digital
    step, at its own rate beside an accelerometer at 25 Hz, and the recording's start."""
    from datetime import datetime

    import pyedflib

    from heartzoo.recording.read import read_recording

    start = datetime(2026, 11, 26, 23, 30, 5)
    for ext, kind, bits in (("edf", pyedflib.FILETYPE_EDFPLUS, 16), ("bdf", pyedflib.FILETYPE_BDFPLUS, 24)):
        top = 2 ** (bits - 1)
        heads = [
            {"label": "ECG II", "dimension": "uV", "sample_frequency": 360, "physical_max": 5000.0},
            {"label": "Accel", "dimension": "g", "sample_frequency": 25, "physical_max": 2.0},
        ]
        for h in heads:
            h.update(physical_min=-h["physical_max"], digital_max=top - 1, digital_min=-top)
        path = tmp_path / f"device.{ext}"
        writer = pyedflib.EdfWriter(str(path), 2, file_type=kind)
        writer.setSignalHeaders(heads)
        writer.setStartdatetime(start)
        writer.writeSamples([mlii * 1000, np.sin(np.arange(len(mlii) * 25 // 360) / 7.0)])
        writer.close()
        rec = read_recording(path, "MLII")
        assert (rec.lead, rec.fs, rec.start, len(rec.signal)) == ("ECG II", 360.0, start, len(mlii)), ext
        np.testing.assert_allclose(rec.signal, mlii, atol=10.0 / (2 * top - 1) + 1e-6)  # a step in mV


def test_made_up_edf_d_onsets_are_read_or_refused_naming_the_file(mlii, tmp_path):
    """A seeded draw of 200 EDF+D files of 20 records, one after another or after pauses, in most of them one
    record's time-keeping annotation made bad (half a record early, before the one before, a billion s on,
    negative, not a number, no onset, cut short, bytes): each is read, its gaps missing within the lead, or
    refused with a `HeartzooError` naming it."""
    import random

    from heartzoo.errors import HeartzooError
    from heartzoo.recording.read import read_recording

    rng = random.Random(47)
    read = 0
    for k in range(200):
        path = wearable(tmp_path / f"d{k}.edf", mlii[: 20 * 360], plus="EDF+D")
        onsets, t = [], rng.choice([0, 5, 100])
        for _ in range(20):  # records one after another, or after a pause of 1 or 6 s
            t += rng.choice([1] * 8 + [2, 7])
            onsets.append(t)
        tals = [f"+{t}\x14\x14\x00" for t in onsets]
        if rng.random() < 0.6:  # one record's annotation made bad
            r, t = rng.randrange(20), onsets[rng.randrange(20)]
            tals[r] = rng.choice([f"+{t + 0.5}\x14\x14\x00", f"+{t - 3}\x14\x14\x00", f"+{10**9}\x14\x14\x00",
                                  "+abc\x14\x14\x00", "\x14\x14\x00", f"+{t}", f"{t}\x14", f"-{t}\x14\x14\x00",
                                  "".join(chr(rng.randrange(256)) for _ in range(30))])  # fmt: skip
        data = bytearray(path.read_bytes())
        for r, tal in enumerate(tals):
            raw = tal.encode("latin-1").ljust(60, b"\x00")[:60]
            at = 256 * 4 + r * (360 + 25 + 30) * 2 + (360 + 25) * 2
            data[at : at + 60] = raw
        path.write_bytes(bytes(data))
        try:
            rec = read_recording(path, "MLII")
        except HeartzooError as exc:
            assert path.name in str(exc), str(exc)
        else:
            read += 1
            x = np.asarray(rec.signal)
            assert np.isfinite(x).all() and all(0 < a < b <= len(x) for a, b in rec.missing)
    assert read >= 20  # the draw reaches files that read, not only refusals
