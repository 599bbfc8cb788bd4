"""Microcontroller export: a fixed-batch int8 TFLite model, verified in LiteRT (reference kernels) and in
the TensorFlow Lite Micro interpreter, the configuration contract, and (on demand) a C array for firmware.

Every check here can fail the export: ops TFLM lacks, LiteRT and TFLM disagreeing on any output, or an
int8 model whose macro-F1 falls further below the float model's than the configured bound.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import HeartzooConfig
from .errors import HeartzooError
from .tasks import get_task


class ExportError(HeartzooError):
    """An export that must not be published: the message says which check failed and by how much."""


@dataclass
class TensorSpec:
    name: str
    shape: list[int]
    dtype: str
    scale: float
    zero_point: int


def microcontroller_layers(model):
    """The same function in layers whose int8 kernels TFLM has and computes like LiteRT's reference.

    - Dense -> 1x1 Conv2D (same weights, same MACs): TFLite's reference FULLY_CONNECTED kernel and
      TFLM's differ by one int8 step on rare inputs (seen on 2 of 1,000 DS2 frames), while their CONV_2D
      kernels agree bit for bit.
    - GELU -> x * sigmoid(1.5958 (x + 0.044715 x^3)), the tanh form of GELU written with LOGISTIC and
      MUL (within 1e-3 of the erf form the model trained with): TFLM has no GELU kernel.
    - GRU -> the same recurrence written out step by step with 1x1 convolutions (the input projection
      of all steps is one convolution): the int8 calibrator crashes on the recurrent loop, and an
      unrolled Keras GRU would bring back FULLY_CONNECTED. LSTM -> the layer unrolled.
    """
    import keras

    class DenseAsConv(keras.layers.Layer):
        def __init__(self, dense, **kw):
            super().__init__(name=f"{dense.name}_as_conv", **kw)
            self.dense = dense
            self.conv = keras.layers.Conv2D(
                dense.units, 1, activation=dense.activation, use_bias=dense.use_bias, name=f"{dense.name}_1x1"
            )

        def build(self, input_shape):
            self.conv.build((None, 1, 1, input_shape[-1]))
            kernel, *rest = self.dense.get_weights()
            self.conv.set_weights([kernel.reshape(1, 1, *kernel.shape), *rest])

        def call(self, x):
            y = self.conv(keras.ops.reshape(x, (-1, 1, 1, x.shape[-1])))
            return keras.ops.reshape(y, (-1, self.dense.units))

    class SigmoidGelu(keras.layers.Layer):
        def call(self, x):
            # sigmoid(2z) = (1 + tanh z) / 2; no pattern of the converter turns this back into GELU
            return x * keras.ops.sigmoid(1.5957691 * (x + 0.044715 * x * x * x))

    class GruAsConv(keras.layers.Layer):
        def __init__(self, gru, **kw):
            super().__init__(name=f"{gru.name}_as_conv", **kw)
            if not gru.reset_after or gru.go_backwards or gru.return_sequences:
                raise ExportError(f"{gru.name}: only a forward GRU with reset_after=True can be exported")
            self.units = gru.units
            self.act, self.gate = gru.cell.activation, gru.cell.recurrent_activation
            self.kernel, self.recurrent, self.bias = (np.asarray(w) for w in gru.get_weights())

        def call(self, x, mask=None, training=None):  # the GRU's signature; no mask, no dropout here
            ops, u = keras.ops, self.units
            # (B, T, in) -> gates' input part of every step: (B, 1, T, 3u)
            xp = ops.conv(ops.expand_dims(x, 1), self.kernel[None, None]) + self.bias[0]
            h = ops.zeros_like(xp[:, :, :1, :u])
            for t in range(x.shape[1]):
                xt = xp[:, :, t : t + 1, :]
                hp = ops.conv(h, self.recurrent[None, None]) + self.bias[1]
                z = self.gate(xt[..., :u] + hp[..., :u])
                r = self.gate(xt[..., u : 2 * u] + hp[..., u : 2 * u])
                h = z * h + (1 - z) * self.act(xt[..., 2 * u :] + r * hp[..., 2 * u :])
            return ops.reshape(h, (-1, u))

    unrolled = []

    def swap(layer):
        if isinstance(layer, keras.layers.Dense):
            return DenseAsConv(layer)
        if isinstance(layer, keras.layers.Activation) and getattr(layer.activation, "__name__", "") == "gelu":
            return SigmoidGelu(name=layer.name)
        if isinstance(layer, keras.layers.GRU):
            return GruAsConv(layer)
        if isinstance(layer, keras.layers.LSTM):
            unrolled.append((layer, type(layer).from_config({**layer.get_config(), "unroll": True})))
            return unrolled[-1][1]
        return layer

    # recursive: the members of a seed ensemble are nested models, their layers are swapped too
    clone = keras.models.clone_model(model, clone_function=swap, recursive=True)
    for old, new in unrolled:
        new.set_weights(old.get_weights())
    return clone


def firmware_model(model, config: HeartzooConfig):
    """The model with a fixed batch of 1 (no SHAPE/PACK ops in the graph), in layers TFLM runs
    (`microcontroller_layers`), and softmax probabilities out."""
    import keras

    model = microcontroller_layers(model)
    spec = config.input
    ecg = keras.Input((1, spec.frame_size, spec.channels), batch_size=1, name="ecg")
    rr_features = bool(config.model and config.model.rr_features)
    if rr_features:
        rr = keras.Input((4,), batch_size=1, name="rr")
        inputs: Any = {"ecg": ecg, "rr": rr}
        logits = model({"ecg": ecg, "rr": rr})
    else:
        inputs = ecg
        logits = model(ecg)
    probs = keras.layers.Softmax(name="probs")(logits)
    return keras.Model(inputs, probs, name=f"{model.name}_firmware")


def calibration_inputs(config: HeartzooConfig, *, n: int = 600, seed: int = 0, cache_dir=None, classes=None):
    """A small class-stratified calibration set from the training records (DS1, never DS2).

    `classes` restricts it to some task classes (the tests use one class to show what a bad calibration
    set does to the int8 model).
    """
    from .data.pipeline import model_inputs
    from .train import load_task_split

    ws, y = load_task_split(config, "train", cache_dir=cache_dir)
    rng = np.random.default_rng(seed)
    wanted = list(range(get_task(config.task).num_classes)) if classes is None else list(classes)
    per = max(1, n // len(wanted))
    idx = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(y == c), min(per, int((y == c).sum())), replace=False) for c in wanted]
        )
    )
    return model_inputs(ws.subset(idx), bool(config.model and config.model.rr_features))


def calibration_source(leaky: bool) -> str:
    """Where `calibration_inputs` drew its frames: the training split of the run's protocol."""
    if leaky:
        return "train (LEAKY random-beat split: beats of every record)"
    return "train (DS1 less validation patients)"


