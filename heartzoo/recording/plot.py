"""A picture of an annotated recording for the one who reviews it (`annotate --plot`): for a recording of
10 minutes or more, its heart rate minute by minute; the lead in 10-s strips as on ECG paper, each beat's
class above its R peak (S and V in colour), the windows the gate found unreadable shaded (their beats are
not classified), and the rhythm episodes in a band. The strips are
the recording's start, the place of each warning (an AF episode, a ventricular run, a pause or a lost
signal, an unreadable stretch), then each episode, run and stretch a warning sums up, as many as
`max_strips` allows: where a reviewer looks first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HeartzooError
from ..io import atomic_path

STRIP_S = 10.0
MAX_STRIPS = 8
#: the most 0.5 mV boxes of ECG paper a strip's height is drawn with
MAX_BOXES = 40
#: a recording this long gets its heart rate minute by minute above the strips (inches high)
TREND_MIN_S = 600.0
TREND_IN = 1.6
#: the colour of each class's letter; N stays quiet, so that what differs stands out
COLOURS = {"N": "0.35", "normal": "0.35", "S": "tab:blue", "V": "tab:red", "ectopic": "tab:red"}
RHYTHM_COLOURS = {"A": "tab:orange", "O": "tab:purple", "~": "0.6"}


def strip_starts(annotated, length: int, max_strips: int = MAX_STRIPS) -> list[tuple[int, str]]:
    """(first sample, why) of each strip of a recording of `length` samples, in time order: its start, then
    each finding's place in turn, a strip overlapping one already chosen left out, until `max_strips`."""
    width = round(STRIP_S * annotated.fs)
    places = [(f.start, f.code) for f in annotated.findings if f.start is not None]
    # then each of what a finding sums up: the AF episodes, the ventricular runs, the unreadable stretches
    if annotated.af_burden is not None:
        places += [(a, "af") for a, _ in annotated.af_burden.episodes]
    places += [(r.start, "vt" if r.tachycardia else "run") for r in annotated.ventricular_runs or ()]
    places += [(a, "unreadable") for a, _ in annotated.unreadable()]
    wanted = [(0, "start")] + [(max(0, int(a) - width // 5), why) for a, why in places]
    out: list[tuple[int, str]] = []
    for start, why in wanted:
        start = min(start, max(0, length - width))
        if all(abs(start - s) >= width for s, _ in out):
            out.append((start, why))
        if len(out) == max_strips:
            break
    return sorted(out)  # chosen by what matters most, read as the recording runs


def plot_annotated(signal, annotated, path, max_strips: int = MAX_STRIPS) -> Path:
    """Draw `annotated` (an `annotation.Annotated`) over its lead `signal` (mV) into the PNG at `path`,
    written whole or not at all."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, MultipleLocator

    from ..preprocess.lead import CheckedLead

    # only its strips are drawn: a lead left on disk is read strip by strip
    x = signal if isinstance(signal, CheckedLead) else np.asarray(signal)
    fs, width = annotated.fs, round(STRIP_S * annotated.fs)
    strips = strip_starts(annotated, len(x), max_strips)
    trend = len(x) >= TREND_MIN_S * fs
    heights = [TREND_IN] * trend + [1.9] * len(strips)
    fig = Figure(figsize=(12, sum(heights) + 0.6), layout="constrained")
    axes = fig.subplots(len(heights), 1, squeeze=False, height_ratios=heights)[:, 0]
    classes = annotated.classes.tolist()
    unread = annotated.unreadable()
    if trend:
        _trend(axes[0], annotated, len(x), unread)
        axes = axes[1:]
    for ax, (start, why) in zip(axes, strips, strict=True):
        end = min(len(x), start + width)
        t = np.arange(start, end) / fs
        strip = x[start:end].astype(np.float64)
        for a, b in annotated.missing:  # the file's missing samples are drawn as none, not as the bridge
            strip[max(a, start) - start : max(0, min(b, end) - start)] = np.nan
        ax.plot(t, strip, color="black", linewidth=0.6)
        lo, hi = _limits(strip)
        ax.set_ylim(lo, hi + 0.3 * (hi - lo))
        ax.set_xlim(start / fs, start / fs + STRIP_S)
        for a, b in unread:
            if a < end and b > start:
                ax.axvspan(max(a, start) / fs, min(b, end) / fs, color="0.85", zorder=0)
        _beats(ax, annotated, classes, start, end, hi)
        _rhythm(ax, annotated, start, end)
        ax.set_ylabel("mV", fontsize=7)
        ax.tick_params(labelsize=7)
        # ECG paper: 0.2 s and 0.5 mV boxes, 1 s labelled
        ax.xaxis.set_major_locator(MultipleLocator(1.0))
        ax.xaxis.set_minor_locator(MultipleLocator(0.2))
        # a lead far outside a few mV (one in µV read as mV: `annotate` warns of it) gets a few plain ticks,
        # not thousands of boxes
        ax.yaxis.set_major_locator(MultipleLocator(0.5) if hi - lo <= 0.5 * MAX_BOXES else MaxNLocator(6))
        ax.grid(True, which="both", color="#f4c2c2", linewidth=0.4)
        at = annotated.clock(start)  # the recorder's clock, where the recording's start is known
        at = "" if at is None else f" ({at.split('T')[-1]})"
        ax.set_title(f"{start / fs:,.0f} s{at}: {_why(why)}", fontsize=8, loc="left")
    axes[-1].set_xlabel("time (s)", fontsize=8)
    fig.suptitle(_title(annotated), fontsize=9)
    path = Path(path)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    except OSError as exc:
        raise HeartzooError(f"{path}: cannot write the picture there ({exc.strerror or exc})") from None
    return path


def _trend(ax, annotated, length: int, unread) -> None:
    """The heart rate of each whole readable minute (`hours.minute_rates`), AF and unreadable time shaded."""
    from .hours import MINUTE_S, minute_rates

    fs = annotated.fs
    scale, unit = (3600.0, "h") if length >= 3 * 3600 * fs else (60.0, "min")
    starts, rates = minute_rates(annotated.samples, length, fs, unread)
    ax.plot((starts / fs + MINUTE_S / 2) / scale, rates, color="black", linewidth=0.8)
    for a, b in unread:
        ax.axvspan(a / fs / scale, b / fs / scale, color="0.85", zorder=0)
    for e in annotated.rhythm:
        if e.label == "A":
            ax.axvspan(
                e.start / fs / scale, e.end / fs / scale, color=RHYTHM_COLOURS["A"], alpha=0.3, zorder=0
            )
    ax.set_xlim(0, length / fs / scale)
    ax.set_ylabel("bpm", fontsize=7)
    ax.set_xlabel(f"time ({unit})", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.grid(True, color="0.9", linewidth=0.4)
    shaded = ", AF orange" if annotated.rhythm_model else ""
    ax.set_title(
        f"heart rate: the beats of each whole readable minute (unreadable grey{shaded})",
        fontsize=8,
        loc="left",
    )


def _limits(y: np.ndarray) -> tuple[float, float]:
    y = y[np.isfinite(y)]  # a strip's missing samples are NaN
    lo, hi = (float(np.percentile(y, 0.5)), float(np.percentile(y, 99.5))) if len(y) else (-1.0, 1.0)
    pad = max(0.1, 0.1 * (hi - lo))
    return lo - pad, hi + pad


def _beats(ax, annotated, classes, start: int, end: int, top: float) -> None:
    peaks = annotated.samples
    inside = np.flatnonzero((peaks >= start) & (peaks < end))
    for i in inside:
        c = classes[i]
        label = c[0] if c in ("normal", "ectopic") else c
        ax.text(
            peaks[i] / annotated.fs,
            top,
            label,
            ha="center",
            va="bottom",
            fontsize=7,
            color=COLOURS.get(c, "k"),
        )


def _rhythm(ax, annotated, start: int, end: int) -> None:
    for e in annotated.rhythm:
        if e.start < end and e.end > start and e.label in RHYTHM_COLOURS:
            a, b = max(e.start, start) / annotated.fs, min(e.end, end) / annotated.fs
            ax.axvspan(a, b, ymin=0.94, ymax=1.0, color=RHYTHM_COLOURS[e.label], alpha=0.6)


def _why(code: str) -> str:
    return {
        "start": "the recording's start",
        "af": "possible atrial fibrillation",
        "vt": "a ventricular run above the VT rate",
        "run": "a ventricular run",
        "gap": "no beat for 3 s or more",
        "unreadable": "an unreadable stretch",
        "missing": "samples missing in the file",
        "rate": "an implausible rate",
        "read": "how the file was read",
        "fs": "the sampling rate in doubt",
    }.get(code, code)


def _title(annotated) -> str:
    counts = "  ".join(f"{c} {n}" for c, n in annotated.summary()["counts"].items())
    rhythm = (
        f" · rhythm by {annotated.rhythm_model} (band: A orange, O purple, ~ grey)"
        if annotated.rhythm_model
        else ""
    )
    gated = " · unreadable shaded" if annotated.windows is not None or annotated.missing else ""
    began = "" if annotated.start is None else f" · from {annotated.clock(0).replace('T', ' ')}"
    return (
        f"{annotated.record}{began} · {annotated.model} · {len(annotated.samples)} beats ({counts}){rhythm}"
        f"{gated}"
    )


def plot_file(
    recording,
    annotated,
    output_dir,
    extension: str,
    *,
    fs: float | None = None,
    lead: str | None = None,
    invert: bool = False,
) -> Path:
    """RECORD.EXT.png in `output_dir`: `annotated` drawn over the lead it was read from, the file at
    `recording` read again as `annotate_file` read it (`lead`: as the user chose it, a number where two
    leads share a name, else the lead `annotated` names; `invert`: turned over, as it was annotated)."""
    from .read import read_recording

    rec = read_recording(
        recording, annotated.lead if lead is None else lead, fs=fs, lead_given=True, invert=invert
    )
    return plot_annotated(rec.signal, annotated, Path(output_dir) / f"{annotated.record}.{extension}.png")
