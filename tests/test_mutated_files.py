"""Every reader, given a damaged file: a seeded draw of truncations, flipped bytes, inserted bytes and
numbers in the header made strange, applied to a good file of each format written here from MIT-BIH
record 100 (ten seconds, or three minutes as a multi-segment record) and a copy of CinC 2017's A00005.
Each damaged file is read or refused with a `HeartzooError` (one clear error naming the file), never
another exception; what is read is finite."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_apple_watch import _export
from test_edf import edf, timed, wearable
from test_ishne import holter
from test_opensignals import bitalino
from test_polar import _write as polar_file
from test_segments import write_segments

TRIALS = 200
STRANGE = ["0", "-1", "1e309", "nan", "99999999999999999999", "-0", "3.5", ""]


@pytest.fixture(scope="module")
def x(mitdb: Path) -> np.ndarray:
    import wfdb

    return wfdb.rdrecord(str(mitdb / "100"), sampto=3600, channels=[0]).p_signal[:, 0]


def _good(
    kind: str, folder: Path, x: np.ndarray, data_root: Path
) -> tuple[Path, list[Path], str, float | None]:
    """(what is read, the files the damage goes to, the lead, the rate to give)."""
    import scipy.io
    import wfdb

    uv = np.round(x * 1000).astype(np.int64)
    if kind == "wfdb":
        wfdb.wrsamp("w", fs=360, units=["mV"], sig_name=["MLII"], p_signal=x[:, None], fmt=["212"],
                    write_dir=str(folder))  # fmt: skip
        return folder / "w", [folder / "w.hea", folder / "w.dat"], "MLII", None
    if kind == "cinc":
        for ext in ("hea", "mat"):
            shutil.copy(data_root / "cinc2017" / "training2017" / f"A00005.{ext}", folder)
        return folder / "A00005", [folder / "A00005.hea", folder / "A00005.mat"], "ECG", None
    if kind == "wfdb-segments":  # a multi-segment record: its master header, segment headers and signals
        both = wfdb.rdrecord(str(data_root / "mitdb" / "100"), sampto=3 * 60 * 360).p_signal
        base = write_segments(folder / "icu", both)
        return base, sorted(base.parent.glob("icu*.*")), "MLII", None
    path, lead, fs = {
        "edf": (lambda: wearable(folder / "w.edf", x), "MLII", None),
        "edf+d": (lambda: timed(wearable(folder / "d.edf", x, plus="EDF+D"), list(range(10))), "MLII", None),
        "bdf": (lambda: edf(folder / "b.bdf", [("MLII", "mV", 5.0, 360, x)], bdf=True), "MLII", None),
        "ishne": (lambda: holter(folder / "h.ecg", np.c_[uv, uv].astype(np.int16)), "0", None),
        "polar": (lambda: polar_file(folder / "p.txt", uv, packet=73, drop=slice(200, 300)), "ECG", None),
        "apple-watch": (lambda: _export(folder / "a.csv", x * 1000), "Lead I", None),
        "opensignals": (lambda: bitalino(folder / "o.txt", x), "A2", None),
        "csv": (lambda: _csv(folder / "c.csv", x), "MLII", None),
        "mat": (
            lambda: scipy.io.savemat(folder / "m.mat", {"val": x[None, :]}) or folder / "m.mat",
            "0",
            360.0,
        ),
        "npy": (lambda: np.save(folder / "n.npy", x.astype(np.float32)) or folder / "n.npy", "0", 360.0),
    }[kind]
    path = path()
    return path, [path], lead, fs


def _csv(path: Path, x: np.ndarray) -> Path:
    np.savetxt(path, np.c_[np.arange(len(x)) / 360, x], delimiter=",", header="time,MLII", comments="")
    return path


def _damaged(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    kind = rng.integers(5)
    if kind == 0:  # truncated
        return bytes(out[: rng.integers(len(out))])
    if kind == 1:  # bytes flipped anywhere
        for _ in range(rng.integers(1, 8)):
            out[rng.integers(len(out))] = rng.integers(256)
    elif kind == 2:  # printable characters in the header
        for _ in range(rng.integers(1, 4)):
            out[rng.integers(min(len(out), 512))] = rng.integers(32, 127)
    elif kind == 3:  # bytes inserted
        at = rng.integers(len(out))
        out[at:at] = rng.integers(0, 256, rng.integers(1, 20)).astype(np.uint8).tobytes()
    else:  # a number in the header made strange
        head = bytes(out[:4096]).decode("latin-1")
        spans = [m.span() for m in re.finditer(r"-?\d+(\.\d+)?", head)]
        if spans:
            a, b = spans[rng.integers(len(spans))]
            new = head[:a] + STRANGE[rng.integers(len(STRANGE))] + head[b:]
            out = bytearray(new.encode("latin-1")) + out[4096:]
    return bytes(out)


@pytest.mark.parametrize(
    "kind",
    [
        "wfdb",
        "cinc",
        "wfdb-segments",
        "edf",
        "edf+d",
        "bdf",
        "ishne",
        "polar",
        "apple-watch",
        "opensignals",
        "csv",
        "mat",
        "npy",
    ],
)
def test_a_damaged_file_is_read_or_refused_by_name(kind, x, data_root, tmp_path):
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.read import read_recording

    if kind == "cinc" and not (data_root / "cinc2017" / "REFERENCE-v3.csv").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    path, files, lead, fs = _good(kind, tmp_path, x, data_root)
    good = read_recording(path, lead, fs=fs, lead_given=True)
    assert len(good.signal) > 0 and good.fs > 0
    rng = np.random.default_rng(sum(map(ord, kind)))
    originals = {f: f.read_bytes() for f in files}
    refused = 0
    for _ in range(TRIALS):
        f = files[rng.integers(len(files))]
        f.write_bytes(_damaged(originals[f], rng))
        try:
            rec = read_recording(path, lead, fs=fs, lead_given=True)
            assert rec.fs > 0 and np.isfinite(np.asarray(rec.signal[: 10**6])).all(), f.read_bytes()[:300]
        except HeartzooError as exc:
            assert path.name in str(exc) or path.stem in str(exc), str(exc)
            refused += 1
        finally:
            f.write_bytes(originals[f])
    assert refused > 0  # the draw damaged something a reader must notice
