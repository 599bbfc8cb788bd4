"""Is a stretch without beats a pause, or a lead off? How long a real pause's lead holds one value.

A Holter report counts pauses (RR of 3 s or more: sinus arrest, AV block). A lead that comes off, or a
recorder at rest, holds one value (or its rail) for as long: no beat is detected there either, and it is
no RR interval. `heartzoo.recording.pauses` tells them apart by the longest run of one value inside the
stretch. The measure: inside every reference pause (two consecutive reference beats 3 s or more apart,
0.2 s kept clear of each beat) of every database here with beat annotations (mitdb, svdb, aftdb, the
Icentia11k segments), the longest run of one sample value, in seconds, on the lead heartzoo reads first
(lead 0, the recorder's own integers: a run of one integer is a run of one value in mV).

The rule, written before the measure ran: `pauses.FLAT_S`, the run that makes a stretch a signal lost,
is 1 s when the longest run inside any reference pause is at most a tenth of it (100 ms); otherwise the
study says so and the longest run times ten is the floor to think again from.

Result (results/pause_flat.jsonl): 43 reference pauses, the longest run 39 ms (svdb 850, at 128 Hz: five
samples), so `FLAT_S` is 1 s.

Run: `python studies/pause_flat.py [--record results/pause_flat.jsonl]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

BEATS = "NLRejAaJSVFEf/Q"
DATABASES = ("mitdb", "svdb", "aftdb", "icentia11k_sample")
PAUSE_S = 3.0
CLEAR_S = 0.2


def record_pauses(base: Path) -> list[dict]:
    """The reference pauses of one WFDB record and the longest run of one value inside each."""
    import wfdb

    from heartzoo.recording.pauses import longest_run

    rec = wfdb.rdrecord(str(base), channels=[0], physical=False)
    ann = wfdb.rdann(str(base), "atr")
    beats = ann.sample[np.isin(ann.symbol, list(BEATS))]
    x, fs = rec.d_signal[:, 0], float(rec.fs)
    out = []
    for i in np.flatnonzero(np.diff(beats) >= PAUSE_S * fs):
        lo, hi = beats[i] + round(CLEAR_S * fs), beats[i + 1] - round(CLEAR_S * fs)
        out.append(
            {
                "record": base.name,
                "at_s": round(beats[i] / fs, 2),
                "rr_s": round((beats[i + 1] - beats[i]) / fs, 3),
                "longest_run_s": round(longest_run(x[lo:hi]) / fs, 4),
            }
        )
    return out


def main() -> None:
    import json

    from heartzoo.io import append_json_line
    from heartzoo.paths import data_dir
    from heartzoo.recording.pauses import FLAT_S

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    pauses: dict[str, list[dict]] = {}
    for db in DATABASES:
        heads = sorted((data_dir() / db).rglob("*.hea"))
        pauses[db] = [
            p for h in heads if h.with_suffix(".atr").exists() for p in record_pauses(h.with_suffix(""))
        ]
    every = [p for rows in pauses.values() for p in rows]
    longest = max(every, key=lambda p: p["longest_run_s"])
    row = {
        "study": "pause_flat",
        "pauses": {db: len(rows) for db, rows in pauses.items()},
        "longest_run_s": longest["longest_run_s"],
        "longest_at": longest,
        "flat_s": FLAT_S,
        "rule_met": longest["longest_run_s"] <= FLAT_S / 10,
    }
    print(json.dumps(row))
    append_json_line(args.record, row)


if __name__ == "__main__":
    main()
