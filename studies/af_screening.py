"""The published af-4 models as an AF screen, the way AF detectors on a wrist are reported: atrial fibrillation
against every other classifiable recording, per recording of CinC 2017's committed test split.

Why: the challenge's F1 averages three classes; a team shipping an AF alert needs the numbers of the alert
itself, as the wearables' own studies give them (sensitivity and specificity for AF among the recordings
that could be classified, e.g. Apple's ECG app and AliveCor's KardiaMobile in their clearance studies):
- positives the recordings labelled A, negatives those labelled N and O; those labelled `~` (too noisy to
  read) are left out as those studies leave unclassifiable tracings out, and counted;
- at the model's own call (the recording's class is A: what `annotate --rhythm` reports): sensitivity,
  specificity, PPV and NPV;
- ROC AUC of the recording's A probability;
- an operating point for an alert that must rarely be false: the lowest threshold on the A probability
  whose specificity on the validation recordings (af-4's validation split, the map's probabilities
  cross-fitted over them as export scores them) is at least 98 %, then its sensitivity and specificity on
  the test split. The threshold is chosen on validation only; the test split is read once, after.
Each model int8 as published (its own .tflite and aggregation). Nothing in the zoo changes: the cards of
af-4 show the line under "As an AF screen".

A fold ensemble (`af-4-cnn5-fold-ensemble`), written before it ran: its int8 graph holds every member, and
every recording outside the test split trained all but one of them, so no int8 validation side exists. Its
threshold is chosen the same way on its out-of-fold recordings instead: each read by the float member that
held it out, through the map cross-fitted over them (the windows its export fitted the map on). Read on the
test split as the others are, int8 as published. Disclosed on its card ("chosen on"): one member's float
probabilities choose a threshold for the average's int8 ones.

Run: `python studies/af_screening.py [--models NAME@VERSION,...] [--record FILE]`; one JSON line a model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

TARGET_SPECIFICITY = 0.98


def af_vs_rest(p_af: np.ndarray, label: np.ndarray, called_af: np.ndarray) -> dict:
    """Sensitivity, specificity, PPV, NPV of `called_af`, and ROC AUC of `p_af`, over A against N and O."""
    from sklearn.metrics import roc_auc_score

    pos, neg = label == "A", np.isin(label, ["N", "O"])
    keep = pos | neg
    tp, fn = int((called_af & pos).sum()), int((~called_af & pos).sum())
    fp, tn = int((called_af & neg).sum()), int((~called_af & neg).sum())

    def ratio(a: int, b: int) -> float | None:
        return a / (a + b) if a + b else None

    return {
        "af": int(pos.sum()),
        "other": int(neg.sum()),
        "noisy_left_out": int((~keep).sum()),
        "sensitivity": ratio(tp, fn),
        "specificity": ratio(tn, fp),
        "ppv": ratio(tp, fp),
        "npv": ratio(tn, fn),
        "roc_auc": float(roc_auc_score(pos[keep], p_af[keep])),
    }


def threshold_for(p_af: np.ndarray, label: np.ndarray, specificity: float) -> float:
    """The lowest threshold t on the A probability with specificity >= `specificity` among N and O."""
    neg = np.sort(p_af[np.isin(label, ["N", "O"])])
    k = int(np.ceil(specificity * len(neg)))  # at least k negatives must lie at or below t, strictly under
    return float(np.nextafter(neg[k - 1], np.inf)) if k else 0.0


def per_recording(folder: Path, model, config, split: str, cross_fit: bool) -> tuple[np.ndarray, np.ndarray]:
    """(class probabilities, label) of each recording of `split`, int8 as published, by the version's
    aggregation; on validation, with `cross_fit`, each fold's map fitted on the other folds' float
    probabilities (as export scores a version)."""
    from heartzoo.evaluation import aggregation
    from heartzoo.evaluation.evaluate import recording_aggregation, split_probabilities
    from heartzoo.evaluation.metrics import recording_probabilities
    from heartzoo.inference import predict_probs
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    names = get_task(config.task).class_names
    if split == "val" and config.fold_ensemble:  # out of fold, float: no int8 validation side exists
        probs, labels, ws = split_probabilities(model, config, split)
        p, y = aggregation.cross_fitted(probs, labels, ws.record, config.export.aggregation)
        return np.asarray(p), np.asarray(names)[np.asarray(y)]
    q, labels, ws = split_probabilities(model, config, split, int8=(folder / "model.tflite").read_bytes())
    if cross_fit and config.export.aggregation != "mean":
        probs = predict_probs(model, ws.model_inputs(Preprocessor.of(config)))  # the same windows, float
        p, y = aggregation.cross_fitted(probs, labels, ws.record, config.export.aggregation, applied_to=q)
    else:
        p, y = recording_probabilities(q, labels, ws.record, recording_aggregation(folder, model, config))
    return np.asarray(p), np.asarray(names)[np.asarray(y)]


def main() -> None:
    from af_external import af4_command

    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.io import append_json_line
    from heartzoo.meta import check_ref
    from heartzoo.tasks import get_task
    from heartzoo.zoo.index import find

    args, index, refs = af4_command(__doc__)
    for ref in refs:
        t0 = time.perf_counter()
        folder = args.zoo / find(index, *check_ref(ref))["path"]
        model, config = load_run(folder)  # checked against the index
        a = get_task(config.task).class_names.index("A")
        p_val, y_val = per_recording(folder, model, config, "val", cross_fit=True)
        p_test, y_test = per_recording(folder, model, config, "test", cross_fit=False)
        t = threshold_for(p_val[:, a], y_val, TARGET_SPECIFICITY)
        line = {
            "study": "af_screening",
            "model": ref,
            "runtime": "int8, as published",
            "split": "test",
            "at_its_call": af_vs_rest(p_test[:, a], y_test, p_test.argmax(axis=1) == a),
            "operating_point": {
                "target_specificity": TARGET_SPECIFICITY,
                "threshold": t,
                "chosen_on": f"{len(y_val):,} out-of-fold recordings (each by the float member that held it "
                "out, the map cross-fitted)"
                if config.fold_ensemble
                else f"{len(y_val)} validation recordings (cross-fitted)",
                "validation": af_vs_rest(p_val[:, a], y_val, p_val[:, a] >= t),
                "test": af_vs_rest(p_test[:, a], y_test, p_test[:, a] >= t),
            },
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
