"""Every registered architecture builds, reports parameters and MACs, and learns on real DS1 frames."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import InputSpec
from heartzoo.data.prepare import load_windows
from heartzoo.models import build_model, describe, get_architecture, list_architectures
from heartzoo.tasks import get_task

ARCHS = list_architectures()


def test_registry_lists_every_family():
    assert {"efficientnetv2-xs", "efficientnetv2-sm", "efficientnetv2-md"} <= set(ARCHS)
    assert {f"cnn{i}" for i in range(1, 6)} <= set(ARCHS)
    assert {"baseline-cnn", "enhanced-cnn", "dual-path-resnet", "nin-encoder"} <= set(ARCHS)
    assert {"recurrent-lstm", "recurrent-gru"} <= set(ARCHS)


def test_a_builder_that_breaks_the_contract_is_named(monkeypatch):
    from heartzoo.errors import ConfigError
    from heartzoo.models import registry

    def headless(input_shape, num_classes, *, ks):
        inp = ks.Input(input_shape)
        return ks.Model(inp, ks.layers.Dense(num_classes, name="logits")(ks.layers.Flatten()(inp)))

    monkeypatch.setitem(
        registry._REGISTRY, "headless", registry.Architecture("headless", headless, "test", "")
    )
    with pytest.raises(ConfigError, match="architecture 'headless': its builder's last layer is 'logits'"):
        build_model("headless", (1, 64, 1), 3, rr_inputs=4)


def test_unknown_names_and_parameters_are_clear():
    with pytest.raises(
        KeyError, match=r"unknown architecture 'enhanced_cnn' \(did you mean 'enhanced-cnn'\?\)"
    ):
        get_architecture("enhanced_cnn")
    with pytest.raises(TypeError, match=r"cnn3: unknown parameter\(s\) filterz; allowed: .*filters"):
        build_model("cnn3", filterz=3)


def test_macs_counted_by_hand():
    import keras

    inp = keras.Input((1, 16, 2))
    x = keras.layers.Conv2D(4, (1, 3), padding="same")(inp)  # 16 steps * 4 out * 3 taps * 2 in = 384
    x = keras.layers.DepthwiseConv2D((1, 5), padding="same")(x)  # 16 * 4 channels * 5 taps = 320
    x = keras.layers.Conv2D(6, (1, 3), strides=(1, 2), padding="same")(x)  # 8 * 6 * 3 * 4 = 576
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(3)(x)  # 6 * 3 = 18
    info = describe(keras.Model(inp, out))
    assert info["macs"] == 384 + 320 + 576 + 18
    assert info["params"] == (3 * 2 * 4 + 4) + (5 * 4 + 4) + (3 * 4 * 6 + 6) + (6 * 3 + 3)


def test_recurrent_macs_by_hand():
    model = build_model("recurrent-gru", (1, 64, 1), 3, units=8, frontend=4, downsample=4)
    # frontend conv: 16 steps * 4 filters * 7 taps * 1 in = 448; GRU: 16 steps * 3 gates * (4*8 + 8*8);
    # dense 8 * 3
    assert describe(model)["macs"] == 448 + 16 * 3 * (4 * 8 + 8 * 8) + 24


@pytest.mark.parametrize("name", ARCHS)
def test_builds_with_params_and_macs(name):
    model = build_model(name, (1, 512, 1), 3)
    assert model.output_shape == (None, 3)
    info = describe(model)
    assert info["params"] > 100 and info["macs"] > info["params"] // 2  # a sub-1k model fits a wearable too
    assert info["trainable_params"] <= info["params"]
    # the contract the RR features and distillation read: the logits from a Dense named head_logits
    with_rr = build_model(name, (1, 512, 1), 3, rr_inputs=4)
    assert model.layers[-1].name == "head_logits" and with_rr.output_shape == (None, 3)
    assert [tuple(i.shape) for i in with_rr.inputs] == [(None, 1, 512, 1), (None, 4)]


def test_resnet_compact_strides_repeat_a_block_at_one_resolution():
    deep = build_model("resnet-compact", (1, 512, 1), 4, filters=8, scales=(1, 1, 2, 2), strides=(2, 1, 2, 1))
    plain = build_model("resnet-compact", (1, 512, 1), 4, filters=8, scales=(1, 1, 2, 2))
    # stem /2, then /2 twice instead of four times: the last block sees 64 steps, not 16
    assert deep.get_layer("res3_out").output.shape[2] == 64
    assert plain.get_layer("res3_out").output.shape[2] == 16
    assert describe(deep)["macs"] > describe(plain)["macs"]
    with pytest.raises(ValueError, match=r"strides needs one stride per block \(4\), got 3"):
        build_model("resnet-compact", (1, 512, 1), 4, scales=(1, 1, 2, 2), strides=(2, 1, 2))


def test_sizes_are_ordered():
    macs = [describe(build_model(f"efficientnetv2-{s}"))["macs"] for s in ("xs", "sm", "md")]
    assert macs == sorted(macs) and len(set(macs)) == 3
    params = [describe(build_model(f"cnn{i}"))["params"] for i in range(1, 6)]
    assert params == sorted(params)


@pytest.fixture(scope="module")
def ds1_batch(data_root, shared_cache):
    """64 real DS1 frames, N, S and V mixed (records 101, 119 and 209)."""
    ws = load_windows(["101", "119", "209"], InputSpec(), data_dir=data_root, cache_dir=shared_cache)
    kept, y = ws.for_task(get_task("beat-3"))
    rng = np.random.default_rng(0)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 22 if c else 20, replace=False) for c in range(3)]
    )
    return kept.x[idx][:, None, :, None], y[idx]


@pytest.mark.slow
@pytest.mark.parametrize("name", ARCHS)
def test_loss_falls_on_real_frames(name, ds1_batch):
    import keras

    keras.utils.set_random_seed(0)
    x, y = ds1_batch
    model = build_model(name, (1, 512, 1), 3)
    # A few steps run eagerly: tracing the step would cost more than they do (`heartzoo train`'s graph is
    # tested elsewhere). Recurrent models stay in a graph, where their time loop is not Python's, and
    # learn more slowly from a single batch: they get more steps, not a looser bound.
    recurrent = name.startswith("recurrent")
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
        run_eagerly=not recurrent,
    )
    # Training-mode loss: batch-norm moving averages need far more than a few steps to settle.
    epochs = 25 if recurrent else 5
    loss = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0).history["loss"]
    assert np.isfinite(loss).all()
    assert loss[-1] < 0.9 * loss[0], loss  # an untrained 3-class model sits at ln 3 = 1.10
