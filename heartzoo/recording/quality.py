"""Is a stretch of ECG readable? A signal-quality index on short windows, and what a recording's detected
beats say about it (rate, pauses), so that noise never becomes labelled beats without a word.

`sqi_windows` scores consecutive windows (10 s by default) with the template-matching index of
Orphanidou et al. (2015), "Signal-quality indices for the electrocardiogram and photoplethysmogram:
derivation and applications to wireless monitoring", IEEE J Biomed Health Inform 19(3):832-838, made for
single-lead wearable ECG: the beats of a window (its baseline taken out by de Chazal et al.'s two median
filters, 200 and 600 ms, IEEE TBME 51(7), 2004; centred on their R peaks, one median RR long, each without
its linear trend) are averaged into a template, and the window is readable when the mean
correlation of its beats with that template is at least `MIN_CORRELATION` and its rate is physiological.
Orphanidou's third rule (longest / shortest RR < 2.2) is left out: it rejects atrial fibrillation and
ectopic beats with their pauses, which are the rhythms a beat classifier is for, not noise.

`model_windows` scores windows with a learned gate instead: a `quality` model of the zoo
(`heartzoo.data.quality_windows` says what it learnt).

`assess` turns a recording's R peaks and readable windows into `Finding`s: an implausible mean rate, long
stretches without a beat, and the share of the recording that could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

# the size and rate a lead given to any model must have: `heartzoo.predict` reads them too
from ..preprocess.plausibility import MAX_BPM, MIN_BPM, QRS_HALF_S, unit_doubt
from ..tasks import READABLE_P

WINDOW_S = 10.0
#: the gate called by the index's name (`sqi_windows`); any other gate is a `quality` model of the zoo
SQI_GATE = "sqi"
DEFAULT_GATE = SQI_GATE


def gate_name(gate: str | None) -> str | None:
    """A gate as a recording's outputs name it: the template index by its paper, a quality model NAME@vN."""
    return "template matching (Orphanidou et al. 2015)" if gate == SQI_GATE else gate


#: mean beat-to-template correlation of a readable window: Orphanidou et al. (2015) use 0.66, which keeps
#: 98.9 % of the beats of clean DS1 here; 0.6 is the highest of 0.5 / 0.6 / 0.66 that keeps >= 99 %
#: (99.5 %), a rule fixed before DS2 was read (`python studies/quality_gate.py --records DS1 --snr
#: --min-correlation 0.5 0.6 0.66`)
MIN_CORRELATION = 0.6
#: the longest RR a readable window may hold (its rates: `plausibility.MIN_BPM`, `MAX_BPM`)
MAX_RR_S = 3.0
#: a stretch this long without a detected beat is reported
GAP_S = 3.0
#: a share of the recording unreadable past which the warning asks whether the file was read right
MOSTLY_UNREADABLE = 0.9
#: the plausible median QRS width of `qrs_width_ms`, ms: outside it the sampling rate given is likely
#: wrong (studies/fs_check.py, results/fs_check.jsonl: DS1 and svdb at their true rate, 0.5th and 99.5th
#: percentiles widened by 20 %; it warns 2 of CinC 2017's 1,706 test recordings and 63 % of those records
#: read at 2.78 times their rate)
QRS_WIDTH_MS = (11.9, 90.08)
#: the plausible product of that median width and the median RR interval (`median_rr_ms`), in ms x ms: a
#: rate given wrong scales both, so their product by the error squared, while real ECGs vary them largely
#: apart (studies/fs_check.py --product, adopted by its rule: DS1 and svdb, 0.5th and 99.5th percentiles,
#: divided and multiplied by 1.2 squared; with the width's range it warns 29 % of those recordings given
#: half their rate, the width alone 4 %, and 47 % of those given twice, the width alone 37 %)
QRS_RR_MS2 = (5452.0, 99415.0)
#: `lead_kurtosis` high-passes the lead at 3 Hz, above a wearer's baseline wander and under the QRS
#: complexes' energy, and its floor is the training side's 0.5th percentile (DS1, svdb) divided by 1.5
#: (studies/ecg_shape_wander.py, its rule: at 0.5 Hz and a floor of 3, a 1-mV, 0.7-Hz wave had 56 of those
#: 100 recordings warned, now none; every made-up sine and PPG is still warned, and 15 of CinC 2017's 6,599
#: classifiable training recordings where 24 were)
KURTOSIS_HIGH_PASS_HZ, MIN_KURTOSIS = 3.0, 4.36
#: a lead clipped by its recorder's range sits flat at its largest or smallest value, where an R peak is
#: rounded: runs of at least this long (and 3 samples) there, and at least `CLIP_RUNS` of them, are said.
#: Measured on every lead of ../shared/data (`measure_lead`'s `clipped_runs`): mitdb 116 (4, at the
#: ADC's +-5.12 mV) and 9 of svdb's 78 (up to 37) have them; aftdb, the Icentia11k segments and CinC 2017's
#: 8,528 recordings have at most 2
CLIP_RUN_S = 0.015
CLIP_RUNS = 3


