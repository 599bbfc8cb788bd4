"""How af-4's windows make a recording's class: the mean, and mean+max fitted on validation recordings
(its typed metadata, its fit, its cross-fitted score, the configs that may ask for it), and overlapping
training windows."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from heartzoo.config import parse_config
from heartzoo.data import recording_windows as rw
from heartzoo.errors import ConfigError
from heartzoo.evaluation import aggregation as agg
from heartzoo.evaluation.metrics import scored_units
from heartzoo.meta import FirmwareContract, RecordingAggregation
from heartzoo.tasks import get_task


def _windows(n_rec: int, seed: int = 0):
    """Recordings of 3 windows, 3 classes. Class 0: every window says 0. Class 1: one window says 1
    loudly, the other two say 0 (a short episode the mean dilutes). Class 2: every window leans to 2."""
    rng = np.random.default_rng(seed)
    probs, labels, records = [], [], []
    for i in range(n_rec):
        c = i % 3
        for w in range(3):
            if c == 0 or (c == 1 and w > 0):
                p = [0.8, 0.15, 0.05]
            elif c == 1:
                p = [0.05, 0.9, 0.05]
            else:
                p = [0.3, 0.2, 0.5]
            p = np.asarray(p) + rng.uniform(0, 0.08, 3)
            probs.append(p / p.sum())
            labels.append(c)
            records.append(f"r{i:03d}")
    return np.asarray(probs, np.float32), np.asarray(labels), np.asarray(records)


def _f1_like(p: np.ndarray, y: np.ndarray) -> float:
    return float((p.argmax(1) == y).mean())


def test_mean_max_reads_the_window_the_mean_dilutes():
    probs, labels, records = _windows(90)
    mean, y = scored_units(get_task("af-4"), probs, labels, records)
    assert (mean.argmax(1)[y == 1] == 0).all()  # the mean calls every one-window episode 0
    fitted = agg.fit(probs, labels, records, "mean+max", "90 recordings")
    test = _windows(60, seed=1)
    p, y = scored_units(get_task("af-4"), *test, fitted)
    assert _f1_like(p, y) > 0.95 > _f1_like(scored_units(get_task("af-4"), *test)[0], y)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    # its typed metadata survives a round trip through the firmware contract's JSON
    again = RecordingAggregation.model_validate_json(fitted.model_dump_json())
    np.testing.assert_array_equal(scored_units(get_task("af-4"), *test, again)[0], p)


def test_recordings_come_in_order_of_first_window_whatever_the_aggregation():
    probs, labels, records = _windows(9)
    order = np.r_[np.arange(9, 27), np.arange(9)]  # recordings 3..8 first, then 0..2
    fitted = agg.fit(probs, labels, records, "mean+max")
    _p, first = agg.recording_probabilities(probs[order], records[order], fitted)
    assert records[order][first].tolist() == [f"r{i:03d}" for i in (*range(3, 9), *range(3))]
    single = agg.single_windows(probs[:3], fitted)  # each window as a recording of its own
    np.testing.assert_allclose(single[0], agg.recording_probabilities(probs[:1], ["x"], fitted)[0][0])


def test_cross_fitting_scores_each_recording_by_a_map_fitted_without_it():
    probs, labels, records = _windows(60)
    p, y = agg.cross_fitted(probs, labels, records, "mean+max", folds=3)
    assert p.shape == (60, 3) and y.tolist() == [i % 3 for i in range(60)]
    in_sample = scored_units(
        get_task("af-4"), probs, labels, records, agg.fit(probs, labels, records, "mean+max")
    )[0]
    assert not np.allclose(p, in_sample)  # each fold's map differs from the one fitted on all
    np.testing.assert_array_equal(
        agg.cross_fitted(probs, labels, records, "mean")[0],
        scored_units(get_task("af-4"), probs, labels, records)[0],
    )


def test_cross_fitted_maps_can_read_other_probabilities_of_the_same_windows():
    """The int8 model's probabilities, read by maps fitted on the float model's (as export scores int8)."""
    probs, labels, records = _windows(60)
    same, _ = agg.cross_fitted(probs, labels, records, "mean+max", folds=3, applied_to=probs)
    np.testing.assert_array_equal(same, agg.cross_fitted(probs, labels, records, "mean+max", folds=3)[0])
    # rounded as an int8 softmax is (steps of 1/256): each fold's map is the float one, its input not
    rounded = np.round(probs * 256) / 256
    read, y = agg.cross_fitted(probs, labels, records, "mean+max", folds=3, applied_to=rounded)
    assert not np.allclose(read, same) and y.tolist() == [i % 3 for i in range(60)]
    # eps reaches each fold's map
    wide, _ = agg.cross_fitted(probs, labels, records, "mean+max", folds=3, eps=1 / 256)
    assert not np.allclose(wide, same)


def test_a_version_scored_on_its_validation_side_is_cross_fitted_as_its_card_is(data_root, shared_cache):
    """`heartzoo evaluate af-4-VERSION --split val` scored the recordings the version's map was fitted
    on with that map, in-sample (0.8437 for af-4-cnn4-student v1, whose card says 0.8355): each fifth is
    now scored by a map fitted on the other four, and the report says so."""
    from pathlib import Path

    from heartzoo.environment import Environment
    from heartzoo.evaluation.evaluate import evaluate
    from heartzoo.meta import read_metrics

    version = Path(__file__).resolve().parents[1] / "zoo" / "af-4" / "af-4-cnn4-student" / "v1"
    rep = evaluate(version, "val", env=Environment(data_dir=data_root, cache_dir=shared_cache))
    assert rep["float"]["macro_f1"] == pytest.approx(read_metrics(version).val_macro_f1, abs=1e-9)
    assert any("fitted on these recordings" in n for n in rep["notes"]), rep.get("notes")


def test_fitting_needs_every_class():
    probs, labels, records = _windows(30)
    keep = labels != 2
    with pytest.raises(ValueError, match="every class"):
        agg.fit(probs[keep], labels[keep], records[keep], "mean+max")
    with pytest.raises(ValueError, match="unknown aggregation 'median'"):
        agg.fit(probs, labels, records, "median")


@pytest.mark.parametrize(
    "raw, problem",
    [
        ({"method": "mean", "coef": [[1.0]], "intercept": [0.0]}, "no weights"),
        ({"method": "mean+max", "intercept": [0.0, 0.0]}, "k rows of 2k"),
        ({"method": "mean+max", "coef": [[1.0, 2.0]] * 2, "intercept": [0.0, 0.0]}, "k rows of 2k"),
        ({"method": "median"}, "mean"),
        ({"method": "mean+max", "coef": [[float("nan"), 0.0]], "intercept": [0.0]}, "finite"),
        ({"method": "mean+max", "coef": [[1.0, 0.0]], "intercept": [0.0], "eps": 0.0}, "eps positive"),
    ],
)
def test_a_published_aggregation_is_validated(raw, problem):
    with pytest.raises(ValidationError, match=problem):
        RecordingAggregation.model_validate(raw)


def test_a_contracts_aggregation_maps_to_its_own_classes():
    from pathlib import Path

    from heartzoo.meta import Configuration, read_meta

    version = Path(__file__).resolve().parents[1] / "zoo" / "af-4" / "af-4-cnn3-student" / "v1"
    firmware = read_meta(Configuration, version / "configuration.json").firmware
    three = RecordingAggregation(method="mean+max", coef=[[0.0] * 6] * 3, intercept=[0.0] * 3)
    raw = firmware.model_dump(mode="json") | {"aggregation": three.model_dump(mode="json")}
    with pytest.raises(ValidationError, match="a map to 3 classes for a model of 4"):
        FirmwareContract.model_validate(raw)


def test_published_contracts_without_an_aggregation_read_as_the_mean():
    assert FirmwareContract.model_fields["aggregation"].default is None
    assert agg.MEAN.method == "mean" and agg.MEAN.coef is None


def _raw(task: str, **changes):
    if task == "af-4":
        raw = {
            "name": "af",
            "task": "af-4",
            "input": {"lead": "ECG", "fs": 50, "frame_size": 500},
            "data": {"train": ["cinc2017:train"], "protocol": "inter-patient"},
        }
    else:
        raw = {"name": "b3", "task": "beat-3", "model": {"arch": "cnn3"}}
    for section, value in changes.items():
        raw[section] = {**raw.get(section, {}), **value}
    return raw


def test_af_4_may_ask_for_overlapping_windows_and_mean_max():
    cfg = parse_config(_raw("af-4", data={"window_hop": 0.5}, export={"aggregation": "mean+max"}), "af.yaml")
    assert cfg.data.window_hop == 0.5 and cfg.export.aggregation == "mean+max"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"export": {"aggregation": "mean+max"}}, "export.aggregation"),
        ({"data": {"window_hop": 0.5}}, "data.window_hop"),
    ],
)
def test_a_beat_task_refuses_what_only_recordings_have(changes, field):
    with pytest.raises(ConfigError, match=field):
        parse_config(_raw("beat-3", **changes), "b3.yaml")


@pytest.mark.parametrize("hop", [0, 1.5, -0.5])
def test_window_hop_is_a_share_of_the_frame(hop):
    with pytest.raises(ConfigError, match="window_hop"):
        parse_config(_raw("af-4", data={"window_hop": hop}), "af.yaml")


def test_overlapping_windows_keep_every_centre_in_the_recording():
    assert rw.recording_window_starts(9000, 3000, 1500).tolist() == [0, 1500, 3000, 4500, 6000]
    assert rw.recording_window_starts(9000, 3000, 3000).tolist() == [0, 3000, 6000]
    assert rw.recording_window_starts(2700, 3000, 1500).tolist() == [-150]  # shorter: one centred window


DRIVER = r"""
#include <stdio.h>
#include "heartzoo_preprocess.h"
/* stdin: recordings, windows, then per recording its window count and int8 outputs; stdout: per
 * recording its class and probabilities */
