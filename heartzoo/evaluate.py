"""Evaluation at natural prevalence: DS2 by default, optionally under NSTDB noise (24 ... 0 dB)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .config import HeartzooConfig, parse_config
from .errors import HeartzooError
from .tasks import get_task

CONFIG_FILES = ("config.json", "configuration.json")


def load_run(path: str | os.PathLike[str]):
    """The Keras model and its configuration from a run or zoo folder (or a .keras file beside one)."""
    import keras

    p = Path(path)
    folder = p.parent if p.suffix == ".keras" else p
    model_file = p if p.suffix == ".keras" else folder / "model.keras"
    if not model_file.is_file():
        raise HeartzooError(f"{folder}: no model.keras here (train it first: heartzoo train CONFIG)")
    cfg_file = next((folder / n for n in CONFIG_FILES if (folder / n).is_file()), None)
    if cfg_file is None:
        raise HeartzooError(f"{folder}: no config.json or configuration.json beside the model")
    raw = json.loads(cfg_file.read_text())
    config = parse_config(raw.get("config", raw), source=str(cfg_file))
    model = keras.saving.load_model(model_file, safe_mode=True, compile=False)
    return model, config


def split_probabilities(
    model,
    config: HeartzooConfig,
    split: str,
    *,
    cache_dir=None,
    noise=None,
    progress=None,
    calibrate_minutes: float | None = None,
):
    """`model`'s class probabilities on the beats of `split` the task keeps, their labels, and the frames.

    With `calibrate_minutes`, each record's first minutes of beats calibrate the model to that patient,
    without labels (`heartzoo.adapt`), and its later beats are classified by the calibrated copy."""
    from .data.mitbih import SAMPLING_RATE
    from .data.pipeline import model_inputs
    from .train import load_task_split, predict_logits, softmax

    ws, labels = load_task_split(config, split, cache_dir=cache_dir, noise=noise, progress=progress)
    inputs = model_inputs(ws, bool(config.model and config.model.rr_features))
    if calibrate_minutes is None:
        return softmax(predict_logits(model, inputs)), labels, ws
    from .adapt import calibrated_logits

    logits, _ = calibrated_logits(model, inputs, ws.record, ws.sample / SAMPLING_RATE, calibrate_minutes)
    return softmax(logits), labels, ws


def evaluate_model(
    model,
    config: HeartzooConfig,
    split: str = "test",
    *,
    noise=None,
    cache_dir=None,
    threshold: float | None = None,
    progress=None,
    calibrate_minutes: float | None = None,
) -> dict[str, Any]:
    from .metrics import report_from_probabilities

    task = get_task(config.task)
    probs, labels, ws = split_probabilities(
        model,
        config,
        split,
        cache_dir=cache_dir,
        noise=noise,
        progress=progress,
        calibrate_minutes=calibrate_minutes,
    )
    report = report_from_probabilities(probs, labels, task.class_names, task.macro_classes, threshold)
    report.update(
        split=split,
        protocol=ws.meta.get("protocol"),
        leaky=bool(ws.meta.get("leaky")),
        records=sorted(set(ws.record.tolist())),
        noise=None if noise is None else {"kind": noise.kind, "snr_db": noise.snr_db},
    )
    if calibrate_minutes is not None:
        # not the inter-patient protocol alone: each test patient's own unlabelled beats adapted the model
        report["calibration"] = {"method": "batchnorm", "minutes": calibrate_minutes, "labels": "none"}
    return report


def evaluate(
    path: str | os.PathLike[str],
    split: str = "ds2",
    *,
    noise_stress: bool = False,
    cache_dir=None,
    threshold: float | None = None,
    progress=None,
    calibrate_minutes: float | None = None,
) -> dict[str, Any]:
    """Reports for the clean split and, with `noise_stress`, for each NSTDB `em` SNR level; with
    `calibrate_minutes`, under per-patient calibration on unlabelled beats (`heartzoo.adapt`)."""
    from .data.noise import STRESS_SNRS_DB
    from .data.prepare import StressNoise

    model, config = load_run(path)
    if split == "ds2":
        from .data.prepare import test_split

        split = test_split(config)
    if calibrate_minutes is not None:
        from .adapt import batchnorm_layers

        batchnorm_layers(model)  # refuse before any frame is loaded
    kw = {
        "cache_dir": cache_dir,
        "threshold": threshold,
        "progress": progress,
        "calibrate_minutes": calibrate_minutes,
    }
    out: dict[str, Any] = {
        "model": config.name,
        "task": config.task,
        "split": split,
        "clean": evaluate_model(model, config, split, **kw),
    }
    if noise_stress:
        out["noise"] = {
            f"em@{snr:g}dB": evaluate_model(model, config, split, noise=StressNoise("em", snr), **kw)
            for snr in STRESS_SNRS_DB
        }
    return out