@dataclass(frozen=True)
class Windows:
    """Consecutive windows of a recording: start and end samples, their quality index, readable or not."""

    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    sqi: np.ndarray  # float32: mean beat-to-template correlation (0 where no template could be made)
    readable: np.ndarray  # bool
    gate: str | None = None  # the quality model that scored them, NAME@vN (None: the template index)

    def of(self, samples: np.ndarray) -> np.ndarray:
        """Whether each sample index lies in a readable window."""
        i = np.clip(np.searchsorted(self.ends, np.asarray(samples), side="right"), 0, len(self.ends) - 1)
        return self.readable[i] if len(self.ends) else np.zeros(len(samples), bool)

    def unreadable_stretches(self) -> list[tuple[int, int]]:
        """(start, end) samples of each run of unreadable windows, merged."""
        out: list[tuple[int, int]] = []
        for s, e, ok in zip(self.starts.tolist(), self.ends.tolist(), self.readable.tolist(), strict=True):
            if ok:
                continue
            if out and out[-1][1] == s:
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
        return out


def baseline_removed(x: np.ndarray, fs: float) -> np.ndarray:
    """`x` less its baseline, two median filters of 200 and 600 ms (de Chazal et al. 2004): a wearer's
    walking moves a beat by a wave that a beat's linear trend does not follow (a 1-mV, 0.7-Hz wave cost 5
    points of the beats kept, studies/gate_wander.py), and, unlike a high-pass filter, the medians follow
    a step without ringing for seconds after it."""
    from scipy.ndimage import median_filter

    x = np.asarray(x, np.float64)
    short, long = max(1, round(0.2 * fs)) | 1, max(1, round(0.6 * fs)) | 1  # odd: centred
    return x - median_filter(median_filter(x, short, mode="nearest"), long, mode="nearest")


def window_sqi(
    x: np.ndarray,
    fs: float,
    peaks: np.ndarray,
    *,
    min_correlation: float = MIN_CORRELATION,
    median_baseline: bool = True,
) -> tuple[float, bool]:
    """(mean beat-to-template correlation, readable) of one window `x` with its R peaks (indices into x);
    its baseline taken out first (`baseline_removed`), unless not `median_baseline` (as the index read a
    window before studies/gate_wander.py)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    seconds = len(x) / fs
    if len(peaks) < 2:
        return 0.0, False
    rr = np.diff(peaks) / fs
    bpm = 60.0 * len(peaks) / seconds
    # the window's edges count as RR too: a window whose beats stop half way is not readable
    edge_gap = max(peaks[0], len(x) - 1 - peaks[-1]) / fs
    feasible = MIN_BPM <= bpm <= MAX_BPM and max(rr.max(), edge_gap) < MAX_RR_S
    half = max(1, round(np.median(rr) * fs / 2))
    inside = peaks[(peaks >= half) & (peaks + half < len(x))]
    if len(inside) < 2:
        return 0.0, False
    from scipy.signal import detrend

    # each beat without its linear trend, too: what a median of 600 ms leaves of a step
    x = baseline_removed(x, fs) if median_baseline else x
    beats = detrend(np.stack([x[p - half : p + half] for p in inside]).astype(np.float64), axis=1)
    template = beats.mean(axis=0)
    b = beats
    t = template - template.mean()
    denom = np.sqrt((b * b).sum(axis=1) * (t * t).sum())
    corr = np.divide((b @ t), denom, out=np.zeros(len(b)), where=denom > 0)
    sqi = float(corr.mean())
    return sqi, bool(feasible and sqi >= min_correlation)


def tiles(n_samples: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of consecutive windows of `n` samples over a recording; the last takes the remainder
    when it is at least half a window long, else it joins the one before."""
    starts = np.arange(0, n_samples, n, dtype=np.int64)
    if len(starts) > 1 and n_samples - starts[-1] < n // 2:
        starts = starts[:-1]
    return starts, np.r_[starts[1:], n_samples].astype(np.int64)


