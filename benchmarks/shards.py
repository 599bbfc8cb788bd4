"""Benchmark: sharded preparation and the streaming pipeline (issue 20).

- `prepare`: beats/s of `heartzoo.data.shards.prepare_shards` in 1 process and in 2 worker processes, on
  the real Icentia11k sample segment under 32 patient names (its header rewritten, signal and
  annotations linked, in a temporary folder) and on mitdb DS1 + DS2 (44 records); medians of 3 runs.
- `format`: HDF5 (h5py) against TFRecord for the same frames: rows/s written, rows/s read back through
  tf.data, bytes.
- `stream`: peak RSS and rows/s of the shard stream (`shard_stream.shard_dataset`, through tf.data) at
  1x, 4x and 16x a synthetic data size (shards written by `synthetic_shards`), each in a fresh process;
  beside it the in-memory path (`pipeline.training_dataset` over every frame loaded) on the same data.

Run: `HEARTZOO_DATA_DIR=... python benchmarks/shards.py --record results/shards.json`
(`--only prepare,format,stream` for a part). Prints the JSON it records.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SAMPLE = "p01001_s00"
BASE_BEATS = 50_000  # the 1x synthetic size; DS1-like class shares
SHARES = {"N": 0.9, "S": 0.02, "V": 0.072, "F": 0.0078, "Q": 0.0002}
BEATS_PER_SHARD = 6_250
STREAM_BATCHES = 300
REPEATS = 3
PREPARE_PATIENTS = 32


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start the peak RSS (VmHWM) afresh from the RSS now (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def _icentia_copies(data_root: Path, tmp: Path, patients: int) -> Path:
    """<tmp>/icentia11k with the sample segment under `patients` names: headers rewritten, the signal
    and annotation files linked (nothing copied)."""
    sample = data_root / "icentia11k_sample" / "p01" / "p01001"
    for i in range(patients):
        pid = f"p9{i:04d}"
        d = tmp / "icentia11k" / pid[:3] / pid
        d.mkdir(parents=True)
        rec = f"{pid}_s00"
        (d / f"{rec}.hea").write_text((sample / f"{SAMPLE}.hea").read_text().replace(SAMPLE, rec))
        for ext in ("dat", "atr"):
            (d / f"{rec}.{ext}").symlink_to(sample / f"{SAMPLE}.{ext}")
    return tmp


def bench_prepare(data_root: Path) -> dict:
    import h5py  # noqa: F401  -- import costs are not preparation costs
    import scipy.signal  # noqa: F401
    import wfdb  # noqa: F401

    from heartzoo.config import InputSpec
    from heartzoo.data.shards import prepare_shards

    out: dict = {"repeats": REPEATS, "input": "InputSpec() defaults: 100 Hz, 512-sample frames"}
    with tempfile.TemporaryDirectory() as tmp:
        icentia = _icentia_copies(data_root, Path(tmp) / "data", PREPARE_PATIENTS)
        cases = {
            f"icentia11k_sample_x{PREPARE_PATIENTS}": (["icentia11k:all"], icentia),
            "mitdb_DS1_DS2": (["mitdb:DS1", "mitdb:DS2"], data_root),
        }
        for name, (sources, root) in cases.items():
            out[name] = {}
            for workers in (1, 2):
                runs = []
                for r in range(REPEATS):
                    dest = Path(tmp) / f"{name}-{workers}-{r}"
                    t0 = time.perf_counter()
                    m = prepare_shards(sources, InputSpec(), dest, workers=workers, data_dir=root)
                    wall = time.perf_counter() - t0
                    cpu = sum(s["cpu_seconds"] for s in m["shards"])
                    runs.append(
                        {
                            "seconds": round(wall, 2),
                            "beats_per_s": round(m["beats"] / wall),
                            "worker_seconds": round(sum(s["seconds"] for s in m["shards"]), 2),
                            "cpu_seconds": round(cpu, 2),
                            "beats_per_cpu_s": round(m["beats"] / cpu),
                            "load_average_1min": round(os.getloadavg()[0], 2),
                        }
                    )
                out[name][f"workers_{workers}"] = {
                    "beats": m["beats"],
                    "shards": len(m["shards"]),
                    "bytes": sum(s["bytes"] for s in m["shards"]),
                    "beats_per_s_median": int(np.median([r["beats_per_s"] for r in runs])),
                    "beats_per_cpu_s_median": int(np.median([r["beats_per_cpu_s"] for r in runs])),
                    "runs": runs,
                }
    return out


def bench_format(n: int = 50_000, t: int = 512) -> dict:
    import h5py
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, t), dtype=np.float32)
    y = rng.integers(0, 5, n).astype(np.int8)
    out: dict = {"rows": n, "frame_size": t}
    with tempfile.TemporaryDirectory() as tmp:
        h5, rec = Path(tmp) / "a.h5", Path(tmp) / "a.tfrecord"
        t0 = time.perf_counter()
        with h5py.File(h5, "w") as f:
            f.create_dataset("x", data=x, chunks=(1024, t))
            f.create_dataset("y", data=y)
        out["hdf5_write_rows_per_s"] = round(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        with tf.io.TFRecordWriter(str(rec)) as w:
            for i in range(n):
                feature = {
                    "x": tf.train.Feature(bytes_list=tf.train.BytesList(value=[x[i].tobytes()])),
                    "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(y[i])])),
                }
                w.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        out["tfrecord_write_rows_per_s"] = round(n / (time.perf_counter() - t0))

        def batches():  # as the shard stream reads: whole chunks, batches cut in numpy
            with h5py.File(h5, "r") as f:
                for s in range(0, n, 1024):
                    x, y = f["x"][s : s + 1024], f["y"][s : s + 1024]
                    for b in range(0, len(x), 256):
                        yield x[b : b + 256], y[b : b + 256]

        t0 = time.perf_counter()
        rows = sum(len(b[0]) for b in batches())
        out["hdf5_read_numpy_rows_per_s"] = round(rows / (time.perf_counter() - t0))
        sig = (tf.TensorSpec((None, t), tf.float32), tf.TensorSpec((None,), tf.int8))
        ds = tf.data.Dataset.from_generator(batches, output_signature=sig)
        out["hdf5_read_rows_per_s"] = round(_rate(ds))
        feats = {"x": tf.io.FixedLenFeature([], tf.string), "y": tf.io.FixedLenFeature([], tf.int64)}

        def parse(b):
            e = tf.io.parse_example(b, feats)
            return tf.reshape(tf.io.decode_raw(e["x"], tf.float32), (-1, t)), e["y"]

        ds = tf.data.TFRecordDataset(str(rec)).batch(256).map(parse, num_parallel_calls=2)
        out["tfrecord_read_rows_per_s"] = round(_rate(ds))
        out["hdf5_bytes"], out["tfrecord_bytes"] = h5.stat().st_size, rec.stat().st_size
    return out


def _rate(ds) -> float:
    t0, rows = time.perf_counter(), 0
    for b in ds:
        rows += int(b[0].shape[0])
    return rows / (time.perf_counter() - t0)


def child(mode: str, folder: str) -> None:
    """One measurement in this fresh process: peak RSS after imports, then after STREAM_BATCHES batches."""
    import tensorflow as tf

    from heartzoo.config import InputSpec
    from heartzoo.preprocess import Preprocessor

    pre = Preprocessor(InputSpec())
    tf.constant(1.0) + 1.0  # the runtime started: part of the baseline
    base = _status_mb("VmRSS")
    _reset_peak()  # the peak from here on: the data path's, not the imports'
    t0 = time.perf_counter()
    if mode == "stream":
        from heartzoo.data.shard_stream import shard_dataset

        ds = shard_dataset(folder, "beat-3", pre, batch_size=256, seed=0)
    else:
        from heartzoo.data.pipeline import training_dataset
        from heartzoo.data.shards import read_manifest, read_shard
        from heartzoo.data.windows import WindowSet
        from heartzoo.tasks import get_task

        m = read_manifest(folder)
        ws = WindowSet.concat([read_shard(Path(folder) / s["file"]) for s in m["shards"]])
        kept, labels = ws.for_task(get_task("beat-3"))
        del ws
        ds = training_dataset(
            kept, labels, 3, pre=pre, batch_size=256, balance="sampling", power=0.5, augmenter=None, seed=0
        )
    it = iter(ds)
    next(it)
    t1, cpu1 = time.perf_counter(), time.process_time()
    for _ in range(STREAM_BATCHES):
        next(it)
    rate = STREAM_BATCHES * 256 / (time.perf_counter() - t1)
    cpu_rate = STREAM_BATCHES * 256 / (time.process_time() - cpu1)  # all threads of this process
    print(
        json.dumps(
            {
                "baseline_rss_mb": round(base),
                "peak_rss_mb": round(_status_mb("VmHWM")),
                "first_batch_s": round(t1 - t0, 2),
                "rows_per_s": round(rate),
                "rows_per_cpu_s": round(cpu_rate),
            }
        )
    )


def bench_stream() -> dict:
    from heartzoo.config import InputSpec
    from heartzoo.data.synthetic_shards import write_synthetic_shards

    out: dict = {"base_beats": BASE_BEATS, "batches": STREAM_BATCHES, "batch_size": 256, "task": "beat-3"}
    with tempfile.TemporaryDirectory() as tmp:
        for scale in (1, 4, 16):
            beats = BASE_BEATS * scale
            shards = beats // BEATS_PER_SHARD
            counts = [{c: round(BEATS_PER_SHARD * p) for c, p in SHARES.items()} for _ in range(shards)]
            folder = Path(tmp) / f"x{scale}"
            t0 = time.perf_counter()
            m = write_synthetic_shards(folder, InputSpec(), counts, seed=scale)
            entry = {
                "beats": m["beats"],
                "shards": shards,
                "write_s": round(time.perf_counter() - t0, 1),
                "bytes": sum(s["bytes"] for s in m["shards"]),
            }
            runs: dict[str, list[dict]] = {"stream": [], "in_memory": []}
            for _ in range(REPEATS):  # alternating: the background load drifts
                for mode in runs:
                    run = subprocess.run(
                        [sys.executable, __file__, "--child", mode, str(folder)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    runs[mode].append(json.loads(run.stdout.strip().splitlines()[-1]))
            for mode, rs in runs.items():
                entry[mode] = {
                    "baseline_rss_mb": int(np.median([r["baseline_rss_mb"] for r in rs])),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                    "peak_over_baseline_mb": max(r["peak_rss_mb"] - r["baseline_rss_mb"] for r in rs),
                    "rows_per_s_median": int(np.median([r["rows_per_s"] for r in rs])),
                    "rows_per_cpu_s_median": int(np.median([r["rows_per_cpu_s"] for r in rs])),
                    "first_batch_s_median": float(np.median([r["first_batch_s"] for r in rs])),
                    "runs": rs,
                }
            out[f"x{scale}"] = entry
            print(f"x{scale}: {json.dumps(entry)}", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=os.environ.get("HEARTZOO_DATA_DIR"))
    ap.add_argument("--only", default="prepare,format,stream")
    ap.add_argument("--record", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    parts = args.only.split(",")
    report: dict = {
        "benchmark": "sharded preparation and streaming (benchmarks/shards.py)",
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "note": "2-core machine shared with model training in the background: absolute rates are low",
    }
    if "prepare" in parts:
        report["prepare"] = bench_prepare(Path(args.data_dir))
    if "format" in parts:
        report["format"] = bench_format()
    if "stream" in parts:
        report["stream"] = bench_stream()
    text = json.dumps(report, indent=1)
    print(text)
    if args.record:
        old = json.loads(args.record.read_text()) if args.record.is_file() else {}
        args.record.write_text(json.dumps({**old, **report}, indent=1) + "\n")


if __name__ == "__main__":
    main()
