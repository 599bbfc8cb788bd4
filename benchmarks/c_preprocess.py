"""The firmware kit's C preprocessing on the host: throughput against the Python path, agreement over DS2,
and its size for Cortex-M.

For each build of heartzoo_preprocess.c (float with double resampling, the default; float only,
-DHZ_DOUBLE=0; fixed point) the whole DS2 (22 records, every beat) is streamed through the host harness
(gcc -O2) sample by sample, R peaks pushed 0.25 s late as a QRS detector would: frames per CPU second
(the development machine is shared), best of `--repeat` runs, resampling of every sample included. The Python path is the Preprocessor on each whole
record and quantize_inputs (numpy and scipy, vectorised), timed the same way. Agreement: int8 input
elements that differ from Python's, and the class the int8 model (LiteRT reference kernels) gives on the
C and the Python inputs, on every beat whose inputs differ and `--model-frames` beats spread over DS2.
Sizes: arm-none-eabi-gcc -Os (when installed).

Run: `python benchmarks/c_preprocess.py [--model zoo/beat-3/beat-3-cnn3-student/v6]
[--record results/c_preprocess.json]`.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from heartzoo.data.mitbih import DS2
from heartzoo.export.firmware_check import compare, python_inputs, read_recordings
from heartzoo.export.firmware_host import arm_compiler, compile_host, cortex_m_size, host_compiler, run_host
from heartzoo.export.firmware_kit import library_files
from heartzoo.export.runtimes import io_specs
from heartzoo.meta import Configuration, read_meta

REPO = Path(__file__).resolve().parents[1]
BUILDS = {  # name: (fixed_point, double)
    "float": (False, True),
    "float-only": (False, False),
    "fixed-point": (True, False),
}


def _version(cmd: str | None) -> str | None:
    if cmd is None:
        return None
    return subprocess.run([cmd, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def throughput(version_dir: Path, recordings: list[dict], repeat: int) -> dict:
    """Frames/s of each C build and of the Python path over `recordings` (best of `repeat`)."""
    firmware = read_meta(Configuration, version_dir / "configuration.json").firmware
    ins, _ = io_specs((version_dir / "model.tflite").read_bytes())
    frames = sum(len(r["peaks"]) for r in recordings)
    samples = sum(len(r["values"]) for r in recordings)
    out: dict = {"frames": frames, "samples": samples}
    for name, (fixed_point, double) in BUILDS.items():
        with tempfile.TemporaryDirectory() as tmp:
            for fname, text in library_files(firmware, fixed_point=fixed_point).items():
                (Path(tmp) / fname).write_text(text)
            exe = compile_host(Path(tmp), double=double)
            streams = [(r["counts"] if fixed_point else r["values"], r["peaks"]) for r in recordings]
            best = min(
                run_host(exe, streams, fixed_point=fixed_point, ecg_len=firmware.frame_size)[1]["seconds"]
                for _ in range(repeat)
            )
        out[f"c_{name}"] = {"seconds": best, "frames_per_s": frames / best, "samples_per_s": samples / best}
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for r in recordings:
            python_inputs(firmware, ins, r)
        best = min(best, time.process_time() - t0)
    out["python"] = {"seconds": best, "frames_per_s": frames / best, "samples_per_s": samples / best}
    out["c_float_vs_python"] = out["c_float"]["frames_per_s"] / out["python"]["frames_per_s"]
    return out


def sizes(version_dir: Path) -> dict:
    firmware = read_meta(Configuration, version_dir / "configuration.json").firmware
    out = {}
    for fixed_point, core, defines, label in (
        (False, "cortex-m4f", (), "float, cortex-m4f"),
        (False, "cortex-m4f", ("HZ_DOUBLE=0",), "float-only, cortex-m4f"),
        (True, "cortex-m0plus", (), "fixed-point, cortex-m0plus"),
        (True, "cortex-m4f", (), "fixed-point, cortex-m4f"),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            for fname, text in library_files(firmware, fixed_point=fixed_point).items():
                (Path(tmp) / fname).write_text(text)
            out[label] = cortex_m_size(Path(tmp), core, defines=defines)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6")
    ap.add_argument("--records", default=",".join(DS2), help="comma-separated mitdb records (default: DS2)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--model-frames", type=int, default=2000, help="beats the model runs on besides the differing ones"
    )
    ap.add_argument("--record", type=Path, help="write the results to this JSON file")
    args = ap.parse_args()
    recordings = read_recordings(args.records.split(","))
    result = {
        "model": str(args.model.relative_to(REPO) if args.model.is_relative_to(REPO) else args.model),
        "records": [r["record"] for r in recordings],
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "host_compiler": _version(host_compiler()),
        "arm_compiler": _version(arm_compiler()),
        "throughput": throughput(args.model, recordings, args.repeat),
        "agreement": {
            name: compare(args.model, recordings, fixed_point=fp, double=db, model_frames=args.model_frames)
            for name, (fp, db) in BUILDS.items()
        },
        "cortex_m": sizes(args.model) if arm_compiler() else None,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.record:
        args.record.write_text(text + "\n")


if __name__ == "__main__":
    main()