def sqi_windows(
    x,
    fs: float,
    peaks,
    *,
    window_s: float = WINDOW_S,
    min_correlation: float = MIN_CORRELATION,
    median_baseline: bool = True,
) -> Windows:
    """The quality of each `window_s` window of one lead (`tiles`; `median_baseline`: `window_sqi`)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    starts, ends = tiles(len(x), max(1, round(window_s * fs)))
    sqi = np.zeros(len(starts), np.float32)
    ok = np.zeros(len(starts), bool)
    for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        lo, hi = np.searchsorted(peaks, [s, e])
        # window_sqi reads its beats as float64: no float64 copy of a day's lead here
        sqi[i], ok[i] = window_sqi(
            x[s:e], fs, peaks[lo:hi] - s, min_correlation=min_correlation, median_baseline=median_baseline
        )
    return Windows(starts, ends, sqi, ok)


def model_windows(x, fs: float, gate) -> Windows:
    """The windows of one lead scored by a `quality` model of the zoo (a `hub.LoadedModel`): its frame
    length, tiled from the start as `tiles` does; `sqi` holds P(readable)."""
    from ..zoo.hub import predict

    spec = gate.config.input
    starts, ends = tiles(len(x), max(1, spec.frame_samples(fs)))
    p = predict(gate, x, fs, (starts + ends) // 2)[:, list(gate.class_names).index("readable")]
    return Windows(starts, ends, p.astype(np.float32), p >= READABLE_P)


def gate_windows(x, fs: float, peaks, gate: str = DEFAULT_GATE, *, zoo=None) -> Windows:
    """The windows of the named gate: "sqi" (`sqi_windows`), or a quality model of the zoo, NAME[@VERSION],
    run as its int8 model (`model_windows`)."""
    if gate == SQI_GATE:
        return sqi_windows(x, fs, peaks)
    from ..errors import HeartzooError
    from ..meta import check_ref
    from ..zoo.hub import load_model

    scorer = load_model(*check_ref(gate), format="tflite", zoo=zoo)
    if scorer.config.task != "quality":
        raise HeartzooError(f"gate {gate}: the model of task {scorer.config.task}, not a quality model")
    return replace(model_windows(x, fs, scorer), gate=f"{scorer.config.name}@{scorer.folder.name}")


@dataclass(frozen=True)
class Finding:
    """Something a user must be told about a recording: a code, a sentence, and where (samples)."""

    #: "rate", "gap", "unreadable", "fs", "unit", "flat", "shape", ...; "read" for a note on reading the file
    code: str
    message: str
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "start": self.start, "end": self.end}


def missing_finding(spans, fs: float) -> Finding | None:
    """What the user is told of the stretches a file marks missing (`missing`), or None."""
    if not spans:
        return None
    total = sum(b - a for a, b in spans) / fs
    a, b = max(spans, key=lambda s: s[1] - s[0])

    def span(seconds: float) -> str:  # a few lost samples are milliseconds, not "0.0 s"
        return f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds * 1000:.3g} ms"

    return Finding(
        "missing",
        f"{span(total)} of the lead are missing in the file ({len(spans)} stretch(es), the longest "
        f"{span((b - a) / fs)} from {a / fs:.1f} s): read as unreadable, no beat there is found",
        a,
        b,
    )


@dataclass(frozen=True)
class LeadMeasures:
    """What a lead's shape says about how it was read (`measure_lead`): the median QRS width in ms at the
    stated rate, the median QRS size in the lead's units, and the lead's kurtosis; None where not measured."""

    qrs_width_ms: float | None
    qrs_size: float | None
    kurtosis: float | None
    #: runs of `CLIP_RUN_S` or more flat at the lead's largest or smallest value, and their samples
    clipped_runs: int = 0
    clipped_samples: int = 0

    @property
    def clipped(self) -> tuple[int, int]:
        """(runs, samples) flat at the lead's extremes, as `lead_findings` reads them."""
        return self.clipped_runs, self.clipped_samples


