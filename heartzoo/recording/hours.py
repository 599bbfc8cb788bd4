"""The hourly table of a Holter report, for `annotate` on a long recording: for each hour from the
recording's start, the beats classified (by class), the heart rate (the hour's mean, and its slowest and
fastest whole minute), the time the quality gate could not read, the pauses and ventricular runs that start
in it, with a rhythm model the time in atrial fibrillation, and the heart rate variability of its
normal beats (`Hrv`; the whole recording's is in the summary too). A Holter or a patch is read hour by
hour: a day's totals hide the night's pauses and the afternoon's run.

The heart rate counts the classified beats, so it is read only where the gate read the signal: an hour's
mean is its beats over its readable minutes, and a minute counts towards the slowest and fastest only when
all of it was readable (a minute half in noise would read as a slow heart).

Where the file gives the recording's start (`read.Recording.start`: a WFDB header's base time and date,
an EDF or BDF header's, an ISHNE file's), each hour also gives its start on the recorder's clock, as a
Holter report does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

HOUR_S = 3600.0
MINUTE_S = 60.0
#: SDANN's segments (Task Force 1996), and the least NN time variability is given for: the Task Force's
#: short-term recording, 5 minutes (over fewer beats it says more of the beats than of the heart)
SEGMENT_S = 300.0
MIN_NN_S = 300.0
#: the classes a normal beat is called by: beat-3 and aami-5's N, beat-2's normal
NORMAL = ("N", "normal")


@dataclass(frozen=True)
class Hrv:
    """Time-domain heart rate variability of NN intervals, as the Task Force of the ESC and NASPE defines
    it (Circulation 93(5):1043-1065, 1996): an NN interval joins two consecutive beats both classified
    normal, is shorter than a pause (`quality.GAP_S`: that long is a pause or a signal lost) and, with a
    rhythm model, lies outside atrial fibrillation (where the variability is the arrhythmia's). SDNN is the
    standard deviation of the NN intervals, RMSSD the root mean square of the differences of successive
    ones (both in ms), pNN50 the count of those differences over 50 ms (NN50) over the number of NN
    intervals (the Task Force's denominator: where ectopic beats part the NN intervals, fewer follow one
    another than there are), SDANN (a whole recording) the standard deviation of the mean NN interval of
    each whole 5-minute segment that has any (a recording's remainder is no segment). None where the NN
    intervals add up to less than `MIN_NN_S`."""

    intervals: int
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50: float | None
    sdann_ms: float | None = None

    def to_dict(self) -> dict:
        def r(v: float | None, digits: int = 1) -> float | None:
            return None if v is None else round(v, digits)

        return {
            "nn_intervals": self.intervals,
            "sdnn_ms": r(self.sdnn_ms),
            "rmssd_ms": r(self.rmssd_ms),
            "pnn50": r(self.pnn50, 4),
            "sdann_ms": r(self.sdann_ms),
        }


def nn_intervals(
    samples, classes, fs: float, af=None, unreadable=()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample of each NN interval's second beat, the interval in ms, whether the interval before it is NN
    too) of a recording's classified beats; `af`: (start, end) stretches of atrial fibrillation. No
    interval crosses one, nor an `unreadable` stretch, whose beats, if any, were not classified."""
    from .quality import GAP_S

    s, c = np.asarray(samples, dtype=np.int64), np.asarray(classes)
    if len(s) < 2:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    normal = np.isin(c, NORMAL)
    ok = normal[:-1] & normal[1:] & (np.diff(s) < GAP_S * fs)  # 3 s is a pause (`quality.gaps`), no NN
    for a, b in [*(af or ()), *unreadable]:
        ok &= (s[1:] <= a) | (s[:-1] >= b)  # neither end inside, nor across, the stretch
    at = np.flatnonzero(ok)
    successive = np.r_[False, ok[:-1]][at]
    return s[1:][at], 1000.0 * np.diff(s)[at] / fs, successive


def hrv(times, nn, successive, fs: float, *, length: int | None = None) -> Hrv:
    """`Hrv` of NN intervals (`nn_intervals`' three arrays); given the recording's `length` in samples,
    SDANN over its whole 5-minute segments from sample 0."""
    if float(np.sum(nn)) < 1000.0 * MIN_NN_S:
        return Hrv(len(nn), None, None, None)
    d = np.diff(nn)[successive[1:]]  # differences of intervals that follow one another
    seg = None
    if length is not None:
        key = np.asarray(times) // round(SEGMENT_S * fs)
        whole = np.unique(key[key < length // round(SEGMENT_S * fs)])
        means = [nn[key == k].mean() for k in whole]
        seg = float(np.std(means)) if len(means) > 1 else None
    return Hrv(
        intervals=len(nn),
        sdnn_ms=float(np.std(nn)) if len(nn) > 1 else None,
        rmssd_ms=float(np.sqrt(np.mean(d**2))) if len(d) else None,
        # "more than 50 ms": a difference of exactly 50 (18 samples at 360 Hz) is none, whatever float says
        pnn50=float(np.sum(np.round(np.abs(d), 6) > 50.0) / len(nn)) if len(d) else None,
        sdann_ms=seg,
    )


@dataclass(frozen=True)
class Hour:
    start: int  # sample
    end: int  # sample, exclusive
    counts: dict[str, int]  # beats classified, by class
    readable_s: float  # seconds a beat could be classified in (outside `Annotated.unreadable`)
    bpm: float | None  # beats per readable minute (None: nothing readable)
    bpm_min: int | None  # beats in the slowest whole readable minute (None: no such minute)
    bpm_max: int | None  # and in the fastest
    pauses: int  # pauses (`pauses.pauses`: `quality.GAP_S` or more between two beats) that start in the hour
    ventricular_runs: int | None  # runs of 3 or more V that start in it (None: a model without V)
    af_s: float | None  # seconds the rhythm model called AF (None: no rhythm model)
    hrv: Hrv | None = None  # of the NN intervals that end in the hour

    @property
    def beats(self) -> int:
        return sum(self.counts.values())

    def to_dict(self, fs: float, start: datetime | time | None = None) -> dict:
        return {
            "start_s": round(self.start / fs, 3),
            "clock": None if start is None else clock(start, self.start / fs).isoformat(timespec="seconds"),
            "seconds": round((self.end - self.start) / fs, 3),
            "beats": self.beats,
            "counts": self.counts,
            "readable_s": round(self.readable_s, 2),
            "bpm": None if self.bpm is None else round(self.bpm, 1),
            "bpm_min_minute": self.bpm_min,
            "bpm_max_minute": self.bpm_max,
            "pauses": self.pauses,
            "ventricular_runs": self.ventricular_runs,
            "af_s": None if self.af_s is None else round(self.af_s, 2),
            "hrv": None if self.hrv is None else self.hrv.to_dict(),
        }


def _overlap(spans, start: int, end: int) -> int:
    """Samples of `spans` ((start, end) each) inside [start, end)."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in spans)


def minute_rates(samples, length: int, fs: float, unreadable=()) -> tuple[np.ndarray, np.ndarray]:
    """(first sample of each whole minute from the recording's start, its beats: the heart rate of that
    minute, NaN where any of it was unreadable)."""
    minute = round(MINUTE_S * fs)
    starts = np.arange(0, length - minute + 1, minute, dtype=np.int64)
    edges = np.searchsorted(np.asarray(samples, dtype=np.int64), np.r_[starts, starts[-1:] + minute])
    rates = np.diff(edges).astype(np.float64)[: len(starts)]
    for a, b in unreadable:  # every minute the stretch touches
        rates[a // minute : -(-b // minute)] = np.nan
    return starts, rates


def hourly(
    samples,
    classes,
    class_names,
    length: int,
    fs: float,
    *,
    unreadable=(),
    pauses=(),
    runs=None,
    af=None,
) -> list[Hour]:
    """The hours of a recording of `length` samples at `fs` Hz (the last may be shorter): its classified
    beats (`samples`, and their `classes` by name), the gate's `unreadable` stretches, the `pauses`
    (`pauses.pauses`), the ventricular `runs` (None: the model has no V) and the rhythm model's `af`
    stretches (None: no rhythm model); stretches are (start, end) samples."""
    samples = np.asarray(samples, dtype=np.int64)
    classes = np.asarray(classes)
    hour, minute = round(HOUR_S * fs), round(MINUTE_S * fs)
    times, nn, successive = nn_intervals(samples, classes, fs, af, unreadable)
    minutes, rates = minute_rates(samples, length, fs, unreadable)
    out = []
    for start in range(0, max(length, 1), hour):
        end = min(start + hour, length)
        mine = slice(*np.searchsorted(samples, [start, end]))
        nn_mine = slice(*np.searchsorted(times, [start, end]))
        readable = (end - start - _overlap(unreadable, start, end)) / fs
        read = rates[(minutes >= start) & (minutes + minute <= end) & ~np.isnan(rates)]
        out.append(
            Hour(
                start=start,
                end=end,
                counts={c: int((classes[mine] == c).sum()) for c in class_names},
                readable_s=readable,
                bpm=MINUTE_S * (mine.stop - mine.start) / readable if readable > 0 else None,
                bpm_min=int(read.min()) if len(read) else None,
                bpm_max=int(read.max()) if len(read) else None,
                pauses=sum(start <= s < end for s, _ in pauses),
                ventricular_runs=None if runs is None else sum(start <= r.start < end for r in runs),
                af_s=None if af is None else _overlap(af, start, end) / fs,
                hrv=hrv(times[nn_mine], nn[nn_mine], successive[nn_mine], fs),
            )
        )
    return out


def _af(annotated) -> list[tuple[int, int]] | None:
    from .rhythm_annotation import AUX

    a = annotated
    return [(e.start, e.end) for e in a.rhythm if e.aux == AUX["A"]] if a.rhythm_model else None


def recording_hrv(annotated) -> Hrv:
    """The whole recording's `Hrv` (SDANN included) of an `annotation.Annotated`."""
    a = annotated
    nn = nn_intervals(a.samples, a.classes, a.fs, _af(a), a.unreadable())
    return hrv(*nn, a.fs, length=a.length)


def hours_of(annotated) -> list[Hour] | None:
    """The hours of an `annotation.Annotated` (None where its length is not known)."""
    a = annotated
    if a.length is None:
        return None
    af = _af(a)
    return hourly(
        a.samples,
        a.classes,
        a.class_names,
        a.length,
        a.fs,
        unreadable=a.unreadable(),
        pauses=a.pauses,
        runs=a.ventricular_runs,
        af=af,
    )


def clock(start: datetime | time, seconds: float) -> datetime | time:
    """The recorder's clock `seconds` after `start` (a time of day where the file gives no date)."""
    if isinstance(start, datetime):
        return start + timedelta(seconds=seconds)
    return (datetime.combine(date.min, start) + timedelta(seconds=seconds)).time()


def hours_table(hours: list[Hour], fs: float, start: datetime | time | None = None) -> list[str]:
    """The hourly table as the terminal prints it, one line an hour (from its clock time where `start`,
    the recording's, is known)."""
    lines = []
    for i, h in enumerate(hours):
        rate = "–" if h.bpm is None else f"{h.bpm:.0f}"
        if h.bpm_min is not None:
            rate += f" ({h.bpm_min}-{h.bpm_max})"
        at = "" if start is None else f" ({clock(start, h.start / fs).strftime('%H:%M')})"
        seconds = (h.end - h.start) / fs
        left = f"{seconds / MINUTE_S:.0f} min" if seconds >= MINUTE_S else f"{seconds:.0f} s"
        short = f", its last {left}" if seconds < HOUR_S else ""  # the recording ends in it
        parts = [
            f"hour {i}{at}{short}: {h.beats:,} beats",
            " ".join(f"{c} {n:,}" for c, n in h.counts.items()),
            f"{rate} bpm",
        ]
        if h.readable_s < (h.end - h.start) / fs:
            parts.append(f"{(h.end - h.start) / fs - h.readable_s:.0f} s unreadable")
        if h.pauses:
            parts.append(f"{h.pauses} pause(s)")
        if h.ventricular_runs:
            parts.append(f"{h.ventricular_runs} V run(s)")
        if h.af_s:
            parts.append(f"AF {h.af_s:.0f} s")
        if h.hrv is not None and h.hrv.sdnn_ms is not None:
            parts.append(f"SDNN {h.hrv.sdnn_ms:.0f} ms")
        lines.append(" · ".join(parts))
    return lines
