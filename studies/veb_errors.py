"""Where a beat model misses the ventricular beats of an Icentia11k patch segment (issue 46's VEB bar on
p01001_s00), a diagnosis that chooses nothing: the segment is an external test. On the reference R peaks
(so the detector is out of it), the int8 model's class of each reference V beat (and, apart, how many of
them the default detector finds in windows the quality gate reads); of those it misses, the
class it gives, the labels of their neighbours, their RR intervals beside those of the V beats it finds,
and how many it misses in each 5 minutes of the segment, beside the median size (peak to peak within 200 ms)
of its N and V beats there.

Run: `python studies/veb_errors.py [--models beat-3-cnn3-student@v6 ...] [--segment p01001_s00]
[--record FILE]`; one JSON line per model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def veb_errors(ref: str, segment: str, data_dir: Path) -> dict:
    from heartzoo.data.databases import get_database
    from heartzoo.zoo.hub import predict, resolve_model

    db = get_database("icentia11k")
    folder = db.folder(data_dir)
    sig = db.read_signal(folder, segment, "ecg")
    beats = db.read_beats(folder, segment)
    labels = np.asarray(beats.symbols)
    loaded = resolve_model(ref)
    calls = np.asarray(loaded.class_names)[predict(loaded, sig.values, sig.fs, beats.samples).argmax(axis=1)]
    v = labels == "V"
    missed, found = v & (calls != "V"), v & (calls == "V")
    # what the default path would have lost before the model: V beats the detector misses (150 ms) or
    # whose window the quality gate calls unreadable
    from heartzoo.data.quality_windows import MATCH_S, near
    from heartzoo.detect import detect
    from heartzoo.recording.quality import sqi_windows

    peaks = detect(sig.values, sig.fs)
    detected = near(beats.samples, peaks, MATCH_S * sig.fs)
    readable = sqi_windows(sig.values, sig.fs, peaks).of(beats.samples)
    rr = np.diff(beats.samples) / sig.fs
    before, after = np.r_[np.nan, rr], np.r_[rr, np.nan]
    minute = beats.samples / sig.fs / 60.0
    bins = np.arange(0.0, minute[-1] + 5.0, 5.0)
    # each beat's size: peak to peak within 200 ms of its R peak (mV)
    h = round(0.2 * sig.fs)
    inside = (beats.samples >= h) & (beats.samples < len(sig.values) - h)
    ptp = np.full(len(labels), np.nan)
    ptp[inside] = np.ptp(
        np.lib.stride_tricks.sliding_window_view(sig.values, 2 * h)[beats.samples[inside] - h], axis=1
    )
    which = np.digitize(minute, bins) - 1

    def median_ptp(label: str) -> list[float | None]:
        out = []
        for k in range(len(bins) - 1):
            here = ptp[(labels == label) & (which == k)]
            out.append(round(float(np.nanmedian(here)), 3) if len(here) else None)
        return out

    def counts(x: np.ndarray) -> dict[str, int]:
        return {str(k): int(n) for k, n in zip(*np.unique(x, return_counts=True), strict=True)}

    return {
        "study": "veb_errors",
        "model": ref,
        "segment": segment,
        "runtime": "int8, reference R peaks",
        "v_beats": int(v.sum()),
        "v_detected_and_readable": int((v & detected & readable).sum()),
        "v_called": counts(calls[v]),
        "missed_previous_label": counts(np.concatenate([[""], labels[:-1]])[missed]),
        "missed_next_label": counts(np.concatenate([labels[1:], [""]])[missed]),
        "rr_before_s": {
            "missed": float(np.nanmedian(before[missed])),
            "found": float(np.nanmedian(before[found])),
        },
        "rr_after_s": {
            "missed": float(np.nanmedian(after[missed])),
            "found": float(np.nanmedian(after[found])),
        },
        "per_5_min": {
            "start_min": bins[:-1].tolist(),
            "v_beats": np.histogram(minute[v], bins)[0].tolist(),
            "missed": np.histogram(minute[missed], bins)[0].tolist(),
            "median_ptp_mv": {"N": median_ptp("N"), "V": median_ptp("V")},
        },
    }


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["beat-3-cnn3-student@v6"])
    ap.add_argument("--segment", default="p01001_s00")
    ap.add_argument("--data-dir", help="folder holding icentia11k_sample/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    for ref in args.models:
        line = veb_errors(ref, args.segment, paths.data_dir(args.data_dir))
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
