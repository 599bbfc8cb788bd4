"""Does the validation signal pick the better training seed? v1 protocol (5 DS1 validation patients)
beside v2 (whole patients drawn from DS1 + svdb).

For each recipe in `seed_spread.jsonl` (one training seed per run, nothing else varied) it gives the
Spearman rank correlation between the seeds' validation macro-F1 (what selection sees) and their DS2
float macro-F1, and the DS2 score of the seed validation would pick beside the seeds' mean. The latest
line of each recipe counts. DS2 is read only to judge the signal; nothing is chosen on it.

Run: `python benchmarks/selection_seeds.py [--spread benchmarks/results/seed_spread.jsonl] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def protocol(name: str) -> str:
    return "v2: DS1 + svdb" if name.endswith("-svdb") else "v1: DS1"


def table(lines: list[dict]) -> list[dict]:
    from scipy.stats import spearmanr

    latest = {}
    for line in lines:
        latest[line["name"]] = line  # a later line of the same recipe replaces an earlier one
    out = []
    for name, line in latest.items():
        seeds = line["seeds"]
        if len(seeds) < 3:
            continue
        val = [s["val_macro_f1"] for s in seeds]
        ds2 = [s["macro_f1"] for s in seeds]
        rho = spearmanr(val, ds2).statistic
        picked = seeds[max(range(len(seeds)), key=lambda i: val[i])]
        out.append({"name": name, "task": line["task"], "protocol": protocol(name.split(" ")[0]),
                    "seeds": len(seeds), "spearman_val_ds2": float(rho),
                    "ds2_of_val_pick": picked["macro_f1"], "ds2_mean": line["mean"], "ds2_std": line["std"],
                    "val_mean": sum(val) / len(val)})  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spread", type=Path, default=REPO / "benchmarks" / "results" / "seed_spread.jsonl")
    ap.add_argument("--record", type=Path, help="write the table as JSON to this file")
    args = ap.parse_args()
    lines = [json.loads(x) for x in args.spread.read_text().splitlines() if x.strip()]
    rows = table(lines)
    print(f"{'recipe':45} {'protocol':15} {'n':>2} {'rho':>6} {'val pick':>9} {'DS2 mean ± sd':>16}")
    for r in sorted(rows, key=lambda r: (r["protocol"], r["task"], r["name"])):
        print(f"{r['name']:45} {r['protocol']:15} {r['seeds']:>2} {r['spearman_val_ds2']:>6.2f} "
              f"{r['ds2_of_val_pick']:>9.4f} {r['ds2_mean']:>8.4f} ± {r['ds2_std']:.4f}")  # fmt: skip
    if args.record:
        args.record.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
