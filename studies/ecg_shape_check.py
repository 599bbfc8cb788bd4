"""A signal that is no ECG (issue 45, "never silent nonsense"): a photoplethysmogram from a watch's other
sensor, a test sine, given to `heartzoo annotate` as an ECG. The template gate reads any periodic wave as
readable (each "beat" matches the others), the QRS width cannot be measured on it (no peak near the
detections), and its beats are classified without a warning: 60 s of a 1.5 Hz sine at 360 Hz gave 180
beats, 87 of them V.

The measure (`heartzoo.recording.quality.lead_kurtosis`): the median over the lead's 10 s windows of the
kurtosis of the lead high-passed at 0.5 Hz. QRS complexes make an ECG peaky (kurtosis well above 3: the
kSQI of Li, Mark & Clifford, Physiol Meas 29:15, 2008); Gaussian noise is 3, a sine 1.5.

The rule, written before any run: the floor is 3, the kurtosis of Gaussian noise (a lead less peaky than
noise holds no QRS complexes), lowered to the training side's 0.5th percentile divided by 1.5 where that
is lower, so that no recording like the training side's comes near it. The training side: DS1's 22
records (mitdb, MLII) and svdb's 78 (128 Hz). A recording under the floor gets a warning that it may be
no ECG. Nothing else is chosen. Then reported, never chosen on: the share warned on DS2, the Icentia11k
segments, CinC 2017's test split (N, A and O, and apart its ~, too noisy to classify) and aftdb (false
warnings, but for ~), and on made-up signals that are no ECG, 60 s at 250 Hz each (the warnings it
should give): sines at 1, 1.5 and 2 Hz, a pulse train like a PPG (each beat a systolic Gaussian wave and
a dicrotic one of 0.4 its height) at 60, 75 and 100 per minute, and Gaussian noise.

Run: `python studies/ecg_shape_check.py [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

FS = 250.0
SECONDS = 60.0


def made_up() -> dict[str, np.ndarray]:
    """The signals that are no ECG, by name."""
    t = np.arange(round(SECONDS * FS)) / FS
    out = {f"sine {hz:g} Hz": 0.5 * np.sin(2 * np.pi * hz * t) for hz in (1.0, 1.5, 2.0)}
    for bpm in (60, 75, 100):
        phase = (t * bpm / 60.0) % 1.0 * 60.0 / bpm  # seconds since the beat's onset
        out[f"PPG {bpm}/min"] = np.exp(-(((phase - 0.2) / 0.08) ** 2) / 2) + 0.4 * np.exp(
            -(((phase - 0.45) / 0.1) ** 2) / 2
        )
    out["Gaussian noise"] = np.random.default_rng(0).normal(0.0, 0.2, len(t))
    return out


def main() -> None:
    from amplitude_check import aftdb  # sibling scripts: studies/ is on sys.path
    from fs_check import leads, spread

    from heartzoo.data.cinc2017 import DATABASE, read_labels
    from heartzoo.io import append_json_line
    from heartzoo.recording.quality import lead_kurtosis

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON line to this file")
    args = ap.parse_args()

    def measured(corpus) -> dict[str, float | None]:
        # its round's measure, above 0.5 Hz (the library's since studies/ecg_shape_wander.py: 3 Hz)
        return {name: lead_kurtosis(x, fs, high_pass_hz=0.5) for name, x, fs in corpus}

    train = {c: measured(leads(c)) for c in ("ds1", "svdb")}
    values = np.array([v for r in train.values() for v in r.values() if v is not None])
    floor = min(3.0, float(np.percentile(values, 0.5)) / 1.5)
    labels = read_labels(DATABASE.folder())
    cinc = measured(leads("cinc2017"))
    after = {
        "ds2": measured(leads("ds2")),
        "icentia11k": measured(leads("icentia11k")),
        "cinc2017 N/A/O": {r: v for r, v in cinc.items() if labels[r] != "~"},
        "cinc2017 ~": {r: v for r, v in cinc.items() if labels[r] == "~"},
        "aftdb": measured(aftdb()),
    }

    def warned(found: dict) -> dict:
        low = sorted(r for r, v in found.items() if v is not None and v < floor)
        return {"recordings": len(found), "warned": len(low), "which": low[:20]}

    line = {
        "study": "ecg_shape_check",
        "floor": round(floor, 4),
        "training_side": {c: warned(r) for c, r in train.items()},
        "training_kurtosis": spread(values),
        "after": {c: warned(r) for c, r in after.items()},
        "after_lowest": {
            c: min((v for v in r.values() if v is not None), default=None) for c, r in after.items()
        },
        "made_up": {k: lead_kurtosis(x, FS, high_pass_hz=0.5) for k, x in made_up().items()},
    }
    line["made_up_warned"] = sorted(k for k, v in line["made_up"].items() if v is not None and v < floor)
    print(json.dumps(line, indent=1), flush=True)
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
