"""`input.rr_history`: the RR intervals before a beat's own as more RR features (issue 46, the rhythm a
beat comes in), the same in training, in a recording's Preprocessor and in the firmware kit."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import InputSpec, parse_config
from heartzoo.errors import ConfigError
from heartzoo.preprocess import Preprocessor
from heartzoo.preprocess.rr_features import RR_COLUMNS, RR_EPS, rr_intervals, with_rr_context


def test_history_is_the_earlier_beats_pre_within_each_record():
    pre = np.array([0.5, 0.6, 0.7, 0.8, 1.0, 1.1, 1.2], np.float32)
    rr = np.zeros((7, RR_COLUMNS), np.float32)
    rr[:, 0] = pre
    record = np.array(["a"] * 4 + ["b"] * 3)
    got = with_rr_context(rr, record, 3)[:, RR_COLUMNS:]
    want = [
        [0.5, 0.5, 0.5],  # a record's first beat: its own pre, as there is none before
        [0.5, 0.5, 0.5],
        [0.6, 0.5, 0.5],
        [0.7, 0.6, 0.5],
        [1.0, 1.0, 1.0],  # record b starts again: nothing of a's beats leaks in
        [1.0, 1.0, 1.0],
        [1.1, 1.0, 1.0],
    ]
    np.testing.assert_array_equal(got, np.array(want, np.float32))
    # idempotent: a second call replaces the history instead of stacking another
    np.testing.assert_array_equal(
        with_rr_context(with_rr_context(rr, record, 3), record, 2)[:, 5:], got[:, :2]
    )


def test_the_features_are_the_intervals_over_the_long_mean():
    samples = np.cumsum(np.r_[0, np.full(20, 100), 60, 140, np.full(10, 100)])  # a premature beat at 21
    rr = rr_intervals(samples, 100.0, history=4)
    assert rr.shape == (len(samples), RR_COLUMNS + 4)
    pre = Preprocessor(InputSpec(rr_features=True, rr_history=4))
    assert pre.rr_names[4:] == ("pre-1/local300", "pre-2/local300", "pre-3/local300", "pre-4/local300")
    got = pre.rr(rr)
    assert got.shape == (len(samples), 8)
    # the beat after the premature one sees the short interval one beat back, over the long mean
    i = 22
    np.testing.assert_allclose(got[i, 4], 0.6 / (rr[i, 3] + RR_EPS), rtol=1e-6)
    np.testing.assert_allclose(got[i, 5], 1.0 / (rr[i, 3] + RR_EPS), rtol=1e-6)
    np.testing.assert_allclose(got[i, 2], 1.4 / (rr[i, 3] + RR_EPS), rtol=1e-6)  # its own pre/local300
    with pytest.raises(ValueError, match="no history of 4 beats"):
        pre.rr(rr[:, :RR_COLUMNS])


def test_the_spec_and_the_contract_carry_the_history():
    with pytest.raises(ValueError, match=r"rr_history .* needs rr_features"):
        InputSpec(rr_history=8)
    with pytest.raises(ValueError):
        InputSpec(rr_features=True, rr_history=33)
    pre = Preprocessor(InputSpec(rr_features=True, rr_irregularity=True, rr_history=8))
    assert pre.input_shapes["rr"] == (13,)
    contract = pre.contract()
    assert contract["rr_features"]["order"][4:6] == ["irregularity10", "pre-1/local300"]
    assert "pre-j/local300" in contract["rr_features"]["definition"]
    back = Preprocessor.from_contract(
        {**contract, "class_names": [], "inputs": [], "outputs": [], "output": ""}
    )
    assert back.rr_names == pre.rr_names and back.spec.rr_history == 8


def test_a_model_takes_the_history_as_rr_inputs():
    from heartzoo.training.train import build_from_config

    config = parse_config(
        {
            "name": "t",
            "task": "beat-3",
            "input": {"frame_size": 64, "rr_features": True, "rr_history": 16},
            "model": {"arch": "cnn1"},
        }
    )
    assert tuple(build_from_config(config).input["rr"].shape) == (None, 20)


def test_shards_are_refused_with_a_history():
    with pytest.raises(ConfigError, match=r"input\.rr_history"):
        parse_config(
            {
                "name": "t",
                "task": "beat-3",
                "input": {"rr_features": True, "rr_history": 8},
                "model": {"arch": "cnn1"},
                "data": {"shards": "shards"},
            }
        )


@pytest.mark.parametrize("normaliser", ["mean", "median"])
def test_training_beats_get_the_history_a_recording_gives(normaliser, data_root, shared_cache):
    """Record 232 (long pauses, premature beats) as training prepares it (cached beats, then the history
    and the running median per record) and as `Preprocessor(values, fs, peaks)` makes it for a user's
    recording: the same RR inputs, bit for bit."""
    from heartzoo.data import mitbih
    from heartzoo.data.prepare import load_windows

    spec = InputSpec(fs=100, frame_size=256, rr_features=True, rr_history=16, rr_normaliser=normaliser)
    pre = Preprocessor(spec)
    ws = load_windows(["232", "100"], spec, cache_dir=shared_cache, data_dir=data_root).with_context(spec)
    train_rr = ws.model_inputs(pre)["rr"]
    assert train_rr.shape == (len(ws), 20)
    db = mitbih.DATABASE
    for record in ("232", "100"):
        rows = ws.record == record
        sig = db.read_signal(db.folder(data_root), record, "MLII")
        got = pre(sig.values, float(sig.fs), ws.sample[rows])["rr"]
        np.testing.assert_array_equal(got, train_rr[rows])
    # 232's history holds its pauses: the longest interval before a beat is several long means
    assert train_rr[ws.record == "232", 4:].max() > 3


def test_caches_and_shards_prepared_before_the_history_are_found_again():
    """The spec keys caches and shard folders: without a history it is the key it was before the field
    existed, so AF-beat, window and quality caches and shard folders prepared then still match."""
    spec = InputSpec(fs=100, frame_size=512, rr_features=True, template_beats=8)
    before = spec.model_dump(mode="json")
    del before["rr_history"], before["rr_normaliser"], before["template_on_time"]
    assert spec.key() == before
    assert InputSpec(rr_features=True, rr_history=16).key()["rr_history"] == 16
