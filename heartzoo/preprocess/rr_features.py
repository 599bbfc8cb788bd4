"""RR features: the rhythm a beat comes in, as a beat model's second input.

Per beat, `rr_intervals` gives the intervals in seconds (before and after the beat, the running means of
10 and 300, the irregularity, the history); `rr_ratios` makes the ratios the model sees. Training
(after the frame cache, `with_rr_context`), a recording's `Preprocessor` and the firmware kit compute
them by the one definition below, which the contract carries as text and feature names.
"""

from __future__ import annotations

import numpy as np

RR_FEATURES = ("pre/local10", "post/local10", "pre/local300", "post/local300")
#: the long horizon's name in the RR features, by `rr_normaliser`
LONG_NAMES = {"mean": "local300", "median": "median300"}
LONG_BEATS = 300
RR_IRREGULARITY = "irregularity10"
RR_EPS = 1e-3  # seconds added to each mean RR before dividing
#: columns of `rr_intervals` every prepared beat keeps: four in seconds, then the irregularity (a ratio);
#: with `rr_history` k, k more follow (the intervals before the beat's own, in seconds)
RR_COLUMNS = 5
MAX_RR_HISTORY = 32
IRREGULARITY_BEATS = 10
RR_DEFINITION = (
    "pre/post: RR interval (s) before/after the beat; local10/local300: mean of the last 10/300 RR "
    "intervals up to and including pre; each ratio uses the mean + 0.001 s"
)
IRREGULARITY_DEFINITION = (
    f"irregularity10: over the last {IRREGULARITY_BEATS} RR intervals before pre (fewer at a recording's "
    "start), the lower median of the absolute differences of successive intervals over their mean + "
    "0.001 s (0 with fewer than 2 intervals)"
)
MEDIAN_DEFINITION = (
    "median300: the lower median (the middle value, or the smaller of the two) of the last 300 RR "
    "intervals up to and including pre, in place of their mean"
)
HISTORY_DEFINITION = (
    "pre-j/local300 (pre-j/median300): the RR interval j beats before the beat's own pre over the same "
    "long horizon as pre/local300 (pre/median300) (at a recording's start, where there is none, the first "
    "beat's pre)"
)


def rr_feature_names(
    irregularity: bool = False, history: int = 0, normaliser: str = "mean"
) -> tuple[str, ...]:
    """The RR input's features, in order: the four ratios, the irregularity, then the history; the long
    horizon is named by its normaliser (local300: the mean, median300: the median)."""
    long = LONG_NAMES[normaliser]
    four = (*RR_FEATURES[:2], f"pre/{long}", f"post/{long}")
    extra = (RR_IRREGULARITY,) if irregularity else ()
    return four + extra + tuple(f"pre-{j}/{long}" for j in range(1, history + 1))


def rr_history_of(order) -> int:
    """How many history features an RR input's feature names hold (a contract's `rr_features.order`)."""
    return sum(name.startswith("pre-") for name in order)


def rr_normaliser_of(order) -> str:
    """The long horizon's normaliser an RR input's feature names say (a contract's `rr_features.order`)."""
    return "median" if f"pre/{LONG_NAMES['median']}" in order else "mean"


def rr_intervals(samples: np.ndarray, fs: float, history: int = 0, normaliser: str = "mean") -> np.ndarray:
    """Per beat, in seconds: previous RR, next RR, mean of the last 10 RRs, mean (or, with `normaliser`
    median, the median) of the last 300 RRs; then the rhythm's irregularity before the beat
    (`rr_irregularity`, a ratio); then, with `history`, that many earlier intervals (`with_rr_context`).

    The means and the irregularity are causal (only past beats), as firmware can compute them; the
    next RR costs one beat of latency, less than the half frame after the R-peak the model already
    waits for.
    """
    s = np.asarray(samples, dtype=np.float64) / fs
    n = len(s)
    if n < 2:
        return np.zeros((n, RR_COLUMNS + history), dtype=np.float32)
    rr = np.diff(s)
    pre = np.concatenate([[rr[0]], rr])
    post = np.concatenate([rr, [rr[-1]]])
    csum = np.concatenate([[0.0], np.cumsum(pre)])
    idx = np.arange(n)

    def running_mean(window: int) -> np.ndarray:
        lo = np.maximum(idx + 1 - window, 0)
        return (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)

    columns = [pre, post, running_mean(10), running_mean(LONG_BEATS), rr_irregularity(pre)]
    return with_rr_context(np.stack(columns, axis=1), np.zeros(n, dtype="<U1"), history, normaliser)


