"""`model.params.rr_head`: a hidden layer that joins the RR features to the waveform's before the
classifier (issue 46: timing that the convolutions' shape evidence cannot simply outvote). It builds from
a config, survives channel pruning and the tfmot twin, and runs the same in LiteRT and TFLM in int8."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.errors import ConfigError


def _config(rr_features=True, **params):
    return parse_config(
        {
            "name": "t",
            "task": "beat-3",
            "input": {"frame_size": 128, "rr_features": rr_features},
            "model": {"arch": "cnn3", "params": params},
        }
    )


def test_the_head_joins_timing_and_shape_through_a_hidden_layer():
    from heartzoo.training.train import build_from_config

    plain = build_from_config(_config())
    joint = build_from_config(_config(rr_head=24))
    assert "rr_joint" not in [
        layer.name for layer in plain.layers
    ]  # models published before it: as they were
    hidden = joint.get_layer("rr_joint")
    assert hidden.units == 24 and hidden.get_config()["activation"] == "relu"
    width = plain.get_layer("features").output.shape[-1]
    assert joint.get_layer("logits").kernel.shape == (24, 3)
    assert hidden.kernel.shape == (width, 24)  # the pooled waveform features and the RR embedding


def test_a_head_without_rr_features_and_a_typo_are_refused():
    from heartzoo.training.train import build_from_config

    with pytest.raises(ConfigError, match=r"model\.params.*rr_head .*takes none"):
        build_from_config(_config(rr_features=False, rr_head=8))
    with pytest.raises(ConfigError, match=r"field 'model.params': unknown parameter\(s\) 'rr_haed'"):
        _config(rr_haed=8)


@pytest.mark.slow
def test_the_head_is_pruned_converted_and_runs_bit_exact_in_tflm():
    from heartzoo.compress.legacy import tfmot_and_tf_keras
    from heartzoo.compress.prune_channels import thin_model
    from heartzoo.export.convert import convert_int8, firmware_model
    from heartzoo.export.runtimes import quantized_inputs, run_litert, run_tflm, runtime_mismatch
    from heartzoo.models import build_model
    from heartzoo.training.train import build_from_config

    config = _config(rr_head=16)
    model = build_from_config(config)
    rng = np.random.default_rng(0)
    x = {
        "ecg": rng.standard_normal((32, 1, 128, 1)).astype("float32"),
        "rr": rng.uniform(0.5, 1.5, (32, 4)).astype("float32"),
    }
    thin, params = thin_model(model, "cnn3", {"rr_head": 16}, (1, 128, 1), 3, 4, 0.5, "bn_scale")
    assert (
        thin.get_layer("rr_joint").get_weights()[0].shape
        == model.get_layer("rr_joint").get_weights()[0].shape
    )
    np.testing.assert_array_equal(
        thin.get_layer("rr_joint").get_weights()[0], model.get_layer("rr_joint").get_weights()[0]
    )
    _, tf_keras = tfmot_and_tf_keras()
    twin = build_model("cnn3", (1, 128, 1), 3, ks=tf_keras, rr_inputs=4, **params)
    twin.set_weights(thin.get_weights())  # the magnitude-pruning and QAT stages' twin takes the weights
    buf = convert_int8(firmware_model(thin, config), x)
    q = quantized_inputs(buf, x)
    assert runtime_mismatch(run_litert(buf, q), run_tflm(buf, q)) == (0, 0)
