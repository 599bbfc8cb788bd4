"""The flash bill of every published model: its model.tflite as published and shrunk
(`heartzoo.export.shrink_tflite`), the bytes each step of the shrink removes, and whether the shrunk
model still runs bit-exactly: LiteRT's reference kernels vs TFLM on the shrunk model, and the shrunk
model vs the published one in LiteRT, on random int8 frames (half uniform, half quantized N(0, 1)).

Run: `python benchmarks/bench_shrink.py [--zoo zoo] [--frames 50] [--record FILE]`. One JSON line per
model, then a summary line; any model that fails to shrink or to match is counted in the summary.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def random_frames(buf: bytes, n: int, seed: int = 0) -> list:
    import numpy as np

    from heartzoo.export import io_specs, quantize_inputs

    ins, _ = io_specs(buf)
    rng = np.random.default_rng(seed)
    normal = quantize_inputs(ins, {s.name: rng.standard_normal((n - n // 2, *s.shape[1:])) for s in ins})
    return [
        np.concatenate([rng.integers(-128, 128, (n // 2, *s.shape[1:]), dtype=np.int8), q])
        for s, q in zip(ins, normal, strict=True)
    ]


def measure(path: Path, frames: int) -> dict:
    from heartzoo.export import io_specs, run_litert, run_tflm, runtime_mismatch, shrink_report, shrink_tflite

    buf = path.read_bytes()
    line: dict = {"model": path.parent.parent.name, "version": path.parent.name, "original_bytes": len(buf)}
    try:
        t0 = time.perf_counter()
        small = shrink_tflite(buf)
        line["shrink_s"] = round(time.perf_counter() - t0, 3)
        line["shrunk_bytes"] = len(small)
        line["saved"] = round(1 - len(small) / len(buf), 4)
        line["removed"] = {k: v for k, v in shrink_report(buf).items() if not k.endswith("_bytes")}
        q = random_frames(buf, frames)
        ref = run_litert(small, q)
        bad, steps = runtime_mismatch(ref, run_tflm(small, q))
        line["litert_ref_vs_tflm"] = {"frames_differing": bad, "largest_difference_int8_steps": steps}
        line["shrunk_vs_published_litert_ref"] = int((ref != run_litert(buf, q)).any(axis=1).sum())
        line["inputs"] = [s.name for s in io_specs(small)[0]]
        line["inputs_as_published"] = line["inputs"] == [s.name for s in io_specs(buf)[0]]
        line["idempotent"] = shrink_tflite(small) == small
        line["ok"] = (
            bad == 0
            and line["shrunk_vs_published_litert_ref"] == 0
            and line["inputs_as_published"]
            and line["idempotent"]
        )
    except Exception as exc:  # a benchmark reports every model, failures included
        line.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    return line


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--frames", type=int, default=50, help="random int8 frames per model")
    ap.add_argument("--record", type=Path, help="append the JSON lines here")
    args = ap.parse_args(argv)
    lines = []
    for path in sorted(args.zoo.glob("*/*/v*/model.tflite")):
        lines.append(measure(path, args.frames))
        _emit(lines[-1], args.record)
    done = [r for r in lines if "shrunk_bytes" in r]
    by = {r["model"]: r for r in done}
    _emit(
        {
            "benchmark": "shrink every published model.tflite",
            "models": len(lines),
            "frames_per_model": args.frames,
            "original_bytes": sum(r["original_bytes"] for r in done),
            "shrunk_bytes": sum(r["shrunk_bytes"] for r in done),
            "saved": round(
                1 - sum(r["shrunk_bytes"] for r in done) / sum(r["original_bytes"] for r in done), 4
            ),
            "removed": {k: sum(r["removed"][k] for r in done) for k in done[0]["removed"]} if done else {},
            "examples": {
                m: [by[m]["original_bytes"], by[m]["shrunk_bytes"]]
                for m in ("beat-3-cnn3-student", "beat-3-efficientnetv2-sm", "beat-3-recurrent-gru")
                if m in by
            },
            "all_bit_exact": all(r.get("ok") for r in lines),
            "failed": [r["model"] + "@" + r["version"] for r in lines if not r.get("ok")],
        },
        args.record,
    )


def _emit(line: dict, record: Path | None) -> None:
    from heartzoo.io import append_json_line

    print(json.dumps(line), flush=True)
    append_json_line(record, line)


if __name__ == "__main__":
    main()
