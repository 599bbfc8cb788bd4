"""af-4's cross-validation beside its test numbers: the summary of `heartzoo cv` reports (cv.json) as one
JSON line each, which the af-4 cards read (results/af_cv.jsonl).

Run: `heartzoo cv configs/af-4-cnn5-ensemble.yaml --first-member` (5 folds of the training recordings
outside the test split, by label), then `python studies/af_cv.py runs/cv/af-4-cnn5-ensemble-seed0
--record results/af_cv.jsonl`. A fold ensemble's members are a cross-validation of its recipe already:
`heartzoo cv configs/af-4-cnn5-fold-ensemble.yaml --members RUN` writes RUN/cv.json from them, nothing
trained, and `python studies/af_cv.py RUN --record results/af_cv.jsonl` summarises it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def summary(report: dict) -> dict:
    """What a card shows of one cross-validation: the recipe, its aggregation, the F1 per fold and pooled."""
    pooled = report["pooled"]
    return {
        "study": "af_cv",
        "name": report["name"],
        "aggregation": report["config"]["export"].get("aggregation", "mean"),
        "folds": report["folds"],
        "seed": report["seed"],
        "recordings": pooled["n"],
        "fold_f1": [r["macro_f1"] for r in report["per_fold"]],
        "fold_f1_mean": report["fold_macro_f1_mean"],
        "fold_f1_std": report["fold_macro_f1_std"],
        "pooled_f1": pooled["macro_f1"],
        "pooled_f1_per_class": {c: v["f1"] for c, v in pooled["per_class"].items()},
    }


def main() -> None:
    from heartzoo.io import append_json_line, read_json

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="cross-validation folders (each with its cv.json)")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    for run in args.runs:
        line = summary(read_json(run / "cv.json"))
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
