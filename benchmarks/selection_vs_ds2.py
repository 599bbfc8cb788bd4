"""How well does each DS1 selection signal rank models the way DS2 does?

For every config cross-validated with `heartzoo cv` (runs/cv/<name>/cv.json) that is also published in
the zoo, it sets side by side: the 5-patient validation macro-F1 the published model was selected on
(its history.csv), the pooled out-of-fold macro-F1 over all 22 DS1 patients (cv.json), and the
published float DS2 macro-F1. Per task it gives each signal's Spearman rank correlation with DS2 and
the DS2 score of the config each signal would pick. DS2 is read only to judge the signals here; no
choice of the project rests on this comparison.

Run: `python benchmarks/selection_vs_ds2.py [--cv runs/cv] [--zoo zoo] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rows(cv_root: Path, zoo_root: Path) -> list[dict]:
    from heartzoo.recommend import validation_macro_f1
    from heartzoo.zoo import latest_version_dir

    out = []
    for cv_file in sorted(cv_root.glob("*/cv.json")):
        cv = json.loads(cv_file.read_text())
        vdir = latest_version_dir(zoo_root, cv["task"], cv["name"])
        if vdir is None:
            continue
        published = json.loads((vdir / "configuration.json").read_text())
        if published["config"] != cv["config"]:
            raise SystemExit(f"{cv_file}: cross-validated config differs from the published {vdir.name}")
        out.append(
            {
                "task": cv["task"],
                "name": cv["name"],
                "val5": validation_macro_f1(vdir),
                "cv_pooled": cv["pooled"]["macro_f1"],
                "cv_fold_mean": cv["fold_macro_f1_mean"],
                "ds2_float": json.loads((vdir / "metrics.json").read_text())["float"]["macro_f1"],
            }
        )
    return out


def summary(table: list[dict]) -> list[dict]:
    from scipy.stats import spearmanr

    result = []
    for task in sorted({r["task"] for r in table}):
        part = [r for r in table if r["task"] == task]
        line = {"task": task, "configs": len(part), "best_ds2": max(r["ds2_float"] for r in part)}
        for signal in ("val5", "cv_pooled", "cv_fold_mean"):
            # a rank correlation of fewer than 3 models says nothing
            rho = None
            if len(part) >= 3:
                rho = round(
                    float(spearmanr([r[signal] for r in part], [r["ds2_float"] for r in part]).statistic), 3
                )
            pick = max(part, key=lambda r, s=signal: r[s])
            line[signal] = {
                "spearman": rho,
                "picks": pick["name"],
                "pick_ds2": pick["ds2_float"],
            }
        result.append(line)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", type=Path, default=REPO / "runs" / "cv")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    table = rows(args.cv, args.zoo)
    if not table:
        raise SystemExit(f"no cross-validated config in {args.cv} is published in {args.zoo}")
    print(
        f"{'task':7} {'config':28} {'val (5 pat.)':>12} {'CV pooled':>10} {'CV fold mean':>12} {'DS2 float':>10}"
    )
    for r in sorted(table, key=lambda r: (r["task"], -r["ds2_float"])):
        print(
            f"{r['task']:7} {r['name']:28} {r['val5']:12.4f} {r['cv_pooled']:10.4f} "
            f"{r['cv_fold_mean']:12.4f} {r['ds2_float']:10.4f}"
        )
    result = summary(table)
    for line in result:
        print(f"\n{line['task']}: {line['configs']} configs, best DS2 {line['best_ds2']:.4f}")
        for signal in ("val5", "cv_pooled", "cv_fold_mean"):
            s = line[signal]
            rho = "n/a" if s["spearman"] is None else f"{s['spearman']:+.3f}"
            print(f"  {signal:13} Spearman vs DS2 {rho} · picks {s['picks']} (DS2 {s['pick_ds2']:.4f})")
    if args.record:
        with args.record.open("a") as f:
            f.write(json.dumps({"table": table, "summary": result}) + "\n")


if __name__ == "__main__":
    main()
