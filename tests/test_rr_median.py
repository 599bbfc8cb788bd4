"""`input.rr_normaliser: median`: the long-horizon RR ratios over the running median of 300 intervals
instead of their mean (issue 46, item 1), the same in training, in a recording's Preprocessor and in the
firmware kit (tests/test_firmware.py runs the kit)."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import InputSpec, parse_config
from heartzoo.errors import ConfigError
from heartzoo.preprocess import Preprocessor
from heartzoo.preprocess.rr_features import (
    RR_COLUMNS,
    RR_EPS,
    rr_intervals,
    running_lower_median,
    with_rr_context,
)


def test_the_running_median_is_the_lower_middle_of_the_window():
    rng = np.random.default_rng(0)
    v = rng.integers(40, 200, 700).astype(np.float32) / 100
    got = running_lower_median(v, 300)
    for i in (0, 1, 2, 3, 150, 298, 299, 300, 301, 699):
        w = np.sort(v[max(0, i - 299) : i + 1])
        assert got[i] == w[(len(w) - 1) // 2], i
    assert got[1] == min(v[0], v[1])  # two values: the smaller, as firmware takes it


def test_the_median_starts_again_in_each_record_and_leaves_the_rest():
    pre = np.array([0.5, 0.9, 0.7, 0.8, 1.2, 1.0, 1.1], np.float32)
    rr = np.zeros((7, RR_COLUMNS), np.float32)
    rr[:, 0], rr[:, 3], rr[:, 4] = pre, 9.0, 0.25
    record = np.array(["a"] * 4 + ["b"] * 3)
    got = with_rr_context(rr, record, normaliser="median")
    np.testing.assert_array_equal(got[:, 3], np.array([0.5, 0.5, 0.7, 0.7, 1.2, 1.0, 1.1], np.float32))
    np.testing.assert_array_equal(got[:, [0, 1, 2, 4]], rr[:, [0, 1, 2, 4]])
    assert rr[0, 3] == 9.0  # the caller's array (a cache's) is not written
    with pytest.raises(ValueError, match="unknown rr_normaliser"):
        with_rr_context(rr, record, normaliser="mode")


def test_missed_beats_move_the_median_less_than_the_mean():
    """300 steady beats of 1 s, then a detector that misses every third beat for 120 beats (a 2 s interval
    in every three): the mean of the last 300 rises by a seventh, the median stays at 1 s."""
    samples = np.cumsum(np.r_[0, np.full(300, 100), np.tile([100, 100, 200], 40)])
    mean = rr_intervals(samples, 100.0)[-1, 3]
    median = rr_intervals(samples, 100.0, normaliser="median")[-1, 3]
    assert median == np.float32(1.0) and mean > 1.1


def test_the_spec_the_names_and_the_contract_say_median():
    with pytest.raises(ValueError, match=r"rr_normaliser .* needs rr_features"):
        InputSpec(rr_normaliser="median")
    with pytest.raises(ValueError):
        InputSpec(rr_features=True, rr_normaliser="mode")
    pre = Preprocessor(
        InputSpec(rr_features=True, rr_irregularity=True, rr_history=2, rr_normaliser="median")
    )
    assert pre.rr_names == (
        "pre/local10",
        "post/local10",
        "pre/median300",
        "post/median300",
        "irregularity10",
        "pre-1/median300",
        "pre-2/median300",
    )
    contract = pre.contract()
    assert "median300: the lower median" in contract["rr_features"]["definition"]
    back = Preprocessor.from_contract(
        {**contract, "class_names": [], "inputs": [], "outputs": [], "output": ""}
    )
    assert back.rr_names == pre.rr_names and back.spec.rr_normaliser == "median"
    mean = Preprocessor(InputSpec(rr_features=True))
    assert mean.rr_names[2] == "pre/local300"
    assert (
        Preprocessor.from_contract(
            {**mean.contract(), "class_names": [], "inputs": [], "outputs": [], "output": ""}
        ).spec.rr_normaliser
        == "mean"
    )


def test_the_ratios_divide_by_the_median():
    samples = np.cumsum(np.r_[0, np.full(20, 100), np.full(5, 200), 60, 140])
    pre = Preprocessor(InputSpec(rr_features=True, rr_normaliser="median"))
    rr = pre.rr_intervals(samples, 100.0)
    got = pre.rr(rr)
    i = 26  # the premature beat: 0.6 s over the median of 26 intervals (1.0 s), not their mean (~1.16 s)
    np.testing.assert_allclose(got[i, 2], 0.6 / (1.0 + RR_EPS), rtol=1e-6)
    assert rr_intervals(samples, 100.0)[i, 3] > 1.1


def test_caches_keep_their_key_and_shards_are_refused():
    spec = InputSpec(fs=100, frame_size=512, rr_features=True)
    before = spec.model_dump(mode="json")
    del before["rr_history"], before["rr_normaliser"], before["template_on_time"]
    assert spec.key() == before
    assert InputSpec(rr_features=True, rr_normaliser="median").key()["rr_normaliser"] == "median"
    with pytest.raises(ConfigError, match=r"input\.rr_normaliser"):
        parse_config(
            {
                "name": "t",
                "task": "beat-3",
                "input": {"rr_features": True, "rr_normaliser": "median"},
                "model": {"arch": "cnn1"},
                "data": {"shards": "shards"},
            }
        )


def test_the_diagnosis_reads_where_232s_s_beats_sit(data_root, monkeypatch):
    """studies/rr_normaliser.py on record 232, whose S beats outnumber its N beats: over the median they sit
    near 1 (the median interval is an S beat's), over the mean well below, where the pool's S beats sit."""
    from pathlib import Path

    monkeypatch.setenv("HEARTZOO_DATA_DIR", str(data_root))
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "studies"))
    from rr_normaliser import where_s_sits

    got = where_s_sits("232")
    assert got["S"] > got["N"] > 0
    assert got["mean"]["S_median_ratio"] < 0.8 < 0.95 < got["median"]["S_median_ratio"]
    assert min(got["mean"]["auc"], got["median"]["auc"]) > 0.99
