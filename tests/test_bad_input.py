"""Every kind of bad record gets an error naming the record and the problem, and nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_record

from heartzoo.config import InputSpec
from heartzoo.data import mitbih
from heartzoo.data.databases import get_database
from heartzoo.data.prepare import load_windows
from heartzoo.errors import DataError, HeartzooError
from heartzoo.io import atomic_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_record(tmp_path / "mitdb", "900")
    return tmp_path


def _load(root: Path, record: str, cache: Path):
    return load_windows([record], InputSpec(), data_dir=root, cache_dir=cache, workers=1, database="mitdb")


def test_good_synthetic_record_loads(root, tmp_path):
    ws = _load(root, "900", tmp_path / "cache")
    assert len(ws) > 10 and ws.x.shape[1] == 512


def test_truncated_dat(root, tmp_path):
    dat = root / "mitdb" / "900.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"record 900.*truncated signal file: 900.dat holds 1000 bytes"):
        _load(root, "900", tmp_path / "cache")


def test_missing_annotations(root, tmp_path):
    (root / "mitdb" / "900.atr").unlink()
    with pytest.raises(DataError, match=r"record 900.*900.atr"):
        _load(root, "900", tmp_path / "cache")


@pytest.mark.parametrize("share", [0, 0.5, 0.9])
def test_a_truncated_annotation_file_is_refused_not_read_in_part(root, tmp_path, share):
    """wfdb reads an .atr cut short as the beats before the cut (none for an empty file): counted,
    sharded or trained on, half a record's beats would pass for all of them."""
    from heartzoo.data.rhythms import read_rhythm_marks

    atr = root / "mitdb" / "900.atr"
    data = atr.read_bytes()
    atr.write_bytes(data[: int(share * len(data)) // 2 * 2])  # whole words, as a copy cut short keeps
    with pytest.raises(DataError, match=r"record 900 \(.*900.atr\): truncated WFDB annotation file"):
        get_database("mitdb").read_beats(root / "mitdb", "900")
    with pytest.raises(DataError, match=r"record 900 \(.*900.atr\): truncated WFDB annotation file"):
        read_rhythm_marks(root / "mitdb", "900")


def test_annotations_written_at_another_rate_are_refused_by_every_reader(root):
    """An .atr that stores 500 Hz beside a 360 Hz record (a database resampled, its annotations not) puts
    every beat at the wrong time: the data layer (beats and rhythms), `annotate --reference-peaks` and
    `ec57` refuse it, naming the file and both rates. Written without a rate, it is read at the header's."""
    import wfdb

    from heartzoo.data.rhythms import read_rhythm_marks
    from heartzoo.evaluation.ec57 import read_annotations
    from heartzoo.recording.read import reference_peaks

    folder = root / "mitdb"
    beats = get_database("mitdb").read_beats(folder, "900")
    wfdb.wrann("900", "atr", beats.samples, list(beats.symbols), fs=500, write_dir=str(folder))
    said = r"900.atr.*annotations written at 500 Hz, but 900.hea (beside it )?says 360 Hz"
    with pytest.raises(DataError, match=said):
        get_database("mitdb").read_beats(folder, "900")
    with pytest.raises(DataError, match=said):
        read_rhythm_marks(folder, "900")
    with pytest.raises(HeartzooError, match=said):
        reference_peaks(folder / "900", "atr", beats.sig_len, 360.0)
    with pytest.raises(HeartzooError, match=said):
        read_annotations(folder / "900.atr")
    wfdb.wrann("900", "atr", beats.samples, list(beats.symbols), fs=360, write_dir=str(folder))
    assert np.array_equal(get_database("mitdb").read_beats(folder, "900").samples, beats.samples)
    assert np.array_equal(reference_peaks(folder / "900", "atr", beats.sig_len, 360.0), beats.samples)


def test_a_header_that_undercounts_its_samples_is_blamed_not_the_annotations(root):
    """Beats past the header's sample count: the header disagrees with its data, not the .atr with it."""
    hea = root / "mitdb" / "900.hea"
    lines = hea.read_text().splitlines()
    first = lines[0].split()
    first[3] = str(int(first[3]) // 2)
    hea.write_text("\n".join([" ".join(first), *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"record 900.*header disagrees with its data"):
        get_database("mitdb").read_beats(root / "mitdb", "900")


def test_header_declares_fewer_samples_than_the_data(root):
    hea = root / "mitdb" / "900.hea"
    lines = hea.read_text().splitlines()
    first = lines[0].split()
    first[3] = str(int(first[3]) - 360)
    hea.write_text("\n".join([" ".join(first), *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"record 900.*header disagrees with its data"):
        mitbih.read_signal(root / "mitdb", "900")


def test_corrupted_samples_fail_the_header_checksum(root):
    dat = root / "mitdb" / "900.dat"
    raw = bytearray(dat.read_bytes())
    raw[3000:3030] = bytes(30)
    dat.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"record 900.*checksum .* disagrees with the data"):
        mitbih.read_signal(root / "mitdb", "900")


def test_record_without_mlii(tmp_path):
    write_record(tmp_path / "mitdb", "901", leads=("V5", "V2"))
    with pytest.raises(DataError, match=r"record 901.*no MLII lead \(leads in the header: V5, V2\)"):
        _load(tmp_path, "901", tmp_path / "cache")


def test_unexpected_sampling_rate(tmp_path):
    write_record(tmp_path / "mitdb", "902", fs=250)
    with pytest.raises(
        DataError,
        match=r"record 902 \(.*902.hea\): unexpected sampling rate 250 Hz in its header.s record line \(3rd field; the database is sampled at 360 Hz\)",
    ):
        _load(tmp_path, "902", tmp_path / "cache")


def test_nan_samples(tmp_path):
    from conftest import synthetic_ecg

    x, _ = synthetic_ecg(360, 12)
    sig = np.stack([x, x], axis=1)
    sig[1000:1010, 0] = np.nan
    write_record(tmp_path / "mitdb", "903", signal=sig)
    with pytest.raises(
        DataError, match=r"record 903.*10 missing \(NaN\) samples in lead MLII, the first at sample 1000"
    ):
        _load(tmp_path, "903", tmp_path / "cache")


def test_a_lead_is_converted_an_hour_at_a_time(tmp_path, data_root, monkeypatch):
    """A lead is converted to mV in chunks (no float64 copy of a patch's two weeks): in chunks of 997
    samples, record 100 reads byte for byte as in one, and missing samples across chunks are all counted,
    the first named."""
    from conftest import synthetic_ecg

    from heartzoo.preprocess import lead as lead_module

    whole = mitbih.read_signal(data_root / "mitdb", "100").values
    monkeypatch.setattr(lead_module, "READ_SAMPLES", 997)
    chunked = mitbih.read_signal(data_root / "mitdb", "100").values
    assert chunked.dtype == np.float32 and chunked.tobytes() == whole.tobytes()
    x, _ = synthetic_ecg(360, 12)
    sig = np.stack([x, x], axis=1)
    sig[2990:3010, 0] = np.nan  # across the chunks' seam at 2991
    write_record(tmp_path / "mitdb", "905", signal=sig)
    with pytest.raises(DataError, match=r"20 missing \(NaN\) samples in lead MLII, the first at sample 2990"):
        mitbih.read_signal(tmp_path / "mitdb", "905")


def test_formats_16_and_212_are_read_where_they_lie(tmp_path, data_root):
    """Formats 16 (a patch's: Icentia11k's, CinC 2017's .mat after its preamble, a two-lead file) and 212
    (every lead of MIT-BIH's 48 records and svdb's 78, two leads a file) are read from disk a stretch at a
    time, not through wfdb's copies of the file: the samples wfdb reads, in every stretch, and in mV as
    before."""
    import wfdb

    from heartzoo.data import records
    from heartzoo.data.signal_files import stored_samples

    x = mitbih.read_signal(data_root / "mitdb", "100").values[:36_001].astype(np.float64)  # an odd count
    two = np.stack([x, -x], axis=1)
    wfdb.wrsamp("two", 360, ["mV"] * 2, ["MLII", "V5"], p_signal=two, fmt=["16"] * 2, write_dir=str(tmp_path))
    wfdb.wrsamp("odd", 360, ["mV"], ["MLII"], p_signal=two[:, :1], fmt=["212"], write_dir=str(tmp_path))
    cases = [
        (data_root / "icentia11k_sample" / "p01" / "p01001", "p01001_s00"),
        (data_root / "cinc2017" / "training2017", "A00005"),
        (tmp_path, "two"),
        (tmp_path, "odd"),  # 212 with a last pair of one sample
        *((data_root / "mitdb", r) for r in mitbih.ALL_RECORDS),
        *((data_root / "svdb", r) for r in get_database("svdb").records),
    ]
    for folder, record in cases:
        header = records.read_header(folder, record)
        for ch, lead in enumerate(header.sig_name):
            stored = stored_samples(header, ch, folder / header.file_name[ch])
            expected = wfdb.rdrecord(str(folder / record), channels=[ch], physical=False, return_res=16)
            want = expected.d_signal[:, 0]
            assert stored is not None and np.array_equal(stored[0 : len(stored)], want), (record, lead)
            n = len(want)
            for a, b in ((1, 2), (3, 1001), (n - 3, n), (n // 2, n // 2)):
                assert np.array_equal(stored[a:b], want[a:b]), (record, lead, a, b)
            if record in ("p01001_s00", "A00005", "two", "odd", "100", "800"):
                mv = (want.astype(np.float64) - header.baseline[ch]) / header.adc_gain[ch]
                got = records.read_signal(folder, record, lead).values
                assert got.tobytes() == mv.astype(np.float32).tobytes(), (record, lead)


def test_the_other_formats_of_whole_bytes_are_read_where_they_lie(tmp_path, data_root):
    """Formats 24, 32 and 80 (written by wfdb) and 61 and 160 (format 16's samples big-endian, and offset
    binary: wfdb reads them but does not write them) are read from disk as 16 and 212 are: the samples
    wfdb reads, in every stretch, and in mV as wfdb's digital samples convert."""
    import wfdb

    from heartzoo.data import records
    from heartzoo.data.signal_files import stored_samples

    x = mitbih.read_signal(data_root / "mitdb", "100").values[:36_001].astype(np.float64)
    two = np.stack([x, -x], axis=1)
    for fmt in ("16", "24", "32", "80"):
        wfdb.wrsamp(
            f"f{fmt}", 360, ["mV"] * 2, ["MLII", "V5"], p_signal=two, fmt=[fmt] * 2, write_dir=str(tmp_path)
        )
    stored16 = np.fromfile(tmp_path / "f16.dat", dtype="<i2")
    for fmt, data in (
        ("61", stored16.astype(">i2")),
        ("160", (stored16.astype(np.int32) + 32768).astype("<u2")),
    ):
        data.tofile(tmp_path / f"f{fmt}.dat")
        hea = (tmp_path / "f16.hea").read_text().replace("f16", f"f{fmt}").replace(".dat 16 ", f".dat {fmt} ")
        (tmp_path / f"f{fmt}.hea").write_text(hea)
    for fmt in ("24", "32", "80", "61", "160"):
        header = records.read_header(tmp_path, f"f{fmt}")
        assert [str(f) for f in header.fmt] == [fmt, fmt]
        for ch, lead in enumerate(header.sig_name):
            stored = stored_samples(header, ch, tmp_path / header.file_name[ch])
            want = wfdb.rdrecord(
                str(tmp_path / f"f{fmt}"), channels=[ch], physical=False, return_res=32
            ).d_signal[:, 0]
            assert stored is not None and np.array_equal(stored[0 : len(stored)], want), (fmt, lead)
            n = len(want)
            for a, b in ((1, 2), (3, 1001), (n - 3, n), (n // 2, n // 2)):
                assert np.array_equal(stored[a:b], want[a:b]), (fmt, lead, a, b)
            mv = (want.astype(np.float64) - header.baseline[ch]) / header.adc_gain[ch]
            got = records.read_signal(tmp_path, f"f{fmt}", lead).values
            assert got.tobytes() == mv.astype(np.float32).tobytes(), (fmt, lead)


def test_a_wfdb_lead_is_read_in_mv_whatever_unit_its_header_gives(tmp_path, data_root):
    """A WFDB header gives each signal's unit (mV when it gives none): a record written in µV or V is read
    in mV, as MIT-BIH's are (it was read 1000 times too large, silently); a unit that is no voltage is
    read as mV with a note."""
    import wfdb

    from heartzoo.data import records

    x = mitbih.read_signal(data_root / "mitdb", "100").values[:36_000].astype(np.float64)
    # "µV" as wfdb writes it (not ASCII, which WFDB's headers ask): wfdb's own reader takes it for V
    for name, unit, scale in (
        ("u", "uV", 1e3),
        ("mu", "µV", 1e3),
        ("v", "V", 1e-3),
        ("m", "mV", 1),
        ("n", "NU", 1),
    ):
        wfdb.wrsamp(
            name, 360, [unit], ["MLII"], p_signal=x[:, None] * scale, fmt=["16"], write_dir=str(tmp_path)
        )
        sig = records.read_signal(tmp_path, name, "MLII")
        assert np.allclose(np.asarray(sig.values), x, atol=2e-3), unit
        assert sig.notes == (
            (f"lead MLII's unit is '{unit}', not a voltage: read as mV",) if unit == "NU" else ()
        )


def test_flac_records_and_every_formats_missing_samples(tmp_path, data_root):
    """WFDB's FLAC formats (508, 516, 524, written by wfdb) are read through wfdb, 24-bit samples included
    (read as 16-bit integers, wfdb refused them), in mV as wfdb converts them; in every format that has one,
    the value that marks a missing sample is an error naming the record and the first one, never a voltage
    (516's -32768 had read as -163.84 mV)."""
    import wfdb

    from heartzoo.data import records

    x = mitbih.read_signal(data_root / "mitdb", "100").values[:36_000].astype(np.float64)
    for fmt in ("508", "516", "524"):
        gain = 60.0 if fmt == "508" else 200.0  # 8 bits: record 100's MLII within +-127 units
        wfdb.wrsamp(
            f"f{fmt}",
            360,
            ["mV"],
            ["MLII"],
            p_signal=x[:, None],
            fmt=[fmt],
            adc_gain=[gain],
            baseline=[0],
            write_dir=str(tmp_path),
        )
        want = wfdb.rdrecord(str(tmp_path / f"f{fmt}"), physical=False, return_res=32).d_signal[:, 0]
        got = records.read_signal(tmp_path, f"f{fmt}", "MLII").values
        assert np.array_equal(np.asarray(got), (want / gain).astype(np.float32)), fmt
    for fmt, low in (
        ("516", -(2**15)),
        ("524", -(2**23)),
        ("508", -(2**7)),
        ("16", -(2**15)),
        ("32", -(2**31)),
    ):
        digital = np.round(x * 50).astype(np.int64)[:, None]
        digital[1000:1003] = low
        wfdb.wrsamp(
            f"m{fmt}",
            360,
            ["mV"],
            ["MLII"],
            d_signal=digital.astype(np.int32 if fmt in ("524", "32") else np.int16),
            fmt=[fmt],
            adc_gain=[50.0],
            baseline=[0],
            write_dir=str(tmp_path),
        )
        with pytest.raises(
            DataError, match=rf"m{fmt}.*3 missing \(NaN\) samples in lead MLII, the first at sample 1000"
        ):
            records.read_signal(tmp_path, f"m{fmt}", "MLII")


def test_flat_signal(tmp_path):
    write_record(tmp_path / "mitdb", "904", signal=np.zeros((4320, 2)) + 0.5)
    with pytest.raises(DataError, match=r"record 904.*lead MLII is flat"):
        _load(tmp_path, "904", tmp_path / "cache")


def test_annotation_beyond_the_signal(tmp_path):
    import wfdb

    write_record(tmp_path / "mitdb", "905", with_annotations=False)
    wfdb.wrann("905", "atr", np.array([100, 900, 99999]), ["N", "N", "V"], write_dir=str(tmp_path / "mitdb"))
    with pytest.raises(DataError, match=r"record 905.*sample 99999 lies outside the record's 4320 samples"):
        _load(tmp_path, "905", tmp_path / "cache")


def test_failed_record_leaves_nothing_in_the_cache(root, tmp_path):
    write_record(root / "mitdb", "906", leads=("V5", "V2"))
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="record 906"):
        load_windows(["906", "900"], InputSpec(), data_dir=root, cache_dir=cache, workers=1, database="mitdb")
    written = [p.name for p in cache.rglob("*") if p.is_file()]
    assert not any(name.startswith("906") for name in written)
    assert not any(".tmp" in name for name in written)


def test_atomic_write_survives_an_interrupt(tmp_path):
    final = tmp_path / "out.h5"
    with pytest.raises(KeyboardInterrupt), atomic_path(final) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"new but broken")
        raise RuntimeError("crash")
    assert final.read_bytes() == b"old"


def test_missing_data_folder_says_what_to_do(tmp_path):
    from heartzoo.errors import HeartzooError

    with pytest.raises(HeartzooError, match=r"no mitdb folder .*heartzoo data download mitdb"):
        _load(tmp_path / "nowhere", "100", tmp_path / "cache")


def test_a_train_refused_for_missing_data_leaves_no_run_folder(tmp_path):
    """A run refused because its data is not there leaves nothing behind (it left a folder holding only
    config.json); a run folder that was there before stays."""
    from conftest import run_cli

    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps({"name": "tiny", "task": "beat-3", "model": {"arch": "cnn1"}}))
    args = ("train", str(cfg), "--data-dir", str(tmp_path / "nowhere"), "--no-publish")
    res = run_cli(*args, "--run-dir", str(tmp_path / "runs" / "tiny"))
    assert res.returncode == 2 and "no mitdb folder" in res.stderr, res.stderr
    assert not (tmp_path / "runs" / "tiny").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    res = run_cli(*args, "--run-dir", str(kept))
    assert res.returncode == 2 and (kept / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(("per_frame", "lead"), [((1, 2), "MLII"), ((1, 2), "PLETH"), ((4, 1), "MLII")])
def test_a_record_of_several_samples_a_frame_is_read_not_called_corrupt(data_root, tmp_path, per_frame, lead):
    """A WFDB record of mixed rates (`16x2`, as edf2mit writes one) was refused: "header disagrees with its
    data". Each lead is read as wfdb reads it, a frame's samples averaged at the frame rate, with a note
    where there are several, and the header's checksums (over every sample) hold."""
    import wfdb

    from heartzoo.recording.read import read_recording

    x = wfdb.rdrecord(str(data_root / "mitdb" / "100"), channels=[0], sampto=360 * 20).p_signal[:, 0]
    e = [np.round(np.repeat(x, k) * 200).astype(np.int32) for k in per_frame]
    wfdb.Record(
        record_name="mixed", n_sig=2, fs=360, sig_len=len(x), file_name=["mixed.dat"] * 2, fmt=["16", "16"],
        samps_per_frame=list(per_frame), adc_gain=[200.0, 200.0], baseline=[0, 0], units=["mV", "mV"],
        sig_name=["MLII", "PLETH"], e_d_signal=e, adc_res=[16, 16], adc_zero=[0, 0],
        init_value=[int(v[0]) for v in e], checksum=[int(v.sum()) % 65536 for v in e], block_size=[0, 0],
    ).wrsamp(write_dir=str(tmp_path), expanded=True)  # fmt: skip
    rec = read_recording(tmp_path / "mixed", lead)
    assert rec.fs == 360 and len(rec.signal) == len(x)
    np.testing.assert_allclose(np.asarray(rec.signal), np.round(x * 200) / 200, atol=1e-6)
    k = per_frame[["MLII", "PLETH"].index(lead)]
    assert any(f"holds {k} samples a frame" in n for n in rec.notes) == (k > 1)


def test_a_header_without_a_gain_or_with_a_spelt_out_unit_is_read_and_said(data_root, tmp_path):
    """A gain of 0 is WFDB's default, 200 per mV: read so, now with a note (record 100 so read is 11 times
    its size, which no size check sees). "millivolt" was "not a voltage"."""
    import shutil

    from heartzoo.recording.read import read_recording

    shutil.copy(data_root / "mitdb" / "100.dat", tmp_path / "100.dat")
    lines = (data_root / "mitdb" / "100.hea").read_text().splitlines()
    lines[1] = lines[1].replace(" 212 200 ", " 212 0 ")
    lines[2] = lines[2].replace(" 212 200 ", " 212 200/millivolt ")
    (tmp_path / "100.hea").write_text("\n".join(lines) + "\n")
    mlii = read_recording(tmp_path / "100", "MLII")
    assert any("MLII's header gives no gain (0 or none): WFDB's default, 200 per mV" in n for n in mlii.notes)
    v5 = read_recording(tmp_path / "100", "V5")
    assert v5.notes == () and np.allclose(
        np.asarray(v5.signal)[:3600],
        np.asarray(read_recording(data_root / "mitdb" / "100", "V5").signal)[:3600],
    )
