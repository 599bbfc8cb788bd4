"""The training optimizer reads its scheduled learning rate once per step for the weight decay (Keras
reads it once per variable, which costs tracing time): the same numbers as Keras' own AdamW, bit for bit."""

from __future__ import annotations

import numpy as np

from heartzoo.config import parse_config


def _fit(optimizer, x, y, initial):
    import keras

    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)]
    )
    model.set_weights(initial)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return model.get_weights(), keras.ops.convert_to_numpy(optimizer.iterations)


def test_the_decay_read_once_per_step_is_keras_own_bit_for_bit():
    import keras

    from heartzoo.training.optimizer import optimizer_for

    tc = parse_config(
        {"name": "x", "task": "beat-3", "train": {"epochs": 3, "learning_rate": 0.01, "weight_decay": 0.05}}
    ).train
    steps = 4  # 64 rows in batches of 16; the warm-up is the first epoch's 4 steps
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 64), 3)
    keras.utils.set_random_seed(1)
    initial = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16), keras.layers.Dense(3)]
    ).get_weights()

    ours = optimizer_for(tc, steps)
    assert ours._apply_weight_decay.__name__ == "apply_weight_decay"  # the once-per-step decay is in place
    keras_own = keras.optimizers.AdamW.from_config(ours.get_config())
    assert type(keras_own) is type(ours) and keras_own.get_config() == ours.get_config()
    (w_ours, n_ours), (w_keras, n_keras) = (_fit(o, x, y, initial) for o in (ours, keras_own))
    assert n_ours == n_keras == 3 * steps
    assert any(not np.array_equal(a, b) for a, b in zip(w_ours, initial, strict=True))  # it trained
    for a, b in zip(w_ours, w_keras, strict=True):
        np.testing.assert_array_equal(a, b)
