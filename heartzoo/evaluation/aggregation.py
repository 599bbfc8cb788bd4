"""How a recording's windows make its class, for tasks labelled per recording (af-4).

A microcontroller classifies a recording window by window; the recording's class comes from its windows'
probabilities. `mean` takes the argmax of their mean (what every af-4 version before `mean+max` states).
`mean+max` also reads each class's largest window probability: a recording whose rhythm shows in one
window out of three (an "other rhythm" episode, a run of AF) is diluted by the mean alone
(studies/af_aggregation.py: +0.017 challenge F1 on validation over six screen runs, all six higher). Its
map is a multinomial logistic regression of [log(mean + eps), log(max + eps)], 8 numbers to 4 logits
for af-4, fitted on the validation recordings at export (the test split is never read to fit it) and
published in the firmware contract (`meta.RecordingAggregation`), so a kit computes it in a few lines.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..meta import RecordingAggregation

MEAN = RecordingAggregation(method="mean")


def window_summaries(probs: ArrayLike, records: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per recording, in order of first appearance: the windows' mean and largest probabilities, and the
    index of each recording's first window."""
    p, r = np.asarray(probs, dtype=np.float64), np.asarray(records)
    names, first, inverse = np.unique(r, return_index=True, return_inverse=True)
    order = np.argsort(first)
    sums = np.zeros((len(names), p.shape[1]))
    top = np.full((len(names), p.shape[1]), -np.inf)
    np.add.at(sums, inverse, p)
    np.maximum.at(top, inverse, p)
    mean = sums / np.bincount(inverse, minlength=len(names))[:, None]
    return mean[order], top[order], first[order]


def features(mean: np.ndarray, top: np.ndarray, eps: float) -> np.ndarray:
    return np.hstack([np.log(mean + eps), np.log(top + eps)])


def recording_probabilities(
    probs: ArrayLike, records: ArrayLike, aggregation: RecordingAggregation = MEAN
) -> tuple[np.ndarray, np.ndarray]:
    """Per recording, in order of first appearance: its class probabilities by `aggregation`, and the
    index of its first window."""
    mean, top, first = window_summaries(probs, records)
    if aggregation.method == "mean":
        return mean.astype(np.float32), first
    a = aggregation
    logits = features(mean, top, a.eps) @ np.asarray(a.coef).T + np.asarray(a.intercept)
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32), first


def one_recording(probs: ArrayLike, aggregation: RecordingAggregation = MEAN) -> np.ndarray:
    """The class probabilities of one recording from those of its windows."""
    p = np.asarray(probs)
    return recording_probabilities(p, np.zeros(len(p)), aggregation)[0][0]


def single_windows(probs: ArrayLike, aggregation: RecordingAggregation = MEAN) -> np.ndarray:
    """Each window's probabilities as the aggregation reads a recording of that one window (external tests
    in windows of the model's length, rhythm episodes)."""
    p = np.asarray(probs)
    return recording_probabilities(p, np.arange(len(p)), aggregation)[0]


def fit(
    probs: ArrayLike,
    labels: ArrayLike,
    records: ArrayLike,
    method: str,
    fitted_on: str = "",
    eps: float = MEAN.eps,
) -> RecordingAggregation:
    """The aggregation `method` for these windows (their recordings' labels): `mean` takes no fitting;
    `mean+max` is fitted by a multinomial logistic regression (L2, C = 1, deterministic)."""
    if method == "mean":
        return MEAN
    if method != "mean+max":
        raise ValueError(f"unknown aggregation {method!r}; known: mean, mean+max")
    from sklearn.linear_model import LogisticRegression

    mean, top, first = window_summaries(probs, records)
    y = np.asarray(labels)[first]
    k = np.asarray(probs).shape[1]
    if set(np.unique(y).tolist()) != set(range(k)):
        raise ValueError(
            f"fitting {method} needs recordings of every class; got classes {sorted(set(y.tolist()))}"
        )
    clf = LogisticRegression(C=1.0, max_iter=5000).fit(features(mean, top, eps), y)
    return RecordingAggregation(
        method="mean+max",
        coef=clf.coef_.tolist(),
        intercept=clf.intercept_.tolist(),
        eps=eps,
        fitted_on=fitted_on or f"{len(y)} recordings",
    )


def cross_fitted(
    probs: ArrayLike,
    labels: ArrayLike,
    records: ArrayLike,
    method: str,
    folds: int = 5,
    seed: int = 0,
    *,
    applied_to: ArrayLike | None = None,
    eps: float = MEAN.eps,
) -> tuple[np.ndarray, np.ndarray]:
    """Per recording, probabilities by an aggregation fitted on the other folds of these recordings
    (stratified by label), and the labels: an honest score of a fitted aggregation where no recordings
    outside these can fit it (a cross-validation fold's held-out recordings). `applied_to`: other
    probabilities of the same windows (the int8 model's) that each fold's map, fitted on `probs`, reads."""
    from sklearn.model_selection import StratifiedKFold

    p, y, r = np.asarray(probs), np.asarray(labels), np.asarray(records)
    q = p if applied_to is None else np.asarray(applied_to)
    _, _, first = window_summaries(p, r)
    names, y_rec = r[first], y[first]
    if method == "mean":
        return recording_probabilities(q, r)[0], y_rec
    out = np.zeros((len(names), p.shape[1]), dtype=np.float32)
    for fit_idx, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(names, y_rec):
        rows = np.isin(r, names[fit_idx])
        agg = fit(p[rows], y[rows], r[rows], method, eps=eps)
        held_rows = np.isin(r, names[held])
        out[held] = recording_probabilities(q[held_rows], r[held_rows], agg)[0]
    return out, y_rec