def with_rr_context(
    rr: np.ndarray, record: np.ndarray, history: int = 0, normaliser: str = "mean"
) -> np.ndarray:
    """`rr_intervals`' first columns, with what a beat's RR features read from its record's earlier beats:
    with `normaliser` median, column 3 becomes the running median of the last 300 `pre` (the beat's own
    included); with `history`, column RR_COLUMNS + j - 1 (j = 1..history) of beat i is the `pre` of beat
    i - j of the same record, or of the record's first beat where there is none. `rr` must hold whole
    records in beat order (in firmware, both come from the ring of the intervals the kit has seen)."""
    rr = np.array(rr, dtype=np.float32)[:, :RR_COLUMNS]  # a copy: the cache's array stays as it is
    pre, n = rr[:, 0], len(rr)
    first = np.flatnonzero(np.r_[True, record[1:] != record[:-1]]) if n else np.zeros(0, np.int64)
    if normaliser == "median":
        for a, b in zip(first, np.r_[first[1:], n], strict=True):
            rr[a:b, 3] = running_lower_median(pre[a:b], LONG_BEATS)
    elif normaliser != "mean":
        raise ValueError(f"unknown rr_normaliser {normaliser!r}; use 'mean' or 'median'")
    if not history:
        return rr
    start = np.repeat(first, np.diff(np.r_[first, n]))  # each beat's record's first beat
    idx = np.arange(n)
    back = np.stack([np.maximum(idx - j, start) for j in range(1, history + 1)], axis=1)
    return np.concatenate([rr, pre[back].reshape(n, history)], axis=1)


def running_lower_median(values: np.ndarray, window: int) -> np.ndarray:
    """Per index i, the lower median (the middle value, or the smaller of the two middle values) of
    values[max(0, i - window + 1) : i + 1]: one of the values, as firmware finds it in a sorted ring."""
    v = np.asarray(values)
    n = len(v)
    out = np.empty(n, dtype=v.dtype)
    for i in range(min(window - 1, n)):  # a recording's first beats: a shorter window
        out[i] = np.partition(v[: i + 1], i // 2)[i // 2]
    if n >= window:
        rows = np.lib.stride_tricks.sliding_window_view(v, window)  # row k: values k .. k + window - 1
        k = (window - 1) // 2
        out[window - 1 :] = np.partition(rows, k, axis=1)[:, k]
    return out


def rr_irregularity(pre: np.ndarray, beats: int = IRREGULARITY_BEATS) -> np.ndarray:
    """Per beat: over the `beats` RR intervals before its own (`pre[i - beats:i]`), the lower median of
    the absolute successive differences over their mean + RR_EPS.

    Atrial fibrillation makes every interval irregular, so a beat's short RR there says less about it
    being premature than in a steady rhythm; the beat's own interval is left out, and the median
    ignores the one or two jumps an earlier ectopic beat makes. The lower median (the middle value, or
    the smaller of the two) is what firmware computes with integers.
    """
    pre = np.asarray(pre, dtype=np.float64)
    n = len(pre)
    median, mean = np.zeros(n), np.zeros(n)
    for i in range(2, min(beats, n)):  # a recording's first beats: a shorter window
        d = np.sort(np.abs(np.diff(pre[:i])))
        median[i], mean[i] = d[(len(d) - 1) // 2], pre[:i].mean()
    if n > beats:
        view = np.lib.stride_tricks.sliding_window_view
        diffs = np.sort(view(np.abs(np.diff(pre)), beats - 1)[: n - beats], axis=1)  # row k: beat k + beats
        median[beats:], mean[beats:] = diffs[:, (beats - 2) // 2], view(pre, beats)[: n - beats].mean(axis=1)
    # the division in float32, as the ratios (`rr_ratios`) and the C kit make it
    return median.astype(np.float32) / (mean.astype(np.float32) + np.float32(RR_EPS))


def rr_ratios(rr: np.ndarray, irregularity: bool = False, history: int = 0) -> np.ndarray:
    """RR features the model sees: previous and next RR over the causal means of 10 and 300 RRs (or the
    median of 300, where `rr_intervals` put it); with `irregularity` the rhythm's irregularity before the
    beat (`rr_intervals`' fifth column); with `history` the intervals before the beat's own over the same
    long horizon (`with_rr_context`'s columns)."""
    rr = np.asarray(rr, dtype=np.float32)
    if irregularity and rr.shape[1] < RR_COLUMNS:
        raise ValueError(f"RR intervals of {rr.shape[1]} columns hold no irregularity: prepare them again")
    if rr.shape[1] < RR_COLUMNS + history:
        raise ValueError(
            f"RR intervals of {rr.shape[1]} columns hold no history of {history} beats: add it "
            "(`with_rr_context`) while the beats are whole records in order"
        )
    eps = np.float32(RR_EPS)
    local10, long = rr[:, 2:3] + eps, rr[:, 3:4] + eps  # long: the mean or the median of 300
    parts = [rr[:, 0:2] / local10, rr[:, 0:2] / long]
    if irregularity:
        parts.append(rr[:, 4:5])
    if history:
        parts.append(rr[:, RR_COLUMNS : RR_COLUMNS + history] / long)
    return np.concatenate(parts, axis=1).astype(np.float32)
