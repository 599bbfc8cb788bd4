"""How much does one config's DS2 macro-F1 move with nothing but its training seed?

For each seed it trains the config's whole line with `train.seed` set to it (named `<name>-seed<k>`,
in runs/seeds/, never published; a finished run is reused), evaluates on DS2 the float model of the
stage it would publish (`export.stage`), and also the average of all seeds' probabilities (a seed
ensemble: every seed run, none chosen).
The training seed is the only difference between runs; DS2 only measures, nothing is picked on it.

With `--chain`, a distilled config's seed k learns from seed k of its teacher's config (run this script
on the teacher's config with the same seeds first), so a whole distillation chain varies by seed.

Run: `python studies/seed_spread.py configs/beat-3-cnn3.yaml --seeds 0 1 2 3 4 [--chain] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from heartzoo.io import append_json_line

REPO = Path(__file__).resolve().parents[1]


def seed_variant(config, seed: int):
    """`config` with training seed `seed`, renamed `<name>-seed<seed>`: nothing else differs (an
    ensemble's member, trained here on its own)."""
    from heartzoo.models.ensemble import member_config

    return member_config(config, seed)


def chained(variant, config, seed: int, runs: Path):
    """For --chain: `variant` distilled from the same seed's run of its teacher's config. A teacher given
    as NAME@vN (the model NAME's run published: the stage it publishes) or runs/NAME[/stage] becomes
    <runs>/NAME-seed<seed>-chain[/stage] where the teacher was itself chained, else
    <runs>/NAME-seed<seed>[/stage]; one of them must exist."""
    from heartzoo.zoo.manifest import final_stage_dir

    dc = config.compress.distill
    if dc is not None and dc.zoo_ref is not None:
        name, stage = dc.zoo_ref[0], None
    else:
        parts = Path(dc.teacher).parts if dc is not None else ()
        if len(parts) < 2 or parts[0] != "runs":
            raise SystemExit(
                f"{config.name}: --chain needs compress.distill.teacher as NAME@vN or runs/<name>[/stage]"
            )
        name, stage = parts[1], Path(*parts[2:])
    for run in (runs / f"{name}-seed{seed}-chain", runs / f"{name}-seed{seed}"):
        teacher = run / stage if stage is not None else final_stage_dir(run)
        if teacher is not None and (teacher / "model.keras").is_file():
            break
    else:
        raise SystemExit(
            f"{run}: no finished model; run this script on {name}'s config with the same seeds first"
        )
    distill = dc.model_copy(update={"teacher": str(teacher)})
    compress = variant.compress.model_copy(update={"distill": distill})
    return variant.model_copy(update={"name": f"{variant.name}-chain", "compress": compress})


def check_same_recipe(variant, run: Path) -> None:
    """Refuse a --reuse run whose config is not `variant` (names aside)."""
    from heartzoo.config import load_config
    from heartzoo.zoo.manifest import config_hash

    made = load_config(run / "config.json")
    if config_hash(made.model_copy(update={"name": variant.name})) != config_hash(variant):
        raise SystemExit(
            f"{run}: its config is not {variant.name}'s (names aside); it cannot stand for that seed"
        )


def ds2_probabilities(run: Path):
    from heartzoo.evaluation.evaluate import load_run, split_probabilities

    model, cfg = load_run(run)
    probs, labels, _ = split_probabilities(model, cfg, "test")
    return probs, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", type=Path)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "seeds")
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    ap.add_argument(
        "--chain", action="store_true", help="distil each seed from its teacher config's same-seed run"
    )
    ap.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="SEED=RUN",
        help="a finished run of this config with that seed made elsewhere (e.g. by heartzoo train), used "
        "as it is: its config must be the seed's variant but for the name",
    )
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from heartzoo.config import load_config
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.tasks import get_task
    from heartzoo.training.runs import run_pipeline
    from heartzoo.zoo.manifest import stage_commits

    config = load_config(args.config)
    if config.data.protocol != "inter-patient":
        raise SystemExit(f"{args.config}: the spread on DS2 needs the inter-patient protocol")
    task = get_task(config.task)
    macro = task.macro_classes

    def report(probs, labels):
        rep = report_from_probabilities(probs, labels, task.class_names, macro)
        return {"macro_f1": rep["macro_f1"], "f1": {c: rep["per_class"][c]["f1"] for c in task.class_names}}

    reuse = {int(k): Path(v) for k, v in (r.split("=", 1) for r in args.reuse)}
    rows, probs = [], []
    for seed in args.seeds:
        variant = seed_variant(config, seed)
        if args.chain:
            variant = chained(variant, config, seed, args.runs)
        run = reuse.get(seed, args.runs / variant.name)
        if seed in reuse:
            check_same_recipe(variant, run)
        out = run_pipeline(
            variant.model_copy(update={"name": load_config(run / "config.json").name})
            if seed in reuse
            else variant,
            run,
            publish=False,
        )
        last = Path(out["final"])  # the stage the recipe publishes (export.stage)
        p, labels = ds2_probabilities(last)
        probs.append(p)
        rows.append(
            {
                "seed": seed,
                "run": str(last),
                "trained_at": stage_commits(last),  # the code that trained it (None: before the record)
                "val_macro_f1": out["selected"]["val_macro_f1"],
                **report(p, labels),
            }
        )
        print(
            f"seed {seed}: DS2 float macro-F1 {rows[-1]['macro_f1']:.4f} · validation {rows[-1]['val_macro_f1']:.4f}"
        )
    f1 = np.array([r["macro_f1"] for r in rows])
    result = {
        "config": str(args.config),
        "name": config.name + (" (chained)" if args.chain else ""),
        "task": config.task,
        "train": list(config.data.train),  # the validation pool the seeds were selected on
        "seeds": rows,
        "mean": float(f1.mean()),
        "std": float(f1.std(ddof=1)) if len(f1) > 1 else 0.0,
        "min": float(f1.min()),
        "max": float(f1.max()),
        "ensemble": report(np.mean(probs, axis=0), labels),
    }
    print(
        f"{config.name}: DS2 float macro-F1 over {len(rows)} seeds {result['mean']:.4f} ± {result['std']:.4f} "
        f"(min {result['min']:.4f}, max {result['max']:.4f}); seed ensemble {result['ensemble']['macro_f1']:.4f}"
    )
    append_json_line(args.record, result)


if __name__ == "__main__":
    main()
