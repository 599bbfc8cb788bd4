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

Second round (`--gated`), written after `heartzoo annotate` warned "is the sampling rate right?" on
NSTDB's muscle-noise record (no ECG: 98 % of it unreadable, the width measured on the few noise peaks the
gate kept) and before any of this ran. `annotate` measures the width on the beats of readable windows
only. The candidate: no width check when less than half of the recording is readable (the unreadable
warning stands instead). Measured on the training side only, DS1 and svdb as above, through annotate's
path (default detector, default gate), at the true rate and at each misstated one, with and without the
clause; and on NSTDB's three noise records, each channel a recording. Rule: the clause is adopted if, at the
true rate, it warns no more recordings than annotate's path does now, and at each misstated rate it warns
at most one recording in a hundred fewer.

Second round, result (a first run before the record kept the readable shares, the same numbers): not
adopted. At the true rate neither warns; at 2.78 times the rate the clause warns 49 recordings against 61
(at 2 times, 36 against 37), many a misstated recording being mostly unreadable to the gate too. The two
muscle-noise channels are 1.7 % and 0.6 % readable, electrode motion 83 % and 34 % (84 % and 34 %
measured again with the detector as it now is).

Third round, written after the second and before it ran: the same rule with the clause at a tenth of the
recording readable (`--min-readable 0.1`): a recording nine tenths unreadable says nothing about its rate.
Result: not adopted either. At 2.78 times the rate the clause warns 58 recordings against 61 (three
misstated recordings are 5-9 % readable); it would clear both muscle-noise channels. Annotate keeps its
width check: on a recording as unreadable as NSTDB's muscle noise the warning of the rate stands beside the
warning that 98-99 % of it is unreadable.

Fourth round (`--product`), written before it ran, after the first round found that a rate given twice the
true one is warned 37 % of the time and half of it 3 % (4 % measured again with the detector as it now is). A QRS width and an RR interval, both read in ms at
the stated rate, both scale by the error, so their product scales by its square, while across real ECGs
they vary largely apart (a wide QRS comes at any rate). The measure: annotate's gated width times the
median RR interval between consecutive beats of readable windows (ms x ms), through annotate's path
(default detector, default gate). Candidates: `product`, its plausible range from DS1 and svdb at their
true rate (0.5th and 99.5th percentiles, divided and multiplied by 1.2 squared: the width's widening, for a
measure that moves twice as far), in place of the width's range; `either`, a warning where the width or
the product is outside its range. Rule: a candidate is adopted where, at the true rate, it warns no
recording of DS1 and svdb, and at most 0.5 % of CinC 2017's training-split recordings (those outside the
test split: another device, on the training side) more than the width's range does; and, over DS1 and
svdb read at the five misstated rates, it warns at least 20 recordings (of 500) more than the width's
range does. Of those adopted, the one warning more misstated recordings; at a tie, the one warning fewer
CinC training-split recordings at the true rate. Reported after, choosing nothing: DS2, the Icentia11k
segments and CinC 2017's test split at the true rate.

Fourth round, result: `either` adopted (annotate warns where the width or the product is outside its
range, `quality.QRS_RR_MS2`). Product range 5,452-99,415 ms x ms. At the true rate it warns no DS1 or svdb
recording, and 11 of CinC's 6,822 training-split recordings (the width alone 9); over the misstated rates
166 of 500 (the width alone 107; at 0.5 times 29 against 4, at 2 times 47 against 37, at 2.78 times 82
against 61). Read after: DS2 0, Icentia11k 0, CinC 2017's test split 3 (the width alone 2).

Run: `python studies/fs_check.py [--gated [--min-readable SHARE] | --product] [--record FILE]`.
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


def warned(values, lo: float, hi: float) -> dict:
    """How many of the recordings' measures (None: not measured) lie outside [lo, hi]."""
    values = [v for v in values if v is not None]
    out = sum(not (lo <= v <= hi) for v in values)
    return {"recordings": len(values), "warned": out, "share": out / max(1, len(values))}


def spread(values: np.ndarray) -> dict:
    return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}


