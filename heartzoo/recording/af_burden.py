"""Atrial fibrillation over a long recording, as a wrist device reports it (`annotate --rhythm`):
- the **AF burden**, the share of the time the rhythm model could read (its windows not called `~`, too
  noisy) that it calls AF, with the seconds of each;
- the **AF episodes of 30 s or more**, what the ESC guidelines take as clinical AF on a single-lead tracing
  (`tasks.AF_EPISODE_S`): one or more is a warning to review, "possible atrial fibrillation".

An episode is a run of consecutive windows the rhythm model calls AF (`rhythm_annotation.rhythm_episodes`),
measured in the signal it covers: in steps of the model's window (10 s for af-4), but for a recording's last
window, which overlaps the one before and adds only the samples after it (three AF windows at the end of
a 35-s recording cover 25 s). How well the burden and the 30-s
episodes follow MIT-BIH's annotated AF, and how often they are raised where there is none (Icentia11k,
CinC 2017's normal recordings), is measured by studies/af_burden.py; nothing there chose the 30 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tasks import AF_EPISODE_S


@dataclass(frozen=True)
class AfBurden:
    analysed_s: float  # seconds in windows the rhythm model did not call too noisy
    af_s: float  # seconds in windows it called AF
    #: (start, end) samples of each AF episode of `AF_EPISODE_S` or more
    episodes: tuple[tuple[int, int], ...]
    longest_s: float  # the longest AF episode, of any length (0: none)
    #: the mean ventricular rate in AF: R peaks inside the AF windows per minute of them (None: no AF, or
    #: no peaks given); above 100 bpm, AF with a rapid ventricular response
    rate_bpm: float | None = None

    @property
    def burden(self) -> float | None:
        """The share of the analysed time in AF (None: nothing could be read)."""
        return self.af_s / self.analysed_s if self.analysed_s > 0 else None

    def to_dict(self, on_clock=lambda rows: rows) -> dict:
        """As the JSON gives it; `on_clock` adds the recorder's clock to the episodes' rows, where known
        (`annotation.Annotated._on_clock`)."""
        return {
            "burden": None if self.burden is None else round(self.burden, 4),
            "af_s": round(self.af_s, 2),
            "analysed_s": round(self.analysed_s, 2),
            "longest_af_episode_s": round(self.longest_s, 2),
            "af_rate_bpm": None if self.rate_bpm is None else round(self.rate_bpm, 1),
            "episode_min_s": AF_EPISODE_S,
            "episodes": on_clock([{"start": s, "end": e} for s, e in self.episodes]),
        }


def af_burden(episodes, fs: float, peaks=None, *, min_s: float = AF_EPISODE_S) -> AfBurden:
    """The burden and the AF episodes of `min_s` or more among `episodes` (`rhythm_annotation.Episode`,
    consecutive and covering the recording, as `rhythm_episodes` makes them) at `fs` Hz; with the
    recording's R `peaks`, the mean ventricular rate in AF."""
    import numpy as np

    from .rhythm_annotation import AUX

    noise, af = AUX["~"], AUX["A"]
    analysed = sum(e.end - e.start for e in episodes if e.aux != noise) / fs
    spans = [(e.start, e.end) for e in episodes if e.aux == af]
    seconds = [(end - start) / fs for start, end in spans]
    rate = None
    if peaks is not None and spans:
        p = np.asarray(peaks, dtype=np.int64)
        rate = 60.0 * sum(int(((p >= s) & (p < e)).sum()) for s, e in spans) / sum(seconds)
    return AfBurden(
        analysed_s=analysed,
        af_s=sum(seconds),
        episodes=tuple(s for s, sec in zip(spans, seconds, strict=True) if sec >= min_s),
        longest_s=max(seconds, default=0.0),
        rate_bpm=rate,
    )


def af_finding(burden: AfBurden, fs: float, whole: dict | None = None):
    """The warning for AF episodes of `AF_EPISODE_S` or more (None without any): how many, the longest,
    and the burden; where the recording's class as a whole (`whole`, `rhythm_annotation.recording_class`)
    is not AF, that too. Where it is AF and no window alone is, that is the warning: the two readings a
    user sees must not disagree unsaid."""
    from .quality import Finding

    if not burden.episodes:
        if whole is not None and whole["class"] == "A" and burden.af_s == 0:
            return Finding(
                "af",
                "possible atrial fibrillation, to review: the rhythm model calls the recording AF as a whole "
                f"(p {whole['probabilities']['A']:.2f}, its {whole['windows']} windows together), though no "
                "window alone",
            )
        return None
    n = len(burden.episodes)
    start, end = max(burden.episodes, key=lambda e: e[1] - e[0])
    message = (
        f"possible atrial fibrillation, to review: {n} episode{'s' if n > 1 else ''} of {AF_EPISODE_S} s or "
        f"more called AF, the longest {(end - start) / fs:.0f} s from {start / fs:.1f} s; AF burden "
        f"{100 * burden.burden:.0f} % of the {burden.analysed_s:,.0f} s the rhythm model could read"
        + ("" if burden.rate_bpm is None else f", a mean ventricular rate of {burden.rate_bpm:.0f} bpm in AF")
        + (
            ""
            if whole is None or whole["class"] == "A"
            else f"; the recording as a whole is called {whole['class']} "
            f"(its {whole['windows']} windows together)"
        )
    )
    return Finding("af", message, start, end)
