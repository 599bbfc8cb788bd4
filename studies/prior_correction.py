"""Does a prior correction, chosen on the validation patients, fix the S precision on DS2?

A model trained on a class-balanced stream (class c drawn in proportion to n_c^power) has learned the
posterior under that stream's prior. Adding tau * (1 - power) * log(n_c) to its logits moves it toward
the training pool's natural prior (tau = 1: all the way). One number per model, tau, is chosen on the
validation patients (grid below, best validation macro-F1, ties to the smaller |tau|); DS2 only measures
the model before and after, once. The offset is a constant on the last layer's bias, so an exported model
carries it at no cost.

Run: `python studies/prior_correction.py RUN [RUN ...] [--record FILE]` (each RUN a run folder; its last
stage is scored).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from heartzoo.io import append_json_line

TAUS = np.round(np.arange(-0.5, 2.01, 0.1), 2) + 0.0  # + 0.0: no "-0.0"


def prior_offsets(train_counts, power: float) -> np.ndarray:
    """(1 - power) * log(n_c), centred: the logit shift from the balanced stream's prior to the natural one."""
    n = np.asarray(train_counts, dtype=np.float64)
    b = (1.0 - power) * np.log(np.maximum(n, 1.0))
    return b - b.mean()


def shifted(probs: np.ndarray, offsets: np.ndarray, tau: float) -> np.ndarray:
    z = np.log(np.clip(probs, 1e-12, None)) + tau * offsets
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def measure(run: Path) -> dict:
    """tau chosen on `run`'s validation patients; DS2 before and after, each class's F1, Se and +P."""
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.io import read_json
    from heartzoo.tasks import get_task
    from heartzoo.zoo.manifest import final_stage_dir

    last = final_stage_dir(run) or run
    model, cfg = load_run(last)
    task = get_task(cfg.task)
    counts = read_json(run / "train_summary.json")["train_class_counts"]
    offsets = prior_offsets(counts, cfg.train.balance.power)

    def report(p, y):
        return report_from_probabilities(p, y, task.class_names, task.macro_classes)

    def brief(r):
        keys = ("f1", "sensitivity", "positive_predictivity")
        return {
            "macro_f1": r["macro_f1"],
            **{c: {k: r["per_class"][c][k] for k in keys} for c in task.class_names},
        }

    pv, yv, _ = split_probabilities(model, cfg, "val")
    val = [report(shifted(pv, offsets, t), yv)["macro_f1"] for t in TAUS]
    best = max(range(len(TAUS)), key=lambda i: (round(val[i], 6), -abs(TAUS[i])))
    pt, yt, _ = split_probabilities(model, cfg, "test")
    zero = int(np.flatnonzero(TAUS == 0.0)[0])
    return {
        "run": str(last),
        "task": cfg.task,
        "power": cfg.train.balance.power,
        "train_counts": counts,
        "tau": float(TAUS[best]),
        "val_macro_f1": {"tau0": val[zero], "tau": val[best]},
        "ds2": {"tau0": brief(report(pt, yt)), "tau": brief(report(shifted(pt, offsets, TAUS[best]), yt))},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, nargs="+")
    ap.add_argument("--record", type=Path, help="append one JSON line per run to this file")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    for run in args.runs:
        row = measure(run)
        a, b = row["ds2"]["tau0"], row["ds2"]["tau"]
        s = "S" if "S" in a else None
        print(
            f"{run.name}: tau {row['tau']:+.1f} · val {row['val_macro_f1']['tau0']:.4f} → "
            f"{row['val_macro_f1']['tau']:.4f} · DS2 {a['macro_f1']:.4f} → {b['macro_f1']:.4f}"
            + (f" · S F1 {a[s]['f1']:.3f} → {b[s]['f1']:.3f}" if s else "")
        )
        append_json_line(args.record, row)


if __name__ == "__main__":
    main()
