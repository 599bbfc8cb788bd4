"""Which epoch should a run publish? Selection rules compared on the validation patients alone, from the
weights a run kept of every epoch (`logging.epoch_weights`).

The epoch of highest validation macro-F1 scores highest on that validation by construction, so a rule is
judged on patients it did not choose with: the validation patients are dealt into two halves (whole
patients, seeded; a class's patients spread over both), a rule picks an epoch on one half's macro-F1 and
is scored on the other half's, then the other way round. Rules:
- `best`, what training does: the epoch of highest macro-F1;
- `smooth-K`: the epoch of highest mean macro-F1 over the K epochs centred on it (fewer at the ends);
- `last`: the last epoch trained.
DS2 is not read, unless `--ds2` asks, after the comparison, for the DS2 float macro-F1 and per-class F1
of the epoch training keeps (`best` on the whole validation) and of the last epoch in each run.

Run: `python studies/selection_rules.py RUN [RUN ...] [--window 3] [--seed 0] [--ds2] [--record FILE]`,
each RUN a stage folder whose epochs/ holds every epoch's weights (the first stage's run folder, or its
channel-pruned/).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def epoch_files(run: Path) -> list[Path]:
    """epochs/NNN.npz of `run`, one per epoch of its history, or an error saying what is missing."""
    files = sorted((run / "epochs").glob("[0-9][0-9][0-9].npz"))
    with open(run / "history.csv") as f:
        epochs = sum(1 for _ in f) - 1
    if [int(p.stem) for p in files] != list(range(epochs)):
        raise SystemExit(
            f"{run / 'epochs'}: {len(files)} weight files for {epochs} epochs of history.csv; "
            "train with logging.epoch_weights: true"
        )
    return files


def epoch_predictions(
    run: Path, cache_dir=None, split: str = "val", epochs: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
    """(predicted class per epoch and frame, labels, patient per frame, task) on `run`'s `split` (its
    validation unless told), for every epoch or for `epochs`."""
    from heartzoo.data.pipeline import patients_of
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.inference import predict_logits
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    files = epoch_files(run)
    model, config = load_run(run)
    ws, labels = load_task_split(config, split, cache_dir=cache_dir)
    inputs = ws.model_inputs(Preprocessor.of(config))
    preds = []
    for path in files if epochs is None else [files[e] for e in epochs]:
        with np.load(path) as arrays:
            model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])
        preds.append(predict_logits(model, inputs).argmax(axis=1))
    return np.stack(preds), labels, patients_of(ws.record), get_task(config.task)


def ds2_scores(run: Path, epochs: dict[str, int], cache_dir=None) -> dict:
    """Per named epoch of `run`: DS2 float macro-F1 and per-class F1 of its kept weights."""
    from heartzoo.evaluation.metrics import classification_report

    preds, labels, _, task = epoch_predictions(run, cache_dir, split="test", epochs=list(epochs.values()))
    out = {}
    for (name, epoch), p in zip(epochs.items(), preds, strict=True):
        rep = classification_report(labels, p, task.class_names, task.macro_classes)
        out[name] = {
            "epoch": epoch,
            "macro_f1": rep["macro_f1"],
            "f1": {c: rep["per_class"][c]["f1"] for c in task.class_names},
        }
    return out


def halves(patients: np.ndarray, labels: np.ndarray, task, seed: int) -> np.ndarray:
    """Per frame, 0 or 1: its patient's half. Patients in a seeded order, those with the most beats of
    the rarest macro class first; each goes to the half with fewer beats of the rarest class it has
    (then the half with fewer patients), so a class's patients are spread over both."""
    names, inverse = np.unique(patients, return_inverse=True)
    counts = np.zeros((len(names), task.num_classes), dtype=np.int64)
    np.add.at(counts, (inverse, labels), 1)
    macro = [task.class_names.index(c) for c in task.macro_classes or task.class_names]
    rarity = [macro[i] for i in np.argsort(counts[:, macro].sum(axis=0), kind="stable")]  # rarest first
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.lexsort([-counts[order, c] for c in reversed(rarity)])]
    half, held, members = np.empty(len(names), dtype=np.int64), np.zeros((2, task.num_classes)), [0, 0]
    for p in order:
        rarest = next((c for c in rarity if counts[p, c]), None)
        h = min((0, 1), key=lambda h: (0 if rarest is None else held[h, rarest], members[h]))
        half[p], members[h] = h, members[h] + 1
        held[h] += counts[p]
    return half[inverse]


