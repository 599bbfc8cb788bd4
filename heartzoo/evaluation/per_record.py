"""Scores by patient: each record's confusion matrix, EC57's average statistics (the mean over records of
each class's Se and +P) and intervals that resample patients, not beats.

Why: a test set's beats are not independent draws. DS2's S beats are 1,837, but 1,382 of them are one
patient's (record 232), so an interval over beats would be falsely narrow; the unit a new patient brings is
a record (AAMI EC57 asks for record-by-record tables beside the gross statistics for the same reason)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: the bootstrap's draws and seed: fixed, so a report is reproduced to the digit
DRAWS, SEED = 2000, 0
#: the fewest records a class's beats (for Se) or calls (for +P) must lie in for an interval: resampling
#: fewer gives a handful of distinct values, an interval that looks exact (one record: zero width)
MIN_RECORDS = 5


def record_confusions(
    probs: np.ndarray, labels: np.ndarray, records: np.ndarray, num_classes: int, threshold: float | None
) -> dict[str, list[list[int]]]:
    """{record: confusion matrix (rows true, columns predicted)} of the beats a report scores: with
    `threshold`, those whose top probability reaches it (`metrics.report_from_probabilities`)."""
    from .metrics import confusion_matrix

    p, t, r = np.asarray(probs), np.asarray(labels), np.asarray(records)
    accepted = np.ones(t.size, bool) if threshold is None else p.max(axis=1, initial=-np.inf) >= threshold
    pred = p.argmax(axis=1) if p.shape[0] else np.zeros(0, np.int64)
    return {
        str(rec): confusion_matrix(
            t[(r == rec) & accepted], pred[(r == rec) & accepted], num_classes
        ).tolist()
        for rec in sorted(set(r.tolist()))
    }


def patient_statistics(
    confusions: dict[str, Sequence[Sequence[int]]],
    class_names: Sequence[str],
    macro_classes: Sequence[str] | None = None,
    *,
    draws: int = DRAWS,
    seed: int = SEED,
) -> dict[str, Any]:
    """What the records say of a model, from `record_confusions`: "average", EC57's average Se and +P of
    each class (the mean over the records where it is defined: a record with beats of the class for Se,
    with calls of it for +P; None where no record has any), with the records each mean is over; "interval",
    95 % percentile intervals of the gross macro-F1 and each class's Se and +P over `draws` resamplings of
    the records with replacement: an interval of the pooled number, not the spread of single patients'.
    A draw without any beat of a class leaves its Se out, one without a call of it its +P (the macro-F1
    counts such a class's F1 as 0, as the gross report does); a class whose beats or calls lie in fewer
    than `MIN_RECORDS` records has None."""
    from .metrics import report_from_confusion

    names = list(class_names)
    recs = sorted(confusions)
    if not recs:
        raise ValueError("patient_statistics needs at least one record")
    cms = np.array([confusions[r] for r in recs], dtype=np.int64).reshape(len(recs), len(names), len(names))
    tp = cms[:, range(len(names)), range(len(names))]
    support, called = cms.sum(axis=2), cms.sum(axis=1)
    average = {}
    for i, c in enumerate(names):
        se_rows, pp_rows = support[:, i] > 0, called[:, i] > 0
        average[c] = {
            "se": float(np.mean(tp[se_rows, i] / support[se_rows, i])) if se_rows.any() else None,
            "se_records": int(se_rows.sum()),
            "pp": float(np.mean(tp[pp_rows, i] / called[pp_rows, i])) if pp_rows.any() else None,
            "pp_records": int(pp_rows.sum()),
        }
    rng = np.random.default_rng(seed)
    macro, se, pp = [], np.full((draws, len(names)), np.nan), np.full((draws, len(names)), np.nan)
    for d in range(draws):
        cm = cms[rng.integers(0, len(recs), len(recs))].sum(axis=0)
        rep = report_from_confusion(cm, names, macro_classes)
        macro.append(rep["macro_f1"])
        for i, c in enumerate(names):
            pc = rep["per_class"][c]
            if pc["support"]:
                se[d, i] = pc["sensitivity"]
            if pc["predicted"]:
                pp[d, i] = pc["positive_predictivity"]

    def interval(values: np.ndarray, records: int) -> list[float] | None:
        v = values[~np.isnan(values)]
        return (
            [float(q) for q in np.percentile(v, [2.5, 97.5])] if v.size and records >= MIN_RECORDS else None
        )

    return {
        "records": len(recs),
        "average": average,
        "interval": {
            "level": 0.95,
            "draws": draws,
            "seed": seed,
            "macro_f1": interval(np.asarray(macro), len(recs)),
            **{
                c: {
                    "se": interval(se[:, i], average[c]["se_records"]),
                    "pp": interval(pp[:, i], average[c]["pp_records"]),
                }
                for i, c in enumerate(names)
            },
        },
    }