int main(void) {
  int n, w, i, k, v;
  int8_t q[HZ_NUM_CLASSES];
  float p[HZ_NUM_CLASSES];
  hz_rec_t rec;
  if (scanf("%d", &n) != 1) return 1;
  for (i = 0; i < n; i++) {
    if (scanf("%d", &w) != 1) return 1;
    hz_rec_init(&rec);
    while (w-- > 0) {
      for (k = 0; k < HZ_NUM_CLASSES; k++) {
        if (scanf("%d", &v) != 1) return 1;
        q[k] = (int8_t)v;
      }
      hz_rec_push(&rec, q);
    }
    printf("%d", hz_rec_class(&rec, p));
    for (k = 0; k < HZ_NUM_CLASSES; k++) printf(" %.9g", p[k]);
    printf("\n");
  }
  return 0;
}
"""


@pytest.mark.parametrize("fixed_point", [False, True], ids=["float", "fixed-point"])
@pytest.mark.parametrize("method", ["mean", "mean+max"])
def test_the_kit_aggregates_a_recording_as_python_does(tmp_path, method, fixed_point):
    """The C library's hz_rec_* on int8 outputs of recordings of 1-6 windows: the class Python gives,
    and its probabilities to float precision (the contract of a published af-4 model, with an aggregation
    fitted here)."""
    import subprocess
    from pathlib import Path

    from heartzoo.export.firmware_host import host_compiler
    from heartzoo.export.firmware_kit import CFLAGS, library_files
    from heartzoo.export.runtimes import TensorSpec, dequantize_probs
    from heartzoo.meta import Configuration, read_meta

    cc = host_compiler()
    if cc is None:
        pytest.skip("no C compiler")
    version = Path(__file__).resolve().parents[1] / "zoo" / "af-4" / "af-4-cnn3-student" / "v1"
    firmware = read_meta(Configuration, version / "configuration.json").firmware
    out = firmware.outputs[0]
    spec = TensorSpec(out.name, list(out.shape), out.dtype, out.scale, out.zero_point)
    fitted = agg.fit(*_windows(60), "mean+max") if method == "mean+max" else agg.MEAN
    # the synthetic fit has 3 classes; af-4 has 4: pad the map with a class that never wins
    if method == "mean+max":
        coef = [[*row[:3], 0.0, *row[3:], 0.0] for row in fitted.coef] + [[0.0] * 8]
        fitted = fitted.model_copy(update={"coef": coef, "intercept": [*fitted.intercept, -50.0]})
    contract = firmware.model_copy(update={"aggregation": fitted})
    for name, text in library_files(contract, fixed_point=fixed_point).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "drive.c").write_text(DRIVER)
    exe = tmp_path / "drive"
    subprocess.run(
        [
            cc,
            "-O2",
            *CFLAGS,
            "-Wall",
            "-Werror",
            f"-I{tmp_path}",
            str(tmp_path / "drive.c"),
            str(tmp_path / "heartzoo_preprocess.c"),
            "-lm",
            "-o",
            str(exe),
        ],
        check=True,
    )
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 7, 200)
    # int8 softmax outputs: each window's four probabilities in steps of the output scale
    logits = rng.normal(0, 2.5, (counts.sum(), 4))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    q = np.clip(np.round(probs / out.scale) + out.zero_point, -128, 127).astype(np.int8)
    records = np.repeat(np.arange(len(counts)), counts)
    text = f"{len(counts)}\n" + "\n".join(
        f"{c} " + " ".join(str(v) for v in q[records == i].ravel()) for i, c in enumerate(counts)
    )
    res = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True)
    rows = np.array([[float(v) for v in line.split()] for line in res.stdout.splitlines()])
    want, _ = agg.recording_probabilities(dequantize_probs(q, spec), records, fitted)
    assert len(rows) == len(counts)
    np.testing.assert_allclose(rows[:, 1:], want, atol=2e-6)
    assert (rows[:, 0].astype(int) == want.argmax(1)).all()
    assert len(set(want.argmax(1).tolist())) >= 3  # the check sees several classes win
