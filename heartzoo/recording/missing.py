"""Samples a recording's file marks missing: NaN in a .npy, CSV or MATLAB file, a CSV's empty cell, WFDB's
invalid value (a lead off), the gaps of an EDF+D file, a stretch a Polar strap's Bluetooth lost. They are a
stretch the line cannot read, not a reason to refuse the rest of the recording, as wfdb and WFDB's own
tools read them.

`fill` bridges each missing stretch with a straight line between the samples either side, so that no
filter rings at a step and no detector finds an edge there. `scan` then keeps no detected beat within
`MARGIN_S` of a missing stretch, cuts the stretch out of the rhythm episodes as too noisy, and tells the
user (`quality.missing_finding`); `label_beats` classifies no beat whose frame holds a stretch longer than
`BRIDGE_S`, nor the beats either side of any stretch (their RR inputs may span a beat it hid);
the annotation files write each stretch as WFDB noise (`~`), as they write an unreadable window.
"""

from __future__ import annotations

import numpy as np

#: a detected beat this close to a missing stretch is the bridge's edge, not a QRS complex
MARGIN_S = 0.15
#: a missing stretch at most this long (s) is read through: the beats whose frame holds it are classified,
#: but for the two beside it (`studies/missing_bridge.py`: 0.49 % of such beats change class on DS1)
BRIDGE_S = 0.1
#: a file whose samples cover less than this share of the span its clock gives is not one recording
#: (a corrupted time or length), and its missing stretches would only cost memory
MIN_HELD = 0.01
#: a file whose clock (an EDF+D file's onsets, a Polar file's timestamps, a multi-segment record's
#: lengths) spans longer than this is not one recording (a corrupted time or length)
MAX_SPAN_S = 31 * 86400.0

Stretches = tuple[tuple[int, int], ...]


def check_span(where, held_s: float, span_s: float, clock: str) -> None:
    """Refuse a file whose clock (`clock`: what gives its times, said in the error) spans longer than
    MAX_SPAN_S, or whose `held_s` seconds of samples cover less than MIN_HELD of the `span_s` it gives: not
    one recording but a corrupted time or length, whose missing stretches would only cost memory."""
    from ..errors import HeartzooError

    if span_s > MAX_SPAN_S:
        raise HeartzooError(
            f"{where}: its {clock} span {span_s / 86400:.0f} days: not one recording (a corrupted time or length?)"
        )
    if held_s < MIN_HELD * span_s:
        raise HeartzooError(
            f"{where}: its samples cover {100 * held_s / span_s:.2g} % of the {_duration(span_s)} its {clock} "
            "span: not one recording (a corrupted time or length?)"
        )


def placed(firsts, sizes) -> np.ndarray:
    """Where each sample of a file whose clock jumps lies on the recording's grid: stretch k, of `sizes[k]`
    samples, from where its clock puts its first (`firsts[k]`, in samples after the file's first), never
    over the stretch before. The places between stretches are the missing samples (a CSV's time column,
    a Polar strap's sensor timestamps)."""
    places, n, end = np.empty(int(np.sum(sizes)), dtype=np.int64), 0, 0
    for first, size in zip(firsts, sizes, strict=True):
        at = max(end, int(first))
        places[n : n + size] = at + np.arange(size)
        n, end = n + size, at + size
    return places


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def stretches(mask: np.ndarray) -> Stretches:
    """(start, end) samples, end exclusive, of each run of True in `mask`."""
    edges = np.diff(np.r_[0, np.asarray(mask, dtype=np.int8), 0])
    return tuple(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def fill(x: np.ndarray) -> tuple[np.ndarray, Stretches]:
    """(the lead with its NaN samples bridged, the missing stretches); a lead without NaN is returned as
    it is. A reader first refuses a lead of no sample, naming its file."""
    from ..errors import HeartzooError

    bad = np.isnan(x)
    if not bad.any():
        return x, ()
    if bad.all():
        raise HeartzooError(f"every one of the lead's {len(x):,} samples is missing (NaN)")
    spans = stretches(bad)
    x = np.array(x, copy=True)
    n = len(x)
    for a, b in spans:
        left = x[a - 1] if a > 0 else x[b]
        right = x[b] if b < n else left
        x[a:b] = np.linspace(left, right, b - a + 2, dtype=np.float64)[1:-1]
    return x, spans


def of_array(signal) -> tuple[object, Stretches]:
    """(`signal` with its NaN samples bridged, the missing stretches) where it is one lead of floats (a
    column or a row too) that holds NaN (a lead given to the Python API); any other `signal` as it is, with
    none."""
    if isinstance(signal, np.ndarray) and signal.dtype.kind == "f" and np.isnan(signal).any():
        if signal.ndim == 2 and 1 in signal.shape:  # one lead as a column or a row, as `predict` takes it
            signal = signal.ravel()
        if signal.ndim == 1:  # any other shape is refused, by name, where the lead is checked
            return fill(np.asarray(signal, dtype=np.float32))
    return signal, ()


def merged(*groups) -> Stretches:
    """The union of groups of (start, end) stretches, as sorted stretches that neither overlap nor touch."""
    out: list[tuple[int, int]] = []
    for s, e in sorted((int(s), int(e)) for group in groups for s, e in group):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)


