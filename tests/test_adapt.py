"""Per-patient calibration without labels, on real DS1 frames and the published student."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from heartzoo.errors import HeartzooError
from heartzoo.preprocess import input_rows

REPO = Path(__file__).resolve().parents[1]
STUDENT = REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v1"
MINUTES = 5.0


@pytest.fixture(scope="module")
def val_frames(small_run, shared_cache):
    """The small run's model and its DS1-validation inputs, records and beat times."""
    from heartzoo.data.mitbih import SAMPLING_RATE
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.preprocess import Preprocessor

    model, config = load_run(small_run)
    ws, _ = load_task_split(config, "val", cache_dir=shared_cache)
    return model, ws.model_inputs(Preprocessor.of(config)), ws.record, ws.sample / SAMPLING_RATE


@pytest.mark.slow
def test_calibrated_layers_normalise_the_calibration_beats(val_frames):
    """After calibration each batch-norm layer maps its inputs on the calibration beats to mean beta
    and variance gamma² σ²/(σ²+ε) per channel, which only the right statistics do."""
    import keras

    from heartzoo.models.adapt import batchnorm_layers, calibrated_copy

    model, inputs, records, times = val_frames
    before = [np.array(w) for w in model.weights]
    first = np.flatnonzero((records == records[0]) & (times < 60 * MINUTES))
    x = input_rows(inputs, first)
    copy = calibrated_copy(model, x)
    norms = batchnorm_layers(copy)
    assert len(norms) >= 4
    for layer in norms:
        h_in, h_out = (
            np.asarray(o, np.float64)
            for o in keras.Model(copy.inputs, [layer.input, layer.output]).predict(x, verbose=0)
        )
        var = h_in.var(axis=(0, 1, 2))
        gamma, beta = np.asarray(layer.gamma), np.asarray(layer.beta)
        np.testing.assert_allclose(h_out.mean(axis=(0, 1, 2)), beta, atol=2e-3 * (1 + np.abs(gamma).max()))
        expected = gamma**2 * var / (var + layer.epsilon)
        np.testing.assert_allclose(h_out.var(axis=(0, 1, 2)), expected, rtol=2e-2, atol=1e-5)
    # the published model is left as it was, and the copy's statistics did move
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.weights, strict=True))
    assert not np.allclose(
        np.asarray(norms[0].moving_mean), np.asarray(batchnorm_layers(model)[0].moving_mean)
    )


@pytest.mark.slow
def test_calibration_is_causal_per_record(val_frames):
    """Beats inside a record's first minutes keep the model's own logits; later beats get the logits of
    the copy calibrated on that record's early beats, and no other record's."""
    from heartzoo.inference import predict_logits
    from heartzoo.models.adapt import calibrated_copy, calibrated_logits

    model, inputs, records, times = val_frames
    two = np.flatnonzero(np.isin(records, np.unique(records)[:2]))
    sub, rec, t = input_rows(inputs, two), records[two], times[two]
    logits, mask = calibrated_logits(model, sub, rec, t, MINUTES)
    plain = predict_logits(model, sub)
    assert mask.any() and (~mask).any()
    np.testing.assert_array_equal(logits[mask], plain[mask])
    for r in np.unique(rec):
        later = np.flatnonzero((rec == r) & ~mask)
        own = calibrated_copy(model, input_rows(sub, np.flatnonzero((rec == r) & mask)))
        np.testing.assert_allclose(logits[later], predict_logits(own, input_rows(sub, later)), atol=1e-5)
        assert np.abs(logits[later] - plain[later]).max() > 1e-3


