"""Runs of ventricular beats in a labelled recording: three or more consecutive beats called V, a
ventricular run; faster than 100 bpm it is ventricular tachycardia (VT) by the usual definition (three or
more consecutive ventricular complexes above 100 bpm: Zipes et al., ACC/AHA/ESC 2006 guidelines for the
management of patients with ventricular arrhythmias, Circulation 114:e385).

Why in `annotate`: the rhythm models (af-4, CinC 2017) have no VT class and call ventricular tachycardia
atrial fibrillation (af-4-cnn3-student v2: all 8 of MIT-BIH's VT windows, results/af_external.jsonl),
so a wearable would report VT as AF.
The beat model's V calls say what the rhythm model cannot: every run is listed in the JSON, and VT is a WFDB
comment at the run's first beat and a warning to review (it is only as good as the model's V calls:
on MIT-BIH a quarter of the recommended beat-3's VT runs are real, studies/vt_runs.py), which names any the
rhythm model called AF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tasks import VENTRICULAR_RUN_BEATS as MIN_BEATS
from ..tasks import VT_BPM


@dataclass(frozen=True)
class VentricularRun:
    start: int  # sample of its first beat
    end: int  # sample of its last beat
    beats: int
    rate_bpm: float  # over its beats: 60 (beats - 1) / (end - start) in seconds

    @property
    def tachycardia(self) -> bool:
        return self.rate_bpm > VT_BPM

    @property
    def note(self) -> str:
        kind = "VT" if self.tachycardia else "ventricular run"
        return f"{kind}: {self.beats} V beats at {self.rate_bpm:.0f} bpm"

    def to_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "beats": self.beats,
            "rate_bpm": round(self.rate_bpm, 1),
            "tachycardia": self.tachycardia,
        }


def ventricular_runs(peaks, is_v, fs: float, *, min_beats: int = MIN_BEATS) -> list[VentricularRun]:
    """The runs of `min_beats` or more consecutive beats among `peaks` (every R peak of the recording, in
    order) where `is_v`; a beat not called V, or not classified (an unreadable window), ends a run."""
    peaks = np.asarray(peaks, dtype=np.int64)
    v = np.asarray(is_v, dtype=bool)
    if len(peaks) != len(v):
        raise ValueError(f"{len(peaks)} peaks but {len(v)} V flags")
    edges = np.flatnonzero(np.diff(np.r_[0, v.astype(np.int8), 0]))
    out = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        n = int(stop - first)
        if n >= min_beats:
            start, end = int(peaks[first]), int(peaks[stop - 1])
            out.append(VentricularRun(start, end, n, 60.0 * (n - 1) * fs / max(1, end - start)))
    return out


def vt_finding(runs, fs: float, episodes=()):
    """The warning for the VT among `runs` (None without any): how many, the longest, and how many lie in
    an episode the rhythm model (`episodes`, `rhythm_annotation.Episode`) calls atrial fibrillation, or
    too noisy to read."""
    from .quality import Finding
    from .rhythm_annotation import AUX

    vt = [r for r in runs if r.tachycardia]
    if not vt:
        return None
    longest = max(vt, key=lambda r: r.beats)

    def inside(label: str) -> int:
        return sum(
            any(e.aux == AUX[label] and e.start <= r.end and r.start < e.end for e in episodes) for r in vt
        )

    in_af, in_noise = inside("A"), inside("~")
    message = (
        f"possible ventricular tachycardia, to review: {len(vt)} run{'s' if len(vt) > 1 else ''} of {MIN_BEATS} or more beats "
        f"called V above {VT_BPM:.0f} bpm, the longest {longest.beats} beats at {longest.rate_bpm:.0f} bpm "
        f"from {longest.start / fs:.1f} s"
    )
    if in_af:
        message += (
            f"; {in_af} of them inside what the rhythm model calls atrial fibrillation "
            "(it has no VT class: a run of wide fast beats there may be VT, or AF with aberrant conduction)"
        )
    if in_noise:
        message += (
            f"; {in_noise} of them inside what the rhythm model calls too noisy to read (noise may pass for "
            "a run of V beats)"
        )
    return Finding("vt", message, longest.start, longest.end)
