"""Was a lead given as the models read it: in mV, at its own rate, its R peaks beats alone, upright? What
the peaks and the lead at them say, as sentences: `heartzoo.predict` warns with them (a model answers
whatever it is given, and a wrong answer looks like any other), and `annotate` says the same among its
findings (`recording.quality`, `recording.scan`)."""

from __future__ import annotations

import numpy as np

from . import MIN_RR_S

#: readable rates (beats per minute): Orphanidou's 40-180, widened to the rates MIT-BIH holds (a
#: ventricular run, a sinus bradycardia)
MIN_BPM, MAX_BPM = 30.0, 220.0
#: a QRS complex's size is its peak-to-peak within this of its R peak (`qrs_size`), and the plausible
#: median size in mV: outside it the lead is likely not in mV (studies/amplitude_check.py,
#: results/amplitude_check.jsonl: DS1 and svdb, 0.5th and 99.5th percentiles, divided and multiplied by 5;
#: every recording of theirs read in µV or in V is outside, none of DS2, Icentia11k, aftdb, CinC 2017's test)
QRS_HALF_S = 0.06
QRS_AMPLITUDE_MV = (0.086, 22.51)
#: a beat points down where the lead at its R peak is below the lead's median within `POLARITY_HALF_S`;
#: a recording whose share of such beats is at least `DOWN_SHARE` is said to point down
#: (studies/polarity.py: the beat models, which learnt MLII's upright beats, lose 0.13 of macro-F1 on their
#: validation patients turned over; the detector moves a lead's beats all up or all down, so the share is
#: near 0 or 1, though 11 of 100 development records are mixed beat by beat: studies/polarity_cuts.py)
POLARITY_HALF_S = 0.3
DOWN_SHARE = 0.5
#: the beats a measure reads, evenly spread over the recording: enough for a median or a share, and never
#: a day's every beat
MEASURED_BEATS = 2000


def _spread(peaks) -> np.ndarray:
    p = np.asarray(peaks, dtype=np.int64)
    return (
        p if len(p) <= MEASURED_BEATS else p[np.linspace(0, len(p) - 1, MEASURED_BEATS).round().astype(int)]
    )


def down_share(x, fs: float, peaks) -> float | None:
    """The share of `peaks` (at most `MEASURED_BEATS` of them) where the lead points down; None without
    peaks. `x` is read in stretches (a reader's checked lead is never read whole)."""
    h = round(POLARITY_HALF_S * fs)
    signs = [
        (w := np.asarray(x[max(0, p - h) : p + h + 1]))[min(p, h)] < np.median(w) for p in _spread(peaks)
    ]
    return float(np.mean(signs)) if signs else None


def qrs_size(x, fs: float, peaks) -> float | None:
    """The median peak-to-peak of the lead within `QRS_HALF_S` of `peaks` (at most `MEASURED_BEATS`), in
    the lead's units; None without peaks."""
    h = max(1, round(QRS_HALF_S * fs))
    sizes = [np.ptp(np.asarray(x[max(0, p - h) : p + h + 1])) for p in _spread(peaks)]
    return float(np.median(sizes)) if sizes else None


def unit_doubt(size: float | None) -> str | None:
    """What a user must be told of QRS complexes of median size `size` (`qrs_size`) outside what ECGs
    show in mV, or None."""
    lo, hi = QRS_AMPLITUDE_MV
    if size is None or lo <= size <= hi:
        return None
    if size == 0:  # no unit makes a flat stretch a QRS: what was detected there is no beat
        return "the lead holds one value where the beats were found (0 from peak to peak): is the lead connected?"
    return (
        f"the QRS complexes are {size:,.4g} mV from peak to peak (median), outside the {lo:g}-{hi:g} mV ECGs "
        "show in mV: is the lead in µV or V? heartzoo reads mV"
    )


def polarity_doubt(share: float | None) -> str | None:
    """What a user of a beat model must be told of a recording whose beats point down (`down_share`)."""
    if share is None or share < DOWN_SHARE:
        return None
    return (
        f"{share:.0%} of the beats point down as the lead is read: the beat models learnt MLII, whose beats "
        "point up, and read a lead the other way round much worse (docs/recordings.md). If it is inverted "
        "(electrodes swapped, a device held the other way), turn it over: annotate --invert (or without "
        "it, where it was given), or the signal's negative in Python"
    )


def beat_doubts(x, fs: float, peaks) -> list[str]:
    """What R peaks and the lead at them say was given wrong to a beat model: peaks closer than a heart
    beats (annotations that are not beats), a median rate no heart keeps for long (a wrong `fs`), QRS
    complexes too small or too large for mV, beats pointing down. `x` is read in stretches."""
    p = np.asarray(peaks, dtype=np.int64)
    if len(p) < 2:
        return []
    out = []
    rr = np.diff(p) / fs
    close = np.flatnonzero(rr < MIN_RR_S)
    if close.size:
        i = int(close[0])
        out.append(
            f"{close.size:,} pair(s) of R peaks closer than {MIN_RR_S * 1000:g} ms, the first r_peaks[{i}] and "
            f"[{i + 1}] ({rr[i] * 1000:.3g} ms apart): no heart beats twice so soon. Are they all beats? A "
            "WFDB annotation file holds rhythm, noise and other annotations too: keep its beat symbols"
        )
    bpm = 60.0 / float(np.median(rr))
    if not MIN_BPM <= bpm <= MAX_BPM:
        out.append(
            f"the R peaks are {bpm:.0f} per minute (median) at the stated {fs:g} Hz, outside the {MIN_BPM:g}-"
            f"{MAX_BPM:g} a heart keeps: is fs the recording's sampling rate?"
        )
    return out + [d for d in (unit_doubt(qrs_size(x, fs, p)), polarity_doubt(down_share(x, fs, p))) if d]
