"""The `quality` task: how its windows are labelled (on real mitdb records and the real NSTDB noise), how
its splits keep patients and CinC's test split apart, and the published gate in `heartzoo annotate`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO, run_annotate

from heartzoo.config import parse_config
from heartzoo.data import quality_windows as qw
from heartzoo.data.rhythms import window_starts
from heartzoo.errors import ConfigError
from heartzoo.tasks import get_task

ZOO = REPO / "zoo"
GATE = "quality-cnn3"
BEATS = "beat-3-cnn3-student@v3"


def _config(**data):
    raw = {
        "name": "q",
        "task": "quality",
        "input": {"fs": 100, "frame_size": 256, "eps": 0.02},
        "data": {"train": ["mitdb:DS1"], "protocol": "inter-patient", **data},
    }
    return parse_config(raw, "q.yaml")


def test_task_reads_quality_labels():
    task = get_task("quality")
    assert task.unit == "window" and task.source_classes == ("readable", "unreadable")
    assert task.protocol == "inter-patient" and get_task("rhythm-3").protocol == "patient-deal"
    assert task.labels(np.array([1, 0])).tolist() == [1, 0]


def test_quality_config_refuses_patient_deal():
    with pytest.raises(ConfigError, match=r"field 'data\.protocol': quality needs inter-patient"):
        _config(protocol="patient-deal")


def test_detection_readable_marks_a_miss_and_a_false_beat():
    fs, length = 100.0, 250
    ref = np.array([50, 150, 300, 400, 550, 650])
    starts = window_starts(800, length)  # three whole windows
    assert qw.detection_readable(ref, ref + 10, starts, length, fs).all()  # 100 ms off: still a match
    missed = qw.detection_readable(ref, np.delete(ref, 2), starts, length, fs)
    assert missed.tolist() == [True, False, True]
    extra = qw.detection_readable(ref, np.sort(np.r_[ref, 600]), starts, length, fs)
    assert extra.tolist() == [True, True, False]
    late = qw.detection_readable(ref, ref + 20, starts, length, fs)  # 200 ms: every beat missed and false
    assert not late.any()


@pytest.mark.parametrize("kind", qw.FAILURES)
def test_electrode_failures_break_the_window(kind):
    rng = np.random.default_rng(0)
    t = np.arange(256) / 100
    beat = np.exp(-(((t % 0.8) - 0.4) ** 2) / 0.0005).astype(np.float32)  # a spike every 0.8 s
    out = qw.electrode_failure(beat, kind, rng)
    assert out.shape == beat.shape and out.dtype == np.float32
    if kind == "flat":
        assert out.std() < 0.01
    elif kind == "clipped":
        assert np.ptp(out) < 0.5 * np.ptp(beat)
    else:
        assert np.abs(out[-20:]).min() >= 2.0  # the end of the window sits at the rail
    with pytest.raises(ValueError, match="unknown electrode failure"):
        qw.electrode_failure(beat, "wet", rng)


@pytest.mark.slow
def test_record_windows_labelled_by_the_detector(mitdb, data_root):
    """Record 105 (noisy) with NSTDB noise: clean windows readable, some noisy copies not, every made-up
    failure unreadable; the labels of a noisy copy are what the detector does there."""
    from heartzoo.data.databases import get_database
    from heartzoo.data.noise import read_noise

    spec = _config().input
    noise = {
        k: read_noise(data_root / "nstdb_noise", k, channel=qw.TRAIN_NOISE_CHANNEL)[0] for k in qw.NOISE_KINDS
    }
    a = qw.beat_record_arrays(get_database("mitdb"), mitdb, "105", spec, noise, failures=True, seed=0)
    n = 650000 // 922  # 2.56 s windows of a 30-minute record at 360 Hz
    assert a["x"].shape[1] == 256 and len(a["aami"]) > 2 * n
    clean, noisy, failed = a["aami"][:n], a["aami"][n : 2 * n], a["aami"][2 * n :]
    assert (clean == 0).all() and (failed == 1).all()
    assert 0.05 < noisy.mean() < 0.95
    again = qw.beat_record_arrays(get_database("mitdb"), mitdb, "105", spec, noise, failures=True, seed=0)
    assert np.array_equal(again["aami"], a["aami"])  # seeded


def test_splits_keep_patients_and_the_cinc_test_apart(data_root):
    if not (data_root / "cinc2017" / "REFERENCE-v3.csv").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    from heartzoo.data.cinc2017 import held_out_records
    from heartzoo.data.prepare import split_records
    from heartzoo.data.splits import DS1, DS2

    config = _config(train=["mitdb:DS1", "cinc2017:train"])
    beats = split_records(qw.beat_config(config))
    sides = {s: qw.split_sources(config, s, beats) for s in ("train", "val", "test")}
    recs = {s: {r for _, r in v} for s, v in sides.items()}
    assert (
        not recs["train"] & recs["val"]
        and not recs["train"] & recs["test"]
        and not recs["val"] & recs["test"]
    )
    assert {r for d, r in sides["test"] if d == "mitdb"} == set(DS2)
    assert {r for d, r in sides["test"] if d == "cinc2017"} == set(held_out_records())
    assert {r for d, r in sides["train"] + sides["val"] if d == "mitdb"} == set(DS1)
    with pytest.raises(Exception, match="unknown split"):
        qw.split_sources(config, "ds1", beats)


def _gate_published() -> bool:
    return any(m["name"] == GATE for m in json.loads((ZOO / "index.json").read_text())["models"])


@pytest.mark.skipif(not _gate_published(), reason="quality-cnn3 not published in zoo/")
def test_annotate_with_the_learned_gate_on_noise_and_on_a_record(mitdb, tmp_path):
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).standard_normal(15000) * 0.2)
    res = run_annotate(noise, BEATS, tmp_path, "--fs", "250", "--gate", GATE, "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["beats"] == 0 and any("unreadable" in w for w in summary["warnings"])
    res = run_annotate(mitdb / "100", BEATS, tmp_path, "--gate", GATE, "--json")
    assert res.returncode == 0, res.stderr
    clean = json.loads(res.stdout)
    assert clean["beats"] >= 0.98 * 2273  # record 100's annotated beats: a clean record keeps them
    assert clean["quality"]["index"] == f"{GATE}@v1"  # the version that gated them, as the model's


@pytest.mark.skipif(not _gate_published(), reason="quality-cnn3 not published in zoo/")
def test_a_beat_model_is_no_gate(mitdb, tmp_path):
    res = run_annotate(mitdb / "100", BEATS, tmp_path, "--gate", BEATS)
    assert res.returncode != 0 and "not a quality model" in res.stderr


@pytest.mark.skipif(not _gate_published(), reason="quality-cnn3 not published in zoo/")
def test_the_learned_gate_reads_recorded_electrode_motion_as_unreadable(data_root):
    """NSTDB's `em` record holds electrode motion and no ECG: every detected beat in it is false. The
    learned gate keeps few of them and fewer than the template index does, which is why docs/recordings.md
    tells a recording of much motion to use it (studies/quality_gate.py --recorded-noise)."""
    from heartzoo.data.noise import NOISE_FOLDER, read_noise
    from heartzoo.detect import detect
    from heartzoo.recording.quality import gate_windows

    x, fs = read_noise(data_root / NOISE_FOLDER, "em", channel=0)
    peaks = detect(x, fs)
    learned = gate_windows(x, fs, peaks, f"{GATE}@v1", zoo=ZOO).of(peaks).sum()
    index = gate_windows(x, fs, peaks, "sqi", zoo=ZOO).of(peaks).sum()
    assert learned < 0.05 * len(peaks) and learned < index


GATE_DRIVER = r"""
#include <stdio.h>
#include "heartzoo_preprocess.h"
/* stdin: pairs of int8 outputs; stdout: hz_readable and hz_argmax of each */
int main(void) {
  int a, b;
  while (scanf("%d %d", &a, &b) == 2) {
    int8_t q[2] = {(int8_t)a, (int8_t)b};
    printf("%d %d\n", hz_readable(q), hz_argmax(q));
  }
  return 0;
}
"""


@pytest.mark.skipif(not _gate_published(), reason="quality-cnn3 not published in zoo/")
@pytest.mark.parametrize("fixed_point", [False, True], ids=["float", "fixed-point"])
def test_the_kit_reads_a_window_as_annotate_does_where_the_argmax_would_not(tmp_path, fixed_point):
    """`annotate` reads a window when P(readable) >= 0.5; the example main.cc took the argmax, which the
    int8 model's two probabilities (they need not sum to one) turn over at the boundary. The kit's
    hz_readable gives Python's reading for every pair of int8 outputs, and main.cc reads the gate by it."""
    from conftest import run_c_driver

    from heartzoo.export import dequantize_probs, io_specs
    from heartzoo.export.firmware_kit import kit_files
    from heartzoo.tasks import READABLE_P
    from heartzoo.zoo.hub import load_model

    loaded = load_model(GATE, "v1", format="tflite", zoo=ZOO)
    readable = list(loaded.class_names).index("readable")
    q = np.stack(np.meshgrid(np.arange(-128, 128), np.arange(-128, 128)), -1).reshape(-1, 2).astype(np.int8)
    python = dequantize_probs(q, io_specs(loaded.model)[1][0])[:, readable] >= READABLE_P
    feed = "".join(f"{a} {b}\n" for a, b in q.tolist())
    lines = run_c_driver(
        tmp_path, loaded.firmware, GATE_DRIVER, feed, recording_hz=250, fixed_point=fixed_point
    )
    out = np.array([line.split() for line in lines if line], int)
    assert len(out) == len(q)
    assert (out[:, 0].astype(bool) == python).all()
    assert ((out[:, 1] == readable) != python).sum() > 0  # the pairs where the argmax reads it otherwise
    main = kit_files(ZOO / "quality" / GATE / "v1", fixed_point=fixed_point)["main.cc"]
    assert "int cls = hz_readable(out) ? HZ_READABLE_CLASS : 1 - HZ_READABLE_CLASS;" in main
