"""How few unlabelled beats may calibrate a model to a patient? (`heartzoo.calibrate`, `evaluate
--calibrate-minutes`: batch-norm statistics re-estimated on the patient's first beats.)

`calibrate` took whatever the first minutes held, one beat included: a recording that starts with a
minute of noise, or a short one, re-estimated every batch-norm layer's mean and variance from a frame or
two. This study chooses the fewest beats calibration may read, on the validation side only.

**The rule, written before it ran.** Models: the zoo's recommended beat-2, beat-3 and aami-5 models
(Keras, float). Patients: each model's own validation records (`--split val`). For each record, the
beats it scores are those from the 5-minute mark on (the same beats for every k below); the model is
calibrated on the record's first k beats in time order (no label read), for k in 1, 2, 4, ..., 256, and
on its first 5 minutes (the default, the reference). Pooled over the records, macro-F1 of the scored
beats. The floor is the smallest k of the grid such that, for every model, macro-F1 at that k and at
every larger k of the grid is at least the 5-minute calibration's less 0.02; if no k passes, 256.
`calibrate` and `--calibrate-minutes` then refuse a recording (record) with fewer calibration beats, and
say how many it has. DS2 is not read.

Run: `python studies/calibration_beats.py [--models NAME@VERSION,...] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GRID = tuple(2**i for i in range(9))  # 1 ... 256
MINUTES = 5.0
TOLERANCE = 0.02


def measure(name: str, zoo: Path, cache_dir=None) -> dict:
    from heartzoo.data.databases import database_of
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.inference import predict_probs
    from heartzoo.models.adapt import calibrated_copy
    from heartzoo.preprocess import Preprocessor, input_rows
    from heartzoo.tasks import get_task
    from heartzoo.zoo.hub import load_model

    t0 = time.perf_counter()
    loaded = load_model(name, format="keras", zoo=zoo)
    config, task = loaded.config, get_task(loaded.config.task)
    ws, labels = load_task_split(config, "val", cache_dir=cache_dir)
    inputs = ws.model_inputs(Preprocessor.of(config))
    fs = {r: database_of(r).fs for r in set(ws.record.tolist())}
    seconds = ws.sample / np.array([fs[r] for r in ws.record.tolist()], dtype=np.float64)
    scored = seconds >= 60.0 * MINUTES
    records = [r for r in np.unique(ws.record) if (scored & (ws.record == r)).any()]
    keep = np.isin(ws.record, records) & scored

    def pooled(first_of) -> float:
        probs = np.zeros((len(labels), task.num_classes), dtype=np.float32)
        for r in records:
            own = np.flatnonzero(ws.record == r)
            own = own[np.argsort(ws.sample[own], kind="stable")]
            later = own[scored[own]]
            copy = calibrated_copy(loaded.model, input_rows(inputs, first_of(own)))
            probs[later] = predict_probs(copy, input_rows(inputs, later))
        rep = report_from_probabilities(probs[keep], labels[keep], task.class_names, task.macro_classes)
        return round(float(rep["macro_f1"]), 4)

    plain = report_from_probabilities(
        predict_probs(loaded.model, input_rows(inputs, np.flatnonzero(keep))),
        labels[keep],
        task.class_names,
        task.macro_classes,
    )
    line = {
        "study": "calibration_beats",
        "model": name,
        "records": [str(r) for r in records],
        "scored_beats": int(keep.sum()),
        "plain": round(float(plain["macro_f1"]), 4),
        "minutes": pooled(lambda own: own[~scored[own]]),
        "by_beats": {str(k): pooled(lambda own, k=k: own[:k]) for k in GRID},
    }
    line["seconds"] = round(time.perf_counter() - t0, 1)
    return line


def floor(lines: list[dict]) -> int:
    """The rule above: the smallest k from which every model stays within TOLERANCE of its 5 minutes."""
    for i, k in enumerate(GRID):
        if all(line["by_beats"][str(j)] >= line["minutes"] - TOLERANCE for line in lines for j in GRID[i:]):
            return k
    return GRID[-1]


def main() -> None:
    from heartzoo.io import append_json_line
    from heartzoo.zoo.index import load_index
    from heartzoo.zoo.recommend import recommend

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="comma-separated NAME@VERSION [default: the recommended beat models]")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--cache-dir")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    if args.models:
        names = args.models.split(",")
    else:
        chosen = recommend(load_index(args.zoo), args.zoo)
        names = [chosen[t].ref for t in ("beat-2", "beat-3", "aami-5") if t in chosen]
    lines = []
    for name in names:
        line = measure(name, args.zoo, args.cache_dir)
        print(
            f"{name}: plain {line['plain']}, 5 min {line['minutes']}, by beats "
            + ", ".join(f"{k}: {v}" for k, v in line["by_beats"].items())
        )
        append_json_line(args.record, line)
        lines.append(line)
    verdict = {"study": "calibration_beats", "rule": "floor", "models": names, "floor": floor(lines)}
    print(f"floor: {verdict['floor']} beats")
    append_json_line(args.record, verdict)


if __name__ == "__main__":
    main()
