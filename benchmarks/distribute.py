"""Benchmark: training step time in one process against N local worker processes (issue 20).

For each config it trains `--epochs` epochs of `--steps` steps at the config's global batch into a
temporary folder, once as one process (`heartzoo train`) and once as `heartzoo train --workers N`
(MultiWorkerMirroredStrategy on 127.0.0.1, each worker a slice of the same global batch), and records
the median seconds per step over the epochs after the first (the first traces the step function).
On a machine with fewer cores than workers × the threads each wants, the workers compete for cores:
the number that transfers to a cluster is the per-step cost of the all-reduce, not the speed-up.

Run: `HEARTZOO_DATA_DIR=... python benchmarks/distribute.py configs/beat-3-cnn3.yaml
configs/beat-3-efficientnetv2-sm.yaml --workers 2 --record results/distribute.jsonl`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _step_seconds(run: Path, steps: int) -> list[float]:
    with open(run / "history.csv", newline="") as f:
        return [float(r["seconds"]) / steps for r in csv.DictReader(f)][1:]


def measure(config_path: Path, workers: int, epochs: int, steps: int) -> dict:
    import yaml

    from heartzoo.config import load_config

    config = load_config(config_path).model_dump(mode="json", exclude_none=True)
    config["train"].update(epochs=epochs, steps_per_epoch=steps, patience=epochs + 1)
    config.pop("compress", None)  # the training stage alone
    out: dict = {
        "config": str(config_path.relative_to(REPO)),
        "batch_size": config["train"]["batch_size"],
        "epochs": epochs,
        "steps_per_epoch": steps,
    }
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(yaml.safe_dump(config))
        for n in (1, workers):
            run = Path(tmp) / f"w{n}"
            cmd = [sys.executable, "-m", "heartzoo", "train", str(cfg), "--run-dir", str(run), "--no-publish"]
            if n > 1:
                cmd += ["--workers", str(n)]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            per_step = _step_seconds(run, steps)
            out[f"workers_{n}"] = {
                "median_s_per_step": round(statistics.median(per_step), 4),
                "s_per_step": [round(s, 4) for s in per_step],
                "wall_s": round(time.perf_counter() - t0, 1),
            }
    out["ratio"] = round(
        out[f"workers_{workers}"]["median_s_per_step"] / out["workers_1"]["median_s_per_step"], 3
    )
    return out


def main() -> None:
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("configs", nargs="+", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--record", type=Path)
    args = ap.parse_args()
    for path in args.configs:
        row = measure(path.resolve(), args.workers, args.epochs, args.steps)
        row.update(
            cpus=os.cpu_count(),
            machine=platform.machine(),
            load_avg_1m=round(os.getloadavg()[0], 2),
            date=time.strftime("%Y-%m-%d"),
        )
        print(json.dumps(row))
        append_json_line(args.record, row)


if __name__ == "__main__":
    main()
