"""The recommended beat models by patient on DS2: each record's confusion matrix, EC57's average statistics
and 95 % intervals that resample DS2's 22 records (`heartzoo.evaluation.per_record`), for the model cards.

Why: a card's gross Se and +P count beats, and DS2's beats are not independent: 1,382 of its 1,837 S beats
are one patient's (record 232), so a beat-level interval would be falsely narrow and the gross S Se is
mostly that patient's. A reader deciding whether a model carries to the next patient needs the spread
over patients. Chooses nothing: every number here is read after the models were published.

Each line is `heartzoo evaluate NAME@VERSION --split ds2 --int8` (float and int8, the int8 model in the
runtime of its published numbers, reference R peaks), with a check that the records' confusion matrices
add up to the one in the version's metrics.json (`matches_published`).

Run: `python studies/patients.py [--zoo zoo] [--models NAME@VERSION ...] [--record results/patients.jsonl]`;
without `--models`, the zoo's recommended version of each beat task.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def recommended_beat_models(zoo: Path) -> list[str]:
    """NAME@VERSION of the zoo's recommendation for each beat task."""
    from heartzoo.tasks import get_task
    from heartzoo.zoo.index import load_index

    index = load_index(zoo)
    return [
        ref for task, ref in sorted(index.get("recommended", {}).items()) if get_task(task).unit == "beat"
    ]


def measure(zoo: Path, ref: str, cache_dir=None) -> dict:
    """One model's line: its float and int8 scores by record on DS2."""
    import numpy as np

    from heartzoo.environment import Environment
    from heartzoo.evaluation.evaluate import evaluate
    from heartzoo.meta import read_metrics
    from heartzoo.zoo.index import load_index

    name, _, version = ref.partition("@")
    task = {m["name"]: m["task"] for m in load_index(zoo)["models"]}[name]
    folder = zoo / task / name / version
    out = evaluate(folder, "ds2", int8=True, env=Environment(cache_dir=cache_dir))
    published = read_metrics(folder)
    line = {"study": "patients", "model": ref, "split": "ds2"}
    for kind in ("float", "int8"):
        rep = out[kind]
        summed = np.sum([np.asarray(c) for c in rep["per_record"].values()], axis=0)
        line[kind] = {
            "macro_f1": rep["macro_f1"],
            "per_record": rep["per_record"],
            "patients": rep["patients"],
            "matches_published": summed.tolist() == getattr(published, kind).confusion,
        }
    return line


def main(argv: list[str] | None = None) -> None:
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--models", nargs="*", help="NAME@VERSION (default: each beat task's recommended one)")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--record", type=Path, help="append one JSON line per model here")
    args = ap.parse_args(argv)
    for ref in args.models or recommended_beat_models(args.zoo):
        line = measure(args.zoo, ref, args.cache_dir)
        p = line["int8"]["patients"]["interval"]["macro_f1"]
        print(
            f"{ref}: int8 macro-F1 {line['int8']['macro_f1']:.4f}, 95 % over patients {p[0]:.4f}-{p[1]:.4f}; "
            f"records add up to the published confusion: float {line['float']['matches_published']}, "
            f"int8 {line['int8']['matches_published']}",
            flush=True,
        )
        append_json_line(args.record, line)
    if args.record:
        print(json.dumps({"recorded": str(args.record)}))


if __name__ == "__main__":
    main()
