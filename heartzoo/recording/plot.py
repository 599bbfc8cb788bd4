"""A picture of an annotated recording for the one who reviews it (`annotate --plot`): for a recording of
10 minutes or more, its heart rate minute by minute; the lead in 10-s strips on ECG paper (25 mm/s and
10 mm/mV, a strip whose trace does not fit at that gain drawn at half, or less, and saying so; 1 mm and
5 mm boxes), each beat's class above the trace (S and V in colour), the windows the gate found unreadable
shaded (their beats are not classified), and the rhythm episodes in a band. The strips are the
recording's start, the place of each warning (an AF episode, a ventricular run, a pause or a lost
signal, an unreadable stretch), then each run above the VT rate, pause, AF episode, other run and
unreadable stretch, as many as `max_strips` allows: where a reviewer looks first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HeartzooError
from ..io import atomic_path

STRIP_S = 10.0
MAX_STRIPS = 8
#: ECG paper: 25 mm/s, 10 mm/mV (halved, and said, until a strip's whole trace fits its height); small boxes
#: 1 mm (0.04 s, 0.1 mV), large ones 5 mm
SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
TRACE_MM = 40.0
#: above the trace: each beat's class, and the rhythm band
BAND_MM = 6.0
MM = 1 / 25.4  # inches
#: the page around the strips, inches: the y labels' margin, the right one, each strip's title above it
#: and its seconds below it
LEFT_IN, RIGHT_IN, STRIP_TITLE_IN, STRIP_TICKS_IN = 0.75, 0.25, 0.3, 0.25
AXES_IN = (TRACE_MM + BAND_MM) * MM  # a strip's paper: the trace and the band above it
STRIP_IN = STRIP_TITLE_IN + AXES_IN + STRIP_TICKS_IN
PAGE_IN = LEFT_IN + STRIP_S * SPEED_MM_S * MM + RIGHT_IN
#: a recording this long gets its heart rate minute by minute above the strips (inches high)
TREND_MIN_S = 600.0
TREND_IN = 1.6
TREND_BLOCK_IN = TREND_IN + 0.75  # with its title and its axis's labels
#: the page's title, a line of up to this many characters each (the record's name first)
TITLE_CHARS = 150
LINE_IN = 0.2
#: the colour of each class's letter; N stays quiet, so that what differs stands out
COLOURS = {"N": "0.35", "normal": "0.35", "S": "tab:blue", "V": "tab:red", "ectopic": "tab:red"}
RHYTHM_COLOURS = {"A": "tab:orange", "O": "tab:purple", "~": "0.6"}


def strip_starts(annotated, length: int, max_strips: int = MAX_STRIPS) -> list[tuple[int, str]]:
    """(first sample, why) of each strip of a recording of `length` samples, in time order: its start, then
    each finding's place, then each of what a finding sums up (the runs above the VT rate, the pauses, the
    AF episodes, the other ventricular runs, the unreadable stretches), until `max_strips`. A place inside a
    strip already chosen adds its reason to that strip's (`why`: codes joined by ", ")."""
    width = round(STRIP_S * annotated.fs)
    runs = annotated.ventricular_runs or ()
    places = [(f.start, f.code) for f in annotated.findings if f.start is not None]
    places += [(r.start, "vt") for r in runs if r.tachycardia]
    places += [(a, "gap") for a, _ in annotated.pauses]
    if annotated.af_burden is not None:
        places += [(a, "af") for a, _ in annotated.af_burden.episodes]
    places += [(r.start, "run") for r in runs if not r.tachycardia]
    places += [(a, "unreadable") for a, _ in annotated.unreadable()]
    out: list[tuple[int, list[str]]] = [(0, ["start"])]
    for at, why in places:
        at = int(at)
        holding = next((reasons for s, reasons in out if s <= at < s + width), None)
        if holding is not None:
            if why not in holding:
                holding.append(why)
            continue
        # its own strip a fifth of a strip before it, or, where that would overlap one chosen, the strip
        # right after or before that one, if it holds the place
        tries = [at - width // 5, *(s + width for s, _ in out), *(s - width for s, _ in out)]
        fits = [
            c
            for c in (min(max(0, t), max(0, length - width)) for t in tries)
            if c <= at < c + width and all(abs(c - s) >= width for s, _ in out)
        ]
        if fits and len(out) < max_strips:
            out.append((fits[0], [why]))
    return sorted((s, ", ".join(reasons)) for s, reasons in out)  # read as the recording runs


def plot_annotated(signal, annotated, path, max_strips: int = MAX_STRIPS) -> Path:
    """Draw `annotated` (an `annotation.Annotated`) over its lead `signal` (mV) into the PNG at `path`,
    written whole or not at all."""
    fig = figure(signal, annotated, max_strips)
    path = Path(path)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    except OSError as exc:
        raise HeartzooError(f"{path}: cannot write the picture there ({exc.strerror or exc})") from None
    return path


def figure(signal, annotated, max_strips: int = MAX_STRIPS):
    """The matplotlib Figure `plot_annotated` saves: each strip on ECG paper of exact size (its axes laid
    out in inches, never stretched to fit labels)."""
    import textwrap

    from matplotlib.figure import Figure

    from ..preprocess.lead import CheckedLead

    # only its strips are drawn: a lead left on disk is read strip by strip
    x = signal if isinstance(signal, CheckedLead) else np.asarray(signal)
    strips = strip_starts(annotated, len(x), max_strips)
    trend = len(x) >= TREND_MIN_S * annotated.fs
    title = textwrap.wrap(_title(annotated), TITLE_CHARS)
    head = 0.15 + LINE_IN * len(title)
    height = head + TREND_BLOCK_IN * trend + STRIP_IN * len(strips) + 0.25
    fig = Figure(figsize=(PAGE_IN, height))
    fig.suptitle("\n".join(title), fontsize=9, y=1 - 0.1 / height, va="top")
    top = head  # inches from the page's top to the next block
    unread = annotated.unreadable()
    if trend:
        box = (top + 0.3 + TREND_IN) / height, TREND_IN / height
        _trend(
            fig.add_axes((LEFT_IN / PAGE_IN, 1 - box[0], 1 - (LEFT_IN + RIGHT_IN) / PAGE_IN, box[1])),
            annotated,
            len(x),
            unread,
        )
        top += TREND_BLOCK_IN
    classes = annotated.classes.tolist()
    for start, why in strips:
        bottom = 1 - (top + STRIP_TITLE_IN + AXES_IN) / height
        ax = fig.add_axes((LEFT_IN / PAGE_IN, bottom, STRIP_S * SPEED_MM_S * MM / PAGE_IN, AXES_IN / height))
        _strip(ax, x, annotated, classes, unread, start, why)
        top += STRIP_IN
    fig.text(LEFT_IN / PAGE_IN, 0.05 / height, "time (s)", fontsize=8)
    return fig


def _strip(ax, x, annotated, classes, unread, start: int, why: str) -> None:
    """One 10-s strip on ECG paper: the trace, its beats' classes, unreadable time shaded, the rhythm band."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    fs = annotated.fs
    end = min(len(x), start + round(STRIP_S * fs))
    t = np.arange(start, end) / fs
    strip = x[start:end].astype(np.float64)
    for a, b in annotated.missing:  # the file's missing samples are drawn as none, not as the bridge
        strip[max(a, start) - start : max(0, min(b, end) - start)] = np.nan
    gain, centre = paper_gain(strip)
    half = TRACE_MM / 2 / gain  # mV from the trace's centre to its area's edge
    ax.plot(t, strip, color="black", linewidth=0.6)
    ax.set_xlim(start / fs, start / fs + STRIP_S)
    ax.set_ylim(centre - half, centre + half + BAND_MM / gain)
    for a, b in unread:
        if a < end and b > start:
            ax.axvspan(max(a, start) / fs, min(b, end) / fs, color="0.85", zorder=0)
    _beats(ax, annotated, classes, start, end, centre + half + 0.8 / gain)
    _rhythm(ax, annotated, start, end)
    # the paper: 1 mm and 5 mm boxes; whole seconds and each large box's mV labelled
    ax.xaxis.set_major_locator(MultipleLocator(5 / SPEED_MM_S))
    ax.xaxis.set_minor_locator(MultipleLocator(1 / SPEED_MM_S))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v - round(v)) < 1e-6 else ""))
    ax.yaxis.set_major_locator(MultipleLocator(5 / gain))
    ax.yaxis.set_minor_locator(MultipleLocator(1 / gain))
    ax.grid(True, which="minor", color="#f7d9d9", linewidth=0.3)
    ax.grid(True, which="major", color="#e9a3a3", linewidth=0.6)
    ax.tick_params(labelsize=7, which="both", length=0)
    ax.set_ylabel("mV", fontsize=7)
    at = annotated.clock(start)  # the recorder's clock, where the recording's start is known
    at = "" if at is None else f" ({at.split('T')[-1]})"
    reasons = "; ".join(_why(w) for w in why.split(", "))
    paper = f"{SPEED_MM_S:g} mm/s, {gain:g} mm/mV" + ("" if gain == GAIN_MM_MV else " (reduced gain)")
    ax.set_title(f"{start / fs:,.1f} s{at}: {reasons} · {paper}", fontsize=8, loc="left")


def paper_gain(strip: np.ndarray) -> tuple[float, float]:
    """(mm per mV, the mV at the trace area's centre) of a strip: 10 mm/mV, halved until the whole trace
    (its lowest to its highest sample: no complex cut) fits `TRACE_MM`."""
    y = strip[np.isfinite(strip)]  # a strip's missing samples are NaN
    if not len(y):
        return GAIN_MM_MV, 0.0
    lo, hi = float(y.min()), float(y.max())
    gain = GAIN_MM_MV
    while (hi - lo) * gain > TRACE_MM - 2 and gain > 1e-9:
        gain /= 2
    return gain, (lo + hi) / 2


def _trend(ax, annotated, length: int, unread) -> None:
    """The heart rate of each whole readable minute (`hours.minute_rates`), AF and unreadable time shaded."""
    from .hours import MINUTE_S, minute_rates

    fs = annotated.fs
    scale, unit = (3600.0, "h") if length >= 3 * 3600 * fs else (60.0, "min")
    starts, rates = minute_rates(annotated.samples, length, fs, unread)
    # a marker on each minute: a readable minute between two unreadable ones has no line to draw
    ax.plot(
        (starts / fs + MINUTE_S / 2) / scale, rates, color="black", linewidth=0.8, marker=".", markersize=2
    )
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
