"""Int8 MUL output scales that LiteRT and TFLM turn into the same integer multiplier.

A quantized MUL rescales its integer product by s1 * s2 / s_out, a 31-bit fixed-point multiplier.
LiteRT's kernel computes that ratio in float32, TFLM's in double: the two multipliers usually differ in
their last bits (a few parts in 1e8), and a product whose rescaled value falls that close to a
rounding boundary comes out one int8 step apart (the output gate of aami-5-recurrent-lstm: 2 of 200
DS2 frames). Moving each MUL's output scale by a few float32 ulps, to the nearest one where both
computations give the same multiplier, makes the two runtimes agree; the search stops at MAX_ULPS
(5e-4 relative), far below an int8 step.

It cannot always succeed. LiteRT's multiplier is a float32 (24 significant bits) written in 31, so a
multiple of 2^7 of TFLM's units: the two agree only where TFLM's exact ratio lies within half a unit of
that float32. Moving s_out moves where the quotient falls between float32 values, so some scale puts it
there, unless LiteRT's rounding of the product s1 * s2 to float32 already throws the ratio off by more
than half a float32 step (64 units) at every s_out near it (`no_scale_agrees`). Then none agrees (the
GELUs of nin-encoder have such MULs), the converter's scale stays, and export's LiteRT-vs-TFLM check on
the verification frames judges the model.
"""

from __future__ import annotations

import math

import numpy as np

# float32 ulps tried on each side of the converter's scale
MAX_ULPS = 1 << 12
# half the step of a float32 multiplier, in the units of the 31-bit one: 2^(31 - 24) / 2
HALF_FLOAT32_STEP = 64.0


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: `real` = q * 2^(shift - 31), q a 31-bit integer (round half away)."""
    if real == 0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = math.floor(mantissa * (1 << 31) + 0.5)
    if q == 1 << 31:
        q, shift = q // 2, shift + 1
    return q, shift


def runtimes_agree(s1: float, s2: float, s_out: float) -> bool:
    """Whether LiteRT (float32 arithmetic) and TFLM (double) derive the same multiplier for these scales."""
    s1, s2, s_out = np.float32(s1), np.float32(s2), np.float32(s_out)
    litert = float(np.float32(np.float32(s1 * s2) / s_out))
    tflm = float(s1) * float(s2) / float(s_out)
    return quantize_multiplier(litert) == quantize_multiplier(tflm)


def product_error(s1: float, s2: float, s_out: float) -> float:
    """How far LiteRT's float32 product s1 * s2 throws the multiplier off TFLM's, in units of the 31-bit
    multiplier."""
    s1, s2, s_out = np.float32(s1), np.float32(s2), np.float32(s_out)
    exact = float(s1) * float(s2)  # two 24-bit significands: exact in double
    mantissa, _ = math.frexp(exact / float(s_out))
    return abs(exact - float(np.float32(s1 * s2))) / exact * mantissa * (1 << 31)


def no_scale_agrees(s1: float, s2: float, s_out: float) -> bool:
    """Whether the product's error alone puts the multipliers apart at every output scale near `s_out`:
    over half a float32 step, plus the half unit TFLM's own rounding may take back."""
    return product_error(s1, s2, s_out) > HALF_FLOAT32_STEP + 0.5


def agreeing_scale(s1: float, s2: float, s_out: float) -> np.float32:
    """The float32 nearest `s_out` whose multiplier both runtimes compute alike (`s_out` itself where
    none lies within MAX_ULPS)."""
    if no_scale_agrees(s1, s2, s_out):  # not worth the search
        return np.float32(s_out)
    up = down = np.float32(s_out)
    for _ in range(MAX_ULPS + 1):
        for s in (up, down):
            if runtimes_agree(s1, s2, s):
                return s
        up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(0))
    # none near enough: the scale stays, and export's LiteRT-vs-TFLM check still judges the model
    return np.float32(s_out)


def _int8_scale(sg, i: int, schema):
    """A writable view of tensor `i`'s one scale (a view of the flatbuffer's bytes), None unless int8."""
    t = sg.Tensors(i)
    q = t.Quantization()
    if t.Type() != schema.TensorType.INT8 or q is None or q.ScaleLength() != 1:
        return None
    return q.ScaleAsNumpy()


def _mul_scales(buf: bytearray):
    """(first input, second input, output) scale views of every int8 MUL, in execution order: writing
    an output view patches `buf`, and a later MUL reading that tensor sees the new scale."""
    from ai_edge_litert import schema_py_generated as schema  # flatbuffers and numpy only, not TF

    model = schema.Model.GetRootAs(buf, 0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    for g in range(model.SubgraphsLength()):
        sg = model.Subgraphs(g)
        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            code = codes[op.OpcodeIndex()]
            if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) != schema.BuiltinOperator.MUL:
                continue
            views = [_int8_scale(sg, int(i), schema) for i in (*op.InputsAsNumpy(), op.OutputsAsNumpy()[0])]
            if all(v is not None for v in views):
                yield views


def mul_agreement(buf: bytes) -> tuple[int, int, int]:
    """(int8 MULs in the model, those whose multiplier LiteRT and TFLM compute differently, those where
    no output scale could make them agree: `no_scale_agrees`)."""
    scales = [(a[0], b[0], o[0]) for a, b, o in _mul_scales(bytearray(buf))]
    return (
        len(scales),
        sum(not runtimes_agree(*s) for s in scales),
        sum(no_scale_agrees(*s) for s in scales),
    )


def agreeing_mul_scales(buf: bytes) -> bytes:
    """`buf` with every int8 MUL's output scale moved where LiteRT and TFLM compute the same multiplier;
    the same bytes where none needs to move. Patched in place: the converter writes each tensor's scale
    vector once, so no other tensor's scale changes with it."""
    out = bytearray(buf)
    for a, b, o in _mul_scales(out):
        o[0] = agreeing_scale(a[0], b[0], o[0])
    return bytes(out)
