"""What restarting the rhythm after lost signal does to the beats that are classified (a check of a fix).

A user's review found that after a lead-off (40 s of a lead flat at 0) `heartzoo annotate` called the next
normal beats S: the 40 s interval across the lost stretch was one of the ten in the mean the beat's RR
ratios divide by, so every beat after it looked premature. `label_beats` now restarts the RR features and
the running template after every unreadable stretch and every missing one it does not read through
(`missing.restarts`), as firmware restarted after a lead-off reads them. A fix, not a lever: nothing is
chosen by this study. It measures, on the training side only (MIT-BIH DS1's 22 records, never DS2), what the
restart does where nothing was lost but the gate found windows unreadable: `heartzoo.recording.end_to_end`'s
gated run (default detector and gate, int8) of the recommended beat-3 and aami-5 students, on clean DS1 and
with NSTDB `em` (channel 0) at 6 and 0 dB, macro-F1 and each class's F1 over the kept beats, from EC57's
5-minute start. Run once with the code before the fix (a worktree of that commit on PYTHONPATH, `--code
before`) and once after.

Run: `python studies/rr_restart.py --code before|after [--record FILE]`; a JSON line per model and noise.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

MODELS = ("beat-3-cnn3-student@v6", "aami-5-cnn3-student@v3")
NOISE = (None, ("em", 6.0), ("em", 0.0))
REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from heartzoo.data.mitbih import DS1
    from heartzoo.io import append_json_line
    from heartzoo.recording.end_to_end import end_to_end
    from heartzoo.version import git_commit

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--code", choices=("before", "after"), required=True, help="which code runs (for the record)"
    )
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    commit = git_commit()  # the code this process imported, whatever the checkout does meanwhile
    for model in MODELS:
        for noise in NOISE:
            t0 = time.perf_counter()
            gated = end_to_end(model, DS1, zoo=args.zoo, noise=noise)["gated"]
            row = {
                "study": "rr_restart",
                "code": args.code,
                "commit": commit,
                "model": model,
                "records": "DS1",
                "noise": None if noise is None else {"kind": noise[0], "snr_db": noise[1], "channel": 0},
                "beats_kept": gated["beats_kept"],
                "macro_f1_kept": gated["classes"]["macro_f1"],
                "f1_kept": {c: v["f1"] for c, v in gated["classes"]["per_class"].items()},
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(row, flush=True)
            if args.record:
                append_json_line(args.record, row)


if __name__ == "__main__":
    main()
