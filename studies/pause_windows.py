"""What the template index's pause rule finds: a diagnosis, choosing nothing.

The template index (`heartzoo.recording.quality.window_sqi`, Orphanidou et al. 2015) calls a window
unreadable when its longest RR interval, or the stretch from its edge to its first or last beat, is 3 s or
more, however well its beats match their template. `annotate` classifies no beat there and restarts the
rhythm after it. Where that stretch is a real sinus pause the interval is a heart's, and the beats around
it could be read; where the detector missed beats in it (a lead saturated, a run of small beats), the
window is rightly unreadable. docs/recordings.md left the question to the development side.

For every window the index calls unreadable *only* for that rule (mean correlation >= `MIN_CORRELATION`,
rate within `MIN_BPM`-`MAX_BPM`), this counts the reference beats lying in the longest beat-free stretch,
more than 0.15 s from the detections that bound it (EC57's window is 0.15 s): none means a real pause, any
means beats the detector missed. Beside it, how quiet the stretch is: the largest 5-15 Hz amplitude
inside it (from 0.25 s after the detection before it to 0.25 s before the one after) over the median of
the same at the window's detections, as a clause telling pauses from missed beats would read it. The
training side (mitdb DS1, svdb) is what an answer may rest on; DS2 is
read after and reported.

Run: `python studies/pause_windows.py [--record results/pause_windows.jsonl]`; one JSON line per set.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

#: EC57's matching window: a reference beat this close to a detection is that detection's
MATCH_S = 0.15
#: the QRS band, and how far from a detection its own QRS and T wave are left out of the stretch
BAND_HZ = (5.0, 15.0)
CLEAR_S = 0.25


def pause_windows(x: np.ndarray, fs: float, reference: np.ndarray) -> list[dict]:
    """The windows of one lead unreadable only for their longest beat-free stretch, each with the
    reference beats inside that stretch."""
    from scipy.signal import butter, sosfiltfilt

    from heartzoo.detect import detect
    from heartzoo.recording import quality as q

    peaks = detect(x, fs)
    w = q.sqi_windows(x, fs, peaks)
    out = []
    for s, e, ok, sqi in zip(w.starts.tolist(), w.ends.tolist(), w.readable, w.sqi, strict=True):
        lo, hi = np.searchsorted(peaks, [s, e])
        inside = peaks[lo:hi]
        if ok or len(inside) < 2 or sqi < q.MIN_CORRELATION:
            continue
        if not q.MIN_BPM <= 60.0 * len(inside) / ((e - s) / fs) <= q.MAX_BPM:
            continue
        bounds = np.r_[s, inside, e - 1]
        i = int(np.diff(bounds).argmax())
        a, z = int(bounds[i]), int(bounds[i + 1])
        missed = reference[(reference > a + MATCH_S * fs) & (reference < z - MATCH_S * fs)]
        band = np.abs(
            sosfiltfilt(butter(2, BAND_HZ, btype="band", fs=fs, output="sos"), x[s:e].astype(float))
        )
        k = round(0.03 * fs)  # a detection's own peak in the band lies within 30 ms of it
        qrs = np.median([band[max(0, p - s - k) : p - s + k + 1].max() for p in inside])
        quiet = band[a - s + round(CLEAR_S * fs) : z - s - round(CLEAR_S * fs)]
        out.append(
            {
                "start_s": round(s / fs, 1),
                "stretch_s": round((z - a) / fs, 2),
                "missed": len(missed),
                "band_ratio": round(float(quiet.max() / qrs), 3) if len(quiet) and qrs > 0 else None,
            }
        )
    return out


def main() -> None:
    from heartzoo.data import svdb
    from heartzoo.data.mitbih import DATABASE, DS1, DS2
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    sets = (
        ("DS1", DATABASE, DS1),
        ("svdb", svdb.DATABASE, svdb.RECORDS),
        ("DS2 (read after)", DATABASE, DS2),
    )
    for name, db, records in sets:
        folder = db.folder(None)
        windows, per_record = 0, {}
        for r in records:
            sig = db.read_signal(folder, r, "MLII")
            found = pause_windows(sig.values, sig.fs, db.read_beats(folder, r).samples)
            windows += len(sig.values) // round(10 * sig.fs)
            if found:
                per_record[r] = found
        every = [w for found in per_record.values() for w in found]
        line = {
            "study": "pause_windows",
            "set": name,
            "records": len(records),
            "windows_about": windows,
            "pause_only_unreadable": len(every),
            "with_missed_beats": sum(w["missed"] > 0 for w in every),
            "real_pauses": sum(w["missed"] == 0 for w in every),
            "per_record": per_record,
        }
        print(json.dumps(line), flush=True)
        if args.record:
            append_json_line(args.record, line)


if __name__ == "__main__":
    main()
