"""QRS detection on the 44 non-paced MIT-BIH records (paced 102, 104, 107, 217 left out, as EC57 and de
Chazal 2004 do): each detector of `heartzoo.detect` on lead MLII (chosen by name: 114 stores it
second), scored against the reference annotations by `heartzoo.ec57`
(bxb's rules: 150 ms window, from the 5-minute mark to the end of the record). Gross and average QRS
Se/+P, the time each detector took, and the published figures for the same detector where we found any.

Run: `python benchmarks/detector.py [--detectors pan-tompkins,xqrs,gqrs] [--record FILE]`; one JSON
line per detector (per-record misses and extras included).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Published figures for the same detector on MIT-BIH, where we found any (not EC57-scored like ours).
PUBLISHED = {
    "pan-tompkins": {
        "source": "Pan & Tompkins (1985), IEEE TBME 32(3):230-236, Table I: all 48 records from their start, "
        "their own scoring: 116,137 beats, 507 false positives, 277 false negatives",
        "qrs_se": 0.9976,
        "qrs_pp": 0.9956,
    },
    "xqrs": {
        "source": "wfdb-python pull request 321 (B. Moody, 2021-09-09): XQRS before that change, over mitdb, "
        "gross QRS sensitivity 99.35 % (the rest of the comment is not in our copy)",
        "qrs_se": 0.9935,
        "qrs_pp": None,
    },
    "gqrs": {"source": "none found", "qrs_se": None, "qrs_pp": None},
}


def run(detector: str, data_dir: Path) -> dict:
    from heartzoo.data.mitbih import default_records, read_signal
    from heartzoo.detect import detect
    from heartzoo.ec57 import Annotations, Report, compare, read_annotations

    results, seconds = [], 0.0
    for record in default_records(exclude_paced=True):
        x = read_signal(data_dir, record).values
        t0 = time.perf_counter()
        peaks = detect(x, 360, detector)
        seconds += time.perf_counter() - t0
        ref = read_annotations(data_dir / f"{record}.atr")
        results.append(compare(ref, Annotations.of(peaks, ["N"] * len(peaks), 360, length=ref.length)))
    rep = Report(results)
    g, t = rep.gross.stats, rep.gross.tallies
    return {
        "detector": detector,
        "records": len(results),
        "scoring": "EC57 / bxb rules: 150 ms window, from 5 min to the end of each record",
        "gross": {
            "qrs_se": g["qrs_se"],
            "qrs_pp": g["qrs_pp"],
            "tp": t["qrs_tp"],
            "fn": t["qrs_fn"],
            "fp": t["qrs_fp"],
        },
        "average": {"qrs_se": rep.average["qrs_se"], "qrs_pp": rep.average["qrs_pp"]},
        "detect_seconds": round(seconds, 2),
        "per_record": {
            r.record: {"fn": r.counts.tallies["qrs_fn"], "fp": r.counts.tallies["qrs_fp"]} for r in results
        },
        "published": PUBLISHED.get(detector),
    }


def main() -> None:
    from heartzoo import paths

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detectors", default="pan-tompkins,xqrs,gqrs")
    ap.add_argument("--data-dir", help="folder holding mitdb/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir) / "mitdb"
    for name in args.detectors.split(","):
        line = run(name, data_dir)
        text = json.dumps(line)
        print(
            f"{name}: QRS Se {100 * line['gross']['qrs_se']:.3f} % +P {100 * line['gross']['qrs_pp']:.3f} % "
            f"(FN {line['gross']['fn']}, FP {line['gross']['fp']}) in {line['detect_seconds']} s",
            flush=True,
        )
        if args.record:
            with open(args.record, "a") as f:
                f.write(text + "\n")


if __name__ == "__main__":
    main()
