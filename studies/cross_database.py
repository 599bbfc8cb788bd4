"""The cross-database table: published models trained on MIT-BIH DS1 alone, tested on every record of
the Supraventricular Arrhythmia Database (`heartzoo evaluate MODEL --dataset svdb`), float, natural
prevalence. Models trained with svdb are refused by the evaluation itself.

Run: `python studies/cross_database.py [NAME ...] [--zoo zoo] [--record results/cross_database.jsonl]`
(no names: every inter-patient version of the zoo). One JSON line per model: svdb and DS2 macro-F1 and
per-class F1 (DS2 from the version's metrics.json).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from heartzoo.environment import Environment
from heartzoo.io import append_json_line

REPO = Path(__file__).resolve().parents[1]


def summary(path: Path) -> dict:
    """Per task: how many models, and the Spearman rank correlation of their svdb and DS2 macro-F1
    (does a many-patient external signal rank models as DS2 does?)."""
    from scipy.stats import spearmanr

    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    out = {}
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        rho = spearmanr([r["svdb_macro_f1"] for r in mine], [r["ds2_float_macro_f1"] for r in mine])
        out[task] = {"models": len(mine), "spearman_svdb_vs_ds2": round(float(rho.statistic), 3)}
    return out


def main() -> None:
    from heartzoo.evaluation.evaluate import evaluate
    from heartzoo.meta import read_metrics
    from heartzoo.zoo.index import find, read_index, version_dir

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--record", type=Path)
    ap.add_argument("--summary", type=Path, help="print the per-task rank correlations of a recorded file")
    args = ap.parse_args()
    if args.summary:
        print(json.dumps(summary(args.summary)))
        return
    index = read_index(args.zoo)
    entries = [find(index, n) for n in args.names] if args.names else index["models"]
    done = set()
    if args.record and args.record.exists():  # a rerun goes on where the last one stopped
        done = {json.loads(line)["model"] for line in args.record.read_text().splitlines() if line}
    for entry in entries:
        if f"{entry['name']}@{entry['version']}" in done:
            continue
        vdir = version_dir(args.zoo, entry)
        ds2 = read_metrics(vdir)
        if ds2.leaky:
            continue
        rep = evaluate(
            vdir, dataset="svdb", env=Environment(data_dir=args.data_dir, cache_dir=args.cache_dir)
        )["float"]
        line = {
            "model": f"{entry['name']}@{entry['version']}",
            "task": entry["task"],
            "tested_on": "svdb:all (78 records)",
            "svdb_macro_f1": round(rep["macro_f1"], 4),
            "svdb_f1": {c: round(v["f1"], 4) for c, v in rep["per_class"].items()},
            "svdb_support": {c: v["support"] for c, v in rep["per_class"].items()},
            "ds2_float_macro_f1": round(ds2.float.macro_f1, 4),
            "ds2_float_f1": {c: round(v.f1, 4) for c, v in ds2.float.per_class.items()},
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
