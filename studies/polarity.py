"""An inverted lead on a wearable (issue 46, lead and device robustness; a diagnosis that chooses nothing):
AliveCor's lead I from the fingers is often recorded upside down (the device held the other way), and the
beat models were trained on MLII, whose QRS complexes point up. Does the recommended beat-3 model read an
inverted lead worse, and would turning it over help?

The measure, per recording: the share of the default detector's beats whose R deflection (the lead at
the corrected R peak, against its median within 0.3 s) points down. Read on MIT-BIH DS1 (MLII, the
training side) and on the CinC 2017 recordings selection reads (`af_beats.cinc_validation`: 60 AF and 60
normal-rhythm recordings of the training split, never trained on; never the test split). On each CinC
recording, `beat-3-cnn3-student@v6` through `annotate` (detector, gate, int8) as recorded and turned over:
the share of beats called V in the normal-rhythm recordings and S in the AF ones, for those whose beats
mostly point down and the others.

Result (results/polarity.jsonl): the measure is two-humped, a recording's beats point all up or all down;
one DS1 record points down (207, whose bundle-branch blocks point its QRS down in MLII), a quarter of
the CinC recordings do (29 of 120). Turning those over lowers the
V calls of the normal-rhythm ones (1.5 % -> 0.4 % of beats, 13 recordings) but raises the S calls of the AF
ones (13.4 % -> 18.4 %, 16 recordings); turning the upright ones over raises their V calls and lowers
their S calls in AF. The model is not thrown by an inverted lead the way an unreadable one throws it, and
turning it over is no gain on both counts: `annotate` neither warns of nor corrects polarity.

Run: `python studies/polarity.py [--record results/polarity.jsonl]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

MODEL = "beat-3-cnn3-student@v6"
REPO = Path(__file__).resolve().parents[1]


def down_share(x: np.ndarray, fs: float, peaks: np.ndarray) -> float | None:
    """The share of `peaks` whose deflection from the lead's median within 0.3 s is negative."""
    h = round(0.3 * fs)
    signs = [x[p] < np.median(x[max(0, p - h) : p + h + 1]) for p in peaks]
    return float(np.mean(signs)) if signs else None


def share(classes_list: list[np.ndarray], name: str) -> float | None:
    total = sum(len(c) for c in classes_list)
    return round(sum(int((c == name).sum()) for c in classes_list) / total, 4) if total else None


def main() -> None:
    from heartzoo.data import mitbih
    from heartzoo.data.databases import get_database
    from heartzoo.data.splits import DS1
    from heartzoo.detect import detect
    from heartzoo.io import append_json_line
    from heartzoo.paths import data_dir
    from heartzoo.recording.annotation import annotate
    from heartzoo.training.af_beats import cinc_validation
    from heartzoo.zoo.hub import resolve_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the JSON line to this file")
    args = ap.parse_args()
    root = data_dir()
    ds1 = []
    for r in DS1:
        sig = mitbih.read_signal(root / "mitdb", r)
        x = np.asarray(sig.values, np.float64)
        ds1.append(down_share(x, sig.fs, detect(x, sig.fs)))
    db = get_database("cinc2017")
    folder, labels = db.folder(root), db.labels(root)
    model = resolve_model(MODEL, zoo=REPO / "zoo")
    rows = []
    for r in cinc_validation(root):
        sig = db.read_signal(folder, r, "ECG")
        x = np.asarray(sig.values, np.float64)
        got = {
            way: annotate(k * x, sig.fs, model).classes
            for way, k in (("as recorded", 1.0), ("turned over", -1.0))
        }
        rows.append((labels[r], down_share(x, sig.fs, detect(x, sig.fs)), got))
    groups = {}
    for label, call in (("N", "V"), ("A", "S")):
        for side, test in (
            ("down", lambda s: s is not None and s >= 0.5),
            ("up", lambda s: s is None or s < 0.5),
        ):
            mine = [g for lab, s, g in rows if lab == label and test(s)]
            groups[f"{label} recordings, beats pointing {side}"] = {
                "recordings": len(mine),
                "called": call,
                **{way: share([g[way] for g in mine], call) for way in ("as recorded", "turned over")},
            }
    cinc = [s for _, s, _ in rows if s is not None]
    line = {
        "study": "polarity",
        "model": MODEL,
        "ds1_down_share": {
            "records": len(ds1),
            "pointing_down": int(sum(s >= 0.5 for s in ds1 if s is not None)),
        },
        "cinc_validation_down_share_histogram": {
            "bins": [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0],
            "recordings": np.histogram(cinc, bins=[0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001])[0].tolist(),
        },
        "calls": groups,
    }
    print(json.dumps(line, indent=1))
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
