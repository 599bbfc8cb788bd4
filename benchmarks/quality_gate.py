"""The signal-quality gate of `heartzoo annotate` (`heartzoo.quality`: template matching after Orphanidou
et al. 2015) on MIT-BIH records, clean and with NSTDB electrode motion (`em`) added to the whole record:
the share of reference beats in windows it keeps, and the QRS Se and +P of the default detector's beats
there (a detected beat is true within 150 ms of a reference beat), against the same detector with no gate.
And pure Gaussian noise (60 s at 250 Hz, 0.2 mV): how many beats are kept.

The gate's threshold was chosen on DS1 (`--records DS1`: the highest of 0.5, 0.6, 0.66 that keeps >= 99 %
of clean DS1's beats); DS2 (the default) is measured, never chosen on.

Run: `python benchmarks/quality_gate.py [--records DS2] [--snr 12 6 0] [--min-correlation T ...] [--record
FILE]`; one JSON line per condition. The choice of the threshold: `--records DS1 --snr --min-correlation
0.5 0.6 0.66` (clean DS1 alone).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def condition(records, snr: float | None, data_dir: Path, min_correlation: float) -> dict:
    from heartzoo.data.databases import get_database
    from heartzoo.data.noise import NOISE_FOLDER, add_record_noise, read_noise
    from heartzoo.detect import detect
    from heartzoo.quality import sqi_windows

    db = get_database("mitdb")
    folder = db.folder(data_dir)
    em = read_noise(data_dir / NOISE_FOLDER, "em", channel=0)[0] if snr is not None else None
    tally = dict.fromkeys(("ref", "ref_kept", "det", "det_tp", "kept", "kept_tp", "ref_kept_found"), 0)
    seconds = 0.0
    for r in records:
        x = db.read_signal(folder, r, "MLII").values
        ref = db.read_beats(folder, r).samples
        if em is not None:
            x = add_record_noise(x, ref, 360.0, em, snr)
        peaks = detect(x, 360.0)
        t0 = time.perf_counter()
        windows = sqi_windows(x, 360.0, peaks, min_correlation=min_correlation)
        keep, ref_keep = windows.of(peaks), windows.of(ref)
        seconds += time.perf_counter() - t0
        j = np.clip(np.searchsorted(ref, peaks), 1, len(ref) - 1)
        tp = np.minimum(np.abs(ref[j] - peaks), np.abs(ref[j - 1] - peaks)) <= 54
        k = np.clip(np.searchsorted(peaks, ref), 1, len(peaks) - 1)
        found = np.minimum(np.abs(peaks[k] - ref), np.abs(peaks[k - 1] - ref)) <= 54
        for key, v in (("ref", len(ref)), ("ref_kept", ref_keep.sum()), ("det", len(peaks)), ("det_tp", tp.sum()),
                       ("kept", keep.sum()), ("kept_tp", (keep & tp).sum()),
                       ("ref_kept_found", (ref_keep & found).sum())):  # fmt: skip
            tally[key] += int(v)
    return {
        "min_correlation": min_correlation,
        "records": len(records),
        "noise": None if snr is None else {"kind": "em", "snr_db": snr},
        "beats_kept": tally["ref_kept"] / tally["ref"],
        "qrs_pp_kept": tally["kept_tp"] / max(1, tally["kept"]),
        "qrs_se_kept": tally["ref_kept_found"] / max(1, tally["ref_kept"]),
        "qrs_pp_ungated": tally["det_tp"] / max(1, tally["det"]),
        "tallies": tally,
        "gate_seconds": round(seconds, 2),
    }


def pure_noise() -> dict:
    from heartzoo.detect import detect
    from heartzoo.quality import sqi_windows

    x = np.random.default_rng(0).standard_normal(15000) * 0.2
    peaks = detect(x, 250.0)
    return {"noise": "gaussian 0.2 mV, 60 s, 250 Hz", "detected": len(peaks),
            "kept": int(sqi_windows(x, 250.0, peaks).of(peaks).sum())}  # fmt: skip


def main() -> None:
    from heartzoo import paths
    from heartzoo.data.databases import resolve
    from heartzoo.quality import MIN_CORRELATION

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", default="DS2", help="a mitdb set: DS2 (default) or DS1")
    ap.add_argument("--snr", type=float, nargs="*", default=[12.0, 6.0, 0.0], help="em noise levels (dB)")
    ap.add_argument("--min-correlation", type=float, nargs="+", default=[MIN_CORRELATION],
                    help="the gate's thresholds to measure [default: heartzoo's]")  # fmt: skip
    ap.add_argument("--data-dir", help="folder holding mitdb/ and nstdb_noise/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    records = resolve(f"mitdb:{args.records}", data_dir)[1]
    lines = [condition(records, snr, data_dir, t) for t in args.min_correlation for snr in (None, *args.snr)]
    lines.append({"min_correlation": MIN_CORRELATION, **pure_noise()})
    for line in lines:
        line = {"benchmark": "quality_gate", "set": args.records, **line}
        print(json.dumps(line), flush=True)
        if args.record:
            with open(args.record, "a") as f:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
