"""Levers for af-4's student, each trained through the student's whole line (distilled from the teacher its
recipe names, channel-pruned, the stage `export.stage` selects) and scored as export scores it: the
challenge's F1 on the validation recordings by the recipe's aggregation, cross-fitted for a fitted one
(`evaluation.evaluate.fitted_aggregation`). The committed test split is never read.

The rule, fixed before any run: a variant replaces configs/af-4-cnn3-student.yaml's recipe (and is
published as its next version) if its validation F1 beats the published version it would follow by >= 0.01.

`hop50`: the teacher's soft labels on overlapping windows (`data.window_hop: 0.5`): twice the crops of each
training recording, every one labelled by the teacher, where plain training only repeats the recording's
label (af_screen's third round gave undistilled cnn3 +0.0096, under its bar).

Run: `python studies/af_student.py [--variants hop50] [--record FILE]`; runs in runs/af-student/NAME, each
a run of the recipe's own name, so an adopted one is published by `heartzoo train
configs/af-4-cnn3-student.yaml --run-dir runs/af-student/NAME` without training again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "configs" / "af-4-cnn3-student.yaml"
VARIANTS: dict[str, dict] = {"hop50": {"data": {"window_hop": 0.5}}}


def main() -> None:
    from af_screen import merged

    from heartzoo.config import parse_config
    from heartzoo.evaluation.evaluate import fitted_aggregation, load_run
    from heartzoo.io import append_json_line
    from heartzoo.meta import read_metrics
    from heartzoo.training.runs import run_pipeline

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--against", default="zoo/af-4/af-4-cnn3-student/v2", help="the version it would follow")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    base = yaml.safe_load(RECIPE.read_text())
    against = read_metrics(REPO / args.against).val_macro_f1
    for name in args.variants:
        config = parse_config(merged(base, VARIANTS[name]), f"{RECIPE.name} + {name}")
        t0 = time.perf_counter()
        out = run_pipeline(config, REPO / "runs" / "af-student" / name, zoo=REPO / "zoo", publish=False)
        model, _ = load_run(out["final"])
        _, val = fitted_aggregation(model, config)
        line = {
            "study": "af_student",
            "variant": name,
            "changes": VARIANTS[name],
            "stage": out["selected"]["stage"],
            "val_f1": val,
            "against": args.against,
            "against_val_f1": against,
            "adopted": val >= against + 0.01,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
