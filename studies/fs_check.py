"""A sampling rate given wrong (issue 45, "never silent nonsense"): a CSV or .npy carries no rate, and a user
who types 1000 for a 360 Hz recording gets beats, rates and classes for another signal, with no warning
while the heart rate it implies stays under 220 bpm. Every time in the recording scales by the error, the
width of its QRS complexes too, and those are narrow in every ECG (about 60-110 ms).

The measure (`heartzoo.recording.quality.qrs_width_ms`): the median, over the detected R peaks, of the
width at half height of |x| (the lead high-passed at 0.5 Hz) around each peak, in ms at the stated rate.

The rule, written before any run: over the training side, DS1's 22 records (mitdb, lead MLII) and svdb's
78 (lead ECG1, 128 Hz), read at their true rate and the whole record, the widths' 0.5th and 99.5th
percentiles, widened by 20 % (below and above), are the plausible range; a recording outside it gets a
warning that its sampling rate may be wrong. Nothing else is chosen. Then reported, never chosen on: the
share warned at the true rate on DS2, the Icentia11k segments and CinC 2017's test split (false warnings),
and on DS1 + svdb read at a rate stated 0.5, 0.7, 1.4, 2 and 2.78 times the true one (the warnings a wrong
rate should get).

Run: `python studies/fs_check.py [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FACTORS = (0.5, 0.7, 1.4, 2.0, 2.78)


def leads(corpus: str, data_dir=None):
    """(name, lead in mV, true rate) of each recording of `corpus`."""
    from heartzoo.data.databases import get_database
    from heartzoo.data.splits import DS1, DS2

    if corpus in ("ds1", "ds2"):
        db, names, lead = get_database("mitdb"), DS1 if corpus == "ds1" else DS2, "MLII"
    elif corpus == "svdb":
        db, lead = get_database("svdb"), "MLII"
        names = db.records
    elif corpus == "icentia11k":
        db, lead = get_database("icentia11k"), "ecg"
        names = db.select("all", data_dir)
    else:
        from heartzoo.data.cinc2017 import held_out_records

        db, names, lead = get_database("cinc2017"), held_out_records(), "ECG"
    folder = db.folder(data_dir)
    for r in names:
        sig = db.read_signal(folder, r, lead)
        yield r, sig.values, float(sig.fs)


def width(x: np.ndarray, fs: float) -> float | None:
    from heartzoo.detect import detect
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.quality import qrs_width_ms

    try:
        peaks = detect(x, fs)
    except HeartzooError:
        return None  # too short at this stated rate: no detection, nothing to warn of here
    return qrs_width_ms(x, fs, peaks)


def main() -> None:
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON line to this file")
    args = ap.parse_args()
    train = {"ds1": [], "svdb": []}
    misstated: dict[float, list] = {f: [] for f in FACTORS}
    for corpus in train:
        for _, x, fs in leads(corpus):
            train[corpus].append(width(x, fs))
            for f in FACTORS:
                misstated[f].append(width(x, fs * f))
    widths = np.array([w for ws in train.values() for w in ws if w is not None])
    lo, hi = np.percentile(widths, 0.5) / 1.2, np.percentile(widths, 99.5) * 1.2

    def warned(ws) -> dict:
        ws = [w for w in ws if w is not None]
        out = sum(not (lo <= w <= hi) for w in ws)
        return {"recordings": len(ws), "warned": out, "share": out / max(1, len(ws))}

    line = {
        "study": "fs_check",
        "plausible_ms": [round(lo, 2), round(hi, 2)],
        "training_side": {c: warned(ws) for c, ws in train.items()},
        "training_widths_ms": {
            "min": float(widths.min()),
            "median": float(np.median(widths)),
            "max": float(widths.max()),
        },
        "misstated": {str(f): warned(ws) for f, ws in misstated.items()},
        "true_rate": {
            c: warned([width(x, fs) for _, x, fs in leads(c)]) for c in ("ds2", "icentia11k", "cinc2017")
        },
    }
    print(json.dumps(line, indent=1), flush=True)
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
