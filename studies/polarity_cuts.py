"""Does a recording's polarity depend on where the file was cut? (the third round of studies/polarity.py)

A review cut one wearable lead at 120, 300, 600 and 1200 s and saw the "beats point down" warning come
and go. The detector moves its beats onto the R wave with WFDB's `correct_peaks`, which chooses one
direction, up or down, for every beat of a call: on a lead whose complexes swing about as far each way
that choice flips with the cut, and the measure of the first two rounds (the lead at the corrected peak,
against its median within 0.3 s: measure A) follows it. The first round's finding, that a recording's
beats point all up or all down, is then partly this one choice.

Measure B reads each beat's own complex: it points down where the lead's largest swing below its median
(within 0.3 s) is deeper than its largest swing above it, within `QRS_HALF_S` (60 ms) of the detected peak,
whichever way the peak was moved.

Data: development records only, MIT-BIH DS1 (MLII, as the beat models read it) and svdb (its lead 0),
the default detector's beats; each
record whole and its first 120, 300, 600 and 1200 s; DS1 also at its reference beats.

The rule, written before it ran: B replaces A in the warning if (1) on no record does B's decision (a share
of at least `DOWN_SHARE` pointing down) differ between the cuts and the whole, and (2) on DS1 at the
reference beats, B warns on exactly the records A warns on. Otherwise A stays, and the flips are said.

Result (results/polarity_cuts.jsonl, 22 DS1 and 78 svdb records): B's decision flips between cuts on 3
records (mitdb 108, svdb 861, 879), A's on 3 (mitdb 108, svdb 850, 860); at DS1's reference beats both
warn on 207 alone. A stays. B's share is between 0.2 and 0.8 on 11 records, A's on none: the first
round's two humps are the one direction `correct_peaks` chooses for a lead.

Run: `python studies/polarity_cuts.py [--record results/polarity_cuts.jsonl]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

CUTS_S = (120, 300, 600, 1200)


def measure_a(x: np.ndarray, fs: float, peaks: np.ndarray) -> float | None:
    """The share of `peaks` where the lead is below its median within 0.3 s (the first two rounds')."""
    h = round(0.3 * fs)
    signs = [x[p] < np.median(x[max(0, p - h) : p + h + 1]) for p in peaks]
    return float(np.mean(signs)) if signs else None


def measure_b(x: np.ndarray, fs: float, peaks: np.ndarray) -> float | None:
    """The share of `peaks` whose deepest swing below the median (within 0.3 s) is larger than the highest
    above it, within 60 ms of the peak."""
    h, q = round(0.3 * fs), max(1, round(0.06 * fs))
    signs = []
    for p in peaks:
        med = np.median(x[max(0, p - h) : p + h + 1])
        w = x[max(0, p - q) : p + q + 1]
        signs.append(med - w.min() > w.max() - med)
    return float(np.mean(signs)) if signs else None


def main() -> None:
    import wfdb

    from heartzoo import paths
    from heartzoo.data.mitbih import DS1, read_signal
    from heartzoo.detect import detect
    from heartzoo.io import append_json_line
    from heartzoo.preprocess.plausibility import DOWN_SHARE

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", type=Path, default=None, help="append the result as one JSON line")
    args = ap.parse_args()
    root = paths.data_dir()
    svdb = sorted(p.stem for p in (root / "svdb").glob("*.hea"))
    records = [("mitdb", r) for r in DS1] + [("svdb", r) for r in svdb]
    rows, flips = [], {"A": [], "B": []}
    reference = {"A": [], "B": []}
    for db, r in records:
        base = str(root / db / r)
        if db == "mitdb":  # MLII, which is not lead 0 of every record (114)
            sig = read_signal(root / db, r)
            x, fs = np.asarray(sig.values, np.float64), float(sig.fs)
        else:
            rec = wfdb.rdrecord(base, channels=[0])
            x, fs = np.nan_to_num(rec.p_signal[:, 0]).astype(np.float64), float(rec.fs)
        row = {"database": db, "record": r}
        for name, fn in (("A", measure_a), ("B", measure_b)):
            shares = {}
            for cut in (*CUTS_S, None):
                y = x if cut is None else x[: round(cut * fs)]
                shares["whole" if cut is None else f"{cut}s"] = round(fn(y, fs, detect(y, fs)), 3)
            row[name] = shares
            decisions = {s >= DOWN_SHARE for s in shares.values()}
            if len(decisions) > 1:
                flips[name].append(f"{db}/{r}")
        if db == "mitdb":
            beats = wfdb.rdann(base, "atr")
            at = beats.sample[np.isin(beats.symbol, list("NLRejAaJSVFEf/Q"))]
            for name, fn in (("A", measure_a), ("B", measure_b)):
                share = fn(x, fs, at)
                row[f"{name}_reference_beats"] = round(share, 3)
                if share >= DOWN_SHARE:
                    reference[name].append(r)
        rows.append(row)
        print(db, r, row["A"]["whole"], row["B"]["whole"], flush=True)
    adopted = not flips["B"] and reference["A"] == reference["B"]
    result = {
        "study": "polarity_cuts",
        "records": len(rows),
        "decision_flips_between_cuts": flips,
        "ds1_warned_at_reference_beats": reference,
        "adopted_b": adopted,
        "rows": rows,
    }
    print("flips A:", flips["A"], "B:", flips["B"])
    print("DS1 warned at the reference beats, A:", reference["A"], "B:", reference["B"])
    print("B adopted" if adopted else "A stays")
    if args.record:
        append_json_line(args.record, result)


if __name__ == "__main__":
    main()
