"""Does the validation signal pick the better training seed? v1 protocol (5 DS1 validation patients)
beside v2 (whole patients drawn from DS1 + svdb).

For each recipe in `seed_spread.jsonl` (one training seed per run, nothing else varied) it gives the
Spearman rank correlation between the seeds' validation macro-F1 (what selection sees) and their DS2
float macro-F1, and the DS2 score of the seed validation would pick beside the seeds' mean. The latest
line of each recipe counts. DS2 is read only to judge the signal; nothing is chosen on it.

Run: `python studies/selection_seeds.py [--spread results/seed_spread.jsonl] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def protocol(line: dict) -> str:
    """The validation pool a recipe selected on: from the training databases the line records, else
    (lines written before seed_spread.py recorded them) from its first seed's run config where that run
    is here, else from the name (the only pool recipes then were named *-svdb). Not from the config file
    named: a recipe's file may have moved on to a new version since."""
    train = line.get("train")
    run_config = Path(line["seeds"][0]["run"]) / "config.json"
    if train is None and run_config.is_file():
        train = json.loads(run_config.read_text())["data"]["train"]
    if train is None:
        return "v2: DS1 + svdb" if line["name"].split(" ")[0].endswith("-svdb") else "v1: DS1"
    return "v2: DS1 + svdb" if any(t.startswith("svdb:") for t in train) else "v1: DS1"


def judged(name: str, task: str, proto: str, seeds: list[dict]) -> dict:
    """Spearman of validation against DS2 over `seeds` (runs), and the DS2 score of validation's pick."""
    from scipy.stats import spearmanr

    val = [s["val_macro_f1"] for s in seeds]
    ds2 = [s["macro_f1"] for s in seeds]
    picked = seeds[max(range(len(seeds)), key=lambda i: val[i])]
    return {
        "name": name,
        "task": task,
        "protocol": proto,
        "seeds": len(seeds),
        "spearman_val_ds2": float(spearmanr(val, ds2).statistic),
        "ds2_of_val_pick": picked["macro_f1"],
        "ds2_mean": float(np.mean(ds2)),
        "ds2_std": float(np.std(ds2, ddof=1)),
        "val_mean": float(np.mean(val)),
    }


def latest_lines(lines: list[dict]) -> dict[str, dict]:
    """Each recipe's line by name, a later line of the same recipe replacing an earlier one."""
    return {line["name"]: line for line in lines}


def table(lines: list[dict]) -> list[dict]:
    latest = latest_lines(lines)
    out = []
    # every run of one task and protocol together as well: the same validation patients score them all,
    # so this asks whether validation ranks models (recipes and seeds alike) as DS2 does
    pooled: dict[tuple[str, str], dict[str, dict]] = {}
    for name, line in latest.items():
        if len(line["seeds"]) < 3:
            continue
        key = (line["task"], protocol(line))
        out.append(judged(name, *key, line["seeds"]))
        # keyed by run: a run two lines share (a chain's seed 0 is the published one) counts once
        pooled.setdefault(key, {}).update({s["run"]: s for s in line["seeds"]})
    for (task, proto), runs in pooled.items():
        recipes = sum(1 for r in out if (r["task"], r["protocol"]) == (task, proto))
        if recipes > 1:
            out.append(judged(f"all {task} runs ({recipes} recipes)", task, proto, list(runs.values())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spread", type=Path, default=REPO / "results" / "seed_spread.jsonl")
    ap.add_argument("--record", type=Path, help="write the table as JSON to this file")
    args = ap.parse_args()
    lines = [json.loads(x) for x in args.spread.read_text().splitlines() if x.strip()]
    rows = table(lines)
    print(f"{'recipe':45} {'protocol':15} {'n':>2} {'rho':>6} {'val pick':>9} {'DS2 mean ± sd':>16}")
    for r in sorted(rows, key=lambda r: (r["protocol"], r["task"], r["name"])):
        print(
            f"{r['name']:45} {r['protocol']:15} {r['seeds']:>2} {r['spearman_val_ds2']:>6.2f} "
            f"{r['ds2_of_val_pick']:>9.4f} {r['ds2_mean']:>8.4f} ± {r['ds2_std']:.4f}"
        )
    if args.record:
        args.record.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
