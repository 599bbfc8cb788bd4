"""A run -> a verified version folder: model files, configuration (with the firmware contract) and the
metrics of the float and the int8 model on the held-out split, written atomically."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..config import HeartzooConfig
from ..data.prepare import test_split
from ..environment import LOCAL, Environment
from ..errors import ExportError
from ..export.runtimes import (
    TensorSpec,
    dequantize_probs,
    io_specs,
    quantize_inputs,
    run_litert,
    run_tflm,
    runtime_mismatch,
    tflite_ops,
    tflm_arena_and_latency,
    verification_frames,
)
from ..io import sha256_of
from ..meta import Configuration, FirmwareContract, Metrics, dump_meta
from ..preprocess import Preprocessor, input_rows
from ..tasks import get_task


def firmware_contract(
    config: HeartzooConfig, ins: list[TensorSpec], outs: list[TensorSpec], aggregation=None
) -> FirmwareContract:
    """What firmware must do to feed the model and read it: the Preprocessor's steps, the class order,
    the int8 tensors (torchvision's weights metadata, for a microcontroller) and, for a task labelled per
    recording, how its windows make the recording's class (`aggregation`)."""
    return FirmwareContract.model_validate(
        {
            **Preprocessor.of(config).contract(),
            "class_names": list(get_task(config.task).class_names),
            "inputs": [t.__dict__ for t in ins],
            "outputs": [t.__dict__ for t in outs],
            "output": "int8 softmax probabilities; p = (q - zero_point) * scale",
            **(
                {"aggregation": aggregation.model_dump(exclude_unset=True)} if aggregation is not None else {}
            ),
        }
    )


def int8_metrics(
    buf: bytes, inputs, labels, config: HeartzooConfig, split: str, say, records=None, aggregation=None
) -> tuple[Any, dict]:
    """The int8 model's report on the split (in TFLM, or LiteRT's optimized kernels for models too slow
    for TFLM on the host) and how LiteRT's reference kernels and TFLM agreed on the verification frames:
    any difference is an `ExportError`. `records`: each frame's record, for a per-recording task, whose windows
    make a recording's class by `aggregation`."""
    from ..evaluation.metrics import report_from_probabilities, scored_units

    task, ec = get_task(config.task), config.export
    ins, outs = io_specs(buf)
    q = quantize_inputs(ins, inputs)
    pick = verification_frames(len(labels), ec.verify_frames)
    q_ver = [a[pick] for a in q]
    verification: dict[str, Any] = {"frames": len(pick), "litert_reference_vs_tflm": "bit-identical"}
    if ec.int8_runtime == "tflm":
        say(f"{split} int8 metrics in TFLM")
        int8_out = run_tflm(buf, q)
        tflm_ver = int8_out[pick]
    else:
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
    say("LiteRT (reference kernels) vs TFLM")
    mismatch, diff = runtime_mismatch(run_litert(buf, q_ver), tflm_ver)
    if mismatch:
        raise ExportError(
            f"LiteRT (reference kernels) and TFLM disagree on {mismatch} of {len(pick)} {split} frames "
            f"(largest difference {diff} int8 steps)"
        )
    probs, labels = scored_units(task, dequantize_probs(int8_out, outs[0]), labels, records, aggregation)
    return report_from_probabilities(probs, labels, task.class_names, task.macro_classes), verification


def export_run(
    run_dir,
    out_dir,
    *,
    env: Environment = LOCAL,
    calibration: Any = None,
) -> Metrics:
    """Export a trained run into `out_dir` (which must not exist): model files, configuration (with the
    firmware contract) and the held-out metrics of the float and the int8 model. Raises `ExportError`
    when a check fails, and then leaves nothing behind. `calibration` replaces the calibration inputs
    (the tests use it to show that a bad calibration set is caught)."""
    import shutil

    from ..evaluation.evaluate import fitted_aggregation, load_run, run_config, split_probabilities
    from ..evaluation.metrics import report_from_probabilities, scored_units
    from ..export.convert import calibration_inputs, calibration_source, published_int8
    from ..models import describe
    from ..preprocess import input_count
    from ..version import __version__, git_commit
    from .manifest import stage_commits, stage_machines, stage_record, validation_score

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if out_dir.exists():
        raise ExportError(f"{out_dir} exists already: an export never overwrites")
    say = env.say
    model, config = load_run(run_dir)
    task, ec = get_task(config.task), config.export

    say("converting to int8")
    calib = calibration
    if calib is None:
        calib = calibration_inputs(config, n=ec.calibration_frames, **env.folders)
    buf = published_int8(model, config, calib)
    ins, outs = io_specs(buf)
    if any(t.dtype != "int8" for t in (*ins, *outs)):
        raise ExportError(f"inputs and outputs must be int8, got {[t.dtype for t in (*ins, *outs)]}")

    if config.fold_ensemble:
        from ..models.ensemble import check_folds

        check_folds(config, run_dir, env.data_dir)
    aggregation, val_score, aggregation_scores = None, validation_score(run_dir), None
    if task.per_recording:
        say(f"fitting the recording aggregation ({ec.aggregation}) on validation")
        aggregation, cross_fitted = fitted_aggregation(model, config, env)
        if cross_fitted is not None:
            aggregation_scores = {
                "method": aggregation.method,
                "fitted_on": aggregation.fitted_on,
                "val_macro_f1_windows_mean": val_score,
            }
            val_score = cross_fitted
    split = test_split(config)
    say(f"{split} float metrics")
    # the float numbers are `heartzoo evaluate`'s: the same function scores both
    probs, labels, ws = split_probabilities(model, config, split, env=env)
    float_rep = report_from_probabilities(
        *scored_units(task, probs, labels, ws.record, aggregation), task.class_names, task.macro_classes
    )
    inputs = ws.model_inputs(Preprocessor.of(config))
    ensemble = None
    if config.ensemble is not None:
        say(f"{split} float metrics of each member")
        ensemble = ensemble_spread(model, config, inputs, labels, run_dir, ws.record, env)
    int8_rep, verification = int8_metrics(buf, inputs, labels, config, split, say, ws.record, aggregation)
    drop = float_rep["macro_f1"] - int8_rep["macro_f1"]
    if drop > ec.max_f1_drop:
        raise ExportError(
            f"int8 macro-F1 {int8_rep['macro_f1']:.4f} is {drop * 100:.2f} points below float "
            f"{float_rep['macro_f1']:.4f}; the bound (export.max_f1_drop) is {ec.max_f1_drop * 100:.2f} points"
        )
    arena, latency = tflm_arena_and_latency(buf, quantize_inputs(ins, input_rows(inputs, slice(0, 1))))
    applied = (stage_record(run_dir) or {}).get("applied", [])
    metrics = Metrics.model_validate(
        {
            "model": config.name,
            "task": config.task,
            "dataset": "+".join(ws.meta.get("databases") or ["mitdb"]),
            "split": split,
            "protocol": ws.meta.get("protocol"),
            "leaky": bool(ws.meta.get("leaky")),
            "records": sorted(set(ws.record.tolist())),
            "float": float_rep,
            "int8": int8_rep,
            "int8_macro_f1_drop": drop,
            "val_macro_f1": val_score,
            **describe(model),
            "tflite_bytes": len(buf),
            # zeros from magnitude pruning only pay off where the flash image is compressed
            "tflite_gzip_bytes": len(gzip.compress(buf, compresslevel=9)),
            "tflm_arena_bytes": arena,
            "host_latency_ms": round(latency, 4),
            "latency_note": "TFLM Python interpreter on the export machine (x86-64 host), not a microcontroller",
            "ops": tflite_ops(buf),
            # the steps this model went through (the run's manifest), then int8 quantization
            "compression": [*applied, "int8_ptq"],
            **({"ensemble": ensemble} if ensemble else {}),
            **({"aggregation": aggregation_scores} if aggregation_scores else {}),
            "verification": verification,
            "calibration": {
                "frames": input_count(calib),
                "split": calibration_source(config, bool(ws.meta.get("leaky"))),
            },
            "heartzoo_version": __version__,
            "commit": git_commit(),
            "trained_at": stage_commits(run_dir),
            "trained_on": stage_machines(run_dir),
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "exported_from": sha256_of(run_config(run_dir)[0]),
        }
    )
    configuration = Configuration(
        config=config.model_dump(mode="json"), firmware=firmware_contract(config, ins, outs, aggregation)
    )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its final place, then renamed: a crash leaves no half-written version.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        # loaded without compiling: saved again it carries no optimizer state (a third of the size)
        model.save(staging / "model.keras")
        (staging / "model.tflite").write_bytes(buf)
        (staging / "configuration.json").write_text(dump_meta(configuration))
        (staging / "metrics.json").write_text(dump_meta(metrics))
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


def ensemble_spread(
    model, config: HeartzooConfig, inputs, labels, run_dir, records=None, env: Environment = LOCAL
) -> dict[str, Any]:
    """Each member's float macro-F1 on the test split, beside the average's: how far one seed of this
    recipe would have landed. Measured, never used to choose; DS1-validation scores come from the run. A
    per-recording task scores each member per recording (`records`), by its own aggregation fitted on
    validation as export fits the ensemble's."""
    from ..evaluation.evaluate import fitted_aggregation
    from ..evaluation.metrics import report_from_probabilities, scored_units
    from ..inference import predict_probs
    from ..models.ensemble import member_configs, member_models

    task = get_task(config.task)
    scores = {}
    configs = member_configs(config, env.data_dir) if task.per_recording or config.fold_ensemble else {}
    for seed, m in member_models(model, config).items():
        aggregation = fitted_aggregation(m, configs[seed], env)[0] if task.per_recording else None
        probs, y = scored_units(task, predict_probs(m, inputs), labels, records, aggregation)
        scores[seed] = report_from_probabilities(probs, y, task.class_names, task.macro_classes)["macro_f1"]
    f1 = np.array(list(scores.values()))
    out: dict[str, Any] = {
        "members": len(scores),
        "seeds": list(scores),
        "member_float_macro_f1": f1.tolist(),
        "member_mean": float(f1.mean()),
        "member_std": float(f1.std(ddof=1)),
    }
    if config.fold_ensemble:
        from ..data.folds import fold_digest

        out["by"] = "fold"
        out["folds"] = [fold_digest(configs[s].data.validation.records) for s in scores]
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
            ax.text(
                j,
                i,
                f"{norm[i, j]:.1%}\n{counts[i, j]:,}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if norm[i, j] > 0.5 else "black",
            )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
