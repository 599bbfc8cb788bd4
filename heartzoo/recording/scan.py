"""What `annotate` finds in a recording before any beat model sees it (`scan`): the checked lead, its R
peaks (detected, or given), the quality windows and what a user must be told, and the rhythm episodes.
`annotation.label_beats` then runs one beat model on a scan; a benchmark of many models scans each
recording once (`recording.external`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..detect import DEFAULT, check_signal
from .quality import DEFAULT_GATE

#: given R peaks: the shortest lead whose unit, rate and shape are measured (a few beats)
MIN_LEAD_S = 2.0


@dataclass(frozen=True)
class Scan:
    """What `annotate` finds in a recording before any beat model sees it: the checked lead, its R peaks,
    the quality windows and findings, and the rhythm episodes. Every beat model of a benchmark reads the
    same scan (`label_beats`), so detection, the gate and the rhythm model run once per recording."""

    x: np.ndarray  # the lead as checked (`detect.check_signal` / `preprocess.check_recording`)
    fs: float
    peaks: np.ndarray  # every R peak, those of unreadable windows included
    peaks_from: str
    findings: tuple = ()
    windows: Any = None  # the quality windows; None where the peaks were given or quality is off
    gaps: tuple[tuple[int, int], ...] = ()
    pauses: tuple[tuple[int, int], ...] = ()  # the gaps a Holter report calls pauses (`pauses.pauses`)
    #: the stretches the file marks missing (`read.Recording.missing`): no beat, unreadable
    missing: tuple[tuple[int, int], ...] = ()
    gate: str | None = None
    rhythm: tuple = ()  # rhythm episodes, with `rhythm`
    rhythm_model: str | None = None
    rhythm_recording: dict | None = None
    af_burden: Any = None  # `af_burden.AfBurden` of the rhythm episodes, with `rhythm`


def polarity(x, fs: float, peaks) -> list:
    """The finding of a lead whose beats point down (`plausibility.polarity_doubt`), or none."""
    from ..preprocess.plausibility import down_share, polarity_doubt
    from .quality import Finding

    doubt = polarity_doubt(down_share(x, fs, peaks))
    return [] if doubt is None else [Finding("polarity", doubt)]


def scan(
    signal,
    fs: float,
    *,
    r_peaks=None,
    detector: str = DEFAULT,
    zoo=None,
    peaks_from: str | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    quality: bool = True,
    gate: str = DEFAULT_GATE,
    notes: tuple[str, ...] = (),
    rhythm=None,
    missing: tuple[tuple[int, int], ...] = (),
) -> Scan:
    """The model-free half of `annotate` (`annotation.annotate`'s arguments of the same names)."""
    from ..detect import detect
    from ..preprocess import check_recording
    from . import missing as gone
    from .af_burden import af_burden, af_finding
    from .pauses import pauses
    from .quality import (
        Finding,
        assess,
        findings_at,
        gaps,
        gate_windows,
        measure_lead,
        median_rr_ms,
        missing_finding,
    )
    from .rhythm_annotation import noise_finding, recording_rhythm

    say = progress or (lambda *_: None)
    windows = None
    if r_peaks is None:
        x, rate = check_signal(signal, fs)  # what detection needs (length, rate, not flat)
        say(f"detecting R peaks ({detector})", 0, None)
        peaks = detect(x, rate, detector)
        peaks = peaks[~gone.covered(peaks, missing, round(gone.MARGIN_S * rate))]
        peaks_from = peaks_from or f"detected ({detector})"
        if quality:
            say("scoring signal quality", 0, None)
            windows = gate_windows(x, rate, peaks, gate, zoo=zoo)
        # the QRS width and size where the gate reads the signal (noise has no QRS to measure)
        kept = windows.of(peaks) if windows is not None else np.ones(len(peaks), bool)
        readable = peaks[kept]
        stretches = gaps(peaks, len(x), rate, missing=missing)
        # nothing readable: the detections' size still tells the unit (their width, in noise, nothing)
        fallback = not len(readable) and len(peaks)
        shape = measure_lead(x, rate, peaks if fallback else readable, missing)
        findings = assess(
            peaks,
            len(x),
            rate,
            windows,
            None if fallback else shape.qrs_width_ms,
            shape.qrs_size,
            missing=missing,
            stretches=stretches,
            kurtosis=shape.kurtosis,
            clipped=shape.clipped,
            rr_ms=None if fallback else median_rr_ms(peaks, kept, rate),
        )
        if not fallback:
            findings += polarity(x, rate, readable)
    else:  # given peaks: what any recording must be (a 3-second strip with its peaks is fine), and what
        # the lead says at them (its unit, rate, shape, clipping); its rate and pauses are the caller's peaks'
        x, rate, peaks = check_recording(signal, fs, r_peaks)
        peaks_from = peaks_from or "given"
        findings, stretches = [], []
        if len(peaks) and len(x) >= MIN_LEAD_S * rate:
            findings = findings_at(x, rate, peaks, missing) + polarity(x, rate, peaks)
    if rhythm is not None:
        say("reading the rhythm", 0, None)
    episodes, rhythm_ref, whole = (
        recording_rhythm(
            x,
            rate,
            rhythm,
            zoo=zoo,
            missing=missing,
            unreadable=windows.unreadable_stretches() if windows is not None else (),
        )
        if rhythm is not None
        else ((), None, None)
    )
    episodes = gone.episodes(episodes, missing)
    burden = af_burden(episodes, rate, peaks) if rhythm is not None else None
    if burden is not None and (af := af_finding(burden, rate, whole)) is not None:
        findings = [*findings, af]
    if rhythm is not None and (noisy := noise_finding(episodes, rate, whole)) is not None:
        findings = [*findings, noisy]
    return Scan(
        x=x,
        fs=rate,
        peaks=peaks,
        peaks_from=peaks_from,
        findings=tuple(
            [Finding("read", n) for n in notes]
            + [f for f in [missing_finding(missing, rate)] if f]
            + list(findings)
        ),
        windows=windows,
        gaps=tuple(stretches),
        pauses=pauses(x, rate, peaks, stretches),
        missing=tuple(missing),
        gate=(windows.gate or gate) if windows is not None else None,
        rhythm=episodes,
        rhythm_model=rhythm_ref,
        rhythm_recording=whole,
        af_burden=burden,
    )
