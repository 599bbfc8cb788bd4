"""A lead in the wrong unit (issue 45, "never silent nonsense"): a CSV or .npy carries no unit, and a device's
export in µV (a Polar strap's, a Movesense's) or in V, given to `heartzoo annotate`, is read as mV. Detection
and the template gate hardly notice, but the models z-score each frame with an eps of 0.001 (mV): a lead in
V (QRS complexes of about 0.001) reaches them flattened, and every size `annotate` reports is off by a
thousand. The QRS complexes of any ECG are about 0.3-5 mV from peak to peak.

The measure (`heartzoo.recording.quality.qrs_amplitude_mv`): the median, over the beats of readable
windows (annotate's default detector and gate), of the lead's peak-to-peak within 60 ms of each R peak.

The rule, written before any run: over the training side, DS1's 22 records (mitdb, MLII) and svdb's 78
(128 Hz), the sizes' 0.5th and 99.5th percentiles, the lower divided and the upper multiplied by 5 (a unit
error is a factor of 1000, and other devices and leads than the training side's are smaller or larger:
AliveCor's lead I from the fingers, a patch's short lead), are the plausible range; a recording outside it
gets a warning that its unit may not be mV. Nothing else is chosen. Then reported, never chosen on: the
share warned at the true unit on DS2, the Icentia11k segments, CinC 2017's test split and aftdb (false
warnings), and on DS1 + svdb in µV and in V (the warnings a wrong unit should get).

Result (results/amplitude_check.jsonl): the training side's sizes run from 0.42 to 4.52 mV (median 2.24),
so the plausible range is 0.086-22.5 mV. Every one of the 100 training recordings is warned read in µV and
read in V; none at its true unit on the training side, DS2, the Icentia11k segments, aftdb, or the 1,665
CinC 2017 test recordings with readable beats (1,659 before the detector's extra-beat clause) (the smallest, 0.089 mV, lies just inside: AliveCor's lead
I from the fingers is the smallest ECG here).

A second measure, added with annotate's fallback and run after it: where the gate reads nothing (gqrs
lost in a lead in µV: 100 % unreadable), annotate measures the size of every detection instead.
`--ungated` reports it on the recordings the first measure left out, CinC 2017's test recordings with
detections but none readable: how many of them it warns at their true unit (false warnings).

Run: `python studies/amplitude_check.py [--record FILE]`; `python studies/amplitude_check.py --ungated
[--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

#: the units a lead in mV is misread in, as the factor its values are multiplied by
MISREAD = {"uV": 1e3, "V": 1e-3}


def size(x: np.ndarray, fs: float) -> float | None:
    from heartzoo.detect import detect
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.quality import gate_windows, qrs_amplitude_mv

    try:
        peaks = detect(x, fs)
    except HeartzooError:
        return None
    return qrs_amplitude_mv(x, fs, peaks[gate_windows(x, fs, peaks).of(peaks)])


def aftdb(data_dir=None):
    """(name, lead 0 in mV, rate) of each aftdb record."""
    import os

    import wfdb

    folder = Path(data_dir or os.environ.get("HEARTZOO_DATA_DIR", "../shared/data")) / "aftdb"
    for hea in sorted(folder.rglob("*.hea")):
        rec = wfdb.rdrecord(str(hea.with_suffix("")), channels=[0])
        yield hea.stem, rec.p_signal[:, 0].astype(np.float32), float(rec.fs)


def main() -> None:
    from fs_check import leads, spread, warned  # a sibling script: studies/ is on sys.path

    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON line to this file")
    ap.add_argument("--ungated", action="store_true", help="the fallback: every detection, none readable")
    args = ap.parse_args()
    if args.ungated:
        return ungated(args, leads)
    train: dict[str, list] = {"ds1": [], "svdb": []}
    misread: dict[str, list] = {u: [] for u in MISREAD}
    for corpus in train:
        for _, x, fs in leads(corpus):
            train[corpus].append(size(x, fs))
            for unit, k in MISREAD.items():
                misread[unit].append(size(np.asarray(x, np.float64) * k, fs))
    sizes = np.array([a for v in train.values() for a in v if a is not None])
    lo, hi = np.percentile(sizes, 0.5) / 5, np.percentile(sizes, 99.5) * 5
    true_unit = {c: [size(x, fs) for _, x, fs in leads(c)] for c in ("ds2", "icentia11k", "cinc2017")}
    true_unit["aftdb"] = [size(x, fs) for _, x, fs in aftdb()]
    line = {
        "study": "amplitude_check",
        "plausible_mv": [round(lo, 4), round(hi, 2)],
        "training_side": {c: warned(v, lo, hi) for c, v in train.items()},
        "training_sizes_mv": spread(sizes),
        "misread": {u: warned(v, lo, hi) for u, v in misread.items()},
        "true_unit": {c: warned(v, lo, hi) for c, v in true_unit.items()},
        "true_unit_sizes_mv": {
            c: [
                float(np.min([a for a in v if a is not None])),
                float(np.max([a for a in v if a is not None])),
            ]
            for c, v in true_unit.items()
        },
    }
    print(json.dumps(line, indent=1), flush=True)
    append_json_line(args.record, line)


def ungated(args, leads) -> None:
    """The fallback's false warnings: CinC 2017's test recordings with detections but none readable."""
    from heartzoo.detect import detect
    from heartzoo.errors import HeartzooError
    from heartzoo.io import append_json_line
    from heartzoo.preprocess.plausibility import QRS_AMPLITUDE_MV
    from heartzoo.recording.quality import gate_windows, qrs_amplitude_mv

    lo, hi = QRS_AMPLITUDE_MV
    sizes = {}
    for name, x, fs in leads("cinc2017"):
        try:
            peaks = detect(x, fs)
        except HeartzooError:
            continue
        if len(peaks) and not gate_windows(x, fs, peaks).of(peaks).any():
            sizes[name] = qrs_amplitude_mv(x, fs, peaks)
    line = {
        "study": "amplitude_check",
        "round": "ungated",
        "plausible_mv": [lo, hi],
        "none_readable": len(sizes),
        "warned": sorted(r for r, v in sizes.items() if v is not None and not lo <= v <= hi),
    }
    print(json.dumps(line), flush=True)
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
