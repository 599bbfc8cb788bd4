"""Does the RR-irregularity feature (`input.rr_irregularity`) cut the S false alarms in irregular rhythms?

Runs of two recipes that differ only in that feature, over the same training seeds (made by
`studies/seed_spread.py`), are scored on the validation patients: macro-F1, S F1, Se and +P, and where
the S false positives fall: in beats whose 10 preceding RR intervals were irregular (the feature's own
value above `IRREGULAR`: atrial fibrillation, frequent ectopy) or in a steady rhythm. The rule, fixed
before any run was scored: the feature is adopted if its mean validation macro-F1 over the seeds is
higher. DS2 is then measured once per run, to report, not to choose.

Run: `python studies/rr_irregularity.py --with RUN [RUN ...] --without RUN [RUN ...] [--record FILE]`
(each RUN a run folder; its last stage is scored).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from heartzoo.io import append_json_line

#: irregularity10 above this: an irregular neighbourhood (0.18 at the median S false positive of the
#: pool student's validation patients, docs/training.md)
IRREGULAR = 0.15


def scored(run: Path, split: str) -> dict:
    """One run's report on `split`, with its S false positives split by the rhythm before them."""
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.tasks import get_task
    from heartzoo.zoo.manifest import final_stage_dir

    model, cfg = load_run(final_stage_dir(run) or run)
    task = get_task(cfg.task)
    probs, labels, ws = split_probabilities(model, cfg, split)
    r = report_from_probabilities(probs, labels, task.class_names, task.macro_classes)
    s = task.class_names.index("S")
    false_s = (probs.argmax(1) == s) & (labels != s)
    irregular = ws.rr[:, 4] > IRREGULAR
    by_record = {
        str(k): int(v) for k, v in zip(*np.unique(ws.record[false_s], return_counts=True), strict=True)
    }
    return {
        "macro_f1": r["macro_f1"],
        "S": {k: r["per_class"]["S"][k] for k in ("f1", "sensitivity", "positive_predictivity")},
        "S_false_positives": int(false_s.sum()),
        "S_false_positives_irregular": int((false_s & irregular).sum()),
        "S_false_positives_by_record": dict(sorted(by_record.items(), key=lambda kv: -kv[1])[:5]),
        "irregular_share_of_beats": float(irregular.mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--with", dest="with_", type=Path, nargs="+", required=True)
    ap.add_argument("--without", type=Path, nargs="+", required=True)
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    result = {}
    for arm, runs in (("without", args.without), ("with", args.with_)):
        rows = [{"run": str(r), "val": scored(r, "val"), "ds2": scored(r, "test")} for r in runs]
        result[arm] = {
            "runs": rows,
            "val_macro_f1_mean": float(np.mean([x["val"]["macro_f1"] for x in rows])),
            "ds2_macro_f1_mean": float(np.mean([x["ds2"]["macro_f1"] for x in rows])),
        }
        for x in rows:
            v, t = x["val"], x["ds2"]
            print(
                f"{arm:7} {Path(x['run']).name:34} val {v['macro_f1']:.4f} S F1 {v['S']['f1']:.3f} "
                f"(+P {v['S']['positive_predictivity']:.3f}) false S {v['S_false_positives']:5d}, "
                f"{v['S_false_positives_irregular']:5d} irregular · DS2 {t['macro_f1']:.4f} "
                f"S F1 {t['S']['f1']:.3f} (+P {t['S']['positive_predictivity']:.3f}) false S "
                f"{t['S_false_positives']:5d}, {t['S_false_positives_irregular']:5d} irregular"
            )
    result["adopted"] = result["with"]["val_macro_f1_mean"] > result["without"]["val_macro_f1_mean"]
    print(
        f"validation macro-F1 mean: without {result['without']['val_macro_f1_mean']:.4f} · with "
        f"{result['with']['val_macro_f1_mean']:.4f} → {'adopted' if result['adopted'] else 'not adopted'}"
        f" (DS2 mean: {result['without']['ds2_macro_f1_mean']:.4f} → {result['with']['ds2_macro_f1_mean']:.4f})"
    )
    append_json_line(args.record, result)


if __name__ == "__main__":
    main()