def width(x: np.ndarray, fs: float) -> float | None:
    from heartzoo.detect import detect
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.quality import qrs_width_ms

    try:
        peaks = detect(x, fs)
    except HeartzooError:
        return None  # too short at this stated rate: no detection, nothing to warn of here
    return qrs_width_ms(x, fs, peaks)


def gated_width(x: np.ndarray, fs: float) -> tuple[float | None, float]:
    """Annotate's measure: the width over the beats of readable windows (default detector and gate), and
    the share of the recording readable."""
    from heartzoo.detect import detect
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.quality import gate_windows, qrs_width_ms

    try:
        peaks = detect(x, fs)
    except HeartzooError:
        return None, 0.0
    windows = gate_windows(x, fs, peaks)
    readable = float(np.sum((windows.ends - windows.starts)[windows.readable])) / len(x)
    return qrs_width_ms(x, fs, peaks[windows.of(peaks)]), readable


def gated(record, min_readable: float) -> None:
    """The second round (see the module's docstring)."""
    import wfdb

    from heartzoo.io import append_json_line
    from heartzoo.recording.quality import QRS_WIDTH_MS

    lo, hi = QRS_WIDTH_MS
    rates = {"1": {}, **{str(f): {} for f in FACTORS}}
    for corpus in ("ds1", "svdb"):
        for name, x, fs in leads(corpus):
            for f in rates:
                rates[f][f"{corpus}/{name}"] = gated_width(x, fs * float(f))
    noise = {}
    folder = Path(__import__("os").environ.get("HEARTZOO_DATA_DIR", REPO.parent / "shared" / "data"))
    for kind in ("em", "ma", "bw"):
        rec = wfdb.rdrecord(str(folder / "nstdb_noise" / kind))
        for ch in range(rec.n_sig):
            noise[f"{kind}/{ch}"] = gated_width(rec.p_signal[:, ch].astype(np.float32), float(rec.fs))

    def warned_by(results: dict, clause: bool) -> dict:
        out = [
            k
            for k, (w, share) in results.items()
            if w is not None and not lo <= w <= hi and not (clause and share < min_readable)
        ]
        return {"recordings": len(results), "warned": len(out), "which": sorted(out)[:20]}

    line = {
        "study": "fs_check",
        "round": "gated",
        "min_readable": min_readable,
        "plausible_ms": [lo, hi],
        # the readable share of each recording warned now, for the clause's threshold
        "warned_readable": {
            f: {k: round(v[1], 4) for k, v in r.items() if v[0] is not None and not lo <= v[0] <= hi}
            for f, r in rates.items()
        },
        "now": {f: warned_by(r, False) for f, r in rates.items()},
        "clause": {f: warned_by(r, True) for f, r in rates.items()},
        "noise": {
            "now": warned_by(noise, False),
            "clause": warned_by(noise, True),
            "readable": {k: round(v[1], 4) for k, v in noise.items()},
            "width_ms": {k: v[0] for k, v in noise.items()},
        },
    }
    now, cl = line["now"], line["clause"]
    line["adopted"] = cl["1"]["warned"] <= now["1"]["warned"] and all(
        now[f]["warned"] - cl[f]["warned"] <= 1 for f in rates if f != "1"
    )
    print(json.dumps(line, indent=1), flush=True)
    append_json_line(record, line)


def gated_measures(x: np.ndarray, fs: float) -> tuple[float | None, float | None]:
    """Annotate's gated width (ms) and the median RR interval between consecutive beats of readable
    windows (ms), at the stated rate `fs`; None where there are none."""
    from heartzoo.detect import detect
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.quality import gate_windows, qrs_width_ms

    try:
        peaks = detect(x, fs)
    except HeartzooError:
        return None, None
    ok = gate_windows(x, fs, peaks).of(peaks)
    both = ok[1:] & ok[:-1]
    rr = float(np.median(np.diff(peaks)[both]) / fs * 1000.0) if both.any() else None
    return qrs_width_ms(x, fs, peaks[ok]), rr


