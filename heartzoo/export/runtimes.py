"""The runtimes an int8 model is checked in: LiteRT (reference kernels, bit-exact with TFLM; optimized
kernels for speed) and the TensorFlow Lite Micro interpreter, with its measured arena and host latency."""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from ..errors import ExportError


@dataclass
class TensorSpec:
    """One input or output tensor of a .tflite: its shape, dtype and int8 quantization."""

    name: str
    shape: list[int]
    dtype: str
    scale: float
    zero_point: int


def litert_interpreter(buf: bytes, *, reference: bool = True):
    """A LiteRT interpreter of the model: reference kernels (bit-exact with TFLM) or the optimized ones."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if reference:
        it = Interpreter(model_content=buf, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    else:
        it = Interpreter(model_content=buf, num_threads=os.cpu_count() or 1)
    it.allocate_tensors()
    return it


def input_order(details: list[dict]) -> list[str]:
    """'ecg' / 'rr' for each model input, in the model's input order."""
    return ["rr" if re.search(r"(^|_)rr(:|_|$)", d["name"]) else "ecg" for d in details]


def io_specs(model) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """Input and output tensors of a .tflite (its bytes, or a LiteRT interpreter already built on it)."""
    it = litert_interpreter(model) if isinstance(model, bytes) else model

    def spec(d: dict, name: str) -> TensorSpec:
        scale, zp = d["quantization"]
        return TensorSpec(
            name, [int(s) for s in d["shape"]], np.dtype(d["dtype"]).name, float(scale), int(zp)
        )

    ins = it.get_input_details()
    return [spec(d, n) for d, n in zip(ins, input_order(ins), strict=True)], [
        spec(d, "probs") for d in it.get_output_details()
    ]


def tflite_ops(buf: bytes) -> list[str]:
    return sorted({op["op_name"] for op in litert_interpreter(buf)._get_ops_details()})


def quantize(x: np.ndarray, spec: TensorSpec) -> np.ndarray:
    return np.clip(np.round(x / spec.scale) + spec.zero_point, -128, 127).astype(np.int8)


def quantized_inputs(buf: bytes, inputs) -> list[list[np.ndarray]]:
    """Per model input (in model order), the int8 arrays for every example."""
    return quantize_inputs(io_specs(buf)[0], inputs)


def quantize_inputs(ins: list[TensorSpec], inputs) -> list[list[np.ndarray]]:
    """`quantized_inputs` for input specs already read (no interpreter built)."""
    out = []
    for spec in ins:
        raw = inputs[spec.name] if isinstance(inputs, dict) else inputs
        out.append(quantize(np.asarray(raw, np.float32), spec))
    return out


def run_litert(buf: bytes, q_inputs: list[np.ndarray], *, reference: bool = True) -> np.ndarray:
    """int8 outputs of every example in LiteRT: its reference kernels (bit-exact with TFLM) or, with
    `reference=False`, its optimized ones (many times faster; may differ from TFLM in the last step)."""
    return run_interpreter(litert_interpreter(buf, reference=reference), q_inputs)


def run_interpreter(it, q_inputs: list[np.ndarray]) -> np.ndarray:
    """int8 outputs of every example in a LiteRT interpreter, one example at a time (batch 1)."""
    ins, out_idx = it.get_input_details(), it.get_output_details()[0]["index"]
    n = len(q_inputs[0])
    res = np.empty((n, it.get_output_details()[0]["shape"][-1]), np.int8)
    for i in range(n):
        for d, arr in zip(ins, q_inputs, strict=True):
            it.set_tensor(d["index"], arr[i : i + 1])
        it.invoke()
        res[i] = it.get_tensor(out_idx)[0]
    return res


