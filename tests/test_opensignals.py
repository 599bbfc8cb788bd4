"""OpenSignals text files (`heartzoo.recording.opensignals`), PLUX's BITalino and biosignalsplux kits and
the WESAD dataset's RespiBAN chest strap: written here from MIT-BIH 100 as each kit's ADC would record it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json

from heartzoo.errors import HeartzooError
from heartzoo.recording.read import read_recording

MODEL = "beat-3-cnn3-student@v6"


@pytest.fixture(scope="module")
def mlii(mitdb) -> np.ndarray:
    """MIT-BIH 100's first minute of MLII in mV, halved: within BITalino's +-1.5 mV."""
    return 0.5 * np.asarray(read_recording(mitdb / "100", "MLII").signal[: 360 * 60], np.float64)


def opensignals(path: Path, header: dict, columns: np.ndarray, *, mac: str = "00:07:80:58:9B:3F") -> Path:
    """What OpenSignals writes: its magic line, the JSON header, then tab-separated integers (a tab
    ending each line, as it writes them)."""
    lines = ["# OpenSignals Text File Format", "# " + json.dumps({mac: header}), "# EndOfHeader"]
    lines += ["\t".join(str(int(v)) for v in row) + "\t" for row in columns]
    path.write_text("\n".join(lines) + "\n")
    return path


def adc(mv: np.ndarray, bits: int, vcc: float, gain: float) -> np.ndarray:
    """The ECG sensor's transfer function, inverted: mV to the ADC's integers."""
    return np.round((mv / 1000 * gain / vcc + 0.5) * 2**bits).astype(np.int64)


def bitalino(path: Path, mlii: np.ndarray) -> Path:
    n = len(mlii)
    header = {
        "sensor": ["ECG"],
        "device name": "00:07:80:58:9B:3F",
        "column": ["nSeq", "I1", "I2", "O1", "O2", "A2"],
        "sync interval": 2,
        "time": "14:37:41.493",
        "date": "2017-4-25",
        "channels": [2],
        "device": "bitalino_rev",
        "sampling rate": 360,
        "label": ["A2"],
        "resolution": [4, 1, 1, 1, 1, 10],
    }
    cols = np.zeros((n, 6), np.int64)
    cols[:, 0] = np.arange(n) % 16
    cols[:, 5] = adc(mlii, 10, 3.3, 1100)
    return opensignals(path, header, cols)


def test_a_bitalino_file_is_its_ecg_channel_in_mv_at_its_rate_from_its_start(mlii, tmp_path):
    rec = read_recording(bitalino(tmp_path / "bitalino.txt", mlii), "MLII")  # the model's lead: the one ECG
    step = 3.3 / 1100 / 2**10 * 1000  # one ADC step, in mV
    assert rec.lead == "A2" and rec.fs == 360 and rec.format == "opensignals"
    assert np.max(np.abs(rec.signal - mlii)) <= step / 2 + 1e-6
    assert rec.start == datetime(2017, 4, 25, 14, 37, 41, 493000)


def test_a_respiban_file_finds_its_ecg_among_eight_sensors(mlii, tmp_path):
    """WESAD's RespiBAN (biosignalsplux): one resolution per channel, not per column; ECG on CH1 among
    EDA, EMG, temperature, acceleration and respiration."""
    n = len(mlii)
    sensors = ["ECG", "EDA", "EMG", "TEMP", "XYZ", "XYZ", "XYZ", "RESPIRATION"]
    header = {
        "sensor": sensors,
        "device name": "RespiBan",
        "column": ["nSeq", "DI", *(f"CH{i}" for i in range(1, 9))],
        "time": "9:39:1.0",
        "date": "2017-5-22",
        "device": "biosignalsplux",
        "sampling rate": 360,
        "label": [f"CH{i}" for i in range(1, 9)],
        "resolution": [16] * 8,
    }
    cols = np.random.default_rng(0).integers(20000, 45000, size=(n, 10))
    cols[:, 0], cols[:, 1] = np.arange(n) % 16, 0
    cols[:, 2] = adc(mlii, 16, 3.0, 1000)
    path = opensignals(tmp_path / "S2_respiban.txt", header, cols)
    rec = read_recording(path, "MLII")
    assert rec.lead == "CH1" and np.max(np.abs(rec.signal - mlii)) <= 3.0 / 1000 / 2**16 * 1000
    assert rec.start == datetime(2017, 5, 22, 9, 39, 1)
    other = read_recording(path, "CH2", lead_given=True)  # EDA, chosen by its label: as recorded
    assert np.array_equal(other.signal, cols[:, 3]) and "CH2 is no ECG sensor's channel" in other.notes[-1]
    with pytest.raises(HeartzooError, match=r"--fs 250 disagrees with its header's sampling rate"):
        read_recording(path, "MLII", fs=250)


def test_annotate_reads_a_bitalino_file_as_the_same_samples_given_as_npy(mlii, tmp_path):
    path = bitalino(tmp_path / "bitalino.txt", mlii)
    np.save(tmp_path / "same.npy", read_recording(path, "A2").signal)
    got = annotated_json(path, tmp_path / "os", MODEL)
    npy = annotated_json(tmp_path / "same.npy", tmp_path / "npy", MODEL, "--fs", "360")
    assert [b["sample"] for b in got["beat_list"]] == [b["sample"] for b in npy["beat_list"]]
    assert [b["class"] for b in got["beat_list"]] == [b["class"] for b in npy["beat_list"]]
    assert got["start"].startswith("2017-04-25T14:37:41")


def test_a_damaged_opensignals_file_is_refused_naming_it(mlii, tmp_path):
    good = bitalino(tmp_path / "good.txt", mlii[:3600]).read_text().splitlines()
    two = json.dumps({"a": json.loads(good[1][2:])["00:07:80:58:9B:3F"], "b": {}})
    cases = {
        "two.txt": [good[0], "# " + two, *good[2:]],
        "nojson.txt": [good[0], "# {not json", *good[2:]],
        "short.txt": [*good[:3], *(line.rsplit("\t", 2)[0] for line in good[3:])],  # a column lost
    }
    messages = {"two.txt": "of 2 devices", "nojson.txt": "not JSON", "short.txt": "5 columns of samples"}
    for name, lines in cases.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        with pytest.raises(HeartzooError, match=rf"{name}: .*{messages[name]}"):
            read_recording(tmp_path / name, "MLII")


def test_headers_of_any_shape_are_read_or_refused_never_a_traceback(tmp_path):
    """Made-up OpenSignals headers, each field missing or of another type, over made-up rows: each file
    is read or refused with an error that names it, never another exception."""
    import random

    rng = random.Random(45)
    values = [1, "x", [], ["ECG"], ["A2"], ["nSeq", "A2"], [10], [4, 10], "2017-4-25", "9:1:1.5", None, 360, 0,
              -5, {}, "bitalino", "biosignalsplux", [1.5], ["ECG", "RAW"], ["A1", "A2"], "nan", [True], [4000],
              [0, 10]]  # fmt: skip
    keys = ["sensor", "label", "column", "sampling rate", "resolution", "device", "date", "time"]
    for k in range(600):
        header = {key: rng.choice(values) for key in keys if rng.random() < 0.85}
        devices = {"m": header} if rng.random() < 0.9 else rng.choice([[], {"a": header, "b": header}, "s"])
        rows = [
            "\t".join(str(rng.choice([0, 1, 512, 512, 512, "", "x", 1.5])) for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(0, 5))
        ]
        path = tmp_path / f"f{k}.txt"
        path.write_text(
            f"# OpenSignals Text File Format\n# {json.dumps(devices)}\n# EndOfHeader\n" + "\n".join(rows)
        )
        try:
            read_recording(path, "MLII")
        except HeartzooError as exc:
            assert path.name in str(exc)