def taking_in(spans: Stretches, peaks) -> Stretches:
    """`spans` each widened to take in those of `peaks` nearest it (the beats it left unclassified, so
    that the stretch written as unreadable holds them), merged."""
    peaks = np.asarray(peaks, dtype=np.int64)
    if not spans or not len(peaks):
        return merged(spans)
    edges = np.array(sorted(spans), dtype=np.int64)
    lo, hi = edges[:, 0].copy(), edges[:, 1].copy()
    j = np.searchsorted(lo, peaks, side="right") - 1  # the last stretch starting at or before each peak
    before, after = np.maximum(j, 0), np.minimum(j + 1, len(edges) - 1)
    to_before = np.where(j >= 0, np.maximum(peaks + 1 - hi[before], 0), np.iinfo(np.int64).max)
    to_after = np.where(j + 1 < len(edges), lo[after] - peaks, np.iinfo(np.int64).max)
    k = np.where(to_before <= to_after, before, after)
    np.minimum.at(lo, k, peaks)
    np.maximum.at(hi, k, peaks + 1)
    return merged(tuple(zip(lo.tolist(), hi.tolist(), strict=True)))


def covered(samples: np.ndarray, spans: Stretches, margin: int = 0) -> np.ndarray:
    """Whether each sample lies in a stretch of `spans` (apart, as `stretches` and `merged` give them)
    widened by `margin` samples either side: one search per sample, however many stretches a day holds."""
    samples = np.asarray(samples, dtype=np.int64)
    if not spans:
        return np.zeros(len(samples), bool)
    edges = np.array(sorted(spans), dtype=np.int64)
    # the last stretch starting at or before each sample ends last of those (they do not overlap)
    i = np.searchsorted(edges[:, 0] - margin, samples, side="right") - 1
    return (i >= 0) & (samples < edges[np.maximum(i, 0), 1] + margin)


def unbridged(spans: Stretches, fs: float, bridge_s: float = BRIDGE_S) -> Stretches:
    """The stretches of `spans` longer than `bridge_s` seconds: those no classified beat's frame may hold."""
    longest = round(bridge_s * fs)
    return tuple((a, b) for a, b in spans if b - a > longest)


def restarts(peaks: np.ndarray, spans: Stretches) -> np.ndarray:
    """Indices of `peaks` (sorted) whose RR interval before overlaps a stretch of `spans` (apart, as
    `merged` gives them): where the signal was lost in between (a lead-off, an unreadable stretch), so the
    interval is no heart's and the rhythm must be read again from there, as firmware restarted would."""
    peaks = np.asarray(peaks, dtype=np.int64)
    if not spans or len(peaks) < 2:
        return np.zeros(0, np.int64)
    edges = np.array(spans, dtype=np.int64)
    first = np.searchsorted(edges[:, 1], peaks[:-1], side="right")  # the first stretch ending after a beat
    held = first < len(edges)
    return np.flatnonzero(held & (edges[np.minimum(first, len(edges) - 1), 0] < peaks[1:])) + 1


