"""Benchmark: all DS1+DS2 beat-3 frames from WFDB (target <= 10 s) and from the cache (target <= 1 s);
with `--svdb`, every training frame of zoo v2 as well (mitdb DS1+DS2 and all 78 svdb records, resampled
from 360 and 128 Hz).

Run: `make bench` (or `python benchmarks/bench_prepare.py [--data-dir DIR] [--svdb]`). Prints one JSON line:
medians over --repeats runs, each with a fresh cache, and the first run on its own. The figures go
into the issue note, not into a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

from heartzoo.config import InputSpec
from heartzoo.data import mitbih, svdb
from heartzoo.data.prepare import load_windows
from heartzoo.tasks import get_task

TARGETS = {"from_wfdb_s": 10.0, "from_cache_s": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--svdb", action="store_true", help="also every svdb record (zoo v2's training pool)")
    args = ap.parse_args()
    records = list(mitbih.DS1 + mitbih.DS2) + (list(svdb.RECORDS) if args.svdb else [])
    task = get_task("beat-3")
    spec = InputSpec()
    import wfdb  # noqa: F401  -- import cost is not preparation cost

    results: dict[str, list[float]] = {"from_wfdb_s": [], "from_cache_s": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            t0 = time.perf_counter()
            ws = load_windows(records, spec, data_dir=args.data_dir, cache_dir=cache)
            kept, _ = ws.for_task(task)
            results["from_wfdb_s"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ws2 = load_windows(records, spec, data_dir=args.data_dir, cache_dir=cache)
            kept2, _ = ws2.for_task(task)
            results["from_cache_s"].append(time.perf_counter() - t0)
    assert kept.x.shape == kept2.x.shape
    report = {
        "benchmark": "prepare DS1+DS2" + (" + svdb" if args.svdb else "") + " beat-3 frames",
        "frames": int(kept.x.shape[0]),
        "frame_shape": list(kept.x.shape[1:]),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        **{k: round(statistics.median(v), 3) for k, v in results.items()},
        "first_run": {k: round(v[0], 3) for k, v in results.items()},
        "all_runs": {k: [round(x, 3) for x in v] for k, v in results.items()},
        "targets": TARGETS,
        "met": {k: statistics.median(v) <= TARGETS[k] for k, v in results.items()},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
