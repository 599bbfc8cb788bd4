"""Benchmark: `heartzoo train` from shards against the in-memory path (issue 49).

- `scale`: a training run (the config's model and batch, `--epochs` epochs of `--steps` steps) in a fresh
  process, in memory and from shards of the config's sources at 1x and 16x (the 1x shards copied 16 times
  under other names: 16x the beats to stream; the copies of the validation patients are left out like
  the originals). Recorded: peak RSS over the process's RSS after importing TensorFlow (everything
  training holds: model, validation frames, and the training frames or the stream), and training rows/s
  (batches x batch size over the time from an epoch's first to its last batch, validation excluded;
  median of the epochs after the first, which traces the step function).
- `workers`: the same run from the 1x shards as one process and as `--workers 2` (each worker its own
  share of the shards, half the global batch each): median seconds per epoch from history.csv
  (validation included, which every worker computes).
- `seeds`: the config's own recipe trained with seeds 0, 1, 2 in memory and from the 1x shards: the
  validation macro-F1 of each, to show the two agree within a seed's spread (their draws differ: the
  in-memory stream draws beats uniformly within a class, the shard stream through a shuffle pool).

Run: `HEARTZOO_DATA_DIR=... python benchmarks/train_shards.py configs/beat-3-cnn3.yaml
--record results/train_shards.json [--only scale,workers,seeds]` (with --only, the record's
other parts stay); CinC 2017 (af-4's windows):
`... configs/af-4-cnn3.yaml --work runs/train-shards-af-4 --patients-per-shard 100
--record results/train_shards-af-4.json`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARTS = ("scale", "workers", "seeds")
sys.path.insert(0, str(REPO / "benchmarks"))
from shards import _reset_peak, _status_mb  # noqa: E402


def prepare(config, work: Path, copies: int, patients_per_shard: int = 1) -> Path:
    """Shards of the config's sources (`patients_per_shard` patients each) and, for `copies` > 1, a folder holding them
    `copies` times under other file names with its manifest."""
    from heartzoo.data.shards import MANIFEST, prepare_shards, read_manifest
    from heartzoo.io import write_json

    one = work / "x1"
    prepare_shards(config.data.train, config.input, one, workers=2, patients_per_shard=patients_per_shard)
    if copies == 1:
        return one
    out = work / f"x{copies}"
    if (out / MANIFEST).is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    m = read_manifest(one)
    shards = []
    for k in range(copies):
        for s in m["shards"]:
            name = f"copy{k:02d}-{s['file']}"
            shutil.copyfile(one / s["file"], out / name)
            shards.append({**s, "name": name.removesuffix(".h5"), "file": name})
    counts = {c: sum(s["counts"][c] for s in shards) for c in m["counts"]}
    plan = [{"name": s["name"], "patients": s["patients"]} for s in shards]
    write_json(
        out / MANIFEST,
        {**m, "plan": plan, "shards": shards, "beats": sum(s["beats"] for s in shards), "counts": counts},
    )
    return out


def variant(config, shards: Path | None, **train):
    """The config reading `shards` (None: memory), with `train` fields changed."""
    return config.model_copy(
        update={
            "name": f"{config.name}-{'shards' if shards else 'memory'}",
            "data": config.data.model_copy(update={"shards": None if shards is None else str(shards)}),
            "train": config.train.model_copy(update=train),
        }
    )


def child(config_path: str, shards: str, run: str, epochs: int, steps: int) -> None:
    """One training run in this fresh process: peak RSS over the post-import baseline, rows/s."""
    import keras
    import tensorflow as tf

    from heartzoo.config import load_config
    from heartzoo.training.train import train

    tf.constant(1.0) + 1.0  # the runtime started: part of the baseline
    base = _status_mb("VmRSS")
    _reset_peak()
    config = variant(
        load_config(config_path),
        Path(shards) if shards != "-" else None,
        epochs=epochs,
        steps_per_epoch=steps,
        patience=epochs,
    )
    spans: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if batch == steps - 1:
                spans.append(time.perf_counter() - self.t0)

    train(config, Path(run), restart=True, callbacks=[Clock()])
    rate = steps * config.train.batch_size / statistics.median(spans[1:])
    print(
        json.dumps(
            {
                "baseline_rss_mb": round(base),
                "peak_over_baseline_mb": round(_status_mb("VmHWM") - base),
                "rows_per_s": round(rate),
                "epoch_train_s": [round(s, 2) for s in spans],
            }
        )
    )


def _child(config: Path, shards: Path | None, run: Path, epochs: int, steps: int) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            str(config),
            "--child",
            str(shards or "-"),
            str(run),
            str(epochs),
            str(steps),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _epoch_seconds(run: Path) -> list[float]:
    with open(run / "history.csv", newline="") as f:
        return [float(r["seconds"]) for r in csv.DictReader(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", type=Path)
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "train-shards")
    ap.add_argument("--copies", type=int, default=16)
    ap.add_argument(
        "--patients-per-shard",
        type=int,
        default=1,
        help="CinC 2017's 6,822 training recordings are a patient each: 100 to a shard",
    )
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", default=",".join(PARTS))
    ap.add_argument("--record", type=Path)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.child:
        child(str(args.config), args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
        return
    import yaml

    from heartzoo.config import load_config
    from heartzoo.data.shards import read_manifest

    config = load_config(args.config)
    one = prepare(config, args.work, 1, args.patients_per_shard)
    many = prepare(config, args.work, args.copies, args.patients_per_shard)
    parts = args.only.split(",")
    report: dict = {
        "benchmark": "training from shards (benchmarks/train_shards.py)",
        "config": str(args.config),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "beats": {"x1": read_manifest(one)["beats"], f"x{args.copies}": read_manifest(many)["beats"]},
        "epochs": args.epochs,
        "steps": args.steps,
        "batch_size": config.train.batch_size,
    }
    if "scale" in parts:
        modes = {"memory": None, "shards_x1": one, f"shards_x{args.copies}": many}
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        for _ in range(args.repeats):  # alternating: the background load drifts
            for mode, shards in modes.items():
                runs[mode].append(
                    _child(args.config, shards, args.work / f"run-{mode}", args.epochs, args.steps)
                )
                print(mode, runs[mode][-1], file=sys.stderr, flush=True)
        report["scale"] = {
            m: {
                "peak_over_baseline_mb": max(r["peak_over_baseline_mb"] for r in rs),
                "rows_per_s_median": round(statistics.median(r["rows_per_s"] for r in rs)),
                "runs": rs,
            }
            for m, rs in runs.items()
        }
    if "workers" in parts:
        path = args.work / "config-shards.yaml"
        path.write_text(
            yaml.safe_dump(
                variant(
                    config, one, epochs=args.epochs, steps_per_epoch=args.steps, patience=args.epochs
                ).model_dump(mode="json")
            )
        )
        out = {}
        for workers in (1, 2):
            run = args.work / f"run-workers{workers}"
            extra = ["--workers", "2"] if workers == 2 else []
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "heartzoo",
                    "train",
                    str(path),
                    "--run-dir",
                    str(run),
                    "--restart",
                    "--no-publish",
                    *extra,
                ],
                check=True,
                capture_output=True,
            )
            seconds = _epoch_seconds(run)
            out[f"workers_{workers}"] = {"epoch_s": seconds, "epoch_s_median": statistics.median(seconds[1:])}
            print(workers, out[f"workers_{workers}"], file=sys.stderr, flush=True)
        report["workers"] = out
    if "seeds" in parts:
        from heartzoo.training.train import train

        out = {"memory": [], "shards": []}
        for seed in (0, 1, 2):
            for mode, shards in (("memory", None), ("shards", one)):
                v = variant(config, shards, seed=seed)
                r = train(v, args.work / f"seed{seed}-{mode}", restart=True)
                out[mode].append(round(r.best_val_macro_f1, 4))
                print(mode, seed, out[mode][-1], file=sys.stderr, flush=True)
        report["seeds"] = {
            m: {"val_macro_f1": v, "mean": round(statistics.mean(v), 4), "sd": round(statistics.stdev(v), 4)}
            for m, v in out.items()
        }
    print(json.dumps(report, indent=1))
    if args.record:  # the parts run replace theirs; the others stay as recorded
        old = json.loads(args.record.read_text()) if args.record.is_file() else {}
        if old.get("config") == report["config"] and tuple(parts) != PARTS:
            load = report.pop("load_average_at_start")
            report = {**old, **report, f"load_average_at_start_{'_'.join(parts)}": load}
        args.record.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
