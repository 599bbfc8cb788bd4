"""Benchmark: one training epoch of beat-3 EfficientNetV2-sm over 50K DS1 frames (target <= 60 s),
and whether the input pipeline keeps up (it must produce batches much faster than a step consumes them).

Run: `make bench` (or `python benchmarks/bench_train_epoch.py [--config FILE]`). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default=str(REPO / "configs" / "beat-3-efficientnetv2-sm.yaml"))
    ap.add_argument("--frames", type=int, default=50_000)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from heartzoo.config import load_config
    from heartzoo.data.prepare import load_task_split
    from heartzoo.training.losses import loss_of
    from heartzoo.training.optimizer import optimizer_for
    from heartzoo.training.train import build_from_config, training_stream

    cfg = load_config(args.config)
    ws, y = load_task_split(cfg, "ds1")  # all 22 DS1 records: ~50.6K beat-3 frames
    ws, y = ws.subset(np.arange(min(args.frames, len(y)))), y[: args.frames]
    bs = cfg.train.batch_size
    ds, _ = training_stream(cfg, ws, y, seed=0)
    steps = len(y) // bs  # one pass over the frames, whatever the config's steps_per_epoch

    # 1. The input pipeline alone, with augmentation.
    it = iter(ds)
    next(it)
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    pipeline_s = time.perf_counter() - t0

    # 2. One full epoch of fit, pipeline included (after one warm-up step that traces the graph).
    model = build_from_config(cfg)
    model.compile(optimizer=optimizer_for(cfg.train, steps), loss=loss_of(cfg), jit_compile=False)
    model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0)
    t0 = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    epoch_s = time.perf_counter() - t0

    # 3. The same steps from one batch held in memory: the model's own cost.
    batch = next(iter(ds))
    import tensorflow as tf

    fixed = tf.data.Dataset.from_tensors(batch).repeat()
    t0 = time.perf_counter()
    model.fit(fixed, epochs=1, steps_per_epoch=steps, verbose=0)
    model_only_s = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "benchmark": "one training epoch, beat-3 EfficientNetV2-sm",
                "config": Path(args.config).name,
                "frames": len(y),
                "batch_size": bs,
                "steps": steps,
                "epoch_s": round(epoch_s, 2),
                "model_only_s": round(model_only_s, 2),
                "pipeline_only_s": round(pipeline_s, 2),
                "pipeline_batches_per_s": round(steps / pipeline_s, 1),
                "step_ms": round(1000 * epoch_s / steps, 1),
                "pipeline_share_of_epoch": round(pipeline_s / epoch_s, 3),
                "cpus": os.cpu_count(),
                "target_epoch_s": 60.0,
                "met": epoch_s <= 60.0,
            }
        )
    )


if __name__ == "__main__":
    main()
