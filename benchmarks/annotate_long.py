"""How `heartzoo annotate` scales with a recording's length: a wearable patch records for days, a Holter
for one or two. A recording of H hours is made from MIT-BIH's 44 non-paced records (MLII, 360 Hz) end to
end, repeated as often as needed, and written as an ISHNE Holter file (int16, 5 µV a unit, what a Holter
writes) or, with `--format wfdb`, a WFDB record (format 16, what a patch such as Icentia11k's writes) in a
temporary folder; `heartzoo annotate` then runs on it as a user runs it (a fresh process:
default detector, quality gate, the int8 beat-3 model, the rhythm model, the three files written).
Each line gives the wall time, the time per hour of signal and the process's peak resident memory (its
own, from wait4; the file is written by another process, as a child's peak starts at its parent's),
beside the machine's load average, as other jobs may share its 2 cores.

Run: `python benchmarks/annotate_long.py [--hours 1 24 72] [--format ishne|wfdb] [--note TEXT]
[--record FILE]`; with `PYTHONPATH=<a checkout>` it measures that checkout's heartzoo (the baseline of a
change).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODEL = "beat-3-cnn3-student@v6"
RHYTHM = "af-4-cnn4-student@v1"
NV = 5000  # MIT-BIH's 200 units a mV


def day_of_mitdb(hours: float, data_dir: Path) -> np.ndarray:
    """`hours` of MLII in MIT-BIH's ADC units: the 44 non-paced records end to end, repeated."""
    from heartzoo.data import mitbih

    need = round(hours * 3600 * mitbih.SAMPLING_RATE)
    parts, n = [], 0
    while n < need:
        for r in mitbih.default_records(exclude_paced=True):
            x = mitbih.read_signal(Path(data_dir) / "mitdb", r, "MLII").values
            parts.append(np.round(x.astype(np.float64) * 1e6 / NV).astype(np.int16))
            n += len(x)
            if n >= need:
                break
    return np.concatenate(parts)[:need]


def write_ishne(path: Path, units: np.ndarray, fs: int) -> None:
    """One lead (II) as an ISHNE Holter file (`heartzoo.recording.ishne` reads it)."""
    import binascii

    twelve = lambda first, rest: struct.pack("<12h", first, *[rest] * 11)  # noqa: E731
    fixed = struct.pack("<4ih", 0, len(units), 522, 522, 1) + bytes(100) + struct.pack("<2h", 0, 0)
    fixed += bytes(24) + struct.pack("<h", 1) + twelve(6, -9) + twelve(1, -9) + twelve(NV, -9)
    fixed += (
        struct.pack("<h", 0) + b"heartzoo benchmark".ljust(40, b"\0") + struct.pack("<h", fs) + bytes(248)
    )
    path.write_bytes(
        b"ISHNE1.0" + struct.pack("<H", binascii.crc_hqx(fixed, 0xFFFF)) + fixed + units.tobytes()
    )


def write_wfdb(path: Path, units: np.ndarray, fs: int) -> None:
    """One lead (II) as a WFDB record (format 16, what a patch such as Icentia11k's writes): `path`.hea
    and `path`.dat."""
    import wfdb

    wfdb.wrsamp(
        path.name,
        fs=fs,
        units=["mV"],
        sig_name=["II"],
        d_signal=units[:, None].astype(np.int16),
        fmt=["16"],
        adc_gain=[1e6 / NV],
        baseline=[0],
        write_dir=str(path.parent),
    )


WRITERS = {"ishne": (write_ishne, "long.ecg"), "wfdb": (write_wfdb, "long")}


def main() -> None:
    import heartzoo
    from heartzoo import paths
    from heartzoo.io import append_json_line
    from heartzoo.version import git_commit

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 24.0, 72.0])
    ap.add_argument("--format", choices=sorted(WRITERS), default="ishne", help="the file written [ishne]")
    ap.add_argument("--data-dir", help="folder holding mitdb/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--note", help="what the code measured does, for the table (e.g. before a change)")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    ap.add_argument("--write-to", type=Path, help=argparse.SUPPRESS)  # the child that writes the file
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    if args.write_to is not None:
        WRITERS[args.format][0](args.write_to, day_of_mitdb(args.hours[0], data_dir), 360)
        return
    for hours in args.hours:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / WRITERS[args.format][1]
            # written by a process of its own: Linux starts a child's peak memory (wait4's ru_maxrss) at
            # its parent's when it forks, so a parent that held the day of signal would be measured too
            write = [sys.executable, __file__, "--write-to", str(path), "--hours", str(hours)]
            subprocess.run([*write, "--format", args.format, "--data-dir", str(data_dir)], check=True)
            cmd = [sys.executable, "-m", "heartzoo", "annotate", str(path), "--model", MODEL]
            cmd += ["--rhythm", RHYTHM, "--zoo", str(REPO / "zoo"), "--output-dir", tmp, "--json"]
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            t0 = time.perf_counter()
            with open(out, "w") as o, open(err, "w") as e:  # files, not pipes: wait4 reads no pipe
                # run where the heartzoo this script imported lives, or `-m` imports the one in the cwd
                proc = subprocess.Popen(cmd, stdout=o, stderr=e, cwd=Path(heartzoo.__file__).parents[1])
                _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak memory
            wall = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"annotate failed on {hours:g} h: {err.read_text()[-2000:]}")
            summary = json.loads(out.read_text())
        line = {
            "benchmark": "annotate_long",
            "hours": hours,
            "format": f"{args.format.upper()}, one lead, 360 Hz",
            "model": MODEL,
            "rhythm": RHYTHM,
            "beats": summary["beats"],
            "wall_s": round(wall, 1),
            "s_per_hour": round(wall / hours, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024),
            # the floor of peak_rss_mb: this process's own peak when it started annotate
            "parent_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "commit": git_commit(),
            **({"note": args.note} if args.note else {}),
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