def curves(preds: np.ndarray, labels: np.ndarray, half: np.ndarray, task) -> np.ndarray:
    """Macro-F1 of every epoch on each half: shape (2, epochs)."""
    from heartzoo.evaluation.metrics import classification_report

    return np.array(
        [
            [
                classification_report(labels[half == h], p[half == h], task.class_names, task.macro_classes)[
                    "macro_f1"
                ]
                for p in preds
            ]
            for h in (0, 1)
        ]
    )


def choose(curve: np.ndarray, rule: str) -> int:
    """The epoch `rule` picks from one macro-F1 curve (the first of equals, as training's `>` does)."""
    if rule == "best":
        return int(np.argmax(curve))
    if rule == "last":
        return len(curve) - 1
    k = int(rule.removeprefix("smooth-")) // 2
    smoothed = [curve[max(e - k, 0) : e + k + 1].mean() for e in range(len(curve))]
    return int(np.argmax(smoothed))


def compare(run: Path, rules: list[str], seed: int, cache_dir=None) -> dict:
    preds, labels, patients, task = epoch_predictions(run, cache_dir=cache_dir)
    half = halves(patients, labels, task, seed)
    f1 = curves(preds, labels, half, task)
    row: dict = {
        "run": str(run),
        "epochs": preds.shape[0],
        "patients": [len(set(patients[half == h])) for h in (0, 1)],
    }
    return {**row, **rule_scores(f1, rules)}


def rule_scores(f1: np.ndarray, rules: list[str]) -> dict:
    """Per rule: the epoch it picks on each half's curve (`curves`) and that epoch's score on the other."""
    out = {}
    for rule in rules:
        picked = [choose(f1[h], rule) for h in (0, 1)]
        held_out = [float(f1[1 - h][e]) for h, e in enumerate(picked)]
        out[rule] = {"epochs": picked, "held_out": held_out, "mean": float(np.mean(held_out))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", type=Path, nargs="+")
    ap.add_argument("--window", type=int, default=3, help="epochs in smooth-K's mean (odd)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the deal of patients into halves")
    ap.add_argument("--cache", type=Path, help="prepared-data cache (default: heartzoo's)")
    ap.add_argument("--ds2", action="store_true", help="then DS2 float of the best and last epochs")
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    if args.window < 1 or args.window % 2 == 0:
        raise SystemExit(f"--window {args.window}: an odd number of epochs, centred on the one it picks")
    rules = ["best", f"smooth-{args.window}", "last"]
    rows = [compare(run, rules, args.seed, cache_dir=args.cache) for run in args.runs]
    summary = {rule: float(np.mean([r[rule]["mean"] for r in rows])) for rule in rules}
    if args.ds2:  # after the comparison: the epoch training keeps and the last, on the test patients
        for r in rows:
            kept = json.loads((Path(r["run"]) / "train_summary.json").read_text())["best_epoch"]
            r["ds2"] = ds2_scores(Path(r["run"]), {"best": kept, "last": r["epochs"] - 1}, args.cache)
        for rule in ("best", "last"):
            summary[f"ds2_{rule}"] = float(np.mean([r["ds2"][rule]["macro_f1"] for r in rows]))
    for r in rows:
        print(
            r["run"],
            r["epochs"],
            "epochs;",
            "  ".join(f"{k} {r[k]['mean']:.4f} {r[k]['epochs']}" for k in rules),
        )
    print("mean over runs:", "  ".join(f"{k} {v:.4f}" for k, v in summary.items()))
    if args.record:
        with open(args.record, "a") as f:
            f.write(
                json.dumps({"seed": args.seed, "window": args.window, "rows": rows, "mean": summary}) + "\n"
            )


if __name__ == "__main__":
    main()
