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
ones (13.3 % -> 18.4 %, 16 recordings); turning the upright ones over raises their V calls and lowers
their S calls in AF. The model is not thrown by an inverted lead the way an unreadable one throws it, and
turning it over is no gain on both counts: `annotate` neither warns of nor corrects polarity.

The second round (`--validation`), its rule written before it ran: the first round read AliveCor's lead I,
where the model is unsure either way. A new user's review turned DS2's MLII over and found the V calls
halved; on the training side, the validation patients of `beat-3-cnn3-student@v6` (never trained on;
MLII, svdb's lead standing for it, at their reference beats; the int8 model) are scored as recorded and turned over: macro-F1, and the
sensitivity of S and V. If turning them over costs more than 0.05 of macro-F1, `annotate` and `predict`
warn where at least half of a recording's beats point down (the first round's gap: a recording's beats
point all up or all down) and the model classifies beats, and `annotate --invert` turns a lead over. The
down share of each DS1 record is recorded beside them.

Run: `python studies/polarity.py [--record results/polarity.jsonl]`; `--validation` for the second round.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from heartzoo.tasks import get_task

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


def turned_over(root: Path) -> dict:
    """The second round: the model's validation patients, as recorded and turned over, at their reference
    beats; and the down share of each DS1 record's reference beats."""
    from heartzoo.data import mitbih
    from heartzoo.data.databases import database_of
    from heartzoo.data.prepare import validation_records
    from heartzoo.data.splits import DS1
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.zoo.hub import predict, resolve_model

    model = resolve_model(MODEL, zoo=REPO / "zoo")
    task = get_task(model.config.task)
    records = validation_records(model.config, root)
    scores = {}
    for way, k in (("as recorded", 1.0), ("turned over", -1.0)):
        probs, labels = [], []
        for r in records:  # MIT-BIH's and svdb's
            db = database_of(r)
            folder = db.folder(root)
            sig, beats = db.read_signal(folder, r, model.config.input.lead), db.read_beats(folder, r)
            y = task.labels(beats.aami)
            p = predict(model, k * np.asarray(sig.values, np.float64), sig.fs, beats.samples)
            probs.append(p[y >= 0])
            labels.append(y[y >= 0])
        rep = report_from_probabilities(
            np.concatenate(probs), np.concatenate(labels), task.class_names, task.macro_classes
        )
        scores[way] = {
            "macro_f1": round(rep["macro_f1"], 4),
            "f1": {c: round(v["f1"], 4) for c, v in rep["per_class"].items()},
            "sensitivity": {c: round(v["sensitivity"], 4) for c, v in rep["per_class"].items()},
        }
    down = {}
    for r in DS1:
        sig, beats = mitbih.read_signal(root / "mitdb", r), mitbih.read_beats(root / "mitdb", r)
        down[r] = round(down_share(np.asarray(sig.values, np.float64), sig.fs, beats.samples), 3)
    cost = scores["as recorded"]["macro_f1"] - scores["turned over"]["macro_f1"]
    return {
        "study": "polarity",
        "round": "validation turned over",
        "model": MODEL,
        "records": records,
        "scores": scores,
        "macro_f1_cost": round(cost, 4),
        "warn": cost > 0.05,
        "ds1_down_share_reference_beats": down,
    }


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
    ap.add_argument("--validation", action="store_true", help="the second round: MLII turned over")
    args = ap.parse_args()
    root = data_dir()
    if args.validation:
        line = turned_over(root)
        print(json.dumps(line, indent=1))
        append_json_line(args.record, line)
        return
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
