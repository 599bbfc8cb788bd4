"""`input.template_on_time`: a running template of the beats that came on time (issue 46: the shape of
a beat against the patient's usual beat, where a run of premature beats would otherwise become it), the
same in training and in a recording's Preprocessor (and in the firmware kit: tests/test_firmware.py)."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import InputSpec
from heartzoo.preprocess import Preprocessor, beat_templates, on_time
from heartzoo.preprocess.rr_features import RR_COLUMNS, RR_EPS, rr_intervals


def test_only_eligible_beats_enter_the_template():
    x = np.arange(14, dtype=np.float32).reshape(7, 2)  # 7 beats of 2 samples
    record = np.array(["a"] * 5 + ["b"] * 2)
    eligible = np.array([False, True, False, True, True, True, False])
    t = beat_templates(x, record, 2, eligible)
    np.testing.assert_allclose(t[0], x[0])  # nothing eligible before it: itself
    np.testing.assert_allclose(t[1], x[1])
    np.testing.assert_allclose(t[2], x[1])  # beat 0 was not on time
    np.testing.assert_allclose(t[3], x[1])  # nor beat 2
    np.testing.assert_allclose(t[4], (x[1] + x[3]) / 2)  # the last 2 eligible ones
    np.testing.assert_allclose(t[5], x[5])  # record b starts afresh
    np.testing.assert_allclose(t[6], x[5])
    # every beat eligible: the plain running mean
    np.testing.assert_array_equal(
        beat_templates(x, record, 2, np.ones(7, bool)), beat_templates(x, record, 2)
    )


def test_on_time_reads_the_pre_over_long_feature():
    samples = np.cumsum(np.r_[0, np.full(20, 100), 60, 140, np.full(10, 100)])  # beat 21 is premature
    rr = rr_intervals(samples, 100.0)
    ok = on_time(rr, 0.9)
    assert not ok[21] and ok[20] and ok[22]
    np.testing.assert_array_equal(ok, rr[:, 0] / (rr[:, 3] + RR_EPS) >= 0.9)


def test_the_spec_and_the_contract_carry_it():
    for needs in ({}, {"template_beats": 8}, {"rr_features": True}):
        with pytest.raises(ValueError, match=r"template_on_time .* needs template_beats > 0 and rr_features"):
            InputSpec(template_on_time=0.9, **needs)
    spec = InputSpec(template_beats=8, rr_features=True, template_on_time=0.9)
    assert (
        spec.key()["template_on_time"] == 0.9 and "template_on_time" not in InputSpec(template_beats=8).key()
    )
    contract = Preprocessor(spec).contract()
    assert contract["template_on_time"] == 0.9 and ">= 0.9 x the mean of the last 300" in contract["template"]
    assert "template_on_time" not in Preprocessor(InputSpec(template_beats=8, rr_features=True)).contract()
    full = {**contract, "class_names": [], "inputs": [], "outputs": [], "output": ""}
    back = Preprocessor.from_contract(full).spec
    assert (back.template_beats, back.template_on_time) == (8, 0.9)
    # a frame needs its RR intervals to know which beats were on time
    frames = np.zeros((3, spec.frame_size), np.float32)
    with pytest.raises(ValueError, match="pass them"):
        Preprocessor(spec).templates(frames, np.zeros(3, "<U1"))
    assert (
        Preprocessor(spec).templates(frames, np.zeros(3, "<U1"), np.ones((3, RR_COLUMNS))).shape
        == frames.shape
    )


@pytest.mark.parametrize("normaliser", ["mean", "median"])
def test_training_beats_get_the_template_a_recording_gives(normaliser, data_root, shared_cache):
    """Record 232 (its atrial premature beats outnumber its normal ones) as training prepares it and as
    `Preprocessor(values, fs, peaks)` makes it for a user's recording: the same inputs, bit for bit; and
    its S beats' on-time templates are made of its N beats, where the plain ones are mostly S."""
    from heartzoo.data import mitbih
    from heartzoo.data.prepare import load_windows

    spec = InputSpec(
        fs=100,
        frame_size=256,
        rr_features=True,
        rr_normaliser=normaliser,
        template_beats=8,
        template_on_time=0.9,
    )
    pre = Preprocessor(spec)
    ws = load_windows(["232", "100"], spec, cache_dir=shared_cache, data_dir=data_root).with_context(spec)
    train = ws.model_inputs(pre)
    db = mitbih.DATABASE
    for record in ("232", "100"):
        rows = ws.record == record
        sig = db.read_signal(db.folder(data_root), record, "MLII")
        got = pre(sig.values, float(sig.fs), ws.sample[rows])
        for name in ("ecg", "rr"):
            np.testing.assert_array_equal(got[name], train[name][rows])
    rows = np.flatnonzero(ws.record == "232")
    s = ws.aami[rows] == 1
    eligible = on_time(ws.rr[rows], 0.9)
    assert eligible[~s].mean() > 0.95  # 232's N beats come on time (after its pauses)
    if normaliser == "mean":
        assert eligible[s].mean() < 0.02  # its S beats do not
    else:  # over the running median, an S beat's own interval (they outnumber N), they do
        assert eligible[s].mean() > 0.9
    plain = Preprocessor(InputSpec(fs=100, frame_size=256, template_beats=8)).templates(
        ws.x[rows], ws.record[rows]
    )
    assert not np.allclose(plain[s], ws.template[rows][s])


@pytest.mark.parametrize(
    "spec",
    [
        InputSpec(template_beats=8, rr_features=True, template_on_time=0.9),
        InputSpec(template_beats=8, rr_features=True),
        InputSpec(rr_features=True),
    ],
)
def test_a_long_recording_prepared_in_batches_gives_the_inputs_of_one_call(data_root, spec):
    """`predict` prepares a day of beats a batch at a time (a gigabyte of frames at once otherwise): each
    batch's templates read the frames before it that they average, so the rows are those of one call.
    Record 208 (frequent PVCs, couplets: runs that are not on time) in batches of 100 and 333 beats."""
    from heartzoo.data import mitbih

    sig = mitbih.read_signal(data_root / "mitdb", "208")
    peaks = mitbih.read_beats(data_root / "mitdb", "208").samples
    pre = Preprocessor(spec)
    whole = pre(sig.values, sig.fs, peaks)
    (one,) = pre.batches(sig.values, sig.fs, peaks, len(peaks))  # no more beats than a batch: one call's
    assert one["ecg"].tobytes() == whole["ecg"].tobytes() and one["rr"].tobytes() == whole["rr"].tobytes()
    for size in (100, 333):
        parts = list(pre.batches(sig.values, sig.fs, peaks, size))
        assert len(parts) == -(-len(peaks) // size)
        np.testing.assert_allclose(np.concatenate([p["ecg"] for p in parts]), whole["ecg"], atol=1e-5, rtol=0)
        np.testing.assert_array_equal(np.concatenate([p["rr"] for p in parts]), whole["rr"])
