"""Which published models carry int8 MULs whose rescaling LiteRT (float32) and TFLM (double) compute
differently (`heartzoo.export.rescale`), and whether LiteRT's reference kernels and TFLM then disagree on
random int8 frames; and how many of those MULs no output scale could fix (`rescale.no_scale_agrees`:
the float32 product of the input scales already rounds too far). Versions exported before the fix keep
their bytes (published versions are immutable): their int8 numbers were measured in the runtime their
metrics.json names, and stand.

Run: `python benchmarks/mul_rescaling.py [--zoo zoo] [--frames 100] [--record FILE]`. One JSON line per
model with a MUL, then a summary line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    from bench_shrink import random_frames  # a sibling script: benchmarks/ is on sys.path

    from heartzoo.export import run_litert, run_tflm, runtime_mismatch
    from heartzoo.export.rescale import mul_agreement
    from heartzoo.zoo.index import read_index

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--record", type=Path, help="append the lines to this JSONL file")
    args = ap.parse_args(argv)

    lines = []
    for entry in read_index(args.zoo)["models"]:
        buf = (args.zoo / entry["path"] / "model.tflite").read_bytes()
        muls, disagreeing, unfixable = mul_agreement(buf)
        if not muls:
            continue
        q = random_frames(buf, args.frames)
        differing, steps = runtime_mismatch(run_litert(buf, q), run_tflm(buf, q))
        line = {
            "model": f"{entry['name']}@{entry['version']}",
            "muls": muls,
            "muls_disagreeing": disagreeing,
            "muls_no_scale_agrees": unfixable,
            "random_frames": args.frames,
            "frames_differing": differing,
            "largest_difference_int8_steps": steps,
        }
        print(json.dumps(line), flush=True)
        lines.append(line)
    summary = {
        "date": time.strftime("%Y-%m-%d"),
        "models_with_mul": len(lines),
        "with_a_disagreeing_mul": sum(x["muls_disagreeing"] > 0 for x in lines),
        "muls": sum(x["muls"] for x in lines),
        "muls_no_scale_agrees": sum(x["muls_no_scale_agrees"] for x in lines),
        "with_a_mul_no_scale_agrees": [x["model"] for x in lines if x["muls_no_scale_agrees"]],
        "differing_on_random_frames": [x["model"] for x in lines if x["frames_differing"]],
    }
    print(json.dumps(summary))
    if args.record:
        with args.record.open("a") as f:
            f.writelines(json.dumps(x) + "\n" for x in [*lines, summary])


if __name__ == "__main__":
    main()
