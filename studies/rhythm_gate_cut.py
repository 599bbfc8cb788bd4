"""How much rhythm `annotate --rhythm` leaves unread where the quality gate could not read the beats (a
measurement that chooses nothing).

A stretch the gate calls unreadable for a whole window of the rhythm model or more
(10 s for af-4; samples the file marks missing not counted, being cut as such) is too noisy (`~`) in
the rhythm episodes, as a missing stretch is: no rhythm is read, nor counted as read, where no beat could
be. On MIT-BIH's 44 non-paced records (MLII, whole, the default template gate): the seconds so cut, per
record, and in the records with AF (201, 202, 203, 210, 219, 221, 222).

Run: `python studies/rhythm_gate_cut.py [--record results/rhythm_gate_cut.jsonl]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

AF_RECORDS = ("201", "202", "203", "210", "219", "221", "222")
WINDOW_S = 10.0  # af-4's window


def main() -> None:
    from heartzoo.data.mitbih import ALL_RECORDS, PACED_RECORDS
    from heartzoo.paths import data_dir
    from heartzoo.recording.read import read_recording
    from heartzoo.recording.scan import scan

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    args = ap.parse_args()
    per_record, seconds = {}, 0.0
    for r in (r for r in ALL_RECORDS if r not in PACED_RECORDS):
        rec = read_recording(data_dir() / "mitdb" / r, "MLII")
        found = scan(rec.signal, rec.fs)
        cut = (
            sum(b - a for a, b in found.windows.unreadable_stretches() if b - a >= WINDOW_S * rec.fs) / rec.fs
        )
        seconds += len(rec.signal) / rec.fs
        per_record[r] = round(cut, 1)
    line = {
        "study": "rhythm_gate_cut",
        "records": len(per_record),
        "hours": round(seconds / 3600, 2),
        "cut_s": round(sum(per_record.values()), 1),
        "cut_s_af_records": round(sum(per_record[r] for r in AF_RECORDS), 1),
        "per_record": {r: s for r, s in per_record.items() if s},
    }
    print(json.dumps(line))
    if args.record:
        with args.record.open("a") as f:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
