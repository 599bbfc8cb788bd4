"""Where the S-by-timing head (`model.params.s_timing`, issue 46) still misses DS2's S beats: a diagnosis of
the screen's runs, read after the screen ran, choosing nothing.

The head makes P(S) / P(N) a function of the RR inputs alone, so an early beat shaped like the patient's
normal ones cannot be called N for its shape. Its screen (studies/beat_levers.py, `s-timing*`) still found
fewer of DS2's S beats than the baseline. Per run, on DS2's record 232 (75 % of DS2's S beats) and on the
other DS2 records' S beats: what the model calls them, the medians of their four RR inputs, and the timing
branch's own P(S | S or N), i.e. sigmoid(t), which says whether the timing or the V-against-supraventricular
decision lost them.

Run: `python studies/s_timing.py runs/levers/beat-3-cnn3-s-timing-seed0/... [--record FILE]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def timing_odds(model, inputs: dict) -> np.ndarray | None:
    """sigmoid(t) per beat: the timing branch's P(S | S or N); None for a model without the branch."""
    import keras

    names = [layer.name for layer in model.layers]
    if "timing_odds" not in names:
        return None
    branch = keras.Model(model.inputs, model.get_layer("timing_odds").output)
    t = branch.predict(inputs, batch_size=4096, verbose=0)[:, 0]
    return 1.0 / (1.0 + np.exp(-t))


def diagnose(run: Path) -> dict:
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    model, config = load_run(run)
    names = get_task(config.task).class_names
    probs, labels, ws = split_probabilities(model, config, "ds2")
    called = probs.argmax(1)
    pre = Preprocessor.of(config)
    inputs = ws.model_inputs(pre)
    odds = timing_odds(model, inputs)
    rr_names = pre.rr_names[:4]
    s = names.index("S")
    out: dict = {"study": "s_timing", "run": str(run)}
    for part, where in (("record 232", ws.record == "232"), ("other records", ws.record != "232")):
        is_s = where & (labels == s)
        row = {"S beats": int(is_s.sum())}
        row["called"] = {n: int((called[is_s] == i).sum()) for i, n in enumerate(names)}
        row["RR inputs of the S beats, median"] = {
            n: round(float(np.median(inputs["rr"][is_s, j])), 3) for j, n in enumerate(rr_names)
        }
        if odds is not None:
            row["timing P(S | S or N), median"] = round(float(np.median(odds[is_s])), 3)
            row["timing says S (> 0.5)"] = round(float((odds[is_s] > 0.5).mean()), 3)
            n_beats = where & (labels == names.index("N"))
            row["N beats: timing says S"] = round(float((odds[n_beats] > 0.5).mean()), 3)
        out[part] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, nargs="+", help="run folders (their final stage)")
    ap.add_argument("--record", type=Path, help="append each result as one JSON line to this file")
    args = ap.parse_args()
    import json

    from heartzoo.io import append_json_line

    for run in args.runs:
        row = diagnose(run)
        print(json.dumps(row))
        append_json_line(args.record, row)


if __name__ == "__main__":
    main()
