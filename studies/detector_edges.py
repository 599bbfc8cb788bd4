"""What reading a lead's ends reflected changed in the default detector (a diagnosis, choosing nothing).

The extra-beat clause of `heartzoo.detect.pan_tompkins` judges a detection against the median of the 9
RR intervals around it. At a lead's two ends it first repeated the end interval, which made the two short
intervals around an extra beat there the median, so noise in a recording's first or last second stayed a
beat; it now reflects the intervals, as the detector's levels do. This counts, per corpus, the leads whose
detections differ between the two (`_pan_tompkins(..., extra_ends=...)` through `detect`'s whole path:
chunks, peak correction), and the detections each drops and keeps: every database here with ECG, and the
noisy corpora the other studies read (DS2 with NSTDB noise from channel 0, DS1 with channel 1's and 0's).

Run: `python studies/detector_edges.py [--corpora mitdb,svdb,...] [--record FILE]`; one JSON line per
corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CORPORA = (
    "mitdb",
    "svdb",
    "icentia11k",
    "aftdb",
    "cinc2017",
    *(f"ds2+{k}{db}" for k in ("em", "ma") for db in (24, 12, 6, 0)),
    *(f"ds1+{k}{db}/1" for k in ("em", "ma") for db in (12, 6)),
    "ds1+em6",
)


def leads(corpus: str, data_dir: Path):
    """(record, lead in mV, rate) of every record of `corpus`: as studies/detector.py reads its corpora
    (the lead standing for MLII); aftdb's first lead; CinC 2017's one; the noise from NSTDB's channel 1
    where the name ends in /1."""
    from detector import records

    from heartzoo.data.databases import get_database
    from heartzoo.data.records import read_signal

    if corpus == "aftdb":
        folder = data_dir / "aftdb"
        for r in (folder / "RECORDS").read_text().split():
            sig = read_signal(folder / Path(r).parent, Path(r).name, 0)
            yield r, sig.values, sig.fs
    elif corpus == "cinc2017":
        db = get_database("cinc2017")
        folder = db.folder(data_dir)
        for r in db.records:
            sig = db.read_signal(folder, r, "ECG")
            yield r, sig.values, sig.fs
    else:
        name, _, channel = corpus.partition("/")
        for r, x, fs, _, _ in records(name, data_dir, channel=int(channel or 0)):
            yield r, x, fs


def compare(corpus: str, data_dir: Path) -> dict:
    from heartzoo.detect import DETECTORS, EXTRA_BEAT, T_WAVE, _pan_tompkins, detect, register

    if "pan-tompkins-edge-ends" not in DETECTORS:
        register("pan-tompkins-edge-ends", "the default, its extra-beat median repeating the end intervals")(
            lambda x, fs: _pan_tompkins(x, fs, extra=EXTRA_BEAT, extra_ends="edge", **T_WAVE)
        )
    t0 = time.perf_counter()
    line = {"study": "detector_edges", "corpus": corpus, "leads": 0, "changed": 0, "dropped": 0, "kept": 0}
    where = []
    for r, x, fs in leads(corpus, data_dir):
        line["leads"] += 1
        now, before = detect(x, fs), detect(x, fs, "pan-tompkins-edge-ends")
        if len(now) == len(before) and (now == before).all():
            continue
        dropped, kept = np.setdiff1d(before, now), np.setdiff1d(now, before)
        line["changed"] += 1
        line["dropped"] += len(dropped)
        line["kept"] += len(kept)
        where.append(
            {
                "record": str(r),
                "seconds": round(len(x) / fs, 1),
                "dropped_s": [round(float(s) / fs, 2) for s in dropped],
                "kept_s": [round(float(s) / fs, 2) for s in kept],
            }
        )
    line["where"] = where[:50]
    line["seconds"] = round(time.perf_counter() - t0, 1)
    return line


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--data-dir", help="folder holding the databases [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    for corpus in args.corpora.split(","):
        line = compare(corpus, data_dir)
        print(
            f"{corpus}: {line['changed']} of {line['leads']} leads changed, {line['dropped']} detections "
            f"dropped, {line['kept']} kept ({line['seconds']} s)"
        )
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
