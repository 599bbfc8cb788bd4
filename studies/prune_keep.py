"""How much should channel pruning keep? The pruning stage run again at several `keep`s from the same
first-stage models, one per training seed, scored on the validation patients.

The first stage (train or distil) reads nothing of `compress.channel_prune`, so a variant of CONFIG that
keeps another share would train that very model first. Each seed's finished run (`--from`, a folder
pattern with {seed}: seed_spread.py's runs or an ensemble's members) lends its first stage to
<runs>/<name>-keep<percent>-seed<s>, whose manifest says where it came from (`grafted_from`), and only the
pruning and later stages run there, unpublished. Keep 1.0 prunes nothing: the fine-tune alone. The
keep a seed's run was made with is read from that run as it is.

The choice is made on validation: the keep of highest mean validation macro-F1 over the seeds (the
recipe's own keep on a tie) is printed as chosen. `--ds2` then measures the float model of every seed
and keep on DS2 once, after the choice, to say whether DS2 follows it.

Run: `python studies/prune_keep.py configs/beat-3-cnn3-student.yaml --seeds 0 1 2 3 --keep 0.5 0.75 1.0
--from 'runs/beat-3-cnn3-student-ensemble/members/seed{seed}' [--ds2] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from seed_spread import ds2_probabilities, seed_variant

from heartzoo.io import append_json_line

REPO = Path(__file__).resolve().parents[1]


def keep_variant(config, seed: int, keep: float):
    """`config` with training seed `seed` and channel pruning keeping `keep`, named for both."""
    variant = seed_variant(config, seed)
    cp = variant.compress.channel_prune.model_copy(update={"keep": keep})
    return variant.model_copy(
        update={
            "name": f"{config.name}-keep{round(keep * 100)}-seed{seed}",  # a name holds no dot
            "compress": variant.compress.model_copy(update={"channel_prune": cp}),
        }
    )


def source_run(source: Path, variant) -> tuple:
    """(config, stage records) of the finished run `source`, refused unless it ran `variant`'s recipe
    but for the name and the channel pruning, and its first stage is done."""
    from heartzoo.config import load_config
    from heartzoo.zoo.manifest import MANIFEST, config_hash

    if not (source / MANIFEST).is_file():
        raise SystemExit(f"{source / MANIFEST}: missing; not a finished run")
    made = load_config(source / "config.json")
    same = {
        "name": variant.name,
        "compress": made.compress.model_copy(update={"channel_prune": variant.compress.channel_prune}),
    }
    if config_hash(made.model_copy(update=same)) != config_hash(variant):
        raise SystemExit(
            f"{source}: its recipe differs from {variant.name}'s in more than the channel pruning"
        )
    stages = json.loads((source / MANIFEST).read_text())["stages"]
    if not stages or stages[0]["dir"] != "." or stages[0].get("state") != "done":
        raise SystemExit(f"{source}: its first stage is not finished")
    return made, stages


def mean_sd(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", type=Path)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--keep", type=float, nargs="+", default=[0.5, 0.75, 1.0])
    ap.add_argument("--from", dest="source", required=True, help="each seed's finished run, with {seed}")
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "keep")
    ap.add_argument(
        "--ds2", action="store_true", help="measure every seed and keep on DS2 (after the choice)"
    )
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from heartzoo.config import load_config
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.tasks import get_task
    from heartzoo.training.runs import graft, run_pipeline
    from heartzoo.zoo.manifest import STAGE_FOLDERS

    config = load_config(args.config)
    if config.compress.channel_prune is None:
        raise SystemExit(f"{args.config}: no compress.channel_prune to vary")
    task = get_task(config.task)
    rows = []
    for keep in args.keep:
        for seed in args.seeds:
            variant, source = keep_variant(config, seed, keep), Path(args.source.format(seed=seed))
            made, stages = source_run(source, variant)
            run = source  # a seed's run made at this keep already is read as it is
            if made.compress.channel_prune.keep != keep:
                run = args.runs / variant.name
                graft(source, stages[0], run, variant)
                stages = run_pipeline(variant, run, publish=False)["stages"]
            pruned = next(s for s in stages if s["stage"] == "channel_prune")
            rows.append(
                {
                    "keep": keep,
                    "seed": seed,
                    "run": str(run),
                    "inner": pruned["arch"]["params"]["inner"],
                    "val_first": stages[0]["val_macro_f1"],
                    "val_macro_f1": pruned["val_macro_f1"],
                }
            )
            print(
                f"keep {keep:g} seed {seed}: validation {rows[-1]['val_macro_f1']:.4f} "
                f"(first stage {rows[-1]['val_first']:.4f}), inner {rows[-1]['inner']}"
            )
    means = {k: mean_sd([r["val_macro_f1"] for r in rows if r["keep"] == k]) for k in args.keep}
    own = config.compress.channel_prune.keep
    chosen = max(means, key=lambda k: (means[k][0], k == own))
    for keep, (m, s) in means.items():
        print(
            f"keep {keep:g}: validation {m:.4f} ± {s:.4f} over seeds {args.seeds}"
            + (" <- chosen" if keep == chosen else "")
        )
    result = {
        "config": str(args.config),
        "name": config.name,
        "task": config.task,
        "seeds": args.seeds,
        "own_keep": own,
        "validation": {f"{k:g}": v for k, v in means.items()},
        "chosen": chosen,
        "rows": rows,
    }
    if args.ds2:
        for row in rows:
            probs, labels = ds2_probabilities(Path(row["run"]) / STAGE_FOLDERS["channel_prune"])
            rep = report_from_probabilities(probs, labels, task.class_names, task.macro_classes)
            row["ds2_macro_f1"] = rep["macro_f1"]
            row["ds2_f1"] = {c: rep["per_class"][c]["f1"] for c in task.class_names}
        result["ds2"] = {}
        for keep in args.keep:
            m, sd = result["ds2"][f"{keep:g}"] = mean_sd(
                [r["ds2_macro_f1"] for r in rows if r["keep"] == keep]
            )
            print(f"keep {keep:g}: DS2 float macro-F1 {m:.4f} ± {sd:.4f}")
    append_json_line(args.record, result)


if __name__ == "__main__":
    main()
