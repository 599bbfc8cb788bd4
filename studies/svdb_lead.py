"""Which svdb lead stands for MIT-BIH's MLII, decided on training records only.

svdb's two leads are unnamed (`ECG1`, `ECG2`; PhysioNet: "usually approximately modified lead II and a
modified lead V2", attachments not consistent). For every svdb record and each lead, the median z-scored
normal beat (0.6 s at 100 Hz, through heartzoo's Preprocessor) is correlated with the median normal beat
of MIT-BIH MLII over DS1 (training records; DS2 is never read), at the best shift within ±50 ms. The lead with the higher correlation in
more records, and the higher median correlation, is the one `heartzoo.data.svdb` maps to MLII.

Run: `python studies/svdb_lead.py [--data-dir DIR] [--record results/svdb_lead.json]`.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from heartzoo.config import InputSpec
from heartzoo.data import mitbih, svdb
from heartzoo.data.records import read_signal
from heartzoo.preprocess import Preprocessor


def normal_template(values: np.ndarray, fs: float, beats, seconds: float = 0.6, at: int = 100) -> np.ndarray:
    """The median z-scored normal beat of one lead at `at` Hz, `seconds` long around the R peak."""
    normal = beats.samples[beats.aami == 0]
    frames = Preprocessor(InputSpec(fs=at, frame_size=int(seconds * at))).frames(values, fs, normal)
    return np.median(frames, axis=0)


MAX_LAG = 5  # samples at 100 Hz: svdb's beat marks sit up to ~50 ms from the R peak


def best_correlation(t: np.ndarray, reference: np.ndarray, max_lag: int = MAX_LAG) -> float:
    """The largest correlation of `t` with `reference` over shifts of up to `max_lag` samples (the two
    databases mark beats at slightly different points of the QRS; a sign flip is not forgiven)."""
    n = len(t)
    return max(
        float(np.corrcoef(t[max(0, k) : n + min(0, k)], reference[max(0, -k) : n + min(0, -k)])[0, 1])
        for k in range(-max_lag, max_lag + 1)
    )


def lead_agreement(data_dir=None, records=svdb.RECORDS) -> dict[str, dict[str, float]]:
    """Per svdb record, each lead's correlation with MIT-BIH MLII's median normal beat over DS1."""
    mit = mitbih.DATABASE.folder(data_dir)
    reference = np.median(
        [
            normal_template(
                mitbih.read_signal(mit, r).values, mitbih.SAMPLING_RATE, mitbih.read_beats(mit, r)
            )
            for r in mitbih.DS1
        ],
        axis=0,
    )
    folder = svdb.DATABASE.folder(data_dir)
    out: dict[str, dict[str, float]] = {}
    for r in records:
        beats = svdb.DATABASE.read_beats(folder, r)
        out[r] = {}
        for lead in ("ECG1", "ECG2"):
            sig = read_signal(folder, r, lead, expected_fs=svdb.DATABASE.fs)
            out[r][lead] = best_correlation(normal_template(sig.values, sig.fs, beats), reference)
    return out


def summary(agreement: dict[str, dict[str, float]]) -> dict:
    c1 = np.array([v["ECG1"] for v in agreement.values()])
    c2 = np.array([v["ECG2"] for v in agreement.values()])
    chosen = "ECG1" if (np.median(c1) > np.median(c2) and (c1 > c2).sum() > len(c1) / 2) else "ECG2"
    return {
        "records": len(c1),
        "median_corr": {"ECG1": round(float(np.median(c1)), 4), "ECG2": round(float(np.median(c2)), 4)},
        "records_where_higher": {"ECG1": int((c1 > c2).sum()), "ECG2": int((c2 > c1).sum())},
        "records_above_0.8": {"ECG1": int((c1 > 0.8).sum()), "ECG2": int((c2 > 0.8).sum())},
        "chosen": chosen,
        "mapped_in_heartzoo": svdb.DATABASE.leads["MLII"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--record", help="write the summary and per-record correlations to this JSON file")
    args = ap.parse_args()
    agreement = lead_agreement(args.data_dir)
    result = {**summary(agreement), "per_record": agreement}
    print(json.dumps({k: v for k, v in result.items() if k != "per_record"}))
    if args.record:
        with open(args.record, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
