"""From a raw recording to labelled beats: R peaks detected (`heartzoo.detect`) or taken from a reference
annotation file, every beat classified by a zoo model exactly as it was trained (`hub.predict`: the
model's own Preprocessor, int8 in LiteRT's reference kernels, bit-exact with TFLM, or the float model),
and the beats written as a WFDB annotation file, a CSV and a JSON summary, all or none
(`annotation_files`).

WFDB beat codes: N -> `N`; S -> `A` (atrial premature beat, the commonest supraventricular ectopic beat
of MIT-BIH; every EC57 comparator reads it as S); V -> `V`; F -> `F`; Q -> `Q`. beat-2's `normal` ->
`N`, and its `ectopic` -> `Q` with the aux note `ectopic`: WFDB has no code for "S or V", and Q
(unclassifiable) is the one beat code that claims neither, so an EC57 comparison counts these beats as
detected QRS complexes, never as VEB or SVEB false positives, and the V and S beats they match as
missed VEBs and SVEBs (beat-2 does not tell them apart). The CSV and JSON keep the class names.

A detected recording is also checked (`heartzoo.recording.quality`): windows the signal-quality index finds
unreadable have none of their beats classified and are written as WFDB noise annotations (`~`, subtype -1
where the stretch starts, `~` subtype 0 where the signal is readable again, as EC57's comparators read
them); stretches without a beat are written as comments (`"`); and every finding (an implausible rate, a
pause or lost signal, an unreadable share) is a warning in the summary, the JSON and the CSV.

(This module is `annotation`, not `annotate`: a submodule of that name would shadow the function
`heartzoo.annotate` once imported.)
"""

from __future__ import annotations

import io
import json
import textwrap
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TextIO

import numpy as np

from ..detect import DEFAULT, check_signal
from ..errors import HeartzooError, RecordingWarning
from .beat_codes import AAMI_OF, symbol_of
from .hours import clock, hours_of, recording_hrv
from .quality import DEFAULT_GATE, Finding, gate_name
from .scan import Scan

