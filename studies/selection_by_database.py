"""Which validation patients rank pool-trained models as DS2 does: all of them, or one database's?

The v2 protocol draws validation patients from every training database (for beat-3 on DS1 + svdb: 5 MIT-BIH
and 14 svdb patients), and macro-F1 over all of them is the selection signal. For every run of the pool
recipes in `seed_spread.jsonl` (their runs must be here), this scores the run's last stage on each
database's validation patients alone and gives each signal's Spearman rank correlation with the runs' DS2
float macro-F1 (from the same file). DS2 is read only to judge the signals; nothing is chosen on it.

Run: `python studies/selection_by_database.py [--task beat-3] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def pool_runs(spread: Path, task: str) -> list[dict]:
    """The seeds (runs) of every pool-trained recipe of `task` whose runs are here, each run once (the
    latest line per recipe; the pool as `selection_seeds.protocol` tells it)."""
    from selection_seeds import latest_lines, protocol  # a sibling script: studies/ is on sys.path

    lines = [json.loads(x) for x in spread.read_text().splitlines() if x.strip()]
    runs = {}
    for row in latest_lines(lines).values():
        if row["task"] == task and protocol(row).startswith("v2"):
            for seed in row["seeds"]:
                if (Path(seed["run"]) / "config.json").is_file():
                    runs[seed["run"]] = {**seed, "recipe": row["name"]}
    return list(runs.values())


def by_database(run: Path) -> dict[str, float]:
    """Validation macro-F1 on all validation patients, and on each database's alone."""
    from heartzoo.data.databases import database_of
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.tasks import get_task

    model, cfg = load_run(run)
    task = get_task(cfg.task)
    probs, labels, ws = split_probabilities(model, cfg, "val")
    db = np.array([database_of(r).name for r in ws.record.tolist()])
    out = {"all": report_from_probabilities(probs, labels, task.class_names, task.macro_classes)["macro_f1"]}
    for name in sorted(set(db.tolist())):
        m = db == name
        out[name] = report_from_probabilities(probs[m], labels[m], task.class_names, task.macro_classes)[
            "macro_f1"
        ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="beat-3")
    ap.add_argument("--spread", type=Path, default=REPO / "results" / "seed_spread.jsonl")
    ap.add_argument("--record", type=Path, help="write the runs' signals and the correlations as JSON here")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from scipy.stats import spearmanr

    runs = pool_runs(args.spread, args.task)
    if len(runs) < 3:
        raise SystemExit(
            f"{args.spread}: {len(runs)} pool-trained {args.task} run(s) found here; 3 or more needed"
        )
    for r in runs:
        r["val"] = by_database(Path(r["run"]))
        print(
            f"{r['recipe']:32} {Path(r['run']).parent.name:40} DS2 {r['macro_f1']:.4f} · validation "
            + " · ".join(f"{k} {v:.4f}" for k, v in r["val"].items())
        )
    ds2 = [r["macro_f1"] for r in runs]
    rho = {k: float(spearmanr([r["val"][k] for r in runs], ds2).statistic) for k in runs[0]["val"]}
    print(f"Spearman with DS2 over {len(runs)} runs: " + " · ".join(f"{k} {v:+.2f}" for k, v in rho.items()))
    if args.record:
        args.record.write_text(
            json.dumps({"task": args.task, "runs": runs, "spearman_with_ds2": rho}, indent=1) + "\n"
        )


if __name__ == "__main__":
    main()