def test_bad_calibration_requests_are_refused():
    import keras

    from heartzoo.models import build_model
    from heartzoo.models.adapt import batchnorm_layers, calibration_mask

    records = np.array(["100", "100", "105", "105"])
    with pytest.raises(HeartzooError, match=r"record\(s\) 105: no beat in the first 5 min"):
        calibration_mask(records, np.array([10.0, 400.0, 301.0, 900.0]), 5, min_beats=1)
    for minutes in (0, "5", True, float("nan")):  # text is no number of minutes (it was a TypeError)
        with pytest.raises(HeartzooError, match="minutes must be a positive number"):
            calibration_mask(records, np.zeros(4), minutes)
    assert calibration_mask(records, np.array([10.0, 400.0, 30.0, 900.0]), np.float32(5), min_beats=1).tolist() == [
        True, False, True, False,
    ]  # fmt: skip
    with pytest.raises(HeartzooError, match=r"record\(s\) 105: every beat lies in the first 20 min"):
        calibration_mask(records, np.array([10.0, 1500.0, 301.0, 900.0]), 20, min_beats=1)
    # the floor studies/calibration_beats.py chose: one beat in a record's first minutes is refused
    with pytest.raises(HeartzooError, match=r"record\(s\) 100 \(1\), 105 \(1\): fewer than 32 beats"):
        calibration_mask(records, np.array([10.0, 400.0, 30.0, 900.0]), 5)
    many = np.repeat(["100", "105"], 40)
    times = np.tile(np.r_[np.arange(32) * 9.0, 400.0 + np.arange(8)], 2)
    assert calibration_mask(many, times, 5).sum() == 64
    plain = build_model("baseline-cnn", num_classes=3)
    with pytest.raises(HeartzooError, match=f"model '{plain.name}' has no BatchNormalization"):
        batchnorm_layers(plain)
    inp = keras.Input((1, 64, 1))
    member = keras.Sequential([keras.Input((1, 64, 1)), keras.layers.BatchNormalization()], name="seed0")
    nested = keras.Model(inp, member(inp), name="ens")
    with pytest.raises(HeartzooError, match=r"model 'ens'.*nests models \(seed0\)"):
        batchnorm_layers(nested)