#: progress(description, done, total): total None while the length of the step is unknown
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class Annotated:
    """The beats of one recording: R-peak samples, class probabilities, and how they were made."""

    record: str
    fs: float
    samples: np.ndarray  # int64 R-peak sample indices
    probabilities: np.ndarray  # (n, classes) float32
    class_names: tuple[str, ...]
    model: str  # NAME@VERSION
    runtime: str
    peaks: str  # where the R peaks came from
    lead: str | None = None
    length: int | None = None  # samples in the recording
    #: what the user must be told (an implausible rate, a pause or lost signal, unreadable stretches,
    #: how the file was read), each a `quality.Finding`
    findings: tuple = ()
    #: the quality windows, where the beats were detected and gated; None where the peaks were given
    windows: Any = None
    #: beats detected in unreadable windows, left unclassified
    unclassified: int = 0
    #: (start, end) samples of each stretch of `quality.GAP_S` or more without a detected beat
    gaps: tuple[tuple[int, int], ...] = ()
    pauses: tuple[tuple[int, int], ...] = ()  # those a Holter report calls pauses (`pauses.pauses`)
    #: (start, end) samples of each stretch the file marks missing (`missing`): no beat there
    missing: tuple[tuple[int, int], ...] = ()
    #: those stretches widened to the beats beside them left unclassified for them (`missing.taking_in`)
    left_out: tuple[tuple[int, int], ...] = ()
    gate: str | None = None  # the quality gate that made `windows`
    #: rhythm episodes (`rhythm_annotation.Episode`) and the model that found them, with `--rhythm`
    rhythm: tuple = ()
    rhythm_model: str | None = None
    #: the whole recording's class by the rhythm model (`rhythm_annotation.recording_class`)
    rhythm_recording: dict | None = None
    #: the AF burden and the AF episodes of 30 s or more (`af_burden.AfBurden`), with `rhythm`
    af_burden: Any = None
    #: per beat, whether the model called it S inside the rhythm model's AF and it is written N (None: not
    #: relabelled, without `rhythm` or with `keep_s_in_af`)
    relabelled: np.ndarray | None = None
    #: runs of 3 or more beats called V (`ventricular_runs.VentricularRun`); None for a model without V
    ventricular_runs: tuple | None = None
    #: the first sample on the recorder's clock (`read.Recording.start`), where the file gives it
    start: Any = None
    #: the lead's index among a WFDB record's signals (`read.Recording.channel`): its annotations' `chan`
    channel: int = 0

    @property
    def s_relabelled_in_af(self) -> int | None:
        """How many beats called S inside AF are written N (None: not relabelled)."""
        return None if self.relabelled is None else int(self.relabelled.sum())

    @property
    def warnings(self) -> list[str]:
        """What may make the beats wrong: every finding but the notes on how the file was read."""
        return [f.message for f in self.findings if f.code != "read"]

    @property
    def notes(self) -> list[str]:
        """How the file was read (a checksum the header leaves out, the lead read for the model's)."""
        return [f.message for f in self.findings if f.code == "read"]

    def unreadable(self) -> tuple[tuple[int, int], ...]:
        """(start, end) samples of each stretch where no beat is classified: the gate's unreadable windows
        and the file's missing samples with the beats beside them left out for them, merged."""
        from .missing import merged

        gated = self.windows.unreadable_stretches() if self.windows is not None else ()
        return merged(gated, self.missing, self.left_out)

    @property
    def classes(self) -> np.ndarray:
        if not len(self.samples):
            return np.zeros(0, dtype="<U8")
        return np.asarray(self.class_names)[self.probabilities.argmax(axis=1)]

    @property
    def symbols(self) -> list[str]:
        return [symbol_of(c) for c in self.classes.tolist()]

    @cached_property
    def hours(self) -> list | None:  # the hourly table (`hours.hours_of`), made once for every reader
        return hours_of(self)

    @cached_property
    def hrv(self):  # the recording's heart rate variability (`hours.recording_hrv`), made once
        return recording_hrv(self)

    def ec57(self):
        """These beats as EC57 test annotations (AAMI classes, as a comparator reads the WFDB file)."""
        from ..evaluation.ec57 import Annotations

        labels = [AAMI_OF.get(c, "Q") for c in self.classes.tolist()]
        return Annotations.of(self.samples, labels, self.fs, record=self.record, length=self.length)

    def summary(self) -> dict[str, Any]:
        classes = self.classes.tolist()
        return {
            "record": self.record,
            "fs": self.fs,
            "lead": self.lead,
            "samples_in_recording": self.length,
            "start": None if self.start is None else self.start.isoformat(timespec="seconds"),
            "model": self.model,
            "runtime": self.runtime,
            "r_peaks": self.peaks,
            "class_names": list(self.class_names),
            "wfdb_symbols": {c: symbol_of(c) for c in self.class_names},
            "beats": len(classes),
            "counts": {c: classes.count(c) for c in self.class_names},
            "quality": None
            if self.windows is None
            else {
                "index": gate_name(self.gate),
                "window_s": round(float(np.median(self.windows.ends - self.windows.starts)) / self.fs, 3),
                "windows": len(self.windows.readable),
                "unreadable_windows": int((~self.windows.readable).sum()),
                "unreadable": self._on_clock(
                    [{"start": s, "end": e} for s, e in self.windows.unreadable_stretches()]
                ),
                "beats_unclassified": self.unclassified,
            },
            "missing": self._on_clock([{"start": s, "end": e} for s, e in self.missing]),
            "pauses": self._on_clock([{"start": s, "end": e} for s, e in self.pauses]),
            "notes": self.notes,
            "warnings": self.warnings,
            "findings": self._on_clock([f.to_dict() for f in self.findings]),
            "rhythm": None
            if self.rhythm_model is None
            else {
                "model": self.rhythm_model,
                "recording": self.rhythm_recording,
                "episodes": self._on_clock([e.to_dict() for e in self.rhythm]),
                "af_burden": None if self.af_burden is None else self.af_burden.to_dict(self._on_clock),
                "s_beats_in_af_relabelled_n": self.s_relabelled_in_af,
            },
            "ventricular_runs": None
            if self.ventricular_runs is None
            else self._on_clock([r.to_dict() for r in self.ventricular_runs]),
            # without a rhythm model AF's intervals are NN too, and AF's variability is not the heart's
            "hrv": {**self.hrv.to_dict(), "af_left_out": self.rhythm_model is not None},
            "hours": None if self.hours is None else [h.to_dict(self.fs, self.start) for h in self.hours],
        }

    def clock(self, sample: int | None) -> str | None:
        """The recorder's clock at `sample` (ISO 8601), where the recording's start is known."""
        if self.start is None or sample is None:
            return None
        return clock(self.start, sample / self.fs).isoformat(timespec="seconds")

    def _on_clock(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`rows` (each with its `start` sample) with the clock there, where the recording's start is
        known."""
        return rows if self.start is None else [{**r, "clock": self.clock(r["start"])} for r in rows]

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows())

    def _rows(self) -> Iterator[dict[str, Any]]:
        """One dict a beat, made as it is written: a patch's weeks hold millions of beats."""
        flags = self.relabelled.tolist() if self.relabelled is not None else [None] * len(self.samples)
        beats = zip(self.samples.tolist(), self.classes.tolist(), self.probabilities, flags, strict=True)
        for s, c, p, flag in beats:
            row = {"sample": s, "time_s": round(s / self.fs, 4), "class": c, "symbol": symbol_of(c)}
            row.update({f"p_{n}": round(v, 6) for n, v in zip(self.class_names, p.tolist(), strict=True)})
            if flag is not None:  # an S call inside AF written N: the class is not the beat model's
                row["relabelled"] = int(flag)
            yield row

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "beat_list": self.rows()}

    def write_json(self, out: TextIO) -> None:
        """`to_dict()` as `json.dumps(..., indent=1)` writes it, a beat at a time."""
        head = json.dumps(self.summary(), indent=1)
        out.write(head[: -len("\n}")] + ',\n "beat_list": [')
        for i, row in enumerate(self._rows()):
            out.write(("\n" if i == 0 else ",\n") + textwrap.indent(json.dumps(row, indent=1), "  "))
        out.write("\n ]\n}\n" if len(self.samples) else "]\n}\n")

    def write_csv(self, out: TextIO) -> None:
        """The notes and warnings as comments (pandas: comment="#"), then one row a beat."""
        import csv

        for kind, said in (("note", self.notes), ("warning", self.warnings)):
            for line in said:
                out.write(f"# {kind}: {line}\n")
        cols = ["sample", "time_s", "class", "symbol", *(f"p_{n}" for n in self.class_names)]
        cols += ["relabelled"] if self.relabelled is not None else []
        writer = csv.DictWriter(out, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._rows())

    def csv_text(self) -> str:
        buf = io.StringIO()
        self.write_csv(buf)
        return buf.getvalue()


