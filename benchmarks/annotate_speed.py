"""How long `heartzoo annotate` takes on a whole 30-minute MIT-BIH record with the int8
beat-3-cnn3-student (LiteRT reference kernels): reading the record, detecting its R peaks, classifying
every beat and writing the three files, in one process (`annotation.annotate_file` and
`write_annotations`), and the same as a fresh `heartzoo annotate` command (start-up and imports
included; with Python's bytecode cache, and once without it, as this environment runs by default). Each is the median of `--repeat` runs; the machine's load average is recorded beside them,
as other jobs may share its 2 cores.

Run: `python benchmarks/annotate_speed.py [--records 100,203] [--repeat 3] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = "beat-3-cnn3-student"


def in_process(path: Path, loaded, out: Path) -> dict:
    from heartzoo.detect import detect
    from heartzoo.recording.annotation import annotate
    from heartzoo.recording.annotation_files import write_annotations
    from heartzoo.recording.read import read_recording

    t = [time.perf_counter()]
    rec = read_recording(path, "MLII")
    t.append(time.perf_counter())
    peaks = detect(rec.signal, rec.fs)
    t.append(time.perf_counter())
    result = annotate(rec.signal, rec.fs, loaded, r_peaks=peaks, record=rec.name, lead=rec.lead)
    t.append(time.perf_counter())
    write_annotations(result, out)
    t.append(time.perf_counter())
    stages = dict(
        zip(("read", "detect", "classify", "write"), (b - a for a, b in itertools.pairwise(t)), strict=True)
    )
    return {"beats": len(result.samples), "total_s": t[-1] - t[0], **{f"{k}_s": v for k, v in stages.items()}}


def command(path: Path, out: Path, zoo: Path, pycache: Path | None) -> float:
    """Seconds for `heartzoo annotate` in a new process. With `pycache`, Python keeps compiled bytecode
    there (as an ordinary install does in __pycache__); without, it runs as this environment is set
    (PYTHONDONTWRITEBYTECODE: every module of scipy, wfdb, pandas compiled again at each start)."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "heartzoo",
            "annotate",
            str(path),
            "--model",
            MODEL,
            "--zoo",
            str(zoo),
            "--output-dir",
            str(out),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - t0


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line
    from heartzoo.zoo.hub import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", default="100,203")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--data-dir", help="folder holding mitdb/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    mitdb = paths.data_dir(args.data_dir) / "mitdb"
    loaded = load_model(MODEL, format="tflite", zoo=args.zoo)
    for record in args.records.split(","):
        path = mitdb / record
        with tempfile.TemporaryDirectory() as tmp:
            in_process(path, loaded, Path(tmp))  # warm: imports and first-call costs out of the timing
            runs = [in_process(path, loaded, Path(tmp)) for _ in range(args.repeat)]
            cold = command(path, Path(tmp), args.zoo, None)
            pycache = Path(tmp) / "pycache"
            command(path, Path(tmp), args.zoo, pycache)  # fills the bytecode cache
            cli = [command(path, Path(tmp), args.zoo, pycache) for _ in range(args.repeat)]
        line = {
            "record": record,
            "model": f"{MODEL}@{loaded.folder.name}",
            "runtime": "int8, LiteRT reference kernels",
            "detector": "pan-tompkins",
            "beats": runs[0]["beats"],
            "in_process_s": round(statistics.median(r["total_s"] for r in runs), 3),
            "stages_s": {
                k[:-2]: round(statistics.median(r[k] for r in runs), 3)
                for k in ("read_s", "detect_s", "classify_s", "write_s")
            },
            "command_s": round(statistics.median(cli), 3),
            "command_without_bytecode_cache_s": round(cold, 3),
            "repeat": args.repeat,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
