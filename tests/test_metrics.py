"""Metrics against a confusion matrix worked out by hand, against scikit-learn, and on bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from heartzoo.evaluation.metrics import (
    classification_report,
    confusion_matrix,
    report_from_confusion,
    report_from_probabilities,
)
from heartzoo.tasks import get_task

# Hand example, classes N=0, S=1, V=2, 12 beats.
Y_TRUE = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 0, 0, 1, 2, 1, 1, 0, 2, 2, 2, 1]
# Confusion (rows true, columns predicted):
#        N  S  V   support
#   N  [ 3, 1, 1 ]   5
#   S  [ 1, 2, 0 ]   3
#   V  [ 0, 1, 3 ]   4
#  predicted: 4  4  4       n = 12, correct = 3 + 2 + 3 = 8 -> accuracy 8/12 = 2/3
#
# N: TP=3 FP=4-3=1 FN=5-3=2 TN=12-3-1-2=6 -> Se 3/5, +P 3/4, Sp 6/7, F1 2*3/(6+1+2) = 2/3
# S: TP=2 FP=4-2=2 FN=3-2=1 TN=12-2-2-1=7 -> Se 2/3, +P 1/2, Sp 7/9, F1 2*2/(4+2+1) = 4/7
# V: TP=3 FP=4-3=1 FN=4-3=1 TN=12-3-1-1=7 -> Se 3/4, +P 3/4, Sp 7/8, F1 2*3/(6+1+1) = 3/4
# macro-F1 = (2/3 + 4/7 + 3/4) / 3 = (56 + 48 + 63) / 84 / 3 = 167/252
HAND_CM = [[3, 1, 1], [1, 2, 0], [0, 1, 3]]
HAND = {
    "N": dict(tp=3, fp=1, fn=2, tn=6, support=5, predicted=4, se=3 / 5, pp=3 / 4, sp=6 / 7, f1=2 / 3),
    "S": dict(tp=2, fp=2, fn=1, tn=7, support=3, predicted=4, se=2 / 3, pp=1 / 2, sp=7 / 9, f1=4 / 7),
    "V": dict(tp=3, fp=1, fn=1, tn=7, support=4, predicted=4, se=3 / 4, pp=3 / 4, sp=7 / 8, f1=3 / 4),
}


def _walk_floats(obj):
    """Every float anywhere in a nested report."""
    if isinstance(obj, float):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _walk_floats(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk_floats(v)


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(np.array(Y_TRUE), np.array(Y_PRED), 3)
    assert cm.dtype == np.int64
    assert cm.tolist() == HAND_CM


def test_report_by_hand():
    rep = classification_report(Y_TRUE, Y_PRED, get_task("beat-3").class_names)
    assert rep["classes"] == ["N", "S", "V"]
    assert rep["n"] == 12
    assert rep["accuracy"] == pytest.approx(2 / 3)
    assert rep["confusion"] == HAND_CM
    for name, h in HAND.items():
        pc = rep["per_class"][name]
        for key in ("tp", "fp", "fn", "tn", "support", "predicted"):
            assert pc[key] == h[key], (name, key)
        assert pc["sensitivity"] == pytest.approx(h["se"]), name
        assert pc["positive_predictivity"] == pytest.approx(h["pp"]), name
        assert pc["specificity"] == pytest.approx(h["sp"]), name
        assert pc["f1"] == pytest.approx(h["f1"]), name
    assert rep["macro_f1"] == pytest.approx(167 / 252)
    assert rep["macro_classes"] == ["N", "S", "V"]
    assert rep["confusion_normalized"] == [
        pytest.approx([3 / 5, 1 / 5, 1 / 5]),
        pytest.approx([1 / 3, 2 / 3, 0.0]),
        pytest.approx([0.0, 1 / 4, 3 / 4]),
    ]


def test_report_from_confusion_equals_classification_report():
    names = ("N", "S", "V")
    assert report_from_confusion(np.array(HAND_CM), names) == classification_report(Y_TRUE, Y_PRED, names)


def test_agrees_with_sklearn_on_random_five_class():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1234)
    y_true = rng.choice(5, size=400, p=[0.6, 0.15, 0.15, 0.07, 0.03])
    # Mostly right, with errors spread at random, so every cell of the matrix is exercised.
    y_pred = np.where(rng.random(400) < 0.7, y_true, rng.integers(0, 5, size=400))
    names = get_task("aami-5").class_names

    rep = classification_report(y_true, y_pred, names)
    labels = list(range(5))
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, 5), skm.confusion_matrix(y_true, y_pred, labels=labels)
    )
    prec, rec, f1, sup = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for i, name in enumerate(names):
        pc = rep["per_class"][name]
        assert pc["positive_predictivity"] == pytest.approx(prec[i])
        assert pc["sensitivity"] == pytest.approx(rec[i])
        assert pc["f1"] == pytest.approx(f1[i])
        assert pc["support"] == sup[i]
    assert rep["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert rep["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    # sklearn has no specificity; it is the recall of "not this class".
    for i, name in enumerate(names):
        spec = skm.recall_score(y_true != i, y_pred != i, zero_division=0)
        assert rep["per_class"][name]["specificity"] == pytest.approx(spec)


def test_macro_classes_leave_out_q():
    task = get_task("aami-5")
    # N, S, V, F perfectly predicted; all 3 Q beats called N -> Q's F1 is 0.
    y_true = [0] * 10 + [1] * 4 + [2] * 4 + [3] * 2 + [4] * 3
    y_pred = [0] * 10 + [1] * 4 + [2] * 4 + [3] * 2 + [0] * 3
    rep = classification_report(y_true, y_pred, task.class_names, task.macro_classes)
    all_rep = classification_report(y_true, y_pred, task.class_names)

    assert rep["macro_classes"] == ["N", "S", "V", "F"]
    assert rep["per_class"]["Q"]["f1"] == 0.0
    # N: TP=10 FP=3 FN=0 -> F1 20/23; S, V, F: 1.0
    assert rep["macro_f1"] == pytest.approx((20 / 23 + 3) / 4)
    assert all_rep["macro_f1"] == pytest.approx((20 / 23 + 3 + 0) / 5)
    assert rep["macro_f1"] > all_rep["macro_f1"] + 0.1
    # Leaving Q out of the macro does not drop it from the per-class table or the accuracy.
    assert set(rep["per_class"]) == set(task.class_names)
    assert rep["accuracy"] == all_rep["accuracy"] == pytest.approx(20 / 23)


def test_absent_class_gives_zeros_not_nan():
    # F (index 3) never occurs in truth and is never predicted.
    y_true = [0, 0, 1, 2, 4]
    y_pred = [0, 1, 1, 2, 4]
    rep = classification_report(y_true, y_pred, ("N", "S", "V", "F", "Q"))
    f = rep["per_class"]["F"]
    assert f["support"] == f["predicted"] == f["tp"] == f["fp"] == f["fn"] == 0
    assert f["tn"] == 5
    assert f["sensitivity"] == f["positive_predictivity"] == f["f1"] == 0.0
    assert f["specificity"] == 1.0  # TN=5, FP=0: defined, so not zeroed
    assert rep["confusion_normalized"][3] == [0.0] * 5
    assert not any(math.isnan(x) for x in _walk_floats(rep))
    # allow_nan=False makes json refuse NaN/inf instead of writing invalid JSON.
    assert json.loads(json.dumps(rep, allow_nan=False)) == rep


def test_empty_input_report_is_all_zero_and_valid_json():
    rep = classification_report([], [], ("N", "S", "V"))
    assert rep["n"] == 0 and rep["accuracy"] == 0.0 and rep["macro_f1"] == 0.0
    assert rep["confusion"] == [[0] * 3] * 3
    json.dumps(rep, allow_nan=False)


def test_normalized_rows_sum_to_one_or_zero():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 4, size=200)  # class 4 never occurs in truth
    y_pred = rng.integers(0, 5, size=200)
    rep = classification_report(y_true, y_pred, ("N", "S", "V", "F", "Q"))
    sums = np.array(rep["confusion_normalized"]).sum(axis=1)
    np.testing.assert_allclose(sums, [1.0, 1.0, 1.0, 1.0, 0.0])
    cm = np.array(rep["confusion"])
    np.testing.assert_allclose(
        np.array(rep["confusion_normalized"])[:4], cm[:4] / cm[:4].sum(1, keepdims=True)
    )


PROBS = np.array(
    [
        [0.90, 0.05, 0.05],  # true N, pred N, kept at 0.6
        [0.50, 0.30, 0.20],  # true N, pred N, rejected at 0.6
        [0.20, 0.70, 0.10],  # true S, pred S, kept
        [0.40, 0.35, 0.25],  # true S, pred N, rejected
        [0.10, 0.30, 0.60],  # true V, pred V, kept (max == threshold is accepted)
        [0.55, 0.05, 0.40],  # true V, pred N, rejected
        [0.80, 0.10, 0.10],  # true V, pred N, kept
        [0.05, 0.05, 0.90],  # true S, pred V, kept
    ]
)
PROBS_TRUE = [0, 0, 1, 1, 2, 2, 2, 1]


def test_probabilities_default_has_no_rejection():
    rep = report_from_probabilities(PROBS, PROBS_TRUE, ("N", "S", "V"))
    assert rep["threshold"] is None
    assert rep["rejected"] == 0 and rep["rejected_fraction"] == 0.0
    assert rep["rejected_per_class"] == {"N": 0, "S": 0, "V": 0}
    assert rep["n"] == 8
    pred = PROBS.argmax(axis=1)
    assert {k: v for k, v in rep.items() if not k.startswith(("threshold", "rejected"))} == (
        classification_report(PROBS_TRUE, pred, ("N", "S", "V"))
    )
    # argmax: N N S N V N N V -> correct on beats 0, 1, 2, 4 -> 4/8
    assert rep["accuracy"] == pytest.approx(1 / 2)


def test_probabilities_threshold_rejects_and_scores_accepted_only():
    rep = report_from_probabilities(PROBS, PROBS_TRUE, ("N", "S", "V"), threshold=0.6)
    assert rep["threshold"] == 0.6
    assert rep["rejected"] == 3
    assert rep["rejected_fraction"] == pytest.approx(3 / 8)
    assert rep["rejected_per_class"] == {"N": 1, "S": 1, "V": 1}
    # Accepted beats 0, 2, 4, 6, 7: true N S V V S, predicted N S V N V.
    assert rep["n"] == 5
    assert rep["confusion"] == [[1, 0, 0], [0, 1, 1], [1, 0, 1]]
    assert rep["accuracy"] == pytest.approx(3 / 5)
    # V: TP=1 FP=1 FN=1 -> Se 1/2, +P 1/2
    assert rep["per_class"]["V"]["sensitivity"] == pytest.approx(1 / 2)
    assert rep["per_class"]["V"]["positive_predictivity"] == pytest.approx(1 / 2)
    json.dumps(rep, allow_nan=False)


def test_threshold_rejecting_everything_is_valid():
    rep = report_from_probabilities(PROBS, PROBS_TRUE, ("N", "S", "V"), threshold=1.0)
    assert rep["rejected"] == 8 and rep["rejected_fraction"] == 1.0 and rep["n"] == 0
    assert rep["rejected_per_class"] == {"N": 2, "S": 3, "V": 3}
    json.dumps(rep, allow_nan=False)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([0, 1, 2], [0, 1], r"same length, got 3 and 2"),
        ([0, 3, 1], [0, 1, 1], r"y_true has label 3 at index 1.*\[0, 3\)"),
        ([0, 1, 1], [0, 1, 5], r"y_pred has label 5 at index 2"),
        ([0, -1, 1], [0, 1, 1], r"y_true has label -1 .*leaves out"),
        ([[0, 1]], [[0, 1]], r"y_true must be a 1-D array.*shape \(1, 2\)"),
        ([0.0, 1.5], [0, 1], r"y_true must hold integer class labels, got dtype float64"),
    ],
)
def test_bad_labels_raise(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix(y_true, y_pred, 3)


def test_bad_num_classes_and_names_raise():
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        confusion_matrix([0], [0], 0)
    with pytest.raises(ValueError, match=r"macro_classes has unknown class\(es\) \['X'\]"):
        classification_report([0], [0], ("N", "S"), macro_classes=("N", "X"))
    with pytest.raises(ValueError, match="macro_classes must be a sequence"):
        classification_report([0], [0], ("N", "S"), macro_classes="NS")
    with pytest.raises(ValueError, match="class_names must be unique"):
        classification_report([0], [0], ("N", "N"))
    with pytest.raises(ValueError, match=r"cm must have shape \(3, 3\).*got \(2, 2\)"):
        report_from_confusion(np.zeros((2, 2), dtype=int), ("N", "S", "V"))
    with pytest.raises(ValueError, match="cm must hold non-negative counts, got minimum -1"):
        report_from_confusion([[1, -1], [0, 2]], ("N", "S"))
    with pytest.raises(ValueError, match="cm must hold whole-number counts"):
        report_from_confusion([[1.5, 0.0], [0.0, 2.0]], ("N", "S"))
    # Whole-valued float counts (e.g. a matrix loaded from JSON or summed as floats) are fine.
    assert report_from_confusion(np.array(HAND_CM, dtype=float), ("N", "S", "V"))["confusion"] == HAND_CM


@pytest.mark.parametrize(
    ("probs", "y_true", "kwargs", "match"),
    [
        (np.full((4, 2), 0.5), [0, 0, 1, 1], {}, r"probs must have shape \(n_beats, 3\).*got \(4, 2\)"),
        (np.full(3, 1 / 3), [0, 1, 2], {}, r"probs must have shape \(n_beats, 3\).*got \(3,\)"),
        (np.full((4, 3), 1 / 3), [0, 1, 2], {}, r"same number of beats, got 4 and 3"),
        (np.array([[0.2, np.nan, 0.3]]), [0], {}, r"probs must be finite, row 0"),
        (np.full((2, 3), 1 / 3), [0, 3], {}, r"y_true has label 3 at index 1"),
        (np.full((2, 3), 1 / 3), [0, 1], {"threshold": 1.5}, r"threshold must lie in \[0, 1\], got 1.5"),
    ],
)
def test_bad_probabilities_raise(probs, y_true, kwargs, match):
    with pytest.raises(ValueError, match=match):
        report_from_probabilities(probs, y_true, ("N", "S", "V"), **kwargs)