def _capture_stderr(fn):
    """(fn(), what C code wrote to stderr meanwhile): TFLM reports through the C stderr, not Python's."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            try:
                result, error = fn(), None
            except Exception as exc:
                result, error = None, exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode(errors="replace")
    if error is not None:
        error.captured = text  # type: ignore[attr-defined]
        raise error
    return result, text


def _tflm(buf: bytes):
    from tflite_micro.python.tflite_micro import runtime

    try:
        return _capture_stderr(
            lambda: runtime.Interpreter.from_bytes(buf, arena_size=max(len(buf) * 4, 1 << 20))
        )[0]
    except RuntimeError as exc:
        missing = re.findall(r"Didn't find op for builtin opcode '(\w+)'", getattr(exc, "captured", ""))
        what = f"it has no kernel for {', '.join(sorted(set(missing)))}" if missing else str(exc)
        raise ExportError(
            f"TensorFlow Lite Micro cannot run this model: {what} (model ops: {', '.join(tflite_ops(buf))})"
        ) from None


def run_tflm(buf: bytes, q_inputs: list[np.ndarray]) -> np.ndarray:
    tm = _tflm(buf)
    n = len(q_inputs[0])
    res = None
    for i in range(n):
        for j, arr in enumerate(q_inputs):
            tm.set_input(arr[i : i + 1], j)
        try:
            tm.invoke()
        except RuntimeError as exc:
            raise ExportError(f"TensorFlow Lite Micro failed to run the model: {exc}") from None
        out = tm.get_output(0)
        if res is None:
            res = np.empty((n, out.shape[-1]), np.int8)
        res[i] = out[0]
    return res


def tflm_smallest_arena(buf: bytes) -> int:
    """The tensor arena a firmware must give TFLM for the model: the allocation total TFLM records when
    it runs it (`print_allocations`), or, where the model does not start in that (TFLM's memory planner
    takes scratch the total leaves out: 720 B to 35 KB short, a GRU's the most), the smallest arena above
    it, in 16-byte steps, in which TFLM builds and runs it. Never probed below the total: there the
    Python runtime may crash rather than refuse."""
    from tflite_micro.python.tflite_micro import runtime

    tm = _tflm(buf)
    shapes = [(s.shape, s.dtype) for s in io_specs(buf)[0]]
    for j, (shape, dtype) in enumerate(shapes):
        tm.set_input(np.zeros(shape, dtype), j)
    tm.invoke()
    _, text = _capture_stderr(tm.print_allocations)
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    if not m:
        raise ExportError(f"could not read the TFLM arena size from: {text[:300]!r}")
    total = int(m.group(1))

    def runs(size: int) -> bool:
        try:
            tm = _capture_stderr(lambda: runtime.Interpreter.from_bytes(buf, arena_size=size))[0]
            for j, (shape, dtype) in enumerate(shapes):
                tm.set_input(np.zeros(shape, dtype), j)
            _capture_stderr(tm.invoke)
        except (RuntimeError, ValueError):
            return False
        return True

    if runs(total):
        return total
    lo, step = total, 1024
    while not runs(total + step):
        if step > 1 << 26:  # 64 MiB over the total: no arena will do, whatever TFLM says
            raise ExportError(f"TFLM does not start the model in {total + step:,} bytes of arena")
        lo, step = total + step, step * 2
    hi = total + step
    while hi - lo > 16:
        mid = lo + (hi - lo) // 32 * 16
        lo, hi = (lo, mid) if runs(mid) else (mid, hi)
    return hi


def tflm_arena_and_latency(buf: bytes, q_inputs: list[np.ndarray], repeats: int = 200) -> tuple[int, float]:
    """The arena TFLM runs the model in (`tflm_smallest_arena`), and host ms per inference: the fastest
    of five batches' means (the others are what else the machine was doing: single means of one model
    spread twofold), `repeats` runs in all, or fewer (at least 5) when they would take over 10 s."""
    arena = tflm_smallest_arena(buf)
    tm = _tflm(buf)
    for j, arr in enumerate(q_inputs):
        tm.set_input(arr[:1], j)
    tm.invoke()
    means = []
    start = time.perf_counter()
    for _ in range(5):
        t0, done = time.perf_counter(), 0
        while done < max(1, repeats // 5) and (done < 1 or time.perf_counter() - start < 10):
            tm.invoke()
            done += 1
        means.append((time.perf_counter() - t0) * 1000 / done)
    return arena, min(means)


def verification_frames(n_total: int, n: int) -> np.ndarray:
    """`n` frame indices spread evenly over the whole split (so every record is represented)."""
    n = min(n, n_total)
    return np.arange(0, n_total, max(1, n_total // n))[:n]


def runtime_mismatch(lite: np.ndarray, micro: np.ndarray) -> tuple[int, int]:
    """(frames whose LiteRT and TFLM outputs differ, largest difference in int8 steps)."""
    bad = int((lite != micro).any(axis=1).sum())
    return bad, int(np.abs(lite.astype(int) - micro.astype(int)).max()) if bad else 0


def dequantize_probs(q: np.ndarray, spec: TensorSpec) -> np.ndarray:
    return (q.astype(np.float32) - spec.zero_point) * spec.scale
