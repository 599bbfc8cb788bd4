"""Ventricular tachycardia from the beat labels (`heartzoo.recording.ventricular_runs`): how the runs that
`heartzoo annotate` reports compare with MIT-BIH's reference, and how often it reports one where there
should be none. Nothing is chosen here: the definition (3 or more consecutive V beats above 100 bpm) is
the guidelines', and the models are the zoo's recommended ones.

- MIT-BIH, the 44 non-paced records from their first sample, through the user's path (default detector,
  quality gate, int8): the reference VT runs are the runs of 3 or more reference V beats above 100 bpm
  (the same function on the reference labels); a reference run is found if a reported VT run overlaps
  it, and a reported run is true if it overlaps a reference run or an episode annotated `(VT`. Also the
  `(VT` episodes found, and false VT runs per hour.
- CinC 2017's test split, its AF and normal-rhythm records (AliveCor, 300 Hz): VT runs reported per hour,
  a proxy for false alarms (VT in a 30 s strip labelled N or A is rare).

Run: `python studies/vt_runs.py [--models NAME@VERSION,...] [--record FILE]`; one JSON line per model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int, slack: int) -> bool:
    return a_start <= b_end + slack and b_start <= a_end + slack


def mitdb(loaded, data_dir, scans: dict | None = None) -> dict:
    from heartzoo.data.databases import get_database
    from heartzoo.data.mitbih import default_records
    from heartzoo.recording.annotation import label_beats
    from heartzoo.recording.external import scanned
    from heartzoo.recording.ventricular_runs import ventricular_runs
    from heartzoo.tasks import AAMI_CLASSES

    db = get_database("mitdb")
    folder = db.folder(data_dir)
    v = AAMI_CLASSES.index("V")
    ref_runs = found_ref = reported = true = episodes = episodes_found = 0
    hours = 0.0
    per_record = {}
    for record in default_records(exclude_paced=True):
        sig = db.read_signal(folder, record, loaded.firmware.lead)
        beats = db.read_beats(folder, record)
        slack = round(0.15 * sig.fs)
        ref = [r for r in ventricular_runs(beats.samples, beats.aami == v, sig.fs) if r.tachycardia]
        rhythm = db.read_rhythms(folder, record)
        vt_eps = [
            (int(s), int(e))
            for s, e, lab in zip(rhythm.start, rhythm.end, rhythm.label, strict=True)
            if lab == "VT"
        ]
        got = label_beats(scanned(scans, ("mitdb", record), sig), loaded, record=record)
        mine = [r for r in got.ventricular_runs if r.tachycardia]
        hit_ref = [any(overlaps(r.start, r.end, m.start, m.end, slack) for m in mine) for r in ref]
        ok = [
            any(overlaps(m.start, m.end, r.start, r.end, slack) for r in ref)
            or any(overlaps(m.start, m.end, s, e, slack) for s, e in vt_eps)
            for m in mine
        ]
        ep_hit = [any(overlaps(s, e, m.start, m.end, slack) for m in mine) for s, e in vt_eps]
        ref_runs, found_ref = ref_runs + len(ref), found_ref + sum(hit_ref)
        reported, true = reported + len(mine), true + sum(ok)
        episodes, episodes_found = episodes + len(vt_eps), episodes_found + sum(ep_hit)
        hours += len(sig.values) / sig.fs / 3600
        if ref or mine or vt_eps:
            per_record[record] = {
                "reference_runs": len(ref),
                "found": int(sum(hit_ref)),
                "reported": len(mine),
                "false": len(mine) - int(sum(ok)),
                "vt_episodes": len(vt_eps),
            }
    return {
        "records": len(default_records(exclude_paced=True)),
        "hours": round(hours, 2),
        "reference_vt_runs": ref_runs,
        "run_se": found_ref / max(1, ref_runs),
        "reported_vt_runs": reported,
        "run_pp": true / max(1, reported),
        "false_per_hour": (reported - true) / hours,
        "vt_episodes": episodes,
        "vt_episodes_found": episodes_found,
        "per_record": per_record,
    }


def cinc2017(loaded, data_dir, scans: dict | None = None) -> dict:
    from heartzoo.data.databases import get_database
    from heartzoo.recording.annotation import label_beats
    from heartzoo.recording.external import scanned

    db = get_database("cinc2017")
    folder, labels = db.folder(data_dir), db.labels(data_dir)
    out = {}
    for label in ("A", "N"):
        runs = records_with = 0
        hours = 0.0
        for record in (r for r in db.splits["test"] if labels.get(r) == label):
            sig = db.read_signal(folder, record, loaded.firmware.lead)
            got = label_beats(scanned(scans, ("cinc2017", record), sig), loaded, record=record)
            n = sum(r.tachycardia for r in got.ventricular_runs)
            runs, records_with = runs + n, records_with + int(n > 0)
            hours += len(sig.values) / sig.fs / 3600
        out[label] = {"vt_runs": runs, "records_with_vt": records_with, "per_hour": runs / hours}
    return out


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line
    from heartzoo.meta import check_ref
    from heartzoo.site.pages import recommended_refs
    from heartzoo.tasks import VENTRICULAR_RUN_BEATS, VT_BPM
    from heartzoo.zoo.hub import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="comma-separated NAME@VERSION [default: the recommended beat-3, aami-5]")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--data-dir", help="folder holding mitdb/ and cinc2017/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    refs = args.models.split(",") if args.models else None
    if refs is None:
        rec = recommended_refs(json.loads((args.zoo / "index.json").read_text()), args.zoo)
        refs = [rec[t] for t in ("beat-3", "aami-5")]
    scans: dict = {}  # each recording's detection and gate, made once for every model
    for ref in refs:
        t0 = time.perf_counter()
        loaded = load_model(*check_ref(ref), format="tflite", zoo=args.zoo)
        line = {
            "study": "vt_runs",
            "model": ref,
            "definition": f"{VENTRICULAR_RUN_BEATS} or more consecutive beats called V above {VT_BPM} bpm",
            "mitdb": mitdb(loaded, data_dir, scans),
            "cinc2017": cinc2017(loaded, data_dir, scans),
        }
        line["seconds"] = round(time.perf_counter() - t0, 1)
        m, c = line["mitdb"], line["cinc2017"]
        print(
            f"{ref}: MIT-BIH VT runs Se {100 * m['run_se']:.1f} % ({m['reference_vt_runs']} reference), "
            f"+P {100 * m['run_pp']:.1f} % ({m['reported_vt_runs']} reported), "
            f"{m['false_per_hour']:.2f} false per hour, (VT episodes {m['vt_episodes_found']} of "
            f"{m['vt_episodes']}); CinC VT runs per hour: AF {c['A']['per_hour']:.2f}, "
            f"normal {c['N']['per_hour']:.2f}; {line['seconds']} s",
            flush=True,
        )
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
