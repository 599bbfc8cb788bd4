"""The firmware kit's C preprocessing against the Python Preprocessor, on real recordings: the int8
inputs of every beat, element by element, and the class the int8 model gives for each (LiteRT's
reference kernels, bit-exact with TFLM)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .firmware_kit import ADC_BITS, ADC_GAIN, library_files, rr_length


def read_recordings(
    records: Sequence[str], database: str = "mitdb", lead: str = "MLII"
) -> list[dict[str, Any]]:
    """Each record's lead in mV (float32, as the Preprocessor gets it), its ADC counts minus the
    baseline (int16, what a fixed-point firmware gets) and its beats' R-peak samples."""
    from ..data.databases import get_database

    db = get_database(database)
    folder = db.folder()
    out = []
    for record in records:
        sig = db.read_signal(folder, record, lead)
        beats = db.read_beats(folder, record)
        counts = np.rint(sig.values.astype(np.float64) * ADC_GAIN)
        out.append(
            {
                "record": record,
                "fs": sig.fs,
                "values": sig.values,
                "counts": counts.astype(np.int16),
                "peaks": beats.samples,
            }
        )
    return out


def python_inputs(firmware: Any, ins: list, rec: dict[str, Any]) -> list[np.ndarray]:
    """The int8 inputs (model order, one row per beat) the Python Preprocessor and quantize_inputs give."""
    from ..preprocess import Preprocessor
    from .runtimes import quantize_inputs

    inputs = Preprocessor.from_contract(firmware)(rec["values"], rec["fs"], rec["peaks"])
    n = len(rec["peaks"])
    return [q.reshape(n, -1) for q in quantize_inputs(ins, inputs)]


def compare(
    version_dir: Path,
    recordings: list[dict[str, Any]],
    *,
    fixed_point: bool = False,
    double: bool = True,
    model_frames: int | None = 1000,
    run_model: bool = True,
    work_dir: Path | None = None,
    adc_gain: float = ADC_GAIN,
    adc_bits: int = ADC_BITS,
) -> dict[str, Any]:
    """The C preprocessing (streamed, as firmware runs it) against Python on `recordings`
    (`read_recordings`): how many int8 input elements differ and by how much, and whether the int8 model
    decides the same class. The model runs on every beat whose inputs differ and on `model_frames`
    beats spread over all (None: every beat), both from the C and from the Python inputs (a beat whose
    inputs are identical gets identical outputs: the reference kernels are deterministic). The kit
    resamples from the recordings' rate (one for all); the fixed-point kit takes their `counts` at
    `adc_gain` counts per mV in `adc_bits` signed bits."""
    from ..meta import Configuration, read_meta
    from .firmware_host import compile_host, run_host
    from .runtimes import io_specs, run_litert

    version_dir = Path(version_dir)
    firmware = read_meta(Configuration, version_dir / "configuration.json").firmware
    buf = (version_dir / "model.tflite").read_bytes()
    ins, _ = io_specs(buf)
    names = [t.name for t in ins]
    ecg_len = firmware.frame_size * (2 if firmware.template_beats else 1)
    rates = {int(r["fs"]) for r in recordings}
    if len(rates) != 1:
        raise ValueError(f"recordings at several rates ({sorted(rates)}): compare one rate at a time")
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        lib = Path(tmp)
        for name, text in library_files(
            firmware, recording_hz=rates.pop(), fixed_point=fixed_point, adc_gain=adc_gain, adc_bits=adc_bits
        ).items():
            (lib / name).write_text(text)
        exe = compile_host(lib, double=double)
        streams = [(r["counts"] if fixed_point else r["values"], r["peaks"]) for r in recordings]
        c_out, timing = run_host(
            exe,
            streams,
            fixed_point=fixed_point,
            ecg_len=ecg_len,
            rr_len=rr_length(firmware),
            work_dir=work_dir,
        )
    t0 = time.perf_counter()
    py = [python_inputs(firmware, ins, r) for r in recordings]
    python_s = time.perf_counter() - t0
    c_q = [np.concatenate([o[n] for o in c_out]) for n in names]
    p_q = [np.concatenate([p[i] for p in py]) for i in range(len(names))]
    frames = len(p_q[0])
    if len(c_q[0]) != frames:
        dropped = sum(o["dropped"] for o in c_out)
        raise AssertionError(f"C made {len(c_q[0])} beats of {frames} ({dropped} dropped)")
    peaks_ok = all(np.array_equal(o["peak"], r["peaks"]) for o, r in zip(c_out, recordings, strict=True))
    out: dict[str, Any] = {
        "records": [r["record"] for r in recordings],
        "frames": frames,
        "fixed_point": fixed_point,
        "double": double,
        "peaks_in_order": peaks_ok,
    }
    differing = np.zeros(frames, bool)
    for name, c, p in zip(names, c_q, p_q, strict=True):
        d = np.abs(c.astype(np.int32) - p.astype(np.int32))
        differing |= (d > 0).any(axis=1)
        out[name] = {
            "elements": int(d.size),
            "differing": int((d > 0).sum()),
            "share_differing": float((d > 0).mean()),
            "largest_difference_steps": int(d.max(initial=0)),
        }
    out["frames_with_any_difference"] = int(differing.sum())
    if run_model:
        pick = (
            np.arange(frames)
            if model_frames is None
            else np.linspace(0, frames - 1, min(model_frames, frames))
        )
        idx = np.union1d(np.asarray(pick, np.int64), np.flatnonzero(differing))
        c_cls = run_litert(
            buf, [c[idx].reshape(-1, *t.shape[1:]) for c, t in zip(c_q, ins, strict=True)]
        ).argmax(1)
        p_cls = run_litert(
            buf, [p[idx].reshape(-1, *t.shape[1:]) for p, t in zip(p_q, ins, strict=True)]
        ).argmax(1)
        out["model"] = {
            "frames_run": len(idx),
            "frames_run_with_difference": int(differing[idx].sum()),
            "same_class": int((c_cls == p_cls).sum()),
            "share_same_class": float((c_cls == p_cls).mean()) if len(idx) else 1.0,
        }
    out["c_seconds"] = timing["seconds"]
    out["python_seconds"] = python_s
    out["state_bytes_host"] = timing["state_bytes"]
    return out
