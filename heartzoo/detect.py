"""R-peak detection: a registry of QRS detectors behind one call, `detect(signal, fs, method=...)`.

A detector is any callable `(signal, fs) -> sample indices` (the `Detector` protocol); `register` adds
one under a name. Every detector gets the same checked input (one finite, non-flat lead of at least
`MIN_SECONDS`), runs at its own sampling rate where it declares one (the lead is resampled and the
peaks mapped back), and its beats are then moved onto the R wave of the recording itself with WFDB's
`correct_peaks` (the largest deflection from the local baseline within 50 ms), the fiducial point of
the MIT-BIH reference annotations that the classifiers were trained on.

Built in:
- `pan-tompkins` (default): Pan & Tompkins (1985), IEEE TBME 32(3):230-236, in its usual form: 5-15 Hz
  band-pass, derivative, squaring, 150 ms moving-window integration; adaptive signal/noise peak levels
  with the 0.25 threshold, a 200 ms refractory period, T-wave rejection (a peak within 360 ms of the last
  QRS with less than half its slope, or half the median slope of the last 8 QRS complexes if larger: a
  PVC's shallow slope let its own T wave through), and search-back at the half threshold after 1.66 median
  RR, which never takes a T wave either (the pause after a PVC sent it to the PVC's T wave; chosen by
  studies/detector_twave.py's rule: 10 % fewer false detections on DS1 and svdb for 14 missed beats).
  Filters are zero-phase, so it runs at any rate (no resampling). Made robust to what a wearable records
  (the paper's levels never recover from an artifact: on an Icentia11k patch whose first 40 s hold one it
  found 52 of 5,608 beats): the levels start from the median of the per-second maxima, not the maximum of
  the first 2 s; an artifact moves the signal level by at most 2x per beat; a level that finds nothing for
  1.66 RR, even by search-back, decays towards the local QRS level (half the median of the per-second
  maxima within 8 s); a gap over 3 s is not taken as an RR interval; and where the lead holds one value
  (off, or not yet on the skin) the filters' round-off is no beat (`_ROUND_OFF`). Then an extra beat is noise
  (Lipponen & Tarvainen, J Med Eng Technol 43(3):173-181, 2019): a detection under half the local median
  RR (of the 9 intervals around it) from a neighbour, whose two intervals add up to that median within
  20 % (no pause after it, as a premature beat has), smaller in the 5-15 Hz band than both neighbours, and
  shaped like none of the 16 detections either side (correlation under 0.9: an interpolated PVC or a
  couplet of APCs recurs, noise does not); it reads the beats after a detection, so a streaming port
  decides about 16 beats late. Chosen by studies/detector_noise.py's rule on the training side: it removes
  29 % of the false detections in muscle and motion noise for under 0.02 point of Se.
- `xqrs`: WFDB's XQRS (`wfdb.processing.XQRS`, quiet).
- `gqrs`: WFDB's GQRS (`wfdb.processing.gqrs_detect`, a port of PhysioNet's gqrs).
Their QRS Se/+P on mitdb, svdb, the Icentia11k segments and noisy DS2 are in
results/detector.jsonl (`python studies/detector.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .errors import HeartzooError

MIN_SECONDS = 5.0
DEFAULT = "pan-tompkins"
#: `detect` reads a longer lead in chunks of this many seconds (every recording measured here is shorter)
CHUNK_S = 2 * 3600.0
CHUNK_PAD_S = 60.0
#: no two beats closer than this (Pan & Tompkins' refractory period)
_REFRACTORY_S = 0.2


class Detector(Protocol):
    """What `register` takes: a function of one lead and its rate that returns its R peaks."""

    def __call__(self, signal: np.ndarray, fs: float) -> np.ndarray:
        """Sample indices of the QRS complexes of one lead at `fs` Hz."""


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    fn: Detector
    description: str
    #: the rate the detector runs at (the lead is resampled to it), or None for any rate
    fs: float | None = None


DETECTORS: dict[str, DetectorSpec] = {}


def register(name: str, description: str, *, fs: float | None = None) -> Callable[[Detector], Detector]:
    """Decorator: add a detector under `name` (replacing one of the same name)."""

    def add(fn: Detector) -> Detector:
        DETECTORS[name] = DetectorSpec(name, fn, description, fs)
        return fn

    return add


def check_signal(signal, fs, *, min_seconds: float = MIN_SECONDS) -> tuple[np.ndarray, float]:
    """One lead as float32 (not copied when it is: a day's lead is read once) and its rate, or a
    HeartzooError naming what is wrong with them: what any recording must be (`preprocess.check_recording`),
    and what detection needs besides. Each detector reads its stretch as float64 (`_detect`)."""
    from .preprocess import check_recording

    x, rate, _ = check_recording(signal, fs, np.zeros(0, np.int64))  # a rate, not flat
    if len(x) < min_seconds * rate:
        held = int(len(x) / rate * 100) / 100  # rounded down: 1,799 samples at 360 Hz are not "5.00 s"
        raise HeartzooError(
            f"recording is {held:.2f} s long ({len(x):,} samples at {rate:g} Hz); beat detection "
            f"needs at least {min_seconds:g} s"
        )
    return x, rate


def detect(
    signal, fs: float, method: str = DEFAULT, *, min_seconds: float = MIN_SECONDS, chunk_s: float = CHUNK_S
) -> np.ndarray:
    """R-peak sample indices (int64, increasing) of one lead in mV at `fs` Hz, by the detector `method`
    (pan-tompkins and xqrs read any unit; gqrs's thresholds are in mV, so a lead whose size gives it away
    as µV or V is read in mV for it). A lead longer than `chunk_s` seconds is detected in chunks of that
    length, each read with `CHUNK_PAD_S` of its neighbours either side (where Pan-Tompkins' levels settle: on MIT-BIH records cut
    into 10-minute chunks it finds the beats of one pass; gqrs's levels adapt over minutes, and differ in a
    few beats) and keeping the beats of its own stretch: a detector holds several float64 copies of what it
    reads, so its memory stays that of two hours however long the recording (benchmarks/annotate_long.py)."""
    if method not in DETECTORS:
        raise HeartzooError(f"unknown detector {method!r}; known: {', '.join(sorted(DETECTORS))}")
    x, rate = check_signal(signal, fs, min_seconds=min_seconds)
    spec = DETECTORS[method]
    n = max(1, round(chunk_s * rate))
    if len(x) <= n:
        return _detect(x, rate, spec)
    parts = []
    for lo, start, end, hi in chunks(len(x), n, round(CHUNK_PAD_S * rate)):
        found = _detect(x[lo:hi], rate, spec) + lo
        parts.append(found[(found >= start) & (found < end)])
    peaks = np.concatenate(parts)
    # a beat on a seam, found by both chunks a sample apart, is one beat: keep the first
    seams = np.cumsum([len(p) for p in parts[:-1]])
    seams = seams[(seams > 0) & (seams < len(peaks))]
    twice = seams[peaks[seams] - peaks[seams - 1] < round(_REFRACTORY_S * rate)]
    return np.delete(peaks, twice)


def chunks(length: int, size: int, pad: int) -> Iterator[tuple[int, int, int, int]]:
    """(lo, start, end, hi) of each stretch [start, end) of `size` samples of a signal of `length`, to be
    read as [lo, hi): with `pad` samples of its neighbours either side, where filters and levels settle."""
    for start in range(0, length, size):
        end = min(length, start + size)
        yield max(0, start - pad), start, end, min(length, end + pad)


def _detect(x: np.ndarray, rate: float, spec: DetectorSpec) -> np.ndarray:
    from wfdb.processing import correct_peaks

    x = np.asarray(x, dtype=np.float64)
    if spec.fs is not None and spec.fs != rate:
        from .preprocess import positions_at, resample

        found = positions_at(spec.fn(resample(x, rate, spec.fs).astype(np.float64), spec.fs), spec.fs, rate)
    else:
        found = np.asarray(spec.fn(x, rate), dtype=np.int64)
    found = np.unique(found[(found >= 0) & (found < len(x))])
    if not found.size:
        return found
    peaks = correct_peaks(
        x, found, search_radius=max(1, round(0.05 * rate)), smooth_window_size=max(2, round(0.4 * rate))
    )
    return np.unique(np.clip(np.asarray(peaks, dtype=np.int64), 0, len(x) - 1))


@register("xqrs", "WFDB XQRS (wfdb.processing.XQRS)")
def _xqrs(x: np.ndarray, fs: float) -> np.ndarray:
    from wfdb.processing import XQRS

    xqrs = XQRS(sig=x, fs=fs)
    xqrs.detect(verbose=False)  # it prints "Learning initial signal parameters..." otherwise
    return np.asarray(xqrs.qrs_inds, dtype=np.int64)


@register("gqrs", "WFDB GQRS (wfdb.processing.gqrs_detect)")
def _gqrs(x: np.ndarray, fs: float) -> np.ndarray:
    from wfdb.processing import gqrs_detect

    try:
        return np.asarray(gqrs_detect(sig=_in_mv(x, fs), fs=fs), dtype=np.int64)
    except Exception as exc:  # wfdb raises a bare Exception for a rate its filters cannot take (under ~58 Hz)
        if "too low" not in str(exc):
            raise
        raise HeartzooError(
            f"gqrs cannot read {fs:g} Hz (wfdb: {exc}); the pan-tompkins and xqrs detectors can"
        ) from None


def _in_mv(x: np.ndarray, fs: float) -> np.ndarray:
    """The lead in mV, for gqrs, whose thresholds are in mV (in µV it finds twice the beats, in V none):
    where the median peak-to-peak of its 2-s blocks (each holds a QRS above 30 bpm) is outside what ECGs
    show in mV (`plausibility.QRS_AMPLITUDE_MV`), it is read as µV or V, whichever factor of 1000 brings
    that size nearest to 1 mV."""
    from .preprocess.plausibility import QRS_AMPLITUDE_MV

    n = max(1, round(2 * fs))
    blocks = x[: len(x) // n * n].reshape(-1, n) if len(x) >= n else x.reshape(1, -1)
    size = float(np.median(np.ptp(blocks, axis=1)))
    lo, hi = QRS_AMPLITUDE_MV
    if lo <= size <= hi or size <= 0:
        return x
    return x / 1000.0 ** round(np.log10(size) / 3)


#: What keeps one artifact from blinding the detector: a peak many times a QRS moves the signal level by at
#: most `_SPIKE_CAP` per beat, and a level that finds no beat for `_RECOVER_RR` mean RR intervals decays by
#: `_DECAY` per candidate peak, down to the local level of the QRS complexes (`_local_levels`).
_SPIKE_CAP = 2.0
_RECOVER_RR = 1.66
_DECAY = 0.7
_LEVEL_S = 8.0
_FLOOR = 0.5
#: a gap longer than this is a stretch without readable beats, not a rhythm interval
_MAX_RR_S = 3.0
#: a peak of the integrated energy below this share of the lead's largest is the filters' round-off (an
#: amplitude a millionth of it): where a lead holds one value (off, or not yet on the skin) the levels,
#: local and relative, took that round-off, about 1e-30 of a QRS, for beats every 200 ms
_ROUND_OFF = 1e-12


def _second_maxima(mwi: np.ndarray, fs: float) -> np.ndarray:
    """The integrated signal's maximum in each second (the last, partial second included)."""
    n = max(1, round(fs))
    pad = (-len(mwi)) % n
    return np.pad(mwi, (0, pad), mode="edge").reshape(-1, n).max(axis=1)


def _local_levels(maxima: np.ndarray) -> np.ndarray:
    """Per second, the median of the per-second maxima within `_LEVEL_S` seconds either side: the height
    of the QRS complexes there wherever most seconds hold one, however large an artifact or long a pause
    (either fills fewer than half of the seconds)."""
    from numpy.lib.stride_tricks import sliding_window_view

    k = round(_LEVEL_S)
    padded = np.pad(maxima, (k, k), mode="reflect" if len(maxima) > k else "edge")
    return np.median(sliding_window_view(padded, 2 * k + 1), axis=1)


#: the default's extra-beat clause (`_pan_tompkins`'s `extra`), adopted by studies/detector_noise.py's
#: fourth round
EXTRA_BEAT = (0.5, 0.2, True, 0.9)
#: the default's T-wave clauses (`_pan_tompkins`'s `t_wave_median`, `t_wave_back`), adopted by
#: studies/detector_twave.py's second round
T_WAVE = {"t_wave_median": 8, "t_wave_back": True}


@register("pan-tompkins", "Pan & Tompkins (1985), zero-phase filters, artifact-robust levels, extra beats")
def pan_tompkins(x: np.ndarray, fs: float) -> np.ndarray:
    """The default detector: R-peak sample indices of one lead at `fs` Hz by Pan & Tompkins (1985), with
    the mends the module docstring lists (call it through `detect`, which checks the lead and chunks it)."""
    return _pan_tompkins(x, fs, extra=EXTRA_BEAT, **T_WAVE)


def _pan_tompkins(
    x: np.ndarray,
    fs: float,
    *,
    muscle: float | None = None,
    early: tuple[float, float] | None = None,
    baseline: tuple[float, float] | None = None,
    extra: tuple[float, float, bool] | tuple[float, float, bool, float] | None = None,
    extra_ends: str = "reflect",
    t_wave_median: int = 1,
    t_wave_back: bool = False,
) -> np.ndarray:
    """`pan_tompkins`, with the noise clauses studies/detector_noise.py screens: `muscle`, a candidate whose
    25-45 Hz energy within 100 ms exceeds `muscle` times its 5-15 Hz energy is muscle noise (from 100 Hz
    up); `early` = (rr, size), a candidate sooner than `rr` median RR intervals after the last QRS with a
    band-passed peak below `size` times the median of the last 8 QRS complexes' is noise; `baseline` =
    (ratio, pair_s), Hamilton & Tompkins' baseline-shift check (IEEE TBME 33(12), 1986; OSEA's BLSCheck): a
    QRS swings both ways, so a candidate whose band-passed slope within 110 ms either side lacks a rise and a
    fall each over 1/`ratio` of the other, less than `pair_s` apart, is a shift of the baseline (electrode
    motion) and noise, never searched back; `extra` = (short, tol, smaller), an extra beat by its RR
    intervals (Lipponen & Tarvainen, J Med Eng Technol 43(3), 2019): a detection less than `short` local
    median RR after the beat before it or before the beat after it, whose two intervals together are within
    `tol` of the local median (no pause follows: not a premature beat), is noise; with `smaller`, only where
    its band-passed peak is also below both neighbours'; with a fourth number `match`, never where its shape
    (the lead within 60 ms, less its linear trend) correlates at least `match` with one of the 16 detections
    either side (a recurring interpolated PVC or a couplet of APCs matches its kind; noise matches none);
    `extra_ends`: how its local median reads the intervals past a lead's ends ("edge", as it first did, is
    kept for studies/detector_edges.py); `t_wave_median` = k: the T-wave test compares a candidate's slope
    with the larger of the last QRS's and the median of the last k QRS complexes' (1: the last's alone, as
    Pan & Tompkins; a PVC's shallow slope lets its own T wave through, studies/detector_twave.py);
    `t_wave_back`: search-back never takes a candidate the T-wave test calls a T wave (the pause after a PVC
    sent search-back to the PVC's own T wave)."""
    from scipy.signal import butter, find_peaks, sosfiltfilt

    bp = sosfiltfilt(butter(2, [5.0, 15.0], btype="bandpass", fs=fs, output="sos"), x)
    slope = np.gradient(bp) * fs
    w = max(1, round(0.15 * fs))
    # centred integration window: its peak sits on the QRS, not half a window after it
    mwi = np.convolve(slope * slope, np.ones(w) / w, mode="same")
    refractory = round(_REFRACTORY_S * fs)
    cand, _ = find_peaks(mwi, distance=refractory)
    cand = cand[mwi[cand] > _ROUND_OFF * mwi.max()]
    if not cand.size:
        return cand
    heights = mwi[cand]
    # the steepest slope near each candidate, for telling a T wave from a QRS
    half = max(1, round(0.075 * fs))
    abs_slope = np.abs(slope)
    steep = np.array([abs_slope[max(0, c - half) : c + half + 1].max() for c in cand])
    # the studied noise clauses (off in `pan_tompkins`): each candidate's 100 ms either side
    muscular = muscle is not None and fs >= 100  # below 100 Hz there is no 25-45 Hz band
    near = max(1, round(0.1 * fs))
    windows = [slice(max(0, c - near), c + near + 1) for c in cand] if muscular or early else []
    hf_ratio = None
    if muscular:
        hf = sosfiltfilt(butter(2, [25.0, 45.0], btype="bandpass", fs=fs, output="sos"), x)
        hf_ratio = np.array([np.sum(hf[w] ** 2) / max(np.sum(bp[w] ** 2), 1e-12) for w in windows])
    size = np.array([np.abs(bp[w]).max() for w in windows]) if early is not None else None
    shift = _baseline_shifts(slope, cand, fs, *baseline) if baseline is not None else None
    # the initial levels and the floor the signal level decays to: a median of the per-second maxima
    # (the paper's maximum of the first 2 s is the artifact itself when a recording starts with one)
    level = _local_levels(_second_maxima(mwi, fs))
    second = np.minimum(cand // max(1, round(fs)), len(level) - 1)
    spk, npk = float(level[0]), 0.5 * float(np.median(mwi[: round(2 * fs)]))
    qrs: list[int] = []  # indices into cand

    def t_wave(i: int) -> bool:  # Pan & Tompkins: soon after the last QRS, under half its slope
        return (
            bool(qrs)
            and cand[i] - cand[qrs[-1]] < 0.36 * fs
            and steep[i] < 0.5 * _t_wave_slope(steep, qrs, t_wave_median)
        )

    noise: list[int] = []  # candidates since the last QRS, for search-back
    rr: list[float] = []  # plausible RR intervals only
    for i, c in enumerate(cand):
        thr = npk + 0.25 * (spk - npk)
        last = cand[qrs[-1]] if qrs else 0
        mean_rr = float(np.median(rr[-8:])) if rr else fs  # 60 bpm until two beats are found
        if c - last > _RECOVER_RR * mean_rr:
            # search back: the largest noise peak above half the threshold since the last QRS
            back = [
                j
                for j in noise
                if cand[j] - last > refractory and heights[j] > 0.5 * thr and not (t_wave_back and t_wave(j))
            ]
            if back:
                j = max(back, key=lambda k: heights[k])
                spk = 0.25 * min(heights[j], _SPIKE_CAP * spk) + 0.75 * spk
                if qrs and cand[j] - last < _MAX_RR_S * fs:
                    rr.append(float(cand[j] - last))
                qrs.append(j)
                noise = [k for k in noise if k > j]
            else:
                # nothing near the threshold for that long: the level was set by an artifact (or the
                # signal shrank); lower it, never below half the local QRS level, until beats are found
                spk = max(npk, _FLOOR * level[second[i]], _DECAY * spk)
            thr = npk + 0.25 * (spk - npk)
        if heights[i] > thr:
            if t_wave(i):
                npk = 0.125 * min(heights[i], spk) + 0.875 * npk  # a T wave
                continue
            if hf_ratio is not None and hf_ratio[i] > muscle:
                npk = 0.125 * min(heights[i], spk) + 0.875 * npk  # muscle noise, never searched back
                continue
            if shift is not None and shift[i]:
                npk = 0.125 * min(heights[i], spk) + 0.875 * npk  # a baseline shift, never searched back
                continue
            if (
                early is not None
                and len(qrs) >= 8
                and c - cand[qrs[-1]] < early[0] * mean_rr
                and size[i] < early[1] * float(np.median(size[qrs[-8:]]))
            ):
                npk = 0.125 * heights[i] + 0.875 * npk
                noise.append(i)
                continue
            spk = 0.125 * min(heights[i], _SPIKE_CAP * spk) + 0.875 * spk
            if qrs and c - cand[qrs[-1]] < _MAX_RR_S * fs:
                rr.append(float(c - cand[qrs[-1]]))
            qrs.append(i)
            noise = []
        else:
            npk = 0.125 * heights[i] + 0.875 * npk
            noise.append(i)
    beats = cand[np.unique(np.asarray(qrs, dtype=np.int64))]
    return beats if extra is None else _without_extra_beats(beats, x, bp, fs, *extra, ends=extra_ends)


def _t_wave_slope(steep: np.ndarray, qrs: list[int], k: int) -> float:
    """The QRS slope the T-wave test halves: the last QRS's, or the median of the last `k`'s if larger."""
    last = float(steep[qrs[-1]])
    return last if k <= 1 else max(last, float(np.median(steep[qrs[-k:]])))


def _without_extra_beats(
    beats: np.ndarray,
    x: np.ndarray,
    bp: np.ndarray,
    fs: float,
    short: float,
    tol: float,
    smaller: bool,
    match: float | None = None,
    *,
    ends: str = "reflect",
):
    """`beats` less those `_pan_tompkins`'s `extra` clause reads as noise, in one pass: each judged against
    the last beat kept before it and the next detection after it, the local median RR the median of the 9
    intervals around it."""
    from numpy.lib.stride_tricks import sliding_window_view

    if len(beats) < 3:
        return beats
    shapes = _shapes(x, beats, fs) if match is not None else None
    rr = np.diff(beats).astype(np.float64)
    # reflected at the lead's ends, as `_local_levels` is: repeating the first or last interval would make
    # the two short intervals of an extra beat there the median, and keep it
    padded = np.pad(rr, (4, 4), mode=ends if len(rr) > 4 else "edge")
    med = np.median(sliding_window_view(padded, 9), axis=1)  # med[i]: around interval i
    half = max(1, round(0.05 * fs))
    size = np.array([np.abs(bp[max(0, b - half) : b + half + 1]).max() for b in beats]) if smaller else None
    keep = np.ones(len(beats), dtype=bool)
    prev = 0
    for i in range(1, len(beats) - 1):
        r1, r2, m = beats[i] - beats[prev], beats[i + 1] - beats[i], med[i]
        extra = min(r1, r2) < short * m and abs(r1 + r2 - m) <= tol * m
        if extra and shapes is not None:  # a shape that recurs near it is a beat of the patient's
            near = np.r_[max(0, i - 16) : i, i + 1 : min(len(beats), i + 17)]
            extra = float(np.max(shapes[near] @ shapes[i])) < match
        if extra and size is not None:
            extra = size[i] < min(size[prev], size[i + 1])
        if extra:
            keep[i] = False
        else:
            prev = i
    return beats[keep]


def _shapes(x: np.ndarray, beats: np.ndarray, fs: float) -> np.ndarray:
    """Each beat's lead within 60 ms either side, less its linear trend, to unit norm (rows): the dot
    product of two rows is their correlation."""
    h = max(2, round(0.06 * fs))
    idx = np.clip(beats[:, None] + np.arange(-h, h + 1), 0, len(x) - 1)
    w = x[idx]
    t = np.arange(-h, h + 1, dtype=np.float64)
    w = w - w.mean(axis=1, keepdims=True)
    w = w - np.outer(w @ t / (t @ t), t)
    norm = np.linalg.norm(w, axis=1, keepdims=True)
    return w / np.where(norm > 0, norm, 1.0)


def _baseline_shifts(
    slope: np.ndarray, cand: np.ndarray, fs: float, ratio: float, pair_s: float
) -> np.ndarray:
    """Per candidate, whether its slope within 110 ms either side fails Hamilton & Tompkins' test of a QRS:
    a largest rise and a largest fall, each over 1/`ratio` of the other, less than `pair_s` apart."""
    half = max(1, round(0.11 * fs))
    out = np.zeros(len(cand), dtype=bool)
    for i, c in enumerate(cand):
        w = slope[max(0, c - half) : c + half + 1]
        up, down = int(np.argmax(w)), int(np.argmin(w))
        rise, fall = max(float(w[up]), 0.0), max(-float(w[down]), 0.0)
        out[i] = not (rise * ratio > fall and fall * ratio > rise and abs(up - down) < pair_s * fs)
    return out
