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

Run: `python studies/first_epoch.py [--refs NAME@VERSION ...] [--threads 2] [--record FILE]`; one line a
version and thread count.
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
            # TensorFlow reads its pool size once, at start: a process per thread count
            env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(threads)}
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    ref,
                    "--zoo",
                    str(args.zoo),
                    *(["--pinned"] * args.pinned),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            got = json.loads(next(x for x in out.splitlines() if x.startswith("FIRST_EPOCH "))[12:])
            line = {
                "study": "first_epoch",
                "ref": ref,
                "intra_op_threads": threads,
                "cores": os.cpu_count(),
                "pinned": args.pinned,
                **got,
            }
            print(json.dumps(line), flush=True)
            append_json_line(args.record, line)


if __name__ == "__main__":
    main()
