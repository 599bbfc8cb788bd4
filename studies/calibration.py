"""How much does calibrating to each patient on its own unlabelled beats move macro-F1?

For every published inter-patient model with batch-norm layers (ensembles and leaky models are left
out), it evaluates the model as published and under `heartzoo evaluate --calibrate-minutes M`: each
record's beats in its first M minutes re-estimate the batch-norm statistics, no label is read, and the
record's later beats are scored by the calibrated copy (the first M minutes by the model as published).
It does so on the DS1 validation patients, on which the decision to build this was taken, and on DS2.
Calibration is a protocol of its own: a zoo number stays the plain inter-patient one.

Each model's latest version by default; `--recommended`: the versions the zoo recommends (each beat task's, those
with batch norm). The tables (`--summary`) name each version measured.

Run: `python studies/calibration.py [--zoo zoo] [--minutes 5] [--splits val ds2] [--recommended] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from heartzoo.environment import Environment

REPO = Path(__file__).resolve().parents[1]


def calibratable(zoo_root: Path) -> list[Path]:
    """Version folders of the published inter-patient models whose own layers include batch norm."""
    import keras

    from heartzoo.errors import HeartzooError
    from heartzoo.models.adapt import batchnorm_layers
    from heartzoo.zoo.index import latest_version_dir, load_index

    out = []
    for entry in load_index(zoo_root)["models"]:
        folder = latest_version_dir(zoo_root, entry["task"], entry["name"])
        if folder is None or folder in out or entry["name"].endswith("-leaky"):
            continue
        model = keras.saving.load_model(folder / "model.keras", compile=False)
        try:
            batchnorm_layers(model)
        except HeartzooError:
            continue
        out.append(folder)
    return out


def _scores(rep: dict) -> dict:
    return {
        "macro_f1": round(rep["macro_f1"], 4),
        "f1": {c: round(v["f1"], 4) for c, v in rep["per_class"].items()},
    }


def measure(folder: Path, split: str, minutes: float, cache_dir=None) -> dict:
    from heartzoo.evaluation.evaluate import evaluate

    task = json.loads((folder / "configuration.json").read_text())["config"]["task"]
    line: dict = {"model": folder.parent.name, "version": folder.name, "task": task, "split": split}
    line["minutes"] = minutes
    for key, calib in (("plain", None), ("calibrated", minutes)):
        t0 = time.perf_counter()
        rep = evaluate(folder, split, env=Environment(cache_dir=cache_dir), calibrate_minutes=calib)["float"]
        line[key] = {**_scores(rep), "seconds": round(time.perf_counter() - t0, 1)}
    line["delta"] = round(line["calibrated"]["macro_f1"] - line["plain"]["macro_f1"], 4)
    return line


def measure_int8(folder: Path, minutes: float, cache_dir=None) -> dict:
    """DS2 int8 macro-F1 as published and with one int8 model per patient: each record's early beats
    scored by the published model.tflite, its later beats by `export.calibrated_int8` of those early
    beats, all in LiteRT's reference kernels (bit-exact with TFLM, checked on a few frames each)."""
    import numpy as np

    from heartzoo.data.mitbih import SAMPLING_RATE
    from heartzoo.data.prepare import load_task_split, test_split
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.export import calibrated_int8, quantized_inputs, run_litert, run_tflm
    from heartzoo.models.adapt import calibration_mask
    from heartzoo.preprocess import Preprocessor, input_rows
    from heartzoo.tasks import get_task

    model, config = load_run(folder)
    task = get_task(config.task)
    ws, labels = load_task_split(config, test_split(config), cache_dir=cache_dir)
    inputs = ws.model_inputs(Preprocessor.of(config))
    published = (folder / "model.tflite").read_bytes()
    plain = run_litert(published, quantized_inputs(published, inputs)).astype(np.float32)
    scores, mismatched, t0 = plain.copy(), 0, time.perf_counter()
    mask = calibration_mask(ws.record, ws.sample / SAMPLING_RATE, minutes)
    for record in np.unique(ws.record):
        early = np.flatnonzero((ws.record == record) & mask)
        later = np.flatnonzero((ws.record == record) & ~mask)
        buf = calibrated_int8(model, config, input_rows(inputs, early))
        q = quantized_inputs(buf, input_rows(inputs, later))
        scores[later] = run_litert(buf, q)
        few = [part[:20] for part in q]
        mismatched += int((run_tflm(buf, few) != scores[later][:20].astype(np.int8)).any(axis=1).sum())
    line: dict = {"model": folder.parent.name, "version": folder.name, "task": config.task}
    line.update(split="ds2", minutes=minutes, runtime="int8 LiteRT reference")
    for key, s in (("plain", plain), ("calibrated", scores)):
        line[key] = _scores(report_from_probabilities(s, labels, task.class_names, task.macro_classes))
    line["delta"] = round(line["calibrated"]["macro_f1"] - line["plain"]["macro_f1"], 4)
    line["tflm_mismatched_frames"] = mismatched
    line["seconds"] = round(time.perf_counter() - t0, 1)
    return line


