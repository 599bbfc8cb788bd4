"""What teaches a beat model AAMI's S by timing and "not S" in atrial fibrillation (issue 46): premature
context (`augment.premature`), the allowed-set loss, unlabelled AF beats in the batch stream
(`data.af_beats`), and the config errors that keep them to tasks and losses where they mean something."""

from __future__ import annotations

import re

import numpy as np
import pytest

from heartzoo.errors import ConfigError


def test_premature_context_gives_normal_beats_s_timing_and_the_s_label():
    from heartzoo.data.augment import premature_context

    rng = np.random.default_rng(0)
    y = np.array([0] * 800 + [1] * 100 + [2] * 100)
    rr = np.ones((1000, 4), np.float32)
    early = np.full((5, 4), 0.6, np.float32)
    rr2, y2 = premature_context(rr, y, rng, 0.25, (0, 1), early)
    moved = np.flatnonzero(y2 != y)
    assert set(y[moved]) == {0} and set(y2[moved]) == {1}  # only N beats, all become S
    assert 0.2 < len(moved) / 800 < 0.3
    assert np.all(rr2[moved] == 0.6) and np.all(rr2[np.setdiff1d(np.arange(1000), moved)] == 1.0)
    assert np.all(rr == 1.0) and np.array_equal(y, np.array([0] * 800 + [1] * 100 + [2] * 100))  # copies


def test_the_allowed_set_loss_is_crossentropy_for_one_hot_rows_and_spares_the_allowed_classes():
    import keras

    from heartzoo.training.losses import allowed_set_crossentropy

    logits = np.array([[2.0, 0.5, -1.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]], np.float32)
    one_hot = np.eye(3, dtype=np.float32)[[0, 1, 2]]
    loss = allowed_set_crossentropy()
    ce = keras.losses.CategoricalCrossentropy(from_logits=True)
    assert float(loss(one_hot, logits)) == pytest.approx(float(ce(one_hot, logits)), rel=1e-6)
    p = np.exp(logits[1]) / np.exp(logits[1]).sum()
    not_s = np.array([[1.0, 0.0, 1.0]], np.float32)
    assert float(loss(not_s, logits[1:2])) == pytest.approx(-np.log(p[0] + p[2]), rel=1e-5)
    # it pushes S down and nothing else: the gradient on the allowed logits sums to the S probability
    import tensorflow as tf

    x = tf.Variable(logits[1:2])
    with tf.GradientTape() as tape:
        value = loss(not_s, x)
    g = tape.gradient(value, x).numpy()[0]
    assert g[1] == pytest.approx(p[1], rel=1e-5) and g[0] < 0 and g[2] < 0


def test_the_tfmot_stages_fine_tune_on_the_loss_of_the_config():
    """Magnitude pruning and QAT compiled plain cross-entropy: on an AF beat's "not S" row that is
    -log p(N) - log p(V), which pulls N and V up alike, where the first stage pulled only S down."""
    import tf_keras

    from heartzoo.compress.legacy import compile_logits
    from heartzoo.training.losses import loss_of

    logits = np.array([[0.0, 3.0, 0.0], [2.0, 0.5, -1.0]], np.float32)
    targets = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], np.float32)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    def compiled_loss(config):  # a tf_keras model that passes the logits through, compiled as the stages do
        model = tf_keras.Sequential(
            [tf_keras.layers.Dense(3, use_bias=False, kernel_initializer="identity", input_shape=(3,))]
        )
        compile_logits(model, 1e-3, loss_of(config, tf_keras))
        return model.evaluate(logits, targets, batch_size=2, verbose=0)

    allowed = -np.log([p[0, 0] + p[0, 2], p[1, 0]])
    af = _config(data={"af_beats": {}})
    assert compiled_loss(af) == pytest.approx(allowed.mean(), rel=1e-5)
    # and each is the loss the first stage trained on (Keras 3)
    for config in (af, _config(train={"loss": {"name": "focal", "gamma": 2.0, "label_smoothing": 0.1}})):
        first = float(loss_of(config)(targets, logits))
        assert compiled_loss(config) == pytest.approx(first, rel=1e-5)