def _runtime(loaded) -> str:
    int8 = "int8 (LiteRT reference kernels, bit-exact with TFLM)"
    kind = "float (Keras)" if loaded.format == "keras" else int8
    return kind if loaded.calibrated is None else f"{kind}, calibrated {loaded.calibrated}"


class _Counted:
    """A LiteRT interpreter that reports every beat it classifies: progress through `hub.predict`
    itself, which runs the model one beat at a time."""

    def __init__(self, inner, total: int, report: Callable[[int], None]) -> None:
        self._inner, self._total, self._report, self._done = inner, total, report, 0

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def invoke(self) -> None:
        self._inner.invoke()
        self._done += 1
        if self._done % 128 == 0 or self._done == self._total:
            self._report(min(self._done, self._total))


def label_beats(
    found: Scan,
    model,
    *,
    zoo=None,
    float_model: bool = False,
    record: str = "recording",
    lead: str | None = None,
    progress: Progress | None = None,
    keep_s_in_af: bool = False,
    bridge_s: float | None = None,
) -> Annotated:
    """The model's half of `annotate`: every beat of `found` classified, those of unreadable windows then
    dropped, and with a rhythm, S calls inside AF relabelled N unless `keep_s_in_af`. A beat whose frame
    holds a missing stretch is dropped unless the stretch is at most `bridge_s` seconds long (default
    `missing.BRIDGE_S`) and the beat's RR intervals do not reach it."""
    from ..zoo.hub import probabilities
    from .missing import BRIDGE_S, MARGIN_S, beside, covered, merged, restarts, taking_in, unbridged
    from .rhythm_annotation import s_in_af_to_n
    from .ventricular_runs import ventricular_runs, vt_finding

    loaded = beat_model(model, zoo=zoo, float_model=float_model)
    say = progress or (lambda *_: None)
    x, rate, peaks, windows = found.x, found.fs, found.peaks, found.windows
    n = len(peaks)
    say("classifying beats", 0, n)
    counted = loaded
    if loaded.format == "tflite" and n:
        counted = replace(loaded, model=_Counted(loaded.model, n, lambda d: say("classifying beats", d, n)))
    # every detected peak is run, so that each beat's RR features and running template see the recording
    # as the detector did; the beats of unreadable windows are then dropped, never reported
    longer = unbridged(found.missing, rate, BRIDGE_S if bridge_s is None else bridge_s)
    # no RR interval across a stretch where the signal was lost (a lead-off) is a heart's: the rhythm is
    # read again after one, as a restarted firmware stream reads it (an interval of a minute made the
    # next beats look premature, and called them S)
    again = restarts(peaks, merged(windows.unreadable_stretches() if windows is not None else (), longer))
    lone = n == 1 and loaded.config.input.rr_features
    probs = (
        np.zeros((n, len(loaded.class_names)), np.float32)
        if lone
        else probabilities(counted, x, rate, peaks, again)  # the scan's findings said what is amiss
    )
    say("classifying beats", n, n)
    keep = windows.of(peaks) if windows is not None else np.ones(len(peaks), bool)
    if loaded.config.input.rr_features:  # a beat alone between restarts (or in all) has no RR interval
        starts = np.r_[0, again].astype(np.int64)
        keep[starts[np.diff(np.r_[starts, n]) == 1]] = False
    # no beat whose frame holds a missing stretch (given peaks too) that the model cannot read through,
    # nor one beside a shorter one: its RR inputs may span a beat the stretch hid
    near = covered(peaks, longer, loaded.config.input.half_frame_samples(rate))
    near |= beside(peaks, found.missing, round(MARGIN_S * rate))
    keep &= ~near
    in_af = None
    if found.rhythm_model is not None and not keep_s_in_af:
        # a recording called AF as a whole too (studies/af_s_gate.py, fourth round)
        probs, in_af = s_in_af_to_n(probs, peaks, found.rhythm, loaded.class_names, found.rhythm_recording)
    findings, runs = found.findings, None
    if lone:
        findings = (
            *findings,
            Finding(
                "beats",
                "one R peak: the model reads each beat's RR intervals, which a lone beat has none of; "
                "it is not classified",
                int(peaks[0]),
                int(peaks[0]),
            ),
        )
    if "V" in loaded.class_names:  # over every peak: an unclassified beat ends a run
        is_v = (probs.argmax(axis=1) == loaded.class_names.index("V")) & keep
        runs = tuple(ventricular_runs(peaks, is_v, rate))
        if (vt := vt_finding(runs, rate, found.rhythm)) is not None:
            findings = (*findings, vt)
    return Annotated(
        record=record,
        fs=rate,
        samples=np.asarray(peaks[keep], dtype=np.int64),
        probabilities=np.asarray(probs[keep], dtype=np.float32),
        class_names=tuple(loaded.class_names),
        model=f"{loaded.config.name}@{loaded.folder.name}",
        runtime=_runtime(loaded),
        peaks=found.peaks_from,
        lead=lead,
        length=len(x),
        findings=findings,
        windows=windows,
        unclassified=int(n - keep.sum()),
        gaps=found.gaps,
        pauses=found.pauses,
        missing=found.missing,
        left_out=taking_in(found.missing, peaks[near]) if near.any() else (),
        gate=found.gate,
        rhythm=found.rhythm,
        rhythm_model=found.rhythm_model,
        rhythm_recording=found.rhythm_recording,
        af_burden=found.af_burden,
        relabelled=None if in_af is None else in_af[keep],
        ventricular_runs=runs,
    )


