"""The wearable path on real recordings nobody tuned on: the default detector after an artifact
(Icentia11k p01001_s00), the signal-quality gate on pure noise and on NSTDB noise, and the CinC 2017
files as PhysioNet distributes them (checksum 0). The records stay in ../shared/data; files with odd
cases are written here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_annotate, run_cli

from heartzoo.detect import detect
from heartzoo.errors import DataError
from heartzoo.evaluation.ec57 import Annotations, compare, read_annotations
from heartzoo.recording.quality import sqi_windows

ZOO = REPO / "zoo"
MODEL = "beat-3-cnn3-student@v3"
P01001 = Path("icentia11k_sample/p01/p01001/p01001_s00")
A00005 = Path("cinc2017/training2017/A00005")


def _need(data_root: Path, rel: Path) -> Path:
    if not (data_root / f"{rel}.hea").is_file():
        pytest.skip(f"{rel} not found beside mitdb")
    return data_root / rel


@pytest.fixture(scope="module")
def p01001(data_root: Path):
    from heartzoo.data.records import read_signal

    base = _need(data_root, P01001)
    return base, read_signal(base.parent, base.name, "ecg").values


def _qrs(base: Path, peaks: np.ndarray, fs: float, start: int = 0) -> dict:
    ref = read_annotations(f"{base}.atr")
    got = Annotations.of(peaks + start, ["N"] * len(peaks), fs, length=ref.length)
    return compare(ref, got, start_s=start / fs).counts.stats


@pytest.mark.parametrize("start", [0, 10_000])  # from its first sample, and from the artifact at 37-41 s
def test_the_default_detector_reads_past_an_artifact(p01001, start):
    base, x = p01001
    stats = _qrs(base, detect(x[start:], 250), 250, start)
    # before: 52 beats from the start (Se 0.86 %), 1 beat without the first 40 s
    assert stats["qrs_se"] >= 0.985 and stats["qrs_pp"] >= 0.98, stats


def test_one_artifact_does_not_blind_the_detector_on_mitdb(mitdb):
    """A 2-second artifact 50 times the QRS amplitude, pasted into a real record: every beat after it
    is found again within a few seconds."""
    from heartzoo.data.mitbih import read_signal

    x = read_signal(mitdb, "100").values[: 360 * 120].astype(np.float64)
    rng = np.random.default_rng(0)
    x[360 * 30 : 360 * 32] += 50 * rng.standard_normal(720)
    peaks = detect(x, 360)
    ref = read_annotations(mitdb / "100.atr").samples
    after = ref[(ref > 360 * 36) & (ref < len(x) - 360)]
    found = np.abs(peaks[None, :] - after[:, None]).min(axis=1) <= 54
    assert found.mean() == 1.0, f"{(~found).sum()} of {len(after)} beats after the artifact missed"


def test_pure_noise_gets_no_classified_beat_and_a_warning(tmp_path):
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).standard_normal(15000) * 0.2)
    out = tmp_path / "out"
    res = run_annotate(noise, MODEL, out, "--fs", "250", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["beats"] == 0 and summary["quality"]["beats_unclassified"] > 100
    # all of it unreadable: the file may be read wrong (a rate far too low reads so too), not only noisy
    assert any("unreadable" in w and "is the sampling rate right?" in w for w in summary["warnings"])
    csv = (out / "noise.heartzoo.csv").read_text().splitlines()
    assert csv[0].startswith("# warning:") and csv[-1].startswith("sample,")  # a header, no beat
    import wfdb

    ann = wfdb.rdann(str(out / "noise"), "heartzoo")
    assert ann.symbol == ["~"] and ann.subtype.tolist() == [-1]  # unreadable from its start to its end


def test_noise_stretches_are_written_as_wfdb_noise_annotations(mitdb, tmp_path):
    """A real record with 20 s of NSTDB electrode motion at -6 dB in its middle: the windows there are
    unreadable, their beats unclassified, and the stretch opens with `~` -1 and closes with `~` 0."""
    import wfdb

    from heartzoo.data.mitbih import read_signal
    from heartzoo.data.noise import read_noise, scale_for_snr
    from heartzoo.recording.annotation import annotate
    from heartzoo.recording.annotation_files import write_annotations

    x = read_signal(mitdb, "100").values[: 360 * 90].astype(np.float64)
    em = read_noise(mitdb.parent / "nstdb_noise", "em", channel=0)[0][360 * 60 : 360 * 80]
    x[360 * 40 : 360 * 60] += scale_for_snr(1.2**2 / 8, em, -6.0)
    got = annotate(x, 360, MODEL, zoo=ZOO, record="r100")
    bad = got.windows.unreadable_stretches()
    assert bad and all(s >= 360 * 30 and e <= 360 * 70 for s, e in bad), bad
    assert got.unclassified > 0 and not np.any((got.samples >= bad[0][0]) & (got.samples < bad[0][1]))
    assert got.windows.readable.mean() >= 0.6
    write_annotations(got, tmp_path)
    ann = wfdb.rdann(str(tmp_path / "r100"), "heartzoo")
    marks = [(s, t) for s, sym, t in zip(ann.sample, ann.symbol, ann.subtype, strict=True) if sym == "~"]
    assert marks[0] == (bad[0][0], -1) and marks[1][1] == 0


def test_clean_records_keep_their_beats(mitdb):
    from heartzoo.data.mitbih import read_signal

    x = read_signal(mitdb, "117").values
    peaks = detect(x, 360)
    assert sqi_windows(x, 360, peaks).of(peaks).mean() >= 0.99


def test_a_lost_recording_is_said_in_the_terminal_json_and_csv(tmp_path):
    """A minute of ECG, then ten of a lead fallen off (a trace of noise): the user is told, and the
    stretch is neither beats nor silence."""
    from heartzoo.recording.annotation import annotate
    from heartzoo.recording.quality import assess
    from heartzoo.synthetic import synthetic_ecg

    ecg, _ = synthetic_ecg(250, 60)
    x = np.r_[ecg, 0.001 * np.random.default_rng(1).standard_normal(250 * 600)]
    got = annotate(x, 250, MODEL, zoo=ZOO)
    unreadable = next(f for f in got.findings if f.code == "unreadable")
    assert unreadable.start is not None and unreadable.start <= 250 * 70, got.warnings
    assert not np.any(got.samples > 250 * 70) and got.summary()["quality"]["unreadable_windows"] >= 53
    assert got.csv_text().startswith("# warning:") and got.summary()["warnings"] == got.warnings
    # without the gate, what the beats alone say: p01001_s00's 52 beats in 70 minutes
    peaks = np.sort(np.random.default_rng(2).choice(250 * 4200, 52, replace=False))
    found = {f.code: f for f in assess(peaks, 250 * 4200, 250)}
    assert (
        "52 beats in 70.0 min" in found["rate"].message and found["gap"].end - found["gap"].start > 250 * 60
    )


def test_a_cinc2017_record_is_annotated_as_distributed(data_root, tmp_path):
    base = _need(data_root, A00005)
    out = tmp_path / "out"
    res = run_annotate(base, MODEL, out, "--lead", "ECG", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["fs"] == 300 and summary["beats"] > 30  # 60 s of a normal rhythm
    assert any("no checksum" in w for w in summary["notes"])  # a note on the file, no warning
    assert not any("checksum" in w for w in summary["warnings"])


def _copy_cinc(data_root: Path, tmp_path: Path) -> Path:
    base = _need(data_root, A00005)
    for ext in ("hea", "mat"):
        shutil.copy(f"{base}.{ext}", tmp_path / f"A00005.{ext}")
    return tmp_path / "A00005"


def test_a_corrupt_cinc2017_file_is_still_refused(data_root, tmp_path):
    from heartzoo.data.records import read_signal

    base = _copy_cinc(data_root, tmp_path)
    mat = tmp_path / "A00005.mat"
    good = mat.read_bytes()
    raw = bytearray(good)
    raw[8:12] = (9000).to_bytes(4, "little")  # the matrix's columns: 9,000 samples, not the header's 18,000
    mat.write_bytes(bytes(raw))
    with pytest.raises(
        DataError, match=r"A00005.mat is not the MATLAB v4 matrix its header declares: 1 x 9000"
    ):
        read_signal(base.parent, base.name, "ECG")
    mat.write_bytes(good[:-100])  # and a truncated one
    with pytest.raises(DataError, match=r"truncated signal file: A00005.mat"):
        read_signal(base.parent, base.name, "ECG")
    mat.write_bytes(good[:10])  # cut inside its MATLAB header: it said "holds -14 bytes"
    with pytest.raises(
        DataError, match=r"truncated signal file: A00005.mat holds 10 bytes, not even the 24-byte"
    ):
        read_signal(base.parent, base.name, "ECG")


def test_a_checksum_that_is_not_0_is_still_checked(data_root, tmp_path):
    from heartzoo.data.records import read_signal

    base = _copy_cinc(data_root, tmp_path)
    hea = tmp_path / "A00005.hea"
    hea.write_text(hea.read_text().replace(" 16 0 -188 0 0 ECG", " 16 0 -188 7 0 ECG"))
    with pytest.raises(DataError, match=r"header checksum 7 for lead ECG disagrees"):
        read_signal(base.parent, base.name, "ECG")


def test_annotate_says_what_it_did_on_the_icentia11k_patch(p01001, tmp_path):
    base, _ = p01001
    out = tmp_path / "out"
    res = run_annotate(base, MODEL, out, "--lead", "ecg", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["beats"] > 5000 and summary["fs"] == 250  # 52 before the detector read past the artifact
    unreadable = summary["quality"]["unreadable"]
    # the artifact at 37-41 s, 18 mV peak to peak, is the first unreadable stretch
    assert unreadable[0]["start"] <= 250 * 37 and unreadable[0]["end"] >= 250 * 41
    assert any("unreadable" in w for w in summary["warnings"])
    res = run_cli("ec57", str(base) + ".atr", str(out / "p01001_s00.heartzoo"), "--start", "0", "--json")
    gross = json.loads(res.stdout)["gross"]
    assert gross["qrs_pp"] >= 0.98 and gross["veb_se"] >= 0.85 and gross["veb_pp"] >= 0.95, gross


@pytest.mark.slow
def test_the_external_icentia11k_test_of_a_beat_model(p01001):
    from heartzoo.recording.external import icentia11k
    from heartzoo.zoo.hub import load_model

    base, _ = p01001
    data = base.parents[3]
    got = icentia11k(load_model("beat-2-cnn3-student", "v3", format="tflite", zoo=ZOO), data)
    ref, det = got["reference"], got["detected"]
    assert ref["qrs_se"] == ref["qrs_pp"] == 1.0  # the reference peaks are the reference
    assert det["qrs_se"] >= 0.95 and set(det["records"]) == {"p00000_s00", "p01001_s00"}
    assert det["veb_se"] is None and det["sveb_pp"] is None  # beat-2's ectopic is neither
    assert all(0.9 <= k <= 1.0 for k in got["detected_beats_kept"])


def test_a_pause_is_written_as_a_comment_where_no_window_says_unreadable(tmp_path):
    import wfdb

    from heartzoo.recording.annotation import annotate
    from heartzoo.recording.annotation_files import write_annotations
    from heartzoo.synthetic import synthetic_ecg

    ecg, _ = synthetic_ecg(250, 60)
    x = np.r_[ecg[: 250 * 30], np.zeros(250 * 5) + ecg[250 * 30], ecg[250 * 30 :]]  # 5 s without a beat
    got = annotate(x, 250, MODEL, zoo=ZOO, record="pause", quality=False)
    assert len(got.gaps) == 1 and 4.5 * 250 < got.gaps[0][1] - got.gaps[0][0] < 6 * 250
    assert any(f.code == "gap" for f in got.findings)
    write_annotations(got, tmp_path)
    ann = wfdb.rdann(str(tmp_path / "pause"), "heartzoo")
    (i,) = [k for k, sym in enumerate(ann.symbol) if sym == '"']
    assert ann.sample[i] == got.gaps[0][0] and ann.aux_note[i].startswith("no beat for 5.")
