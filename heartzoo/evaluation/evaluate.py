"""Evaluation at natural prevalence: DS2 by default, optionally under NSTDB noise (24 ... 0 dB)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..config import HeartzooConfig, load_config
from ..environment import LOCAL, Environment
from ..errors import HeartzooError
from ..tasks import get_task

CONFIG_FILES = ("config.json", "configuration.json")


def run_config(path: str | os.PathLike[str]) -> tuple[Path, HeartzooConfig]:
    """The model file of a run or zoo folder (or a .keras file beside one) and its validated
    configuration, without loading TensorFlow: arguments are checked against it first."""
    p = Path(path)
    folder = p.parent if p.suffix == ".keras" else p
    model_file = p if p.suffix == ".keras" else folder / "model.keras"
    if p.is_file() and p.suffix != ".keras":
        raise HeartzooError(f"{p}: a file, not a model; name a run's folder or a zoo version's")
    if not folder.is_dir():
        raise HeartzooError(f"{folder}: no such folder; name a run's folder or a zoo version's")
    if not model_file.is_file():
        import re

        from ..meta import VERSION_PATTERN

        held = sorted(
            (v.name for v in folder.iterdir() if re.match(VERSION_PATTERN, v.name)), key=lambda v: int(v[1:])
        )
        if held:  # a model's folder in a zoo: its versions are below it
            raise HeartzooError(
                f"{folder}: a model's folder; name one of its versions, e.g. {folder / held[-1]}"
            )
        started = (folder / "config.json").is_file()  # a run interrupted before its model was kept
        raise HeartzooError(
            f"{folder}: no model.keras here ("
            + (
                "its run did not finish: re-run `heartzoo train` on its config to resume it)"
                if started
                else "train it first: heartzoo train CONFIG)"
            )
        )
    cfg_file = next((folder / n for n in CONFIG_FILES if (folder / n).is_file()), None)
    if cfg_file is None:
        raise HeartzooError(f"{folder}: no config.json or configuration.json beside the model")
    return model_file, load_config(cfg_file)  # a published configuration.json gives its `config`


def load_run(path: str | os.PathLike[str]):
    """The Keras model (safe mode: no code in it runs) and its configuration from a run or zoo folder
    (a zoo's version folder is checked against its index first)."""
    model_file, config = run_config(path)
    return load_run_model(model_file), config


def load_run_model(model_file: Path):
    """The .keras file of a run or zoo folder, a zoo's version checked against its index first."""
    from ..integrity import check_zoo_folder, load_keras

    check_zoo_folder(model_file.parent)
    return load_keras(model_file)


def check_split(config: HeartzooConfig, split: str, data_dir=None) -> str:
    """The split name `evaluate` takes (ds2 = the protocol's held-out beats), checked before any data."""
    from ..data.prepare import INTER_PATIENT, external_records, test_split

    # "test" is the protocol's held-out split whatever its name, as `data prepare --splits test` reads it
    if split in ("ds2", "test"):
        return test_split(config)
    if ":" in split:  # DATABASE:SET, an external test (refused for a database the model trained on)
        external_records(config, split, data_dir)
        return split
    allowed = (
        ("train", "val", "ds1", "ds2")
        if config.data.protocol == INTER_PATIENT and not get_task(config.task).per_recording
        else ("train", "val", "test")
    )
    if split not in allowed:
        raise HeartzooError(
            f"unknown split {split!r} for the {config.data.protocol} protocol; use one of "
            f"{', '.join(allowed)}"
        )
    return split


def split_probabilities(
    model,
    config: HeartzooConfig,
    split: str,
    *,
    env: Environment = LOCAL,
    noise=None,
    calibrate_minutes: float | None = None,
    int8: bytes | None = None,
):
    """`model`'s class probabilities on the beats of `split` the task keeps, their labels, and the frames.

    With `calibrate_minutes`, each record's first minutes of beats calibrate the model to that patient,
    without labels (`heartzoo.models.adapt`), and its later beats are classified by the calibrated copy. With
    `int8` (a .tflite), that model's probabilities instead (`int8_probabilities`). A fold ensemble's
    validation side is out of fold (`out_of_fold_probabilities`)."""
    from ..data.prepare import load_task_split
    from ..inference import predict_probs, softmax
    from ..preprocess import Preprocessor

    if split == "val" and config.fold_ensemble:
        if int8 is not None:
            raise HeartzooError(
                f"{config.name}: a fold ensemble's validation is each member on the fold it held out, and its "
                "int8 model is one graph of all of them: score the float members"
            )
        return out_of_fold_probabilities(
            model, config, env=env, noise=noise, calibrate_minutes=calibrate_minutes
        )
    ws, labels = load_task_split(config, split, **env.folders, noise=noise, progress=env.progress)
    inputs = ws.model_inputs(Preprocessor.of(config))
    if int8 is not None:
        return int8_probabilities(int8, inputs, config), labels, ws
    if calibrate_minutes is None:
        return predict_probs(model, inputs), labels, ws
    from ..models.adapt import calibrated_logits

    logits, _ = calibrated_logits(
        model, inputs, ws.record, _beat_seconds(ws, env.data_dir), calibrate_minutes
    )
    return softmax(logits), labels, ws


def _beat_seconds(ws, data_dir=None) -> np.ndarray:
    """Each beat's time in its record in seconds, each record at its own database's rate (360 Hz mitdb,
    128 Hz svdb, a database of your own's in `data_dir`)."""
    from ..data.databases import database_of

    fs = {r: database_of(r, data_dir).fs for r in set(ws.record.tolist())}
    return ws.sample / np.array([fs[r] for r in ws.record.tolist()], dtype=np.float64)


def out_of_fold_probabilities(model, config: HeartzooConfig, *, env: Environment = LOCAL, **options):
    """A fold ensemble's validation side: every member's probabilities on the fold it held out, one fold
    after another (the folds are disjoint, so each recording or patient once), with their labels and frames."""
    from ..data.windows import WindowSet
    from ..models.ensemble import member_configs, member_models

    configs = member_configs(config, env.data_dir)
    parts = [
        split_probabilities(member, configs[seed], "val", env=env, **options)
        for seed, member in member_models(model, config).items()
    ]
    probs, labels, sets = zip(*parts, strict=True)
    meta = {**sets[0].meta, "records": sorted(r for w in sets for r in w.meta.get("records", []))}
    return np.concatenate(probs), np.concatenate(labels), WindowSet.concat(list(sets), meta)


def recording_aggregation(folder: Path, model, config: HeartzooConfig, env: Environment = LOCAL):
    """How a per-recording task's windows make a recording's class (`meta.RecordingAggregation`; None for
    other tasks): a zoo version's own, from its firmware contract; for a run, fitted on its validation
    recordings as `heartzoo export` fits it."""
    if not get_task(config.task).per_recording:
        return None
    from ..meta import Configuration, read_meta
    from .aggregation import MEAN

    published = folder / "configuration.json"
    if published.is_file():
        return read_meta(Configuration, published).firmware.aggregation or MEAN
    if config.fold_ensemble:  # fitted on the out-of-fold windows, dealt again here
        from ..models.ensemble import check_folds

        check_folds(config, folder, env.data_dir)
    return fitted_aggregation(model, config, env)[0]


def fitted_aggregation(model, config: HeartzooConfig, env: Environment = LOCAL):
    """`export.aggregation` fitted on the float model's validation windows, and its validation macro-F1
    cross-fitted over those recordings (None for the mean, which fits nothing)."""
    from . import aggregation

    method = config.export.aggregation
    if method == "mean":
        return aggregation.MEAN, None
    probs, labels, ws = split_probabilities(model, config, "val", env=env)
    recordings = len(set(ws.record.tolist()))
    side = "out-of-fold" if config.fold_ensemble else "validation"
    fitted = aggregation.fit(probs, labels, ws.record, method, f"{recordings} {side} recordings")
    return fitted, cross_fitted_f1(probs, labels, ws.record, config)


def cross_fitted_f1(
    probs, labels, records, config: HeartzooConfig, method: str | None = None, applied_to=None
):
    """Macro-F1 per recording of an aggregation (`method`, default `export.aggregation`) cross-fitted over
    these recordings: each fold's map fitted on `probs` (the float model's windows) and read on
    `applied_to` (the int8 model's; default `probs`), as export scores a version."""
    from . import aggregation
    from .metrics import report_from_probabilities

    task = get_task(config.task)
    p, y = aggregation.cross_fitted(
        probs, labels, records, method or config.export.aggregation, applied_to=applied_to
    )
    return report_from_probabilities(p, y, task.class_names, task.macro_classes)["macro_f1"]


def int8_runtime(config: HeartzooConfig) -> str:
    """Where the int8 numbers of a version's metrics.json come from (`export.int8_runtime`)."""
    return "TFLM" if config.export.int8_runtime == "tflm" else "LiteRT optimized"


def int8_probabilities(buf: bytes, inputs, config: HeartzooConfig) -> np.ndarray:
    """The int8 model's class probabilities, from the runtime its published int8 numbers come from
    (as `heartzoo.zoo.publish.int8_metrics` computes them); what the runtime prints is held back."""
    from ..export.runtimes import dequantize_probs, io_specs, quantize_inputs, run_litert, run_tflm
    from ..quiet import silenced

    ins, outs = io_specs(buf)
    q = quantize_inputs(ins, inputs)
    with silenced(python=False):
        raw = (
            run_tflm(buf, q) if config.export.int8_runtime == "tflm" else run_litert(buf, q, reference=False)
        )
    return dequantize_probs(raw, outs[0])


def int8_tflite(folder: Path, model, config: HeartzooConfig, env: Environment = LOCAL) -> tuple[bytes, str]:
    """The int8 .tflite of a folder and where it came from: a zoo version's own model.tflite, else (a run)
    the model converted as `heartzoo export` converts it, calibrated on training frames."""
    published = folder / "model.tflite"
    if published.is_file():
        return published.read_bytes(), str(published)
    from ..export.convert import calibration_inputs, published_int8

    n = config.export.calibration_frames
    calib = calibration_inputs(config, n=n, **env.folders)
    return published_int8(model, config, calib), "the run, converted to int8 as export converts it"


def evaluate_model(
    model,
    config: HeartzooConfig,
    split: str = "test",
    *,
    env: Environment = LOCAL,
    noise=None,
    threshold: float | None = None,
    calibrate_minutes: float | None = None,
    int8: bytes | None = None,
    aggregation=None,
    cross_fit: bool = False,
) -> dict[str, Any]:
    """The report of `model` (or the int8 `.tflite` bytes `int8`) on `split`; a per-recording task's windows
    make each recording's class by `aggregation` (None: their mean). `cross_fit`: `split` holds the
    recordings the aggregation was fitted on, so each fifth is scored by a map of its method fitted on the
    other four (on the float model's windows), as export scores a version's validation side."""
    from .metrics import report_from_probabilities, scored_units

    task = get_task(config.task)
    probs, labels, ws = split_probabilities(
        model,
        config,
        split,
        env=env,
        noise=noise,
        calibrate_minutes=calibrate_minutes,
        int8=int8,
    )
    if cross_fit:
        from .aggregation import cross_fitted

        fitted_on = (
            probs if int8 is None else split_probabilities(model, config, split, env=env, noise=noise)[0]
        )
        probs, labels = cross_fitted(
            fitted_on,
            labels,
            ws.record,
            aggregation.method,
            applied_to=None if int8 is None else probs,
            eps=aggregation.eps,
        )
    else:
        probs, labels = scored_units(task, probs, labels, ws.record, aggregation)
    report = report_from_probabilities(probs, labels, task.class_names, task.macro_classes, threshold)
    report.update(
        split=split,
        protocol=ws.meta.get("protocol"),
        leaky=bool(ws.meta.get("leaky")),
        records=sorted(set(ws.record.tolist())),
        noise=None if noise is None else {"kind": noise.kind, "snr_db": noise.snr_db},
    )
    if task.unit == "beat":  # a record is a patient: the scores by patient beside the gross ones
        from .per_record import patient_statistics, record_confusions

        report["per_record"] = record_confusions(probs, labels, ws.record, len(task.class_names), threshold)
        report["patients"] = patient_statistics(report["per_record"], task.class_names, task.macro_classes)
    if calibrate_minutes is not None:
        from ..models.adapt import calibration_mask

        # not the inter-patient protocol alone: each test patient's own unlabelled beats adapted the model
        report["calibration"] = {"method": "batchnorm", "minutes": calibrate_minutes, "labels": "none"}
        if not task.per_recording:  # EC57 scores a device that learns on the beats after its learning alone
            later = ~calibration_mask(ws.record, _beat_seconds(ws, env.data_dir), calibrate_minutes)
            after = report_from_probabilities(
                probs[later], labels[later], task.class_names, task.macro_classes, threshold
            )
            report["calibration"]["later_beats"] = {"beats": int(later.sum()), "macro_f1": after["macro_f1"]}
    return report


def evaluate(
    path: str | os.PathLike[str],
    split: str = "ds2",
    *,
    env: Environment = LOCAL,
    noise_stress: bool = False,
    dataset: str | None = None,
    threshold: float | None = None,
    calibrate_minutes: float | None = None,
    int8: bool = False,
) -> dict[str, Any]:
    """Reports, named as metrics.json names them: "float", the Keras model's on the clean split; with
    `int8`, "int8", the int8 model's there (`int8_tflite`, `int8_probabilities`); with `noise_stress`,
    "noise", the float model's at each NSTDB `em` SNR level. With `calibrate_minutes`, under per-patient
    calibration on unlabelled beats (`heartzoo.models.adapt`). `dataset` tests on every record of another
    database instead (`svdb`: an external test, refused for a model that trained on it)."""
    from ..data.noise import STRESS_SNRS_DB
    from ..data.prepare import StressNoise
    from ..models.adapt import check_minutes
    from .metrics import check_threshold

    check_threshold(threshold)
    if calibrate_minutes is not None:
        check_minutes(calibrate_minutes)
        if int8:
            raise HeartzooError(
                "int8 scores the model as exported; per-patient calibration makes a model of its own for "
                "each patient: ask for one or the other"
            )
    model_file, config = run_config(path)
    if dataset is not None:
        if split != "ds2":
            raise HeartzooError(f"--dataset {dataset} tests on all of {dataset}: leave --split out")
        if noise_stress:
            raise HeartzooError("noise stress is measured on DS2 (the NSTDB noise is at mitdb's 360 Hz)")
        split = f"{dataset}:all"
    split = check_split(config, split, env.data_dir)
    folds_checked = None
    if split == "val" and config.fold_ensemble:  # out of fold: the folds are dealt again here
        from ..models.ensemble import check_folds

        folds_checked = check_folds(config, model_file.parent, env.data_dir)
    model = load_run_model(model_file)
    if calibrate_minutes is not None:
        from ..models.adapt import batchnorm_layers

        batchnorm_layers(model)  # refuse before any frame is loaded
    aggregation = recording_aggregation(model_file.parent, model, config, env)
    # the map was fitted on the validation recordings: scored on them in-sample, it flatters the model
    cross_fit = split == "val" and aggregation is not None and aggregation.method != "mean"
    kw = {
        "env": env,
        "threshold": threshold,
        "calibrate_minutes": calibrate_minutes,
        "aggregation": aggregation,
        "cross_fit": cross_fit,
    }
    folder = model_file.parent
    # a zoo version is named as `load_model` takes it (NAME@vN), a run by its folder
    version = (
        folder.name if re.fullmatch(r"v\d+", folder.name) and folder.parent.name == config.name else None
    )
    out: dict[str, Any] = {
        "model": config.name,
        "version": version,
        "folder": str(folder),
        "task": config.task,
        "split": split,
        "float": evaluate_model(model, config, split, **kw),
        **({"folds_checked": folds_checked} if folds_checked is not None else {}),
    }
    if int8:
        buf, source = int8_tflite(model_file.parent, model, config, env)
        out["int8"] = {
            **evaluate_model(model, config, split, int8=buf, **kw),
            "runtime": int8_runtime(config),
            "tflite": source,
        }
    if noise_stress:
        out["noise"] = {
            f"em@{snr:g}dB": evaluate_model(model, config, split, noise=StressNoise("em", snr), **kw)
            for snr in STRESS_SNRS_DB
        }
    notes = report_notes(out["float"], split)
    if cross_fit:
        notes.append(
            f"{split}: the recordings' {aggregation.method} map was fitted on these recordings, so each fifth "
            "is scored by one fitted on the other four, as the card's validation F1 is"
        )
    if threshold is None and calibrate_minutes is None:
        notes += published_differs(model_file.parent, config, split, out["float"])
    if notes:
        out["notes"] = notes
    return out


def report_notes(report: dict[str, Any], split: str) -> list[str]:
    """What a reader of `report` must know: a class of the macro-F1 that `split` does not hold scores 0 by
    the model's calls alone (Icentia11k holds no S beat), and pulls the macro-F1 down with it."""
    rejected = report.get("rejected_per_class") or {}  # beats a threshold left out were there all the same
    absent = [
        c for c in report["macro_classes"] if report["per_class"][c]["support"] + rejected.get(c, 0) == 0
    ]
    if not absent:
        return []
    named = ", ".join(absent)
    return [
        f"{split} holds no {named}: its F1 is 0 by the model's calls of {named} alone, and the macro-F1 "
        f"({', '.join(report['macro_classes'])}) counts it"
    ]


def published_differs(folder: Path, config: HeartzooConfig, split: str, report: dict[str, Any]) -> list[str]:
    """A note where `folder` is a zoo version measured on `split` and the split's labels now differ from
    those it was published on (its metrics.json's support per class): its card's numbers are not these."""
    from ..meta import read_metrics

    if not (folder / "metrics.json").is_file():
        return []
    published = read_metrics(folder)
    if published.split != split:
        return []
    then = {c: s.support for c, s in published.float.per_class.items()}
    now = {c: v["support"] for c, v in report["per_class"].items()}
    if then == now:
        return []

    def said(counts: dict[str, int]) -> str:
        return " / ".join(f"{c} {n:,}" for c, n in counts.items())

    why = (
        ": its windows' labels come from where the default detector errs, and the detector has changed since"
        if get_task(config.task).is_quality_gate
        else ""
    )
    return [
        f"{split} now holds other labels than {config.name}@{folder.name} was published on ({said(now)}, "
        f"against {said(then)}){why}; its card's numbers are the published ones, not these"
    ]