def product_round(record) -> None:
    """The fourth round (see the module's docstring)."""
    from heartzoo.data.cinc2017 import held_out_records
    from heartzoo.data.databases import get_database
    from heartzoo.io import append_json_line
    from heartzoo.recording.quality import QRS_WIDTH_MS

    lo_w, hi_w = QRS_WIDTH_MS
    train: dict[str, dict[str, tuple]] = {"1": {}, **{str(f): {} for f in FACTORS}}
    for corpus in ("ds1", "svdb"):
        for name, x, fs in leads(corpus):
            for f in train:
                train[f][f"{corpus}/{name}"] = gated_measures(x, fs * float(f))
    products = np.array([w * rr for w, rr in train["1"].values() if w is not None and rr is not None])
    lo_p, hi_p = np.percentile(products, 0.5) / 1.2**2, np.percentile(products, 99.5) * 1.2**2

    def flags(m: tuple) -> dict[str, bool]:
        w, rr = m
        width = w is not None and not lo_w <= w <= hi_w
        product = w is not None and rr is not None and not lo_p <= w * rr <= hi_p
        return {"width": width, "product": product, "either": width or product}

    def counts(measures: dict[str, tuple]) -> dict[str, int]:
        f = [flags(m) for m in measures.values()]
        return {k: sum(x[k] for x in f) for k in ("width", "product", "either")}

    cinc = get_database("cinc2017")
    folder, test = cinc.folder(None), set(held_out_records())
    cinc_train = {}
    for r in sorted(set(cinc.labels(None)) - test):
        sig = cinc.read_signal(folder, r, "ECG")
        cinc_train[r] = gated_measures(sig.values, float(sig.fs))
    true_rate = train["1"]
    misstated = {f: counts(train[f]) for f in train if f != "1"}
    cinc_counts = counts(cinc_train)
    total = {k: sum(m[k] for m in misstated.values()) for k in ("width", "product", "either")}
    adopted = [
        k
        for k in ("product", "either")
        if counts(true_rate)[k] == 0
        and cinc_counts[k] - cinc_counts["width"] <= 0.005 * len(cinc_train)
        and total[k] - total["width"] >= 20
    ]
    adopted.sort(key=lambda k: (-total[k], cinc_counts[k]))
    after = {
        c: counts({n: gated_measures(x, fs) for n, x, fs in leads(c)})
        for c in ("ds2", "icentia11k", "cinc2017")
    }
    line = {
        "study": "fs_check",
        "round": "product",
        "plausible_ms": [lo_w, hi_w],
        "plausible_product_ms2": [round(float(lo_p)), round(float(hi_p))],
        "training_side_true_rate": counts(true_rate),
        "training_records": len(true_rate),
        "cinc_training_split": {"recordings": len(cinc_train), **cinc_counts},
        "misstated": misstated,
        "misstated_total": total,
        "adopted": adopted[0] if adopted else None,
        "read_after_true_rate": after,
    }
    print(json.dumps(line, indent=1), flush=True)
    append_json_line(record, line)


def main() -> None:
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gated", action="store_true", help="the second round: annotate's gated measure")
    ap.add_argument("--min-readable", type=float, default=0.5, help="--gated: the clause's readable share")
    ap.add_argument(
        "--product", action="store_true", help="the fourth round: the width times the RR interval"
    )
    ap.add_argument("--record", type=Path, help="append the JSON line to this file")
    args = ap.parse_args()
    if args.gated:
        return gated(args.record, args.min_readable)
    if args.product:
        return product_round(args.record)
    train = {"ds1": [], "svdb": []}
    misstated: dict[float, list] = {f: [] for f in FACTORS}
    for corpus in train:
        for _, x, fs in leads(corpus):
            train[corpus].append(width(x, fs))
            for f in FACTORS:
                misstated[f].append(width(x, fs * f))
    widths = np.array([w for ws in train.values() for w in ws if w is not None])
    lo, hi = np.percentile(widths, 0.5) / 1.2, np.percentile(widths, 99.5) * 1.2
    line = {
        "study": "fs_check",
        "plausible_ms": [round(lo, 2), round(hi, 2)],
        "training_side": {c: warned(ws, lo, hi) for c, ws in train.items()},
        "training_widths_ms": spread(widths),
        "misstated": {str(f): warned(ws, lo, hi) for f, ws in misstated.items()},
        "true_rate": {
            c: warned([width(x, fs) for _, x, fs in leads(c)], lo, hi)
            for c in ("ds2", "icentia11k", "cinc2017")
        },
    }
    print(json.dumps(line, indent=1), flush=True)
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
