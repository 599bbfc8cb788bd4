"""Beat classification metrics in AAMI EC57 vocabulary: Se, +P, specificity, F1, macro-F1, confusion.

Everything returned is plain Python (int, float, str, list, dict) so a report goes straight into
``json.dumps``. A ratio whose denominator is zero (a class with no true beats, or one never predicted)
is reported as 0.0 rather than NaN: NaN is not valid JSON, and 0.0 matches scikit-learn's
``zero_division=0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def _ratio(num: int, den: int) -> float:
    """num / den, or 0.0 when den is 0 (see the module docstring for why not NaN)."""
    return float(num) / float(den) if den else 0.0


def _check_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    return int(num_classes)


def _check_labels(name: str, y: ArrayLike, num_classes: int) -> np.ndarray:
    """`y` as a 1-D int64 array of labels in [0, num_classes), or a ValueError naming `name`."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer labels, got shape {arr.shape}")
    if arr.size == 0:
        # np.asarray([]) is float64; an empty label list is still a valid (empty) label list.
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        # Floats are refused rather than truncated: 1.7 silently becoming class 1 would hide a bug
        # such as passing probabilities where labels were meant.
        raise ValueError(
            f"{name} must hold integer class labels, got dtype {arr.dtype}"
            + (" (use probs.argmax(axis=1) for predicted labels)" if arr.dtype.kind == "f" else "")
        )
    bad = (arr < 0) | (arr >= num_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = " (-1 marks beats the task leaves out: drop them before scoring)" if arr[i] == -1 else ""
        raise ValueError(
            f"{name} has label {int(arr[i])} at index {i} ({int(bad.sum())} out of range in all); "
            f"labels must lie in [0, {num_classes}){hint}"
        )
    return arr.astype(np.int64, copy=False)


def _check_class_names(class_names: Sequence[str]) -> list[str]:
    names = [str(c) for c in class_names]
    if not names:
        raise ValueError("class_names must name at least one class")
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise ValueError(f"class_names must be unique, got duplicates {dupes}")
    return names


def _check_macro_classes(macro_classes: Sequence[str] | None, names: list[str]) -> list[str]:
    if macro_classes is None:
        return list(names)
    if isinstance(macro_classes, str):
        # A bare string would otherwise be read as a sequence of one-letter class names.
        raise ValueError(f"macro_classes must be a sequence of class names, got the string {macro_classes!r}")
    chosen = [str(c) for c in macro_classes]
    if not chosen:
        raise ValueError("macro_classes must name at least one class (or be None for all classes)")
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise ValueError(f"macro_classes has unknown class(es) {unknown}; class_names are {names}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"macro_classes must be unique, got {chosen}")
    return chosen


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Counts as an int64 (num_classes, num_classes) array: rows are true classes, columns predicted."""
    k = _check_num_classes(num_classes)
    t = _check_labels("y_true", y_true, k)
    p = _check_labels("y_pred", y_pred, k)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.size} and {p.size}")
    return np.bincount(t * k + p, minlength=k * k).astype(np.int64).reshape(k, k)


def report_from_confusion(
    cm: ArrayLike, class_names: Sequence[str], macro_classes: Sequence[str] | None = None
) -> dict[str, Any]:
    """A JSON-ready report (per-class Se, +P, specificity, F1; macro-F1; accuracy) from a confusion matrix.

    `macro_classes` restricts the macro-F1 to some classes, e.g. N, S, V, F for the AAMI 5-class task,
    where Q has too few beats for its F1 to mean anything. Zero denominators give 0.0, never NaN.
    """
    names = _check_class_names(class_names)
    macro = _check_macro_classes(macro_classes, names)
    m = np.asarray(cm)
    k = len(names)
    if m.shape != (k, k):
        raise ValueError(f"cm must have shape ({k}, {k}) to match {k} class_names, got {m.shape}")
    # Float counts are accepted when whole (e.g. a summed or loaded matrix), anything else is not.
    whole_floats = m.dtype.kind == "f" and bool(np.all(np.isfinite(m))) and bool(np.all(m == np.round(m)))
    if m.size and m.dtype.kind not in "iu" and not whole_floats:
        raise ValueError(f"cm must hold whole-number counts, got dtype {m.dtype} with non-count values")
    if (m < 0).any():
        raise ValueError(f"cm must hold non-negative counts, got minimum {m.min()}")
    m = m.astype(np.int64)

    n = int(m.sum())
    support = m.sum(axis=1)
    predicted = m.sum(axis=0)
    diag = np.diag(m)
    per_class: dict[str, dict[str, int | float]] = {}
    for i, name in enumerate(names):
        tp = int(diag[i])
        fp = int(predicted[i]) - tp
        fn = int(support[i]) - tp
        tn = n - tp - fp - fn
        per_class[name] = {
            "support": int(support[i]),
            "predicted": int(predicted[i]),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "sensitivity": _ratio(tp, tp + fn),
            "positive_predictivity": _ratio(tp, tp + fp),
            "specificity": _ratio(tn, tn + fp),
            # 2TP / (2TP + FP + FN) equals the harmonic mean of Se and +P, and stays defined when one is 0.
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }

    # Divide only the rows with support so an empty row stays zeros instead of 0/0.
    normalized = np.zeros((k, k), dtype=np.float64)
    rows = support > 0
    normalized[rows] = m[rows] / support[rows, None]

    return {
        "classes": names,
        "per_class": per_class,
        "macro_f1": float(np.mean([per_class[c]["f1"] for c in macro])),
        "macro_classes": macro,
        "accuracy": _ratio(int(diag.sum()), n),
        "n": n,
        "confusion": m.tolist(),
        "confusion_normalized": normalized.tolist(),
    }


def classification_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    class_names: Sequence[str],
    macro_classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`report_from_confusion` of the confusion matrix of integer labels `y_true` and `y_pred`."""
    names = _check_class_names(class_names)
    return report_from_confusion(confusion_matrix(y_true, y_pred, len(names)), names, macro_classes)


def check_threshold(threshold: float | None) -> None:
    """A rejection threshold: None, or a probability in [0, 1]."""
    from ..errors import ArgumentError

    if threshold is None:
        return
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise ArgumentError(f"threshold must be a number in [0, 1] or None, got {threshold!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ArgumentError(f"threshold must lie in [0, 1], got {threshold}")


def scored_units(
    task, probs: ArrayLike, labels: ArrayLike, records: ArrayLike, aggregation=None
) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities and labels a task is scored on: per recording for a per-recording task
    (`recording_probabilities`, by `aggregation`), else the frames' own."""
    if not task.per_recording:
        return np.asarray(probs), np.asarray(labels)
    return recording_probabilities(probs, labels, records, aggregation)


def recording_probabilities(
    probs: ArrayLike, labels: ArrayLike, records: ArrayLike, aggregation=None
) -> tuple[np.ndarray, np.ndarray]:
    """Per recording, in order of first appearance: its class probabilities from its windows' by
    `aggregation` (a `meta.RecordingAggregation`; None: their mean), and its label (every window of a
    recording carries the recording's label)."""
    from .aggregation import MEAN
    from .aggregation import recording_probabilities as aggregated

    y, r = np.asarray(labels), np.asarray(records)
    p, first = aggregated(probs, r, aggregation or MEAN)
    _, index, inverse = np.unique(r, return_index=True, return_inverse=True)
    if np.any(y != y[index][inverse]):
        raise ValueError("the windows of a recording carry different labels")
    return p, y[first]


def report_from_probabilities(
    probs: ArrayLike,
    y_true: ArrayLike,
    class_names: Sequence[str],
    macro_classes: Sequence[str] | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """A report for class probabilities (n_beats, n_classes), predicting each beat's most likely class.

    With `threshold`, beats whose top probability is below it are rejected (sent for review, in a
    device's terms): metrics cover the accepted beats only, and "rejected", "rejected_fraction" and
    "rejected_per_class" (by true class) say what was set aside. "n" counts the accepted beats.
    """
    names = _check_class_names(class_names)
    k = len(names)
    p = np.asarray(probs)
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"probs must have shape (n_beats, {k}) to match {k} class_names, got {p.shape}")
    if p.dtype.kind not in "fiu":
        raise ValueError(f"probs must be numeric, got dtype {p.dtype}")
    if not np.all(np.isfinite(p)):
        i = int(np.flatnonzero(~np.isfinite(p).all(axis=1))[0])
        raise ValueError(f"probs must be finite, row {i} is {p[i].tolist()}")
    t = _check_labels("y_true", y_true, k)
    if t.size != p.shape[0]:
        raise ValueError(
            f"probs and y_true must have the same number of beats, got {p.shape[0]} and {t.size}"
        )
    check_threshold(threshold)

    pred = p.argmax(axis=1) if p.shape[0] else np.zeros(0, dtype=np.int64)
    if threshold is None:
        accepted = np.ones(t.size, dtype=bool)
    else:
        accepted = p.max(axis=1, initial=-np.inf) >= float(threshold)
    rejected_counts = np.bincount(t[~accepted], minlength=k)

    report = classification_report(t[accepted], pred[accepted], names, macro_classes)
    rejected = int((~accepted).sum())
    report["threshold"] = None if threshold is None else float(threshold)
    report["rejected"] = rejected
    report["rejected_fraction"] = _ratio(rejected, int(t.size))
    report["rejected_per_class"] = {name: int(c) for name, c in zip(names, rejected_counts, strict=True)}
    return report
