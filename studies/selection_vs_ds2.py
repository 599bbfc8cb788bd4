"""How well does each selection signal rank models the way DS2 does? v1 protocol (DS1, 5 validation
patients) beside v2 (DS1 + svdb, validation patients drawn from both).

For every published version of the comparison architectures (one recipe, only the architecture
differs; `heartzoo.zoo.published.family`), grouped by task and by the databases it trained on, it sets side
by side: the validation macro-F1 it was selected on, the pooled out-of-fold macro-F1 of `heartzoo cv`
where runs/cv/<name>/cv.json holds a cross-validation of that very config, and the published float DS2
macro-F1. Per group it gives each signal's Spearman rank correlation with DS2 and the DS2 score of the
model each signal would pick. DS2 is read only to judge the signals here; no choice of the project
rests on this comparison.

Run: `python studies/selection_vs_ds2.py [--cv runs/cv] [--zoo zoo] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from heartzoo.io import append_json_line

REPO = Path(__file__).resolve().parents[1]
SIGNALS = ("val", "cv_pooled", "cv_fold_mean")


def same_config(raw: dict, cfg: dict) -> bool:
    from heartzoo.config import parse_config
    from heartzoo.errors import ConfigError

    try:
        return parse_config(raw).model_dump(mode="json") == cfg
    except ConfigError:
        return False


def rows(cv_root: Path, zoo_root: Path) -> list[dict]:
    from heartzoo.zoo.index import read_index
    from heartzoo.zoo.published import family, published_config, training_label, validation_macro_f1

    out = []
    for entry in read_index(zoo_root)["models"]:
        vdir = zoo_root / entry["path"]
        cfg = published_config(vdir)
        metrics = json.loads((vdir / "metrics.json").read_text())
        # beats on the inter-patient split (rhythm-3's windows are tested on dealt patients)
        if (
            family(cfg, metrics.get("leaky", False)) != "comparison architectures"
            or cfg["data"]["protocol"] != "inter-patient"
        ):
            continue
        row = {
            "task": entry["task"],
            "name": entry["name"],
            "version": entry["version"],
            "trained_on": training_label(cfg),
            "val": validation_macro_f1(vdir),
            "cv_pooled": None,
            "cv_fold_mean": None,
            "ds2_float": metrics["float"]["macro_f1"],
        }
        cv_file = cv_root / entry["name"] / "cv.json"
        # the same config as the current schema reads it (a field added since has its default on both)
        if cv_file.is_file() and same_config((cv := json.loads(cv_file.read_text()))["config"], cfg):
            row["cv_pooled"], row["cv_fold_mean"] = cv["pooled"]["macro_f1"], cv["fold_macro_f1_mean"]
        out.append(row)
    return out


def judged(rows: list[dict], signal: str) -> dict:
    """`signal`'s Spearman rank correlation with DS2 over `rows` (None under 3 models), and its pick."""
    from scipy.stats import spearmanr

    have = [r for r in rows if r[signal] is not None]
    rho = None
    if len(have) >= 3:
        rho = round(float(spearmanr([r[signal] for r in have], [r["ds2_float"] for r in have]).statistic), 3)
    pick = max(have, key=lambda r: r[signal]) if have else None
    return {
        "models": len(have),
        "spearman": rho,
        "picks": pick and f"{pick['name']}@{pick['version']}",
        "pick_ds2": pick and pick["ds2_float"],
    }


def summary(table: list[dict]) -> list[dict]:
    """Per task and training pool, each signal judged; `val_shared`: validation over the architectures
    every pool of the task has (the pools' figures are comparable only over the same models)."""
    result = []
    for task, trained_on in sorted({(r["task"], r["trained_on"]) for r in table}):
        part = [r for r in table if (r["task"], r["trained_on"]) == (task, trained_on)]
        pools = {r["trained_on"] for r in table if r["task"] == task}
        shared = set.intersection(
            *({r["name"] for r in table if (r["task"], r["trained_on"]) == (task, p)} for p in pools)
        )
        line = {
            "task": task,
            "trained_on": trained_on,
            "configs": len(part),
            "best_ds2": max(r["ds2_float"] for r in part),
        }
        line.update({signal: judged(part, signal) for signal in SIGNALS})
        line["val_shared"] = judged([r for r in part if r["name"] in shared], "val")
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
        raise SystemExit(f"no comparison architecture is published in {args.zoo}")

    def cell(v):
        return f"{v:.4f}" if v is not None else "-"

    print(
        f"{'task':7} {'config':28} {'trained on':11} {'val':>7} {'CV pooled':>10} {'CV fold mean':>12} {'DS2 float':>10}"
    )
    for r in sorted(table, key=lambda r: (r["task"], r["trained_on"], -r["ds2_float"])):
        print(
            f"{r['task']:7} {r['name']:28} {r['trained_on']:11} {cell(r['val']):>7} {cell(r['cv_pooled']):>10} "
            f"{cell(r['cv_fold_mean']):>12} {r['ds2_float']:10.4f}"
        )
    result = summary(table)
    for line in result:
        print(
            f"\n{line['task']}, trained on {line['trained_on']}: {line['configs']} configs, "
            f"best DS2 {line['best_ds2']:.4f}"
        )
        for signal in (*SIGNALS, "val_shared"):
            s = line[signal]
            if not s["models"]:
                continue
            rho = "n/a" if s["spearman"] is None else f"{s['spearman']:+.3f}"
            print(
                f"  {signal:13} over {s['models']:2}: Spearman vs DS2 {rho} · picks {s['picks']} "
                f"(DS2 {s['pick_ds2']:.4f})"
            )
    append_json_line(args.record, {"table": table, "summary": result})


if __name__ == "__main__":
    main()
