"""LiteRT computes an int8 MUL's rescaling in float32, TFLM in double: export moves each MUL's output
scale to one where both give the same multiplier, so the two runtimes multiply alike again."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.export.rescale import HALF_FLOAT32_STEP, MAX_ULPS, agreeing_scale, product_error, runtimes_agree

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
    calib = {
        "ecg": rng.uniform(-1, 1, (8, n)).astype("float32"),
        "rr": rng.uniform(-2, 1, (8, n)).astype("float32"),
    }
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
    assert mul_agreement(bytes(raw)) == (1, 1, 0) and mul_agreement(buf) == (1, 0, 0)

    fixed = agreeing_mul_scales(bytes(raw))
    assert runtime_mismatch(run_litert(fixed, q), run_tflm(fixed, q)) == (0, 0)
    assert sum(x != y for x, y in zip(fixed, raw, strict=True)) <= 4  # the one float32 scale, nothing else


def _agreeing_within_reach(s1: float, s2: float, s_out: float) -> np.ndarray:
    """Every float32 within MAX_ULPS of `s_out` where the two runtimes' multipliers agree: the kernels'
    arithmetic written out again over all candidates at once, independent of the module's search."""
    bits = np.float32(s_out).view(np.int32) + np.arange(-MAX_ULPS, MAX_ULPS + 1, dtype=np.int32)
    cands = bits.view(np.float32)
    litert = (np.float32(np.float32(s1) * np.float32(s2)) / cands).astype(np.float64)  # float32 division
    tflm = float(np.float32(s1)) * float(np.float32(s2)) / cands.astype(np.float64)

    def q31(real):  # QuantizeMultiplier's 31-bit integer and shift
        m, e = np.frexp(real)
        return np.floor(m * 2.0**31 + 0.5), e

    (ql, el), (qt, et) = q31(litert), q31(tflm)
    return cands[(ql == qt) & (el == et)]


def test_no_output_scale_agrees_where_the_product_rounds_too_far():
    """`product_error` says which MULs no output scale can fix: beyond half a float32 step none within
    reach agrees, below it the search finds one."""
    rng = np.random.default_rng(1)
    fixable = unfixable = 0
    for _ in range(400):
        s1, s2, s_out = (np.float32(10 ** rng.uniform(lo, hi)) for lo, hi in ((-3, -1), (-3, 0), (-3, -1)))
        err = product_error(s1, s2, s_out)
        if err > HALF_FLOAT32_STEP + 0.5:
            unfixable += 1
            assert _agreeing_within_reach(s1, s2, s_out).size == 0, (s1, s2, s_out, err)
            assert agreeing_scale(s1, s2, s_out) == s_out
        elif err < HALF_FLOAT32_STEP - 0.5:
            fixable += 1
            moved = agreeing_scale(s1, s2, s_out)
            assert runtimes_agree(s1, s2, moved) and moved in _agreeing_within_reach(s1, s2, s_out)
    assert fixable > 100 and unfixable > 10  # both kinds occur among random scales
