"""The flash bill: a published .tflite shrunk keeps its operators, weights and quantization, runs
bit-identically in LiteRT (reference and optimized kernels) and TFLM, and still names its inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from heartzoo.export import (
    io_specs,
    quantize_inputs,
    run_litert,
    run_tflm,
    shrink_report,
    shrink_tflite,
    tflm_arena_and_latency,
)
from heartzoo.export.shrink import _key, _read

ZOO = Path(__file__).resolve().parents[1] / "zoo"
# three op sets: the small student CNN, EfficientNetV2 (HARD_SWISH, MEAN, MUL), the unrolled GRU
MODELS = [
    "beat-3/beat-3-cnn3-student",
    "aami-5/aami-5-efficientnetv2-sm",
    "beat-3/beat-3-recurrent-gru",
]


def frames(buf: bytes, n: int = 300, seed: int = 0) -> list[np.ndarray]:
    """Per input, n int8 frames: half uniform over all int8 values, half z-scored-like N(0, 1) floats
    quantized as the model's input spec says."""
    ins, _ = io_specs(buf)
    rng = np.random.default_rng(seed)
    normal = quantize_inputs(ins, {s.name: rng.standard_normal((n - n // 2, *s.shape[1:])) for s in ins})
    return [
        np.concatenate([rng.integers(-128, 128, (n // 2, *s.shape[1:]), dtype=np.int8), q])
        for s, q in zip(ins, normal, strict=True)
    ]


@pytest.fixture(scope="module", params=MODELS, ids=lambda p: p.split("/")[1])
def pair(request):
    buf = (ZOO / request.param / "v1" / "model.tflite").read_bytes()
    return buf, shrink_tflite(buf)


def test_shrunk_model_is_smaller_and_bit_identical(pair):
    buf, small = pair
    print(f"\n{len(buf):,} B -> {len(small):,} B ({1 - len(small) / len(buf):.1%} less)")
    assert len(small) < 0.9 * len(buf)
    assert io_specs(small) == io_specs(buf)  # names (ecg, rr), order, shapes, int8 scales
    assert [s.name for s in io_specs(small)[0]] in (["ecg", "rr"], ["rr", "ecg"])
    q = frames(buf)
    ref = run_litert(buf, q)
    assert len(np.unique(ref, axis=0)) > 10  # outputs that can tell a wrong model apart
    np.testing.assert_array_equal(run_litert(small, q), ref)
    np.testing.assert_array_equal(run_tflm(small, q), run_tflm(buf, q))
    np.testing.assert_array_equal(run_tflm(small, q), ref)
    few = [a[:50] for a in q]  # LiteRT's optimized kernels (XNNPACK) load it too
    np.testing.assert_array_equal(
        run_litert(small, few, reference=False), run_litert(buf, few, reference=False)
    )
    arena, ms = tflm_arena_and_latency(small, [a[:1] for a in q], repeats=5)
    assert arena == tflm_arena_and_latency(buf, [a[:1] for a in q], repeats=5)[0] and ms > 0


def test_weights_quantization_and_operators_are_unchanged(pair):
    buf, small = pair
    before, after = _read(buf), _read(small)
    assert after.metadata is None and after.signatureDefs is None and after.description is None
    (sg0,), (sg1,) = before.subgraphs, after.subgraphs
    inputs = {sg1.tensors[i].name for i in sg1.inputs}
    assert inputs <= {b"ecg", b"rr"} and {t.name for t in sg1.tensors} == inputs | {None}
    for t0, t1 in zip(sg0.tensors, sg1.tensors, strict=True):
        assert (t0.type, t0.shape.tolist()) == (t1.type, t1.shape.tolist())
        d0, d1 = before.buffers[t0.buffer].data, after.buffers[t1.buffer].data
        assert (b"" if d0 is None else d0.tobytes()) == (b"" if d1 is None else d1.tobytes())
        if t0.quantization is not None and t0.quantization.scale is not None:
            assert _key(t0.quantization) == _key(t1.quantization)  # scales, zero points, axis
    assert _key(before.operatorCodes) == _key(after.operatorCodes)
    assert _key(sg0.operators) == _key(sg1.operators)  # opcodes, tensor indices, options


def test_shrinking_twice_changes_nothing(pair):
    _, small = pair
    assert shrink_tflite(small) == small


def test_report_adds_up(pair):
    buf, small = pair
    r = shrink_report(buf)
    print("\n" + json.dumps(r))
    assert r["original_bytes"] == len(buf) and r["shrunk_bytes"] == len(small)
    parts = [v for k, v in r.items() if k not in ("original_bytes", "shrunk_bytes")]
    assert sum(parts) == len(buf) - len(small)
    assert r["repack"] == 0  # Python's packer lays the converter's model out in the same bytes
    assert r["tensor_names"] > 1000 and r["metadata"] > 0 and r["shared_vectors_and_tables"] > 1000


def test_not_a_tflite_is_refused():
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        shrink_tflite(b"\0" * 64)


def test_export_publishes_the_shrunk_model(small_zoo):
    # export.shrink is on by default: the published file is a fixed point of shrinking, and metrics.json
    # (and so the C array) counts its bytes
    vdir = small_zoo / "beat-3" / "small-cnn2" / "v1"
    buf = (vdir / "model.tflite").read_bytes()
    assert shrink_tflite(buf) == buf and _read(buf).signatureDefs is None
    assert json.loads((vdir / "metrics.json").read_text())["tflite_bytes"] == len(buf)
    config = json.loads((vdir / "configuration.json").read_text())["config"]
    assert config["export"]["shrink"] is True
