"""Does a published version's recipe make it again at this checkout?

Trains the recipe the version's card names (configs/NAME.yaml, or configs/vN/NAME.yaml once a later
version replaced it) into runs/reproduce/NAME-vN, without publishing, then compares what the zoo
recorded with what came out: the last stage's history.csv row for row (every column but `seconds`), its
validation macro-F1, and its float macro-F1 on DS2. Training here is deterministic on one CPU kind
(the same commit trains the same model, epoch for epoch), so a difference means other code made the
published model: its card's command does not make it again.

`--run DIR` names a finished run of the recipe made elsewhere (e.g. `heartzoo train CONFIG
--no-publish` in a clean worktree), used as it is: its config must be the recipe's, names aside.

Run: `python benchmarks/reproduce.py beat-3-cnn3-student@v1 [--run DIR] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def history_rows(path: Path) -> list[dict[str, str]]:
    """history.csv without its wall-clock column, the one column that differs between identical runs."""
    with path.open(newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref", help="NAME@vN, a published version")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--run", type=Path, help="a finished run of the recipe (default: train one)")
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from heartzoo.cards import recipe_path
    from heartzoo.config import load_config
    from heartzoo.evaluate import load_run, split_probabilities
    from heartzoo.manifest import config_hash, stage_commits
    from heartzoo.meta import read_metrics
    from heartzoo.metrics import report_from_probabilities
    from heartzoo.runs import run_pipeline
    from heartzoo.tasks import get_task
    from heartzoo.version import git_commit
    from heartzoo.zoo import find, read_index

    entry = find(read_index(args.zoo), args.ref)
    ref = f"{entry['name']}@{entry['version']}"
    vdir = args.zoo / entry["path"]
    recipe = recipe_path(entry["name"], entry["version"])
    config = load_config(REPO / recipe)
    run = args.run or REPO / "runs" / "reproduce" / f"{entry['name']}-{entry['version']}"
    if args.run is not None:
        made = load_config(run / "config.json")
        if config_hash(made.model_copy(update={"name": config.name})) != config_hash(config):
            raise SystemExit(f"{run}: its config is not {recipe} (names aside); it cannot stand for {ref}")
        config = config.model_copy(update={"name": made.name})
    out = run_pipeline(config, run, publish=False)
    last = Path(out["stages"][-1]["dir"])

    task = get_task(config.task)
    model, cfg = load_run(last)
    probs, labels, _ = split_probabilities(model, cfg, "test")
    ds2 = report_from_probabilities(probs, labels, task.class_names, task.macro_classes)["macro_f1"]
    m = read_metrics(vdir)
    published_history = vdir / "history.csv"
    same_history = (
        history_rows(published_history) == history_rows(last / "history.csv")
        if published_history.is_file()
        else None
    )
    now = {"val_macro_f1": out["stages"][-1]["val_macro_f1"], "ds2_float_macro_f1": ds2}
    recorded = {"val_macro_f1": m.val_macro_f1, "ds2_float_macro_f1": m.float.macro_f1}
    result = {
        "ref": ref,
        "recipe": recipe,
        "published_commit": m.commit,
        "published_trained_at": m.trained_at,
        "checkout": git_commit(),
        "run": str(last),
        "trained_at": stage_commits(last),
        "published": recorded,
        "now": now,
        "same_history": same_history,
        # to the digit: one run is one model, and the same code trains the same model
        "reproduced": now["ds2_float_macro_f1"] == recorded["ds2_float_macro_f1"]
        and same_history is not False,
    }
    verdict = "made again" if result["reproduced"] else "NOT made again"
    val = "n/a" if recorded["val_macro_f1"] is None else f"{recorded['val_macro_f1']:.4f}"
    print(
        f"{ref}: {verdict} by {recipe} at {result['trained_at']}: validation {now['val_macro_f1']:.4f} "
        f"(published {val}), DS2 float {ds2:.4f} (published {recorded['ds2_float_macro_f1']:.4f}), "
        f"history.csv {'equal' if same_history else 'differs' if same_history is False else 'not published'}"
    )
    if args.record:
        with args.record.open("a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