def measure_lead(
    x, fs: float, peaks, missing=(), *, kurtosis_hz: float = KURTOSIS_HIGH_PASS_HZ
) -> LeadMeasures:
    """`qrs_width_ms` and `qrs_amplitude_mv` at `peaks`, and `lead_kurtosis`, in one walk over the lead in
    the detector's chunks (whole `WINDOW_S` windows, so that the windows tile the lead as they would read it
    whole), each read with a minute of its neighbours and high-passed there (at 0.5 Hz for the widths, at
    `kurtosis_hz` for the kurtosis): a day's lead left on disk is read once for the three, never whole in
    float64."""
    import warnings

    from scipy.signal import butter, peak_widths, sosfiltfilt
    from scipy.stats import kurtosis

    from ..detect import CHUNK_PAD_S, CHUNK_S, chunks
    from .missing import clear

    sos = butter(2, 0.5, btype="highpass", fs=fs, output="sos")
    sos_k = butter(2, kurtosis_hz, btype="highpass", fs=fs, output="sos")
    r, h = max(1, round(0.025 * fs)), max(1, round(QRS_HALF_S * fs))
    n = max(1, min(round(WINDOW_S * fs), len(x)))
    peaks = np.asarray(peaks, dtype=np.int64)
    widths, sizes, kurt = [np.zeros(0)], [np.zeros(0)], []
    flats: list[tuple[float, int, int]] = []  # (value, runs, samples) at each chunk's own extremes
    least = max(3, round(CLIP_RUN_S * fs))
    for lo, start, end, hi in chunks(len(x), max(1, round(CHUNK_S * fs)) // n * n, round(CHUNK_PAD_S * fs)):
        raw = np.asarray(x[lo:hi], np.float64)
        own = raw[start - lo : end - lo]
        for v in (own.max(), own.min()):  # a run split by a chunk's edge counts as two
            edges = np.diff(np.r_[0, (own == v).astype(np.int8), 0])
            runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
            flats.append((float(v), int((runs >= least).sum()), int(runs[runs >= least].sum())))
        seg = sosfiltfilt(sos, raw)
        inside = peaks[(peaks >= start) & (peaks < end)] - lo
        if inside.size:
            sizes.append(np.array([np.ptp(raw[max(0, p - h) : p + h + 1]) for p in inside]))
            a = np.abs(seg)
            top = np.array([max(0, p - r) + int(np.argmax(a[max(0, p - r) : p + r + 1])) for p in inside])
            with warnings.catch_warnings():  # a peak on a plateau has no width: it is left out, not warned of
                warnings.simplefilter("ignore")
                widths.append(peak_widths(a, top, rel_height=0.5)[0])
        starts = np.arange(start, end - n + 1, n)
        if starts.size:
            w = sosfiltfilt(sos_k, raw)[(starts - lo)[:, None] + np.arange(n)][clear(starts, n, missing)]
            w = w[np.ptp(w, axis=1) > 0] if len(w) else w
            kurt.extend(kurtosis(w, axis=1, fisher=False).tolist() if len(w) else [])
    w, size = np.concatenate(widths), np.concatenate(sizes)
    w = w[w > 0]
    top, bottom = max(v for v, _, _ in flats), min(v for v, _, _ in flats)
    at_ends = [(k, m) for v, k, m in flats if v in (top, bottom)] if top > bottom else []
    return LeadMeasures(
        float(np.median(w) / fs * 1000.0) if len(w) else None,
        float(np.median(size)) if len(size) else None,
        float(np.median(kurt)) if kurt else None,
        sum(k for k, _ in at_ends),
        sum(m for _, m in at_ends),
    )


def median_rr_ms(peaks, readable, fs: float) -> float | None:
    """The median RR interval, in ms at the stated rate `fs`, between consecutive `peaks` that are both
    `readable` (a mask): no interval across a stretch the gate could not read. None without one."""
    peaks, readable = np.asarray(peaks, dtype=np.int64), np.asarray(readable, dtype=bool)
    both = readable[1:] & readable[:-1]
    return float(np.median(np.diff(peaks)[both]) / fs * 1000.0) if both.any() else None


def qrs_width_ms(x, fs: float, peaks) -> float | None:
    """The median width of the QRS complexes at `peaks`, in ms at the stated rate `fs`: the width at half
    height of |x| high-passed at 0.5 Hz, around its largest value within 25 ms of each peak (None without
    peaks). A rate given wrong scales it by the error (studies/fs_check.py)."""
    return measure_lead(x, fs, peaks).qrs_width_ms


def qrs_amplitude_mv(x, fs: float, peaks) -> float | None:
    """The median size of the QRS complexes at `peaks`, in the lead's units (mV when it is read right): the
    peak-to-peak of the lead within `QRS_HALF_S` of each peak (None without peaks)."""
    return measure_lead(x, fs, peaks).qrs_size


def lead_kurtosis(x, fs: float, missing=(), *, high_pass_hz: float = KURTOSIS_HIGH_PASS_HZ) -> float | None:
    """The median, over the lead's `WINDOW_S` windows (the whole lead when shorter) that hold no sample the
    file marks `missing`, of the kurtosis of the lead high-passed at `high_pass_hz`: 3 for Gaussian noise,
    1.5 for a sine, more where QRS complexes make the lead peaky (kSQI: Li, Mark & Clifford, Physiol Meas
    29:15, 2008). None without such a window."""
    return measure_lead(x, fs, (), missing, kurtosis_hz=high_pass_hz).kurtosis


def gaps(
    peaks: np.ndarray, length: int, fs: float, *, gap_s: float = GAP_S, missing=()
) -> list[tuple[int, int]]:
    """(start, end) samples of each stretch of at least `gap_s` seconds without a beat, the recording's
    start and end included, not counting the samples the file marks `missing` (no pause is seen there)."""
    from .missing import overlap

    edges = np.r_[0, np.asarray(peaks, dtype=np.int64), length - 1]
    long = np.flatnonzero(np.diff(edges) >= gap_s * fs)
    out = [(int(edges[i]), int(edges[i + 1])) for i in long]
    return [(s, e) for s, e in out if e - s - overlap(missing, s, e) >= gap_s * fs]


def lead_findings(
    fs: float,
    qrs_ms: float | None = None,
    qrs_mv: float | None = None,
    kurtosis: float | None = None,
    clipped: tuple[int, int] = (0, 0),
    rr_ms: float | None = None,
) -> list[Finding]:
    """What the lead itself says, whoever found its beats: QRS complexes too narrow or too wide for the
    stated rate, or with the RR intervals (`rr_ms`, `median_rr_ms`) both too short or too long for it, too
    small or too large for mV, a lead less peaky than an ECG, a lead clipped (`clipped`: runs and samples
    flat at its extremes) (`measure_lead`'s measures)."""
    out: list[Finding] = []
    runs, samples = clipped
    if runs >= CLIP_RUNS:
        out.append(
            Finding(
                "clipped",
                f"the lead sits flat at its largest or smallest value {runs:,} times ({CLIP_RUN_S * 1000:g} ms "
                f"or more each, {samples / fs:.3g} s in all): its recorder's range clipped it there, and "
                "beats where it did may be misread",
            )
        )
    lo, hi = QRS_WIDTH_MS
    low, high = QRS_RR_MS2
    if qrs_ms is not None and not lo <= qrs_ms <= hi:
        out.append(
            Finding(
                "fs",
                f"the QRS complexes are {qrs_ms:.1f} ms wide at the stated {fs:g} Hz, outside the "
                f"{lo:g}-{hi:g} ms ECGs show at their true rate: is the sampling rate right?"
                # mains hum narrows what is measured as a QRS: a rate that is right is not all it can mean
                + (" Or does mains hum (50 or 60 Hz) ride on the lead?" if qrs_ms < lo else ""),
            )
        )
    elif qrs_ms is not None and rr_ms is not None and not low <= qrs_ms * rr_ms <= high:
        out.append(
            Finding(
                "fs",
                f"the QRS complexes are {qrs_ms:.1f} ms wide and the beats {rr_ms:.0f} ms apart (median) at "
                f"the stated {fs:g} Hz: both too {'short' if qrs_ms * rr_ms < low else 'long'} for an ECG "
                "at its true rate, as a rate given wrong makes them: is the sampling rate right?",
            )
        )
    if (doubt := unit_doubt(qrs_mv)) is not None:
        out.append(Finding("flat" if qrs_mv == 0 else "unit", doubt))
    if kurtosis is not None and kurtosis < MIN_KURTOSIS:
        out.append(
            Finding(
                "shape",
                f"the lead is not peaky like an ECG (kurtosis {kurtosis:.4g} above {KURTOSIS_HIGH_PASS_HZ:g} "
                f"Hz, under the {MIN_KURTOSIS:g} that no ECG of the training side comes near): is it an ECG "
                "lead? A PPG or a test signal is not, and its beats mean nothing; a sinusoidal rhythm "
                "(ventricular flutter) can look like one",
            )
        )
    return out


def findings_at(x, fs: float, peaks, missing=()) -> list[Finding]:
    """`lead_findings` of the lead measured at `peaks`, every one taken as readable (peaks given, or
    detected where no gate ran): what the lead says of its unit, rate, shape and range."""
    shape = measure_lead(x, fs, peaks, missing)
    rr = median_rr_ms(peaks, np.ones(len(peaks), bool), fs)
    return lead_findings(fs, shape.qrs_width_ms, shape.qrs_size, shape.kurtosis, shape.clipped, rr)


def assess(
    peaks,
    length: int,
    fs: float,
    windows: Windows | None = None,
    qrs_ms: float | None = None,
    qrs_mv: float | None = None,
    missing=(),
    stretches=None,
    kurtosis: float | None = None,
    clipped: tuple[int, int] = (0, 0),
    rr_ms: float | None = None,
) -> list[Finding]:
    """What a recording's beats and windows say a user must know: an implausible mean rate, QRS complexes
    too narrow or too wide for the stated rate (`qrs_ms`, `qrs_width_ms`; with the RR intervals, `rr_ms`),
    too small or too large for a
    lead in mV (`qrs_mv`, `qrs_amplitude_mv`), stretches without beats (`stretches`, where the caller has
    them: `gaps`), unreadable windows, a lead less peaky than an ECG (`kurtosis`, `lead_kurtosis`). The
    samples the file marks `missing` count in none of them: the rate is over the rest."""
    peaks = np.asarray(peaks, dtype=np.int64)
    minutes = (length - sum(e - s for s, e in missing)) / fs / 60.0
    out = lead_findings(fs, qrs_ms, qrs_mv, kurtosis, clipped, rr_ms)
    bpm = len(peaks) / minutes if minutes > 0 else 0.0
    if not MIN_BPM <= bpm <= MAX_BPM:
        out.append(
            Finding(
                "rate",
                f"{len(peaks):,} beats in {minutes:.1f} min ({bpm:.0f} per minute): not a "
                f"heart rate ({MIN_BPM:g}-{MAX_BPM:g}); the detector could not read this signal",
            )
        )
    if stretches is None:
        stretches = gaps(peaks, length, fs, missing=missing)
    if stretches:
        total = sum(e - s for s, e in stretches) / fs
        s, e = max(stretches, key=lambda g: g[1] - g[0])
        out.append(
            Finding(
                "gap",
                f"{len(stretches)} stretch(es) of {GAP_S:g} s or more without a detected beat, "
                f"{total:.0f} s in all, the longest {(e - s) / fs:.1f} s from {s / fs:.1f} s: a pause "
                "or a signal the detector could not read",
                s,
                e,
            )
        )
    if windows is not None and len(windows.readable) and not windows.readable.all():
        bad = windows.unreadable_stretches()
        seconds = sum(e - s for s, e in bad) / fs
        share = seconds / (length / fs)
        out.append(
            Finding(
                "unreadable",
                f"{seconds:.0f} s ({100 * share:.1f} %) of the recording is unreadable "
                f"({len(bad)} stretch(es)): no beat there is classified"
                # nearly all of it: the file may be read wrong, not noisy (a rate given 6 times too low)
                + (
                    "; is it an ECG lead, and is the sampling rate right?"
                    if share >= MOSTLY_UNREADABLE
                    else ""
                ),
                bad[0][0],
                bad[0][1],
            )
        )
    return out
