"""The TFLM arena of every published version, measured again: the arena TFLM builds and runs it in
(`heartzoo.export.runtimes.tflm_smallest_arena`) against the one its metrics.json gives.

Versions exported before that function recorded TFLM's allocation total, which leaves out the scratch
TFLM's memory planner takes while it lays the tensors out: some do not start in it. Published versions
are not changed; their cards give this measure beside the published figure where it is larger, and the
firmware kit and C array measure it again for themselves. One JSON line a run, every version in it.

Run: `python benchmarks/arena.py [--zoo zoo] [--record results/arena.jsonl]`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from heartzoo.export.runtimes import tflm_smallest_arena
    from heartzoo.io import append_json_line
    from heartzoo.meta import Metrics, read_meta
    from heartzoo.zoo.index import read_index

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    t0 = time.perf_counter()
    versions = {}
    for entry in read_index(args.zoo)["models"]:
        folder = args.zoo / entry["path"]
        published = read_meta(Metrics, folder / "metrics.json").tflm_arena_bytes
        runs_in = tflm_smallest_arena((folder / "model.tflite").read_bytes())
        versions[f"{entry['name']}@{entry['version']}"] = {"published": published, "runs_in": runs_in}
    short = {ref: v for ref, v in versions.items() if v["runs_in"] > v["published"]}
    row = {
        "benchmark": "arena",
        "versions": versions,
        "published_short": len(short),
        "most_short_by": max((v["runs_in"] - v["published"] for v in short.values()), default=0),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps({k: v for k, v in row.items() if k != "versions"}))
    append_json_line(args.record, row)


if __name__ == "__main__":
    main()