def _config(**changes):
    from heartzoo.config import parse_config

    base = {"name": "levers", "task": "beat-3", "model": {"arch": "cnn1"}, "input": {"rr_features": True}}
    return parse_config({**base, **changes})


def test_af_beats_take_their_share_of_each_batch_with_not_s_targets(data_root, shared_cache):
    from heartzoo.data.pipeline import Negatives, batch_stream
    from heartzoo.data.prepare import load_task_split
    from heartzoo.preprocess import Preprocessor

    config = _config()
    ws, y = load_task_split(config, "val", cache_dir=shared_cache)
    pre = Preprocessor.of(config)
    marker = np.full((7, ws.x.shape[1]), 9.0, np.float32)
    neg = Negatives(
        marker, np.full((7, 4), 0.5, np.float32), None, 0.2, np.array([1.0, 0.0, 1.0], np.float32)
    )
    stream = batch_stream(
        ws,
        y,
        3,
        batch_size=500,
        balance="sampling",
        power=0.5,
        augmenter=None,
        pre=pre,
        seed=0,
        negatives=neg,
        premature=(0.3, (0, 1)),
    )
    inputs, targets, weights = next(stream)
    is_neg = inputs["ecg"][:, 0, 0, 0] == 9.0
    assert 0.14 < is_neg.mean() < 0.26
    assert np.all(targets[is_neg] == [1.0, 0.0, 1.0]) and np.all(inputs["rr"][is_neg] == 0.5)
    assert np.all(targets[~is_neg].sum(axis=1) == 1.0) and np.all(weights == 1.0)


def test_the_levers_are_refused_where_they_mean_nothing():
    with pytest.raises(
        ConfigError, match=re.escape("augment.premature needs a beat task that holds N and S beats apart")
    ):
        _config(task="af-4", input={}, augment={"premature": 0.1}, model={"arch": "cnn1"})
    with pytest.raises(ConfigError, match=re.escape("it needs input.rr_features: true")):
        _config(input={}, augment={"premature": 0.1})
    with pytest.raises(
        ConfigError, match=re.escape("data.af_beats trains with the allowed-set cross-entropy")
    ):
        _config(data={"af_beats": {}}, train={"loss": {"name": "focal"}})
    # beat-2's ectopic class holds S and V: "not S" is no label there (an AF beat may be a PVC)
    with pytest.raises(
        ConfigError,
        match=re.escape("field 'data.af_beats': they are 'not S'; beat-2 has no class of S beats alone"),
    ):
        _config(task="beat-2", data={"af_beats": {}})
    assert _config(task="aami-5", data={"af_beats": {}}).data.af_beats.share == 0.1
    assert _config(task="beat-2", augment={"premature": 0.1}).augment.premature == 0.1  # N -> ectopic holds


@pytest.mark.slow
def test_af_beats_come_from_the_training_split_less_the_selection_draw_and_carry_their_licences(
    data_root, shared_cache
):
    from heartzoo.data.databases import get_database, licences_of
    from heartzoo.preprocess import InputSpec
    from heartzoo.training.af_beats import cinc_validation, load_af_beats

    beats = load_af_beats(["cinc2017", "aftdb"], InputSpec(rr_features=True), cache_dir=shared_cache)
    records = {str(r) for r in np.unique(beats["record"])}
    cinc = {r.removeprefix("cinc2017:") for r in records if r.startswith("cinc2017:")}
    db = get_database("cinc2017")
    labels = db.labels()
    assert cinc and all(labels[r] == "A" for r in cinc)
    assert not cinc & set(db.splits["test"]) and not cinc & set(cinc_validation())
    assert len({r for r in records if r.startswith("aftdb:")}) == 80
    assert beats["x"].shape[1] == 512 and beats["rr"].shape[1] == 5 and len(beats["x"]) == len(beats["rr"])
    # in atrial fibrillation the rhythm is irregular: the beats' RR irregularity is high
    assert np.median(beats["rr"][:, 4]) > 0.1
    names = [lic.database for lic in licences_of(_config(data={"af_beats": {}}))]
    assert names == ["mitdb", "cinc2017", "aftdb"]
