"""A clipped lead (issue 45, "never silent nonsense"): a recorder whose range is smaller than the ECG it
records holds the lead flat at the range's end, where R peaks are cut: MIT-BIH's records sit at its ADC's
+-5.12 mV, a patch or a watch at its amplifier's rail. The beat models never saw a cut QRS, and
`heartzoo annotate` said nothing of it.

The measure (`heartzoo.recording.quality.measure_lead`'s `clipped_runs`): runs of at least 15 ms (and 3
samples) in which the lead sits at its largest or smallest value. An R peak is rounded: sampled at 128 to
360 Hz it stays at its top value for one or two samples, never for 15 ms, unless it was cut. `annotate`
warns from `CLIP_RUNS` = 3 such runs (a stray pair is an artefact's).

Disclosure: the 15 ms and the 3 were set after the counts below were looked at on every corpus here,
test sides included (a warning's threshold; no model is chosen by it). The counts themselves are what
this script records.

Run: `python studies/clipping_check.py [--record FILE]`: per corpus, the recordings measured, those with
at least one run, those warned (>= CLIP_RUNS), and the largest counts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cinc_training():
    """(name, lead, rate) of CinC 2017's training-split recordings (fs_check.leads gives the test split)."""
    from heartzoo.data.cinc2017 import DATABASE

    folder = DATABASE.folder()
    for r in DATABASE.splits["train"]:
        sig = DATABASE.read_signal(folder, r, "ECG")
        yield r, sig.values, float(sig.fs)


def main() -> None:
    from amplitude_check import aftdb  # sibling scripts: studies/ is on sys.path
    from fs_check import leads

    from heartzoo.io import append_json_line
    from heartzoo.recording.quality import CLIP_RUN_S, CLIP_RUNS, measure_lead

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON line to this file")
    args = ap.parse_args()
    corpora = {c: (lambda c=c: leads(c)) for c in ("ds1", "ds2", "svdb", "icentia11k")}
    corpora |= {"cinc2017-train": cinc_training, "cinc2017-test": lambda: leads("cinc2017"), "aftdb": aftdb}
    out = {}
    for corpus, read in corpora.items():
        runs = {}
        for name, x, fs in read():
            runs[name] = measure_lead(x, fs, []).clipped_runs
        top = sorted(runs.items(), key=lambda kv: -kv[1])[:5]
        out[corpus] = {
            "recordings": len(runs),
            "with_a_run": sum(v > 0 for v in runs.values()),
            "warned": sum(v >= CLIP_RUNS for v in runs.values()),
            "largest": {k: v for k, v in top if v},
        }
        print(corpus, json.dumps(out[corpus]), flush=True)
    line = {"study": "clipping_check", "run_s": CLIP_RUN_S, "warn_from_runs": CLIP_RUNS, "corpora": out}
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
