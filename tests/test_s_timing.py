"""`model.params.s_timing`: the odds of S against N read from the RR features alone (issue 46: AAMI's S is
defined by origin and timing, and record 232's premature beats are conducted with the patient's own
bundle-branch block). The odds must not move with the waveform; the head must survive channel pruning,
the tfmot twin and int8, bit-exact in TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.errors import ConfigError


def _config(task="beat-3", rr_features=True, **params):
    return parse_config(
        {
            "name": "t",
            "task": task,
            "input": {"frame_size": 128, "rr_features": rr_features},
            "model": {"arch": "cnn3", "params": params},
        }
    )


def _inputs(rng, n=32):
    return {
        "ecg": rng.standard_normal((n, 1, 128, 1)).astype("float32"),
        "rr": rng.uniform(0.5, 1.5, (n, 4)).astype("float32"),
    }


def _perturbed(model, rng):
    # away from the initial weights, so a shape that reached the odds would show
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(
                [w + 0.3 * rng.standard_normal(w.shape).astype(w.dtype) for w in layer.get_weights()]
            )


@pytest.mark.parametrize("task", ["beat-3", "aami-5"])
def test_the_odds_of_s_against_n_follow_the_timing_alone(task):
    from heartzoo.training.train import build_from_config

    rng = np.random.default_rng(0)
    model = build_from_config(_config(task, s_timing=8))
    _perturbed(model, rng)
    x = _inputs(rng)
    other_shape = {**x, "ecg": rng.standard_normal(x["ecg"].shape).astype("float32")}
    other_timing = {**x, "rr": rng.uniform(0.5, 1.5, x["rr"].shape).astype("float32")}
    a, b, c = (model.predict(v, verbose=0) for v in (x, other_shape, other_timing))
    assert a.shape[1] == (3 if task == "beat-3" else 5)
    np.testing.assert_allclose(a[:, 1] - a[:, 0], b[:, 1] - b[:, 0], atol=1e-4)
    assert np.abs((a[:, 1] - a[:, 0]) - (c[:, 1] - c[:, 0])).max() > 1e-3  # the timing does move them
    assert np.abs(a[:, 2:] - b[:, 2:]).max() > 1e-3  # and the shape still moves V (and F, Q)


def test_a_task_without_n_and_s_and_a_model_without_rr_features_are_refused():
    from heartzoo.training.train import build_from_config

    with pytest.raises(ConfigError, match=r"model\.params\.s_timing.*task beat-2 has no such classes"):
        _config("beat-2", s_timing=8)
    with pytest.raises(ConfigError, match=r"model\.params.*s_timing .*takes none"):
        build_from_config(_config(rr_features=False, s_timing=8))


@pytest.mark.slow
def test_the_timing_branch_is_pruned_converted_and_runs_bit_exact_in_tflm():
    from heartzoo.compress.legacy import tfmot_and_tf_keras
    from heartzoo.compress.prune_channels import thin_model
    from heartzoo.export.convert import convert_int8, firmware_model
    from heartzoo.export.runtimes import quantized_inputs, run_litert, run_tflm, runtime_mismatch
    from heartzoo.models import build_model
    from heartzoo.training.train import build_from_config

    config = _config(s_timing=8)
    model = build_from_config(config)
    rng = np.random.default_rng(1)
    _perturbed(model, rng)
    x = _inputs(rng)
    thin, params = thin_model(model, "cnn3", {"s_timing": 8}, (1, 128, 1), 3, 4, 0.5, "bn_scale")
    for name in ("timing_hidden", "timing_odds"):  # the RR branch is kept whole
        for w, v in zip(thin.get_layer(name).get_weights(), model.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(w, v)
    _, tf_keras = tfmot_and_tf_keras()
    twin = build_model("cnn3", (1, 128, 1), 3, ks=tf_keras, rr_inputs=4, **params)
    twin.set_weights(thin.get_weights())  # the magnitude-pruning and QAT stages' twin takes the weights
    np.testing.assert_allclose(twin.predict(x, verbose=0), thin.predict(x, verbose=0), atol=1e-4)
    buf = convert_int8(firmware_model(thin, config), x)
    q = quantized_inputs(buf, x)
    assert runtime_mismatch(run_litert(buf, q), run_tflm(buf, q)) == (0, 0)