def _split_inputs(inputs, i: int) -> list[np.ndarray]:
    if isinstance(inputs, dict):
        return [inputs["ecg"][i : i + 1], inputs["rr"][i : i + 1]]
    return [inputs[i : i + 1]]


def _n(inputs) -> int:
    return len(inputs["ecg"]) if isinstance(inputs, dict) else len(inputs)


def calibrated_int8(model, config: HeartzooConfig, inputs) -> bytes:
    """A per-patient firmware model: the int8 .tflite of the copy calibrated on `inputs` (one patient's
    unlabelled beats, `heartzoo.adapt`), whose activation ranges are drawn from the same beats."""
    from .adapt import calibrated_copy

    return convert_int8(firmware_model(calibrated_copy(model, inputs), config), inputs)


def convert_int8(fw_model, calibration) -> bytes:
    """Full-integer post-training quantization: int8 ops only, int8 input and output."""
    import tensorflow as tf

    n = _n(calibration)

    def representative():
        for i in range(n):
            parts = _split_inputs(calibration, i)
            if isinstance(calibration, dict):
                yield {"ecg": parts[0], "rr": parts[1]}
            else:
                yield [parts[0]]

    conv = tf.lite.TFLiteConverter.from_keras_model(fw_model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    try:
        return bytes(conv.convert())
    except Exception as exc:  # the converter raises ConverterError with the op that has no int8 kernel
        raise ExportError(f"int8 conversion failed (an op without a built-in int8 kernel?): {exc}") from None


def litert_interpreter(buf: bytes, *, reference: bool = True):
    """A LiteRT interpreter of the model: reference kernels (bit-exact with TFLM) or the optimized ones."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if reference:
        it = Interpreter(model_content=buf, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    else:
        it = Interpreter(model_content=buf, num_threads=os.cpu_count() or 1)
    it.allocate_tensors()
    return it


def _input_order(details: list[dict]) -> list[str]:
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
    return [spec(d, n) for d, n in zip(ins, _input_order(ins), strict=True)], [
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


def tflm_arena_and_latency(buf: bytes, q_inputs: list[np.ndarray], repeats: int = 200) -> tuple[int, float]:
    """Arena bytes TFLM actually allocated (its RecordingMicroAllocator), and host ms per inference."""
    tm = _tflm(buf)
    for j, arr in enumerate(q_inputs):
        tm.set_input(arr[:1], j)
    tm.invoke()
    _, text = _capture_stderr(tm.print_allocations)
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    if not m:
        raise ExportError(f"could not read the TFLM arena size from: {text[:300]!r}")
    t0 = time.perf_counter()
    done = 0
    # `repeats` runs, or fewer (at least 5) when they would take more than 10 s
    while done < repeats and (done < 5 or time.perf_counter() - t0 < 10):
        tm.invoke()
        done += 1
    return int(m.group(1)), (time.perf_counter() - t0) * 1000 / done


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


def c_array(
    buf: bytes, symbol: str, ops: Sequence[str], arena_bytes: int, config: HeartzooConfig
) -> tuple[str, str]:
    """A header/source pair: the model as a 16-byte aligned array, the ops for a MicroMutableOpResolver
    and the measured arena size (rounded up to 16 bytes, plus 1 KiB of headroom for 32-bit targets)."""
    task = get_task(config.task)
    arena = (arena_bytes + 1024 + 15) // 16 * 16
    guard = symbol.upper()
    resolver = "\n".join(f"//   resolver.Add{_op_method(op)}();" for op in ops)
    header = f"""// Generated by heartzoo: {config.name} ({config.task}). Do not edit.
#ifndef {guard}_H_
#define {guard}_H_

#include <cstddef>
#include <cstdint>

extern const unsigned char {symbol}[];
extern const unsigned int {symbol}_len;

// Tensor arena: {arena_bytes} bytes measured by TFLM's RecordingMicroAllocator on the host, plus 1 KiB
// of headroom (struct sizes differ on 32-bit targets).
constexpr size_t {symbol}_arena_size = {arena};
constexpr int {symbol}_num_ops = {len(ops)};
constexpr int {symbol}_num_classes = {task.num_classes};
// Output order: {", ".join(task.class_names)}

// Ops this model needs:
//   tflite::MicroMutableOpResolver<{len(ops)}> resolver;
{resolver}

#endif  // {guard}_H_
"""
    body = ",\n".join("  " + ", ".join(f"0x{b:02x}" for b in buf[i : i + 12]) for i in range(0, len(buf), 12))
    source = f"""// Generated by heartzoo: {config.name} ({config.task}). Do not edit.
#include "{symbol}.h"

alignas(16) const unsigned char {symbol}[] = {{
{body}
}};
const unsigned int {symbol}_len = {len(buf)};
"""
    return header, source


def c_symbol(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", name.lower()) + "_model"


def c_array_files(folder: Path) -> dict[str, str]:
    """The C header/source pair of an exported version, derived from its model.tflite, the ops and
    arena in its metrics.json and its configuration: generated on demand, never stored in the zoo
    (the bytes are the model's, the rest is in the metadata)."""
    from .config import parse_config
    from .data.cache import read_json

    folder = Path(folder)
    metrics, conf = read_json(folder / "metrics.json"), read_json(folder / "configuration.json")
    config = parse_config(conf.get("config"), str(folder / "configuration.json"))
    try:
        ops, arena = list(metrics["ops"]), int(metrics["tflm_arena_bytes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise HeartzooError(f"{folder / 'metrics.json'}: no usable {exc} for the C array") from None
    symbol = c_symbol(config.name)
    header, source = c_array((folder / "model.tflite").read_bytes(), symbol, ops, arena, config)
    return {f"{symbol}.h": header, f"{symbol}.cc": source}


def write_c_array(folder: Path, out_dir: Path) -> list[Path]:
    """Write the C pair of the version in `folder` into `out_dir` (each file atomically)."""
    from .data.cache import atomic_path

    out_dir = Path(out_dir)
    written = []
    for name, text in c_array_files(folder).items():
        with atomic_path(out_dir / name) as tmp:
            tmp.write_text(text)
            os.chmod(tmp, 0o644)  # source files for a firmware tree, not private ones
        written.append(out_dir / name)
    return written


def _op_method(op: str) -> str:
    special = {
        "FULLY_CONNECTED": "FullyConnected",
        "CONV_2D": "Conv2D",
        "DEPTHWISE_CONV_2D": "DepthwiseConv2D",
    }
    if op in special:
        return special[op]
    return "".join(part.capitalize() for part in op.lower().split("_"))


def _git_commit() -> str | None:
    import subprocess

    try:
        root = Path(__file__).resolve().parents[1]
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if rev.returncode:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def firmware_contract(
    config: HeartzooConfig, ins: list[TensorSpec], outs: list[TensorSpec]
) -> dict[str, Any]:
    """What firmware must do to feed the model and read it: the torchvision-weights-style contract."""
    spec = config.input
    task = get_task(config.task)
    contract: dict[str, Any] = {
        "sampling_rate_hz": spec.fs,
        "lead": spec.lead,
        "resampling": "polyphase anti-aliasing FIR (scipy.signal.resample_poly) from the recording rate",
        "frame_size": spec.frame_size,
        "r_peak_index": spec.r_peak,
        "normalization": {
            "name": spec.normalization,
            "eps": spec.eps,
            "formula": "(x - mean(x)) / (std(x) + eps) per frame"
            if spec.normalization == "zscore"
            else "none",
        },
        "template_beats": spec.template_beats,
        "class_names": list(task.class_names),
        "inputs": [t.__dict__ for t in ins],
        "outputs": [t.__dict__ for t in outs],
        "output": "int8 softmax probabilities; p = (q - zero_point) * scale",
    }
    if spec.template_beats:
        contract["template"] = (
            f"channel 1 = frame - mean of the previous {spec.template_beats} frames of the same recording "
            "(the first frame is its own template)"
        )
    if config.model and config.model.rr_features:
        contract["rr_features"] = {
            "order": ["pre/local10", "post/local10", "pre/local300", "post/local300"],
            "definition": "pre/post: RR interval (s) before/after the beat; local10/local300: mean of the "
            "last 10/300 RR intervals up to and including pre; each ratio uses the mean + 0.001 s",
        }
    return contract


def export_run(
    run_dir,
    out_dir,
    *,
    cache_dir=None,
    calibration: Any = None,
    progress=None,
) -> dict[str, Any]:
    """Export a trained run into `out_dir` (which must not exist): model files, configuration (with the
    firmware contract) and DS2 metrics of the float and the int8 model. Raises `ExportError` when a check fails, and then
    leaves nothing behind. `calibration` replaces the calibration inputs (the tests use it to show that
    a bad calibration set is caught)."""
    import json
    import shutil

    from .data.pipeline import model_inputs
    from .data.prepare import test_split
    from .evaluate import load_run
    from .metrics import report_from_probabilities
    from .models import describe
    from .train import load_task_split, predict_logits, softmax
    from .version import __version__

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if out_dir.exists():
        raise ExportError(f"{out_dir} exists already: an export never overwrites")
    say = progress or (lambda _msg: None)
    model, config = load_run(run_dir)
    task = get_task(config.task)
    macro = task.macro_classes
    ec = config.export

    say("converting to int8")
    calib = calibration
    if calib is None:
        calib = calibration_inputs(config, n=ec.calibration_frames, cache_dir=cache_dir)
    buf = convert_int8(firmware_model(model, config), calib)
    ops = tflite_ops(buf)
    ins, outs = io_specs(buf)
    if any(t.dtype != "int8" for t in (*ins, *outs)):
        raise ExportError(f"inputs and outputs must be int8, got {[t.dtype for t in (*ins, *outs)]}")

    say("DS2 float metrics")
    split = test_split(config)
    ws, labels = load_task_split(config, split, cache_dir=cache_dir)
    inputs = model_inputs(ws, bool(config.model and config.model.rr_features))
    float_rep = report_from_probabilities(
        softmax(predict_logits(model, inputs)), labels, task.class_names, macro
    )
    ensemble = None
    if config.ensemble is not None:
        say(f"{split} float metrics of each member")
        ensemble = ensemble_spread(model, config, inputs, labels, run_dir)

    q = quantize_inputs(ins, inputs)
    pick = verification_frames(len(labels), ec.verify_frames)
    n_ver = len(pick)
    q_ver = [a[pick] for a in q]
    verification: dict[str, Any] = {"frames": n_ver, "litert_reference_vs_tflm": "bit-identical"}
    if ec.int8_runtime == "tflm":
        say(f"{split} int8 metrics in TFLM")
        int8_out = tflm_out = run_tflm(buf, q)
        tflm_ver = tflm_out[pick]
    else:
        # too slow for TFLM on the host: the whole split in LiteRT's optimized kernels, TFLM on `pick`
        say(f"{split} int8 metrics in LiteRT (optimized kernels)")
        int8_out = run_litert(buf, q, reference=False)
        tflm_ver = run_tflm(buf, q_ver)
        verification["int8_metrics_runtime"] = "LiteRT optimized kernels (TFLM checked on the frames above)"
        differing, steps = runtime_mismatch(int8_out[pick], tflm_ver)
        verification["litert_optimized_vs_tflm"] = {
            "frames_differing": differing,
            "largest_difference_int8_steps": steps,
            "same_class": float((int8_out[pick].argmax(1) == tflm_ver.argmax(1)).mean()),
        }
    int8_rep = report_from_probabilities(dequantize_probs(int8_out, outs[0]), labels, task.class_names, macro)

    say("LiteRT (reference kernels) vs TFLM")
    mismatch, diff = runtime_mismatch(run_litert(buf, q_ver), tflm_ver)
    if mismatch:
        raise ExportError(
            f"LiteRT (reference kernels) and TFLM disagree on {mismatch} of {n_ver} {split} frames "
            f"(largest difference {diff} int8 steps)"
        )
    drop = float_rep["macro_f1"] - int8_rep["macro_f1"]
    if drop > ec.max_f1_drop:
        raise ExportError(
            f"int8 macro-F1 {int8_rep['macro_f1']:.4f} is {drop * 100:.2f} points below float "
            f"{float_rep['macro_f1']:.4f}; the bound (export.max_f1_drop) is {ec.max_f1_drop * 100:.2f} points"
        )
    arena, latency = tflm_arena_and_latency(buf, q)

    metrics = {
        "model": config.name,
        "task": config.task,
        "dataset": "mitdb",
        "split": split,
        "protocol": ws.meta.get("protocol"),
        "leaky": bool(ws.meta.get("leaky")),
        "records": sorted(set(ws.record.tolist())),
        "float": float_rep,
        "int8": int8_rep,
        "int8_macro_f1_drop": drop,
        **describe(model),
        "tflite_bytes": len(buf),
        # zeros from magnitude pruning only pay off where the flash image is compressed
        "tflite_gzip_bytes": len(gzip.compress(buf, compresslevel=9)),
        "tflm_arena_bytes": arena,
        "host_latency_ms": round(latency, 4),
        "latency_note": "TFLM Python interpreter on the export machine (x86-64 host), not a microcontroller",
        "ops": ops,
        # the steps this model went through (written by `heartzoo train`), then int8 quantization
        "compression": [
            *(
                json.loads((run_dir / "applied.json").read_text())
                if (run_dir / "applied.json").exists()
                else []
            ),
            "int8_ptq",
        ],
        **({"ensemble": ensemble} if ensemble else {}),
        "verification": verification,
        "calibration": {"frames": _n(calib), "split": calibration_source(bool(ws.meta.get("leaky")))},
        "heartzoo_version": __version__,
        "commit": _git_commit(),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its final place, then renamed: a crash leaves no half-written version.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        # loaded without compiling: saved again it carries no optimizer state (a third of the size)
        model.save(staging / "model.keras")
        (staging / "model.tflite").write_bytes(buf)
        configuration = {
            "config": config.model_dump(mode="json"),
            "firmware": firmware_contract(config, ins, outs),
        }
        (staging / "configuration.json").write_text(json.dumps(configuration, indent=2) + "\n")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        confusion = {
            k: {"counts": r["confusion"], "normalized": r["confusion_normalized"]}
            for k, r in (("float", float_rep), ("int8", int8_rep))
        }
        (staging / "confusion.json").write_text(
            json.dumps({"classes": list(task.class_names), **confusion}, indent=2) + "\n"
        )
        plot_confusion(int8_rep, staging / "confusion.png", f"{config.name} int8 on {split}")
        if (run_dir / "history.csv").exists():
            shutil.copy2(run_dir / "history.csv", staging / "history.csv")
        # mkdtemp and our atomic writes make private files; published versions are for everyone to read
        os.chmod(staging, 0o755)
        for f in staging.iterdir():
            os.chmod(f, 0o644)
        os.rename(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return metrics


def ensemble_spread(model, config: HeartzooConfig, inputs, labels, run_dir) -> dict[str, Any]:
    """Each member's float macro-F1 on the test split, beside the average's: how far one seed of this
    recipe would have landed. Measured, never used to choose; DS1-validation scores come from the run."""
    import json

    from .ensemble import member_models
    from .metrics import report_from_probabilities
    from .train import predict_logits, softmax

    task = get_task(config.task)
    scores = {
        seed: report_from_probabilities(
            softmax(predict_logits(m, inputs)), labels, task.class_names, task.macro_classes
        )["macro_f1"]
        for seed, m in member_models(model, config).items()
    }
    f1 = np.array(list(scores.values()))
    out: dict[str, Any] = {
        "members": len(scores),
        "seeds": list(scores),
        "member_float_macro_f1": f1.tolist(),
        "member_mean": float(f1.mean()),
        "member_std": float(f1.std(ddof=1)),
    }
    summary = Path(run_dir) / "train_summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text())
        out["member_val_macro_f1"] = s.get("member_val_macro_f1")
        out["val_macro_f1"] = s.get("val_macro_f1")
    return out


def plot_confusion(report: dict, path, title: str) -> None:
    """Row-normalised confusion matrix with counts, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = report["classes"]
    norm = np.array(report["confusion_normalized"])
    counts = np.array(report["confusion"])
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 1.1 * len(names) + 1.5), dpi=120)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{norm[i, j]:.1%}\n{counts[i, j]:,}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