def per_record(folder: Path, minutes: float, cache_dir=None) -> dict:
    """Where calibration helps or hurts on DS2: for each record, the share of non-normal beats among
    its calibration beats (labels read only to report it) and the confusion matrix of its later beats,
    as published and calibrated (float)."""
    import numpy as np

    from heartzoo.data.mitbih import SAMPLING_RATE
    from heartzoo.data.prepare import test_split
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.evaluation.metrics import confusion_matrix
    from heartzoo.tasks import get_task

    model, config = load_run(folder)
    split, k = test_split(config), get_task(config.task).num_classes
    plain, labels, ws = split_probabilities(model, config, split, env=Environment(cache_dir=cache_dir))
    calibrated, _, _ = split_probabilities(
        model, config, split, env=Environment(cache_dir=cache_dir), calibrate_minutes=minutes
    )
    early = ws.sample / SAMPLING_RATE < 60 * minutes
    records = {}
    for record in np.unique(ws.record):
        own = ws.record == record
        later = own & ~early
        records[str(record)] = {
            "calibration_beats": int((own & early).sum()),
            "non_normal_share": round(float((labels[own & early] != 0).mean()), 4),
            "later": {
                key: confusion_matrix(labels[later], p[later].argmax(axis=1), k).tolist()
                for key, p in (("plain", plain), ("calibrated", calibrated))
            },
        }
    line: dict = {"model": folder.parent.name, "version": folder.name, "task": config.task}
    line.update(split="ds2", minutes=minutes, records=records)
    return line


def summary(lines: list[dict]) -> str:
    """A markdown table of a record file's float lines: each model on validation and DS2, plain and
    calibrated, then per task how many models rose and the median change."""
    from statistics import median

    float_lines = [r for r in lines if "runtime" not in r and "records" not in r]
    by = {(f"{r['model']} {r['version']}", r["split"]): r for r in float_lines}
    models = sorted({m for m, _ in by})
    out = ["| model | DS1 validation: plain → calibrated | DS2: plain → calibrated |", "|---|---:|---:|"]
    for m in models:
        cells = [
            f"{by[m, sp]['plain']['macro_f1']:.4f} → {by[m, sp]['calibrated']['macro_f1']:.4f}"
            if (m, sp) in by
            else "–"
            for sp in ("val", "ds2")
        ]
        out.append(f"| {m} | {cells[0]} | {cells[1]} |")
    out += ["", "| task | split | versions | rose | median change |", "|---|---|---:|---:|---:|"]
    for task in sorted({r["task"] for r in float_lines}):
        for sp in ("val", "ds2"):
            d = [r["delta"] for r in float_lines if r["task"] == task and r["split"] == sp]
            if d:
                out.append(f"| {task} | {sp} | {len(d)} | {sum(x > 0 for x in d)} | {median(d):+.4f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--splits", nargs="*", default=["val", "ds2"])
    ap.add_argument("--models", nargs="*", help="model names (default: every calibratable one)")
    ap.add_argument("--recommended", action="store_true", help="the zoo's recommended versions instead")
    ap.add_argument("--int8", nargs="*", default=[], help="also per-patient int8 models for these names")
    ap.add_argument("--per-record", nargs="*", default=[], help="also a per-record DS2 breakdown for these")
    ap.add_argument("--summary", type=Path, help="print the markdown tables of a record file and stop")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--record", type=Path, help="append one JSON line per model and split here")
    args = ap.parse_args(argv)
    if args.summary:
        print(summary([json.loads(line) for line in args.summary.read_text().splitlines() if line]))
        return
    folders = calibratable(args.zoo)
    if args.recommended:
        from heartzoo.tasks import get_task
        from heartzoo.zoo.index import load_index

        index = load_index(args.zoo)
        tasks = {m["name"]: m["task"] for m in index["models"]}
        beat_tasks = {t for t in tasks.values() if get_task(t).unit == "beat"}  # af-4's recordings are short
        picks = [ref.split("@") for t, ref in index.get("recommended", {}).items() if t in beat_tasks]
        wanted = [args.zoo / tasks[name] / name / version for name, version in picks]
        folders = [f for f in wanted if f.parent in {g.parent for g in folders}]
    if args.models:
        folders = [f for f in folders if f.parent.name in args.models]
    for split in args.splits:
        for folder in folders:
            _emit(measure(folder, split, args.minutes, args.cache_dir), args.record)
    for folder in folders:
        if folder.parent.name in args.int8:
            _emit(measure_int8(folder, args.minutes, args.cache_dir), args.record)
        if folder.parent.name in args.per_record:
            _emit(per_record(folder, args.minutes, args.cache_dir), args.record)


def _emit(line: dict, record: Path | None) -> None:
    from heartzoo.io import append_json_line

    print(json.dumps(line), flush=True)
    append_json_line(record, line)


if __name__ == "__main__":
    main()