@pytest.mark.slow
def test_cli_reports_calibration_as_its_own_protocol(data_root, shared_cache, tmp_path):
    """`heartzoo evaluate --calibrate-minutes` on the published student: the report says so, and its
    confusion matrix is the one the library's calibrated logits give; a model without batch norm is
    refused before any frame is read."""
    from heartzoo.data.mitbih import SAMPLING_RATE
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.inference import softmax
    from heartzoo.models.adapt import calibrated_logits
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    env = {**__import__("os").environ, "HEARTZOO_DATA_DIR": str(data_root)}
    out = tmp_path / "report.json"
    args = ["evaluate", str(STUDENT), "--split", "val", "--cache-dir", str(shared_cache)]
    done = run_cli(*args, "--calibrate-minutes", "5", "--output", str(out), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "calibrated to each patient on its first 5 min of unlabelled beats" in " ".join(
        done.stdout.split()
    )
    clean = json.loads(out.read_text())["float"]
    later = clean["calibration"].pop("later_beats")
    assert clean["calibration"] == {"method": "batchnorm", "minutes": 5.0, "labels": "none"}

    model, config = load_run(STUDENT)
    ws, labels = load_task_split(config, "val", cache_dir=shared_cache)
    logits, mask = calibrated_logits(
        model, ws.model_inputs(Preprocessor.of(config)), ws.record, ws.sample / SAMPLING_RATE, 5
    )
    task = get_task("beat-3")
    rep = report_from_probabilities(softmax(logits), labels, task.class_names, task.macro_classes)
    assert clean["confusion"] == rep["confusion"]
    # EC57's learning period left out: the beats after each record's first 5 minutes alone
    after = report_from_probabilities(
        softmax(logits[~mask]), labels[~mask], task.class_names, task.macro_classes
    )
    assert later == {"beats": int((~mask).sum()), "macro_f1": after["macro_f1"]} and 0 < later["beats"] < len(
        mask
    )
    assert f"the {later['beats']:,} beats after each record's first 5 min alone" in " ".join(
        done.stdout.split()
    )
    plain = json.loads(run_cli(*args, "--json", env=env).stdout)["float"]
    assert "calibration" not in plain and plain["confusion"] != clean["confusion"]

    no_bn = REPO / "zoo" / "beat-3" / "beat-3-baseline-cnn" / "v1"
    refused = run_cli("evaluate", str(no_bn), "--calibrate-minutes", "5", env=env)
    assert refused.returncode != 0
    assert "has no BatchNormalization layer: nothing to calibrate" in refused.stderr + refused.stdout


@pytest.mark.slow
def test_python_api_calibrates_on_a_raw_recording(data_root, shared_cache):
    """heartzoo.calibrate on a raw DS1 record: the later beats' probabilities equal the evaluation's
    calibrated ones for that record, and the loaded model is unchanged."""
    import heartzoo
    from heartzoo.data import mitbih
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.inference import softmax
    from heartzoo.models.adapt import calibrated_logits
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    loaded = heartzoo.load_model(STUDENT)
    model, config = load_run(STUDENT)
    ws, _ = load_task_split(config, "val", cache_dir=shared_cache)
    record = "205"
    sig = mitbih.read_signal(data_root / "mitdb", record)
    beats = mitbih.read_beats(data_root / "mitdb", record)
    keep = get_task("beat-3").labels(beats.aami) >= 0
    early = beats.samples < 60 * MINUTES * sig.fs
    assert keep[early].all()  # so both paths calibrate on the same beats
    mine = heartzoo.calibrate(loaded, sig.values, sig.fs, beats.samples, minutes=MINUTES)
    probs = heartzoo.predict(mine, sig.values, sig.fs, beats.samples)[keep & ~early]

    sub = ws.subset(np.flatnonzero(ws.record == record))
    np.testing.assert_array_equal(sub.sample, beats.samples[keep])
    logits, mask = calibrated_logits(
        model, sub.model_inputs(Preprocessor.of(config)), sub.record, sub.sample / sig.fs, MINUTES
    )
    np.testing.assert_allclose(probs, softmax(logits[~mask]), atol=1e-5)
    plain = heartzoo.predict(loaded, sig.values, sig.fs, beats.samples)[keep & ~early]
    assert np.abs(plain - probs).max() > 1e-3
    with pytest.raises(HeartzooError, match="calibration needs the Keras model"):
        heartzoo.calibrate(heartzoo.load_model(STUDENT, format="tflite"), sig.values, sig.fs, beats.samples)
    with pytest.raises(HeartzooError, match="no R peak in the first 5 min"):
        heartzoo.calibrate(loaded, sig.values, sig.fs, beats.samples[beats.samples > 400 * sig.fs])


@pytest.mark.slow
def test_calibrate_refuses_what_is_no_beat_model_and_warns_of_a_wrong_lead(data_root):
    """From a review: a model of windows was "calibrated" without complaint, a lead in V or turned over
    without the warning `predict` gives, a recording inside the calibration minutes silently, and the
    copy's annotations did not say it was calibrated. A per-patient .tflite took a single beat."""
    import warnings

    import heartzoo
    from heartzoo.data import mitbih
    from heartzoo.errors import RecordingWarning
    from heartzoo.export import calibrated_int8
    from heartzoo.preprocess import Preprocessor

    sig = mitbih.read_signal(data_root / "mitdb", "205")
    beats = mitbih.read_beats(data_root / "mitdb", "205").samples
    x, fs = sig.values, sig.fs
    with pytest.raises(HeartzooError, match="its task is quality, a model of windows"):
        heartzoo.calibrate(heartzoo.load_model("quality-cnn3@v1"), x, fs, beats)
    loaded = heartzoo.load_model(STUDENT)
    with pytest.warns(RecordingWarning, match="of the beats point down"):
        heartzoo.calibrate(loaded, -x, fs, beats)
    with pytest.warns(RecordingWarning, match="is the lead in µV or V"):
        heartzoo.calibrate(loaded, x / 1000, fs, beats)
    short = beats[beats < 180 * fs]
    with pytest.warns(UserWarning, match="every R peak lies in the first 5 min"):
        heartzoo.calibrate(loaded, x[: 180 * round(fs)], fs, short)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        mine = heartzoo.calibrate(loaded, x, fs, beats)
    # calibrate's own warnings (they point at this file, stacklevel 2): none for a good lead and its beats
    assert not [w for w in said if issubclass(w.category, RecordingWarning) or "R peak" in str(w.message)]
    n = int((beats < 300 * fs).sum())
    assert mine.calibrated == f"to one patient on the first 5 min of a recording, {n} beats, no labels"
    with pytest.raises(HeartzooError, match="already calibrated"):
        heartzoo.calibrate(mine, x, fs, beats)
    got = heartzoo.annotate(x[: 600 * round(fs)], fs, mine, r_peaks=beats[beats < 600 * fs])
    assert got.runtime == f"float (Keras), calibrated {mine.calibrated}"
    assert got.summary()["runtime"] == got.runtime
    inputs = Preprocessor.of(loaded.config)(x, fs, beats[:20])
    with pytest.raises(HeartzooError, match="20 beat\\(s\\) to calibrate on: calibration needs at least 32"):
        calibrated_int8(loaded.model, loaded.config, inputs)
