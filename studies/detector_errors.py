"""Where the default detector errs on the Icentia11k segments, by EC57's own pairing: a diagnosis of
issue 45's last detector bar (each segment >= 99.0 % Se and +P), choosing nothing. The segments are
external tests: read here, never tuned on.

For every false detection and every missed beat (`heartzoo.evaluation.ec57.match`'s unpaired sides, from
each segment's first sample, as studies/detector.py scores them):
- the reference beat before it and its label: Icentia11k's annotators label `Q` a beat they could not
  classify, mostly in noise, so a false detection after a `Q` lies where the annotators saw noise too;
- how far it lies from the nearest reference beat;
- the signal's noise around it: the RMS of the lead above 20 Hz within 0.5 s either side, against the
  median of the same around every detection (muscle noise and electrode motion are broadband; a QRS has
  little energy above 20 Hz).

Run: `python studies/detector_errors.py [--record results/detector_errors.jsonl]`; one JSON line per
segment.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

HIGH_HZ = 20.0
AROUND_S = 0.5


def around(hp: np.ndarray, samples: np.ndarray, fs: float) -> np.ndarray:
    """The RMS of `hp` within `AROUND_S` of each sample."""
    k = round(AROUND_S * fs)
    return np.array([np.sqrt(np.mean(hp[max(0, s - k) : s + k] ** 2)) for s in samples])


def segment(name: str, x: np.ndarray, fs: float, base: Path) -> dict:
    """The errors of the default detector on one segment (`detector.records`' items)."""
    from scipy.signal import butter, sosfiltfilt

    from heartzoo.detect import DEFAULT, detect
    from heartzoo.evaluation.ec57 import Annotations, compare, read_annotations

    x = np.asarray(x, np.float64)
    peaks = detect(x, fs, DEFAULT)
    ref = read_annotations(f"{base}.atr")
    result = compare(
        ref, Annotations.of(peaks, ["N"] * len(peaks), fs, record=name, length=ref.length), start_s=0
    )
    false = np.array([peaks[t] for r, t in result.pairs if r < 0 and t >= 0], np.int64)
    missed_i = np.array([r for r, t in result.pairs if t < 0 and r >= 0], np.int64)
    beats, labels = np.asarray(ref.samples), np.asarray(ref.labels)
    before = np.searchsorted(beats, false) - 1
    after_q = labels[before[before >= 0]] == "Q"
    nearest = np.min(np.abs(beats[None, :] - false[:, None]), axis=1) / fs if len(false) else np.zeros(0)
    hp = sosfiltfilt(butter(2, HIGH_HZ, btype="highpass", fs=fs, output="sos"), x)
    typical = float(np.median(around(hp, peaks, fs)))
    noise = around(hp, false, fs) / typical if len(false) else np.zeros(0)
    return {
        "study": "detector_errors",
        "record": name,
        "detector": DEFAULT,
        "reference_beats": len(beats),
        "reference_q": int((labels == "Q").sum()),
        "false": len(false),
        "false_after_q": int(after_q.sum()),
        "false_within_0_5_s_of_a_beat": int((nearest < 0.5).sum()),
        "false_nearest_beat_s_quartiles": np.round(np.percentile(nearest, [25, 50, 75]), 3).tolist()
        if len(false)
        else None,
        "false_noise_ratio_median": round(float(np.median(noise)), 2) if len(false) else None,
        "false_noise_ratio_above_3": int((noise > 3).sum()),
        "missed": len(missed_i),
        "missed_by_label": {
            str(k): int(v) for k, v in zip(*np.unique(labels[missed_i], return_counts=True), strict=True)
        },
        "high_hz": HIGH_HZ,
    }


def main() -> None:
    from detector import records

    from heartzoo.io import append_json_line
    from heartzoo.paths import data_dir

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    for name, x, fs, base, _ in records("icentia11k", data_dir()):
        line = segment(name, x, fs, base)
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
