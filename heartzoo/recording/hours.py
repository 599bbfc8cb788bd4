"""The hourly table of a Holter report, for `annotate` on a long recording: for each hour from the
recording's start, the beats classified (by class), the heart rate (the hour's mean, and its slowest and
fastest whole minute), the time the quality gate could not read, the pauses and ventricular runs that start
in it, and, with a rhythm model, the time in atrial fibrillation. A Holter or a patch is read hour by hour:
a day's totals hide the night's pauses and the afternoon's run.

The heart rate counts the classified beats, so it is read only where the gate read the signal: an hour's
mean is its beats over its readable minutes, and a minute counts towards the slowest and fastest only when
all of it was readable (a minute half in noise would read as a slow heart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOUR_S = 3600.0
MINUTE_S = 60.0


@dataclass(frozen=True)
class Hour:
    start: int  # sample
    end: int  # sample, exclusive
    counts: dict[str, int]  # beats classified, by class
    readable_s: float  # seconds the gate read (all of the hour without a gate)
    bpm: float | None  # beats per readable minute (None: nothing readable)
    bpm_min: int | None  # beats in the slowest whole readable minute (None: no such minute)
    bpm_max: int | None  # and in the fastest
    pauses: int  # stretches without a detected beat (`quality.GAP_S` or more) that start in the hour
    ventricular_runs: int | None  # runs of 3 or more V that start in it (None: a model without V)
    af_s: float | None  # seconds the rhythm model called AF (None: no rhythm model)

    @property
    def beats(self) -> int:
        return sum(self.counts.values())

    def to_dict(self, fs: float) -> dict:
        return {
            "start_s": round(self.start / fs, 3),
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
        }


def _overlap(spans, start: int, end: int) -> int:
    """Samples of `spans` ((start, end) each) inside [start, end)."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in spans)


def hourly(
    samples,
    classes,
    class_names,
    length: int,
    fs: float,
    *,
    unreadable=(),
    gaps=(),
    runs=None,
    af=None,
) -> list[Hour]:
    """The hours of a recording of `length` samples at `fs` Hz (the last may be shorter): its classified
    beats (`samples`, and their `classes` by name), the gate's `unreadable` stretches, the `gaps` without a
    detected beat, the ventricular `runs` (None: the model has no V) and the rhythm model's `af` stretches
    (None: no rhythm model); stretches are (start, end) samples."""
    samples = np.asarray(samples, dtype=np.int64)
    classes = np.asarray(classes)
    hour, minute = round(HOUR_S * fs), round(MINUTE_S * fs)
    out = []
    for start in range(0, max(length, 1), hour):
        end = min(start + hour, length)
        mine = (samples >= start) & (samples < end)
        readable = (end - start - _overlap(unreadable, start, end)) / fs
        per_minute = [
            int(((samples >= m) & (samples < m + minute)).sum())
            for m in range(start, end - minute + 1, minute)
            if _overlap(unreadable, m, m + minute) == 0
        ]
        out.append(
            Hour(
                start=start,
                end=end,
                counts={c: int((classes[mine] == c).sum()) for c in class_names},
                readable_s=readable,
                bpm=MINUTE_S * int(mine.sum()) / readable if readable > 0 else None,
                bpm_min=min(per_minute, default=None),
                bpm_max=max(per_minute, default=None),
                pauses=sum(start <= s < end for s, _ in gaps),
                ventricular_runs=None if runs is None else sum(start <= r.start < end for r in runs),
                af_s=None if af is None else _overlap(af, start, end) / fs,
            )
        )
    return out


def hours_of(annotated) -> list[Hour] | None:
    """The hours of an `annotation.Annotated` (None where its length is not known)."""
    from .rhythm_annotation import AUX

    a = annotated
    if a.length is None:
        return None
    af = [(e.start, e.end) for e in a.rhythm if e.aux == AUX["A"]] if a.rhythm_model else None
    return hourly(
        a.samples,
        a.classes,
        a.class_names,
        a.length,
        a.fs,
        unreadable=a.windows.unreadable_stretches() if a.windows is not None else (),
        gaps=a.gaps,
        runs=a.ventricular_runs,
        af=af,
    )


def hours_table(hours: list[Hour], fs: float) -> list[str]:
    """The hourly table as the terminal prints it, one line an hour."""
    lines = []
    for i, h in enumerate(hours):
        rate = "–" if h.bpm is None else f"{h.bpm:.0f}"
        if h.bpm_min is not None:
            rate += f" ({h.bpm_min}-{h.bpm_max})"
        parts = [
            f"hour {i}: {h.beats:,} beats",
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
        lines.append(" · ".join(parts))
    return lines