def annotate(
    signal,
    fs: float,
    model,
    *,
    r_peaks=None,
    detector: str = DEFAULT,
    zoo=None,
    float_model: bool = False,
    record: str = "recording",
    lead: str | None = None,
    peaks_from: str | None = None,
    progress: Progress | None = None,
    quality: bool = True,
    gate: str = DEFAULT_GATE,
    notes: tuple[str, ...] = (),
    rhythm=None,
    keep_s_in_af: bool = False,
    missing: tuple[tuple[int, int], ...] = (),
) -> Annotated:
    """Labelled beats of one lead (mV) at `fs` Hz: R peaks from `detector` (or `r_peaks`), each beat
    classified by `model` (a `LoadedModel` as loaded, or NAME[@VERSION]: int8 unless `float_model`). Each
    of its `warnings` is also a `RecordingWarning`.

    Detected peaks are gated by signal quality (`quality=False` classifies every one): beats in windows
    the `gate` finds unreadable are not classified; `gate` is "sqi" (`quality.sqi_windows`) or a
    `quality` model of the zoo, NAME[@VERSION] (`quality.model_windows`). `notes`: what reading the file found, passed
    on as warnings. `rhythm`: a recording classifier (af-4, NAME[@VERSION]) whose episodes go beside the beats,
    and the beats inside its atrial fibrillation are never S (AAMI defines none there;
    `rhythm_annotation.s_in_af_to_n`) unless `keep_s_in_af`. `missing`: (start, end) stretches the
    recording's file marks missing (`read.Recording.missing`), read as unreadable; NaN samples of a
    `signal` given without it are missing too (`missing.of_array`). It is `label_beats` of `scan`."""
    from .missing import of_array
    from .scan import scan

    loaded = beat_model(model, zoo=zoo, float_model=float_model)  # an unknown model fails first
    if not missing:
        signal, missing = of_array(signal)  # NaN: samples missing
    found = scan(
        signal,
        fs,
        r_peaks=r_peaks,
        detector=detector,
        zoo=zoo,
        peaks_from=peaks_from,
        progress=progress,
        quality=quality,
        gate=gate,
        notes=notes,
        rhythm=rhythm,
        missing=missing,
    )
    got = label_beats(
        found, loaded, zoo=zoo, record=record, lead=lead, progress=progress, keep_s_in_af=keep_s_in_af
    )
    for message in got.warnings:  # in a notebook too, not only in `.warnings` (the CLI prints its own)
        warnings.warn(f"{record}: {message}", RecordingWarning, stacklevel=2)
    return got


