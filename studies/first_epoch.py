"""Does a published version's recipe start the way it did? The first epoch of its recipe (its own
configuration.json, its teacher as published), trained at this checkout with TensorFlow's intra-op thread
pool set to each of `--threads`, beside the first row of its published history.csv.

Why: `heartzoo zoo retrain af-4-cnn3-student@v2` did not make v2 again (validation 0.7736 against 0.8362),
and its history differs from the first epoch on; the beat lines' checks make theirs again row for row. A
first epoch is the cheap part of that question: equal, the run follows the published one (training is
deterministic here for a given thread pool); different, it cannot. The thread pool is one thing a machine
changes (TensorFlow sizes it by the cores it sees, and splits its reductions by it). Nothing is chosen.

`--pinned` (added after the first lines were recorded): each process first pins the pool as training now
does (`heartzoo.training.threads`), so `--threads` sets only what TensorFlow would take unpinned; the
first epochs should then be one.

`--isa` (added after the pinned lines showed the pool is not the cause: the published af-4 students'
first epochs are made by no pool here, nor by their own training commit's code, 7a8f2c0 for v2, which
gives 2.060207 as this checkout does): the CPU instructions TensorFlow's oneDNN kernels may use, capped
per run by `ONEDNN_MAX_CPU_ISA` (e.g. AVX2, as on a machine without AVX-512), or oneDNN turned off
(`off`: `TF_ENABLE_ONEDNN_OPTS=0`, TensorFlow's own kernels). Each session here may get another machine;
if a cap changes the first epoch, a recipe trains another model on another processor, which no thread pin
reaches. Nothing is chosen.

Run: `python studies/first_epoch.py [--refs NAME@VERSION ...] [--threads 2] [--pinned] [--isa default AVX2
off ...] [--record FILE]`; one line a version, thread count and instruction cap.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def first_row(path: Path) -> dict[str, str]:
    with path.open(newline="") as f:
        return next(csv.DictReader(f))


def first_epoch(ref: str, zoo: Path) -> dict:
    """Epoch 0 of `ref`'s recipe trained here (in this process), beside its published first row."""
    import keras

    from heartzoo.config import parse_config
    from heartzoo.meta import check_ref, read_metrics
    from heartzoo.training.train import train
    from heartzoo.zoo.hub import load_model
    from heartzoo.zoo.index import find, read_index

    name, version = check_ref(ref)
    folder = zoo / find(read_index(zoo), name, version)["path"]
    later = {"channel_prune", "magnitude_prune", "qat"} & set(read_metrics(folder).compression)
    if later:  # its history.csv is that stage's, whose first epoch follows the whole of the first stage
        raise SystemExit(
            f"{ref}: published from its {', '.join(sorted(later))} stage; its first epoch is not the run's"
        )
    config = parse_config(json.loads((folder / "configuration.json").read_text())["config"], str(folder))
    teacher = None
    if config.compress.distill is not None:
        teacher = load_model(*check_ref(config.compress.distill.teacher), format="keras", zoo=zoo).model

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    with tempfile.TemporaryDirectory() as tmp:
        train(config, Path(tmp) / "run", teacher=teacher, callbacks=[Stop()])
        now = first_row(Path(tmp) / "run" / "history.csv")
    published = first_row(folder / "history.csv")
    keys = ("loss", "val_loss", "val_macro_f1")
    return {
        "published": {k: float(published[k]) for k in keys},
        "now": {k: float(now[k]) for k in keys},
        "equal": all(float(published[k]) == float(now[k]) for k in keys),
    }


def main() -> None:
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--refs",
        nargs="+",
        default=["af-4-cnn3-student@v2", "af-4-cnn3-student@v1", "af-4-cnn5@v1", "beat-2-cnn3-wearable@v2"],
    )
    ap.add_argument("--threads", nargs="+", type=int, default=[2])
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    ap.add_argument("--pinned", action="store_true", help="pin the pool as training does, first")
    ap.add_argument(
        "--isa",
        nargs="+",
        default=["default"],
        help="oneDNN's instruction cap per run (ONEDNN_MAX_CPU_ISA); default: none; off: oneDNN off",
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)  # NAME@VERSION: run it here and print its JSON
    args = ap.parse_args()
    if args.one:
        if args.pinned:
            from heartzoo.training.threads import pin_threads

            pin_threads()
        print("FIRST_EPOCH " + json.dumps(first_epoch(args.one, args.zoo)), flush=True)
        return
    for ref in args.refs:
        for threads in args.threads:
            for isa in args.isa:
                # TensorFlow reads its pool size and oneDNN its cap once, at start: a process per run
                line = {
                    "study": "first_epoch",
                    "ref": ref,
                    "intra_op_threads": threads,
                    "cores": os.cpu_count(),
                    "pinned": args.pinned,
                    **({} if isa == "default" else {"isa": isa}),
                    **one_run(ref, args.zoo, threads, isa, args.pinned),
                }
                print(json.dumps(line), flush=True)
                append_json_line(args.record, line)


def isa_env(isa: str) -> dict[str, str]:
    """The environment that caps oneDNN's instructions at `isa` (`off`: oneDNN off; `default`: none)."""
    if isa == "default":
        return {}
    return {"TF_ENABLE_ONEDNN_OPTS": "0"} if isa == "off" else {"ONEDNN_MAX_CPU_ISA": isa}


def one_run(ref: str, zoo: Path, threads: int, isa: str, pinned: bool) -> dict:
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(threads), **isa_env(isa)}
    out = subprocess.run(
        [sys.executable, __file__, "--one", ref, "--zoo", str(zoo), *(["--pinned"] * pinned)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(next(x for x in out.splitlines() if x.startswith("FIRST_EPOCH "))[12:])


if __name__ == "__main__":
    main()