def beside(peaks: np.ndarray, spans: Stretches, margin: int) -> np.ndarray:
    """Whether each of `peaks` (sorted) has an RR interval, before or after, that overlaps a stretch of
    `spans` widened by `margin` samples: a beat the stretch hid would lie in that interval."""
    peaks = np.asarray(peaks, dtype=np.int64)
    if not spans or not len(peaks):
        return np.zeros(len(peaks), bool)
    edges = np.array(spans, dtype=np.int64)
    # from the beat before each widened stretch to the beat after it: +1 and -1 in a running sum
    first = np.maximum(np.searchsorted(peaks, edges[:, 0] - margin, side="left") - 1, 0)
    last = np.minimum(np.searchsorted(peaks, edges[:, 1] + margin, side="right") + 1, len(peaks))
    steps = np.zeros(len(peaks) + 1, np.int64)
    np.add.at(steps, first, 1)
    np.add.at(steps, last, -1)
    return np.cumsum(steps[:-1]) > 0


def clear(starts: np.ndarray, n: int, spans: Stretches) -> np.ndarray:
    """Whether each window [start, start + n) holds no sample of `spans` (apart and sorted, as `stretches`
    and `merged` give them): one search per window, however many stretches a day holds."""
    starts = np.asarray(starts, dtype=np.int64)
    if not spans:
        return np.ones(len(starts), bool)
    edges = np.array(sorted(spans), dtype=np.int64)
    # the last stretch starting before a window's end is the only one that can still reach into it
    i = np.searchsorted(edges[:, 0], starts + n, side="left") - 1
    return (i < 0) | (edges[np.maximum(i, 0), 1] <= starts)


def less(spans: Stretches, minus: Stretches) -> Stretches:
    """The parts of each of `spans` outside every stretch of `minus` (both sorted, as these are)."""
    out = []
    for a, b in spans:
        for c, d in minus:
            if c < b and d > a:  # cut out: keep what lies before it, go on after it
                out += [(a, c)] if c > a else []
                a = max(a, d)
        out += [(a, b)] if b > a else []
    return tuple(out)


def overlap(spans: Stretches, start: int, end: int) -> int:
    """Samples of [start, end) that lie in `spans`."""
    return sum(max(0, min(b, end) - max(a, start)) for a, b in spans)


def episodes(found, spans: Stretches) -> tuple:
    """Rhythm episodes (`rhythm_annotation.Episode`, consecutive) with each missing stretch cut out of
    them as an episode of its own, labelled too noisy (`~`, of no window of the model: it read a straight
    line there); each part either side is given the windows that read any of it, and their mean
    probability (a window across the stretch counts in both parts)."""
    from dataclasses import replace

    def part(e, a: int, b: int):
        if not e.window_starts:  # an episode made without its windows keeps their number
            return replace(e, start=a, end=b)
        ends = (*e.window_starts[1:], e.end)
        read = [
            q
            for s, t, q in zip(e.window_starts, ends, e.window_probabilities, strict=True)
            if s < b and t > a
        ]
        return replace(
            e, start=a, end=b, windows=len(read), probability=float(np.mean(read)) if read else 0.0
        )

    if not spans:
        return tuple(found)
    out = []
    for e in found:
        at = e.start
        for a, b in spans:
            a, b = max(a, e.start), min(b, e.end)
            if a >= b:
                continue
            if a > at:
                out.append(part(e, at, a))
            out.append(
                replace(
                    e,
                    start=a,
                    end=b,
                    label="~",
                    windows=0,
                    probability=0.0,
                    window_starts=(),
                    window_probabilities=(),
                )
            )
            at = b
        if at < e.end:
            out.append(part(e, at, e.end))
    return tuple(out)
