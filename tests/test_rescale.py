"""LiteRT computes an int8 MUL's rescaling in float32, TFLM in double: export moves each MUL's output
scale to one where both give the same multiplier, so the two runtimes multiply alike again."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.export.rescale import agreeing_scale, runtimes_agree

# the output gate of aami-5-recurrent-lstm: sigmoid (1/256) x tanh (1/128) -> h at the converter's scale
GATE = (0.00390625, 0.0078125, 0.00771894)


def test_a_scale_the_runtimes_read_differently_is_moved_a_few_ulps():
    s1, s2, s_out = GATE
    assert not runtimes_agree(s1, s2, s_out)
    moved = agreeing_scale(s1, s2, s_out)
    assert runtimes_agree(s1, s2, moved)
    assert moved != np.float32(s_out) and abs(moved / np.float32(s_out) - 1) < 1e-4
    # one that agrees already stays
    assert agreeing_scale(s1, s2, moved) == moved


def test_every_int8_product_is_the_same_in_litert_and_tflm():
    import keras

    from heartzoo.export import run_litert, run_tflm, runtime_mismatch
    from heartzoo.export.convert import convert_int8
    from heartzoo.export.rescale import _mul_scales, agreeing_mul_scales, mul_agreement

    n = 256 * 256
    a, b = keras.Input((n,), name="ecg"), keras.Input((n,), name="rr")
    model = keras.Model([a, b], keras.layers.Multiply()([a, b]))
    rng = np.random.default_rng(0)
    calib = {"ecg": rng.uniform(-1, 1, (8, n)).astype("float32"), "rr": rng.uniform(-2, 1, (8, n)).astype("float32")}  # fmt: skip
    buf = convert_int8(model, calib)
    ((s1, s2, scale),) = _mul_scales(bytearray(buf))  # the model's one MUL: its scales, as views
    assert runtimes_agree(s1[0], s2[0], scale[0])

    # every pair of int8 inputs once: the first input runs through -128..127, the second steps once a lap
    values = np.arange(n)
    q = [(values % 256 - 128).astype(np.int8)[None], (values // 256 - 128).astype(np.int8)[None]]

    # the converter's own scale, moved one ulp at a time until the runtimes multiply some pair apart
    raw = bytearray(buf)
    ((_, _, view),) = _mul_scales(raw)
    for _ in range(200):
        view[0] = np.nextafter(view[0], np.float32(1))
        if not runtimes_agree(s1[0], s2[0], view[0]):
            differing, steps = runtime_mismatch(run_litert(bytes(raw), q), run_tflm(bytes(raw), q))
            if differing:
                break
    else:
        pytest.fail("no output scale near the converter's made the runtimes multiply a pair apart")
    assert steps == 1
    assert mul_agreement(bytes(raw)) == (1, 1) and mul_agreement(buf) == (1, 0)

    fixed = agreeing_mul_scales(bytes(raw))
    assert runtime_mismatch(run_litert(fixed, q), run_tflm(fixed, q)) == (0, 0)
    assert sum(x != y for x, y in zip(fixed, raw, strict=True)) <= 4  # the one float32 scale, nothing else