def beat_model(model, *, zoo=None, float_model: bool = False):
    """`model` loaded (`zoo.hub.resolve_model`), or an error naming it when it classifies no beats (a rhythm
    or quality model, whose classes are no beat annotation codes)."""
    from ..tasks import TASKS
    from ..zoo.hub import resolve_model

    loaded = resolve_model(model, zoo=zoo, float_model=float_model)
    if TASKS[loaded.config.task].unit != "beat":
        beats = ", ".join(t for t, task in TASKS.items() if task.unit == "beat")
        ref = model if isinstance(model, str) else f"{loaded.config.name}@{loaded.folder.name}"
        raise HeartzooError(f"model {ref}: its task is {loaded.config.task}, not a beat task ({beats})")
    return loaded


def annotate_file(
    path,
    model,
    *,
    lead: str | None = None,
    fs: float | None = None,
    reference: str | None = None,
    detector: str = DEFAULT,
    zoo=None,
    float_model: bool = False,
    progress: Progress | None = None,
    quality: bool = True,
    gate: str = DEFAULT_GATE,
    rhythm=None,
    keep_s_in_af: bool = False,
    invert: bool = False,
) -> Annotated:
    """`annotate` on the recording at `path` (WFDB, EDF, CSV or .npy), on the lead the model's contract
    names unless `lead`; `reference`: the extension of an annotation file of that WFDB record whose beats
    are used as the R peaks instead of detecting them; `invert`: the lead turned over first (its notes
    say so)."""
    from .read import read_recording, reference_peaks

    loaded = beat_model(model, zoo=zoo, float_model=float_model)  # an unknown model fails first
    rec = read_recording(
        path, lead or loaded.firmware.lead, fs=fs, lead_given=lead is not None, invert=invert
    )
    if reference is not None and rec.base is None:
        raise HeartzooError(f"{path}: --reference-peaks needs a WFDB record, not a .{rec.format} file")
    try:  # what detection needs (a 2-second record is refused before its annotations are read)
        check_signal(rec.signal, rec.fs)
    except HeartzooError as exc:
        raise HeartzooError(f"{path}: {exc}") from None
    peaks = None
    if reference is not None:
        peaks = reference_peaks(rec.base, reference, len(rec.signal), rec.fs)
    got = annotate(
        rec.signal,
        rec.fs,
        loaded,
        r_peaks=peaks,
        detector=detector,
        record=rec.name,
        lead=rec.lead,
        peaks_from=f"reference annotations ({reference})" if reference else None,
        progress=progress,
        quality=quality,
        gate=gate,
        notes=rec.notes,
        rhythm=rhythm,
        keep_s_in_af=keep_s_in_af,
        zoo=zoo,
        missing=rec.missing,
    )
    return replace(got, start=rec.start, channel=rec.channel)
