"""The one Preprocessor: (signal, fs, R peaks) -> the model's inputs.

Training-data preparation, evaluation, `heartzoo.predict`, calibration and export all go through it, so
a beat reaches the model the same way everywhere; it serialises into the firmware contract and back, as
torchvision's `weights.transforms()` travel with the weights. Steps, in order: resample the lead to
`fs` (polyphase FIR), cut a `frame_size` frame with the R peak at `r_peak`, z-score each frame; with
`template_beats`, a second channel (frame - the mean of the recording's previous frames; with
`template_on_time`, of its previous frames that came on time); with
`rr_features`, four RR ratios as a second input, with `rr_irregularity` a fifth: how irregular the
rhythm was just before the beat, and with `rr_history` the RR intervals before the beat's own; with
`rr_normaliser: median` the long horizon is the running median of 300 RR intervals instead of their mean
(the RR features themselves are defined in `heartzoo.preprocess.rr_features`; the resampler in
`heartzoo.preprocess.resampling`; a lead read where it is sliced, in `heartzoo.preprocess.lead`; what
says a lead was given wrong, in `heartzoo.preprocess.plausibility`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import HeartzooError
from .resampling import RESAMPLE_CHUNK_S as RESAMPLE_CHUNK_S
from .resampling import RESAMPLING, frame_samples_at, positions_at, resampled
from .resampling import resample as resample
from .rr_features import (
    HISTORY_DEFINITION,
    IRREGULARITY_DEFINITION,
    MAX_RR_HISTORY,
    MEDIAN_DEFINITION,
    RR_DEFINITION,
    RR_EPS,
    RR_IRREGULARITY,
    rr_feature_names,
    rr_history_of,
    rr_intervals,
    rr_normaliser_of,
    rr_ratios,
)

#: InputSpec fields added after caches and shard folders were keyed by the whole spec: `InputSpec.key`
#: leaves them out at these defaults
LATE_DEFAULTS: dict[str, Any] = {"rr_history": 0, "rr_normaliser": "mean", "template_on_time": 0.0}


class InputSpec(BaseModel):
    """What the model sees: the firmware must prepare its input exactly like this (a config's `input`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lead: str = Field("MLII", description="Lead, chosen by its name in the record header.")
    fs: int = Field(100, gt=0, le=1000, description="Sampling rate of the model input (Hz).")
    frame_size: int = Field(512, ge=16, le=8192, description="Samples per frame.")
    r_peak_index: int | None = Field(
        None, ge=0, description="Index of the R-peak inside the frame; default: frame_size // 2."
    )
    normalization: Literal["zscore", "none"] = Field(
        "zscore", description="Per-frame normalisation: (x - mean) / (std + eps), or none."
    )
    eps: float = Field(
        1e-3, gt=0, description="Added to the standard deviation (same unit as the signal, mV)."
    )
    template_beats: int = Field(
        0,
        ge=0,
        description="If > 0, a second input channel: the frame minus the mean of the record's previous "
        "`template_beats` frames (beat-to-beat normalisation).",
    )
    template_on_time: float = Field(
        0.0,
        ge=0,
        le=2,
        description="If > 0, only beats that came on time enter the running template: those whose RR before "
        "is at least this share of the long horizon (their pre/local300 RR feature), so a run of premature "
        "beats does not become the patient's usual beat (0: every beat).",
    )
    rr_features: bool = Field(
        False,
        description="Also feed four RR ratios (previous and next RR over the means of the last 10 and 300 RRs).",
    )
    rr_irregularity: bool = Field(
        False,
        description="With rr_features, a fifth RR feature: over the 10 RR intervals before the beat's own, "
        "the median absolute difference of successive intervals over their mean (high in atrial fibrillation).",
    )
    rr_history: int = Field(
        0,
        ge=0,
        le=MAX_RR_HISTORY,
        description="With rr_features, this many more RR features: the RR intervals before the beat's own, "
        "each over the same long horizon as pre/local300 (the rhythm the beat comes in).",
    )
    rr_normaliser: Literal["mean", "median"] = Field(
        "mean",
        description="With rr_features, what the long-horizon ratios divide by: the running mean of the last "
        "300 RR intervals, or their running median (which a run of ectopic beats or missed beats moves less).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        if self.r_peak_index is not None and self.r_peak_index >= self.frame_size:
            raise ValueError(f"r_peak_index ({self.r_peak_index}) must be < frame_size ({self.frame_size})")
        if self.rr_irregularity and not self.rr_features:
            raise ValueError("rr_irregularity is one of the RR features: it needs rr_features: true")
        if self.rr_history and not self.rr_features:
            raise ValueError("rr_history is one of the RR features: it needs rr_features: true")
        if self.rr_normaliser != "mean" and not self.rr_features:
            raise ValueError("rr_normaliser divides the RR features: it needs rr_features: true")
        if self.template_on_time and not (self.template_beats and self.rr_features):
            raise ValueError(
                "template_on_time chooses the beats of the template by their pre/local300 RR feature: "
                "it needs template_beats > 0 and rr_features: true"
            )
        return self

    def key(self) -> dict[str, Any]:
        """The spec as caches and shard folders are keyed by it: its JSON dump, less the fields added since
        at their defaults (`LATE_DEFAULTS`), so what was prepared before them is found again."""
        out = self.model_dump(mode="json")
        for name, default in LATE_DEFAULTS.items():
            if out[name] == default:
                del out[name]
        return out

    @property
    def r_peak(self) -> int:
        return self.frame_size // 2 if self.r_peak_index is None else self.r_peak_index

    @property
    def channels(self) -> int:
        return 2 if self.template_beats else 1

    def frame_samples(self, fs: float) -> int:
        """The frame's length in samples of a signal at `fs` Hz (before it is resampled to the model's)."""
        return frame_samples_at(self.frame_size, self.fs, fs)

    def half_frame_samples(self, fs: float) -> int:
        """Half the frame in samples of a signal at `fs` Hz: how far from a beat its frame reaches."""
        return round(self.frame_size / self.fs * fs / 2)


def extract_frames(signal: np.ndarray, centres: np.ndarray, frame_size: int, r_peak: int) -> np.ndarray:
    """Frames of `frame_size` samples with sample `centres[i]` at index `r_peak` of frame i.

    Frames that reach past either end of the record are filled with the edge value, so every
    annotated beat gets a frame and the counts stay those of the database.
    """
    centres = np.asarray(centres, dtype=np.int64)
    if not centres.size:
        return np.zeros((0, frame_size), np.float32)
    # only the stretch the frames cover is copied (a batch of a day's recording reads minutes of it),
    # padded with the edge values where it passes either end
    n, first = len(signal), int(centres.min())
    lo, hi = first - r_peak, int(centres.max()) + frame_size - r_peak
    seg = np.asarray(signal[max(lo, 0) : min(hi, n)], dtype=np.float32)
    padded = np.pad(seg, (max(0, -lo), max(0, hi - n)), mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, frame_size)
    # the frame of the beat at c starts at c - r_peak, index c - first of the padded stretch
    return np.ascontiguousarray(view[centres - first])


def normalize(frames: np.ndarray, method: str, eps: float) -> np.ndarray:
    """Per-frame normalisation, on a float32 copy."""
    x = np.array(frames, dtype=np.float32, copy=True)
    if method == "none":
        return x
    if method == "zscore":
        x -= x.mean(axis=-1, keepdims=True)
        x /= x.std(axis=-1, keepdims=True) + np.float32(eps)
        return x
    raise ValueError(f"unknown normalization {method!r}; use 'zscore' or 'none'")


def beat_templates(
    x: np.ndarray, record: np.ndarray, beats: int, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Causal running template: row i is the mean of the `beats` frames before beat i in its record, of
    those `eligible` marks when given (a beat with none before it is its own template). The model sees
    frame - template, the beat's departure from the patient's recent beats: firmware keeps the same
    running mean, a ring that only eligible beats enter.
    """
    out = np.empty_like(x)
    starts = np.flatnonzero(np.r_[True, record[1:] != record[:-1]])
    ends = np.r_[starts[1:], len(record)]
    for a, b in zip(starts, ends, strict=True):
        seg = x[a:b].astype(np.float64)
        ok = np.ones(b - a, bool) if eligible is None else np.asarray(eligible[a:b], bool)
        csum = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(seg[ok], axis=0)])
        before = np.concatenate([[0], np.cumsum(ok)[:-1]])  # eligible beats before each beat
        lo = np.maximum(before - beats, 0)
        count = (before - lo)[:, None]
        mean = (csum[before] - csum[lo]) / np.maximum(count, 1)
        none = before == 0
        mean[none] = seg[none]
        out[a:b] = mean
    return out.astype(np.float32)


def on_time(rr: np.ndarray, share: float) -> np.ndarray:
    """Beats whose RR before is at least `share` of the long horizon (`rr_intervals`' columns: the
    pre/local300 RR feature >= share): those that may enter an on-time template."""
    rr = np.asarray(rr)
    return rr[:, 0] / (rr[:, 3] + RR_EPS) >= share


def input_rows(inputs, index):
    """The rows `index` (indices, mask or slice) of model inputs, in the same form."""
    return {k: v[index] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[index]


def input_count(inputs) -> int:
    return len(inputs["ecg"]) if isinstance(inputs, dict) else len(inputs)


@dataclass(frozen=True)
class Preprocessor:
    """The input side of one model, built from its `InputSpec` (or from a firmware contract)."""

    spec: InputSpec

    @classmethod
    def of(cls, config) -> Preprocessor:
        """The preprocessor of a `HeartzooConfig`."""
        return cls(config.input)

    # -- shapes --------------------------------------------------------------------------------
    @property
    def rr_features(self) -> bool:
        return self.spec.rr_features

    @property
    def rr_inputs(self) -> int:
        """How many RR features the model takes (0: no RR input)."""
        return len(self.rr_names)

    @property
    def rr_names(self) -> tuple[str, ...]:
        """The RR input's features, in order (none without RR features)."""
        if not self.spec.rr_features:
            return ()
        return rr_feature_names(self.spec.rr_irregularity, self.spec.rr_history, self.spec.rr_normaliser)

    @property
    def ecg_shape(self) -> tuple[int, int, int]:
        """(1, T, C): one row of T samples, C channels (the frame, and frame - template)."""
        return (1, self.spec.frame_size, self.spec.channels)

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"ecg": self.ecg_shape}
        if self.rr_features:
            shapes["rr"] = (self.rr_inputs,)
        return shapes

    # -- steps ---------------------------------------------------------------------------------
    def frames(self, values: np.ndarray, fs: float, r_peaks: np.ndarray) -> np.ndarray:
        """(n, T) float32: the lead resampled to `spec.fs`, a frame around every R peak, normalised."""
        return self._frames_at(*self._centred(values, fs, r_peaks))

    def _centred(self, values: np.ndarray, fs: float, r_peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lead resampled to `spec.fs` where the frames slice it (`resampled`), and the R peaks moved
        there."""
        x = resampled(values, fs, self.spec.fs)
        return x, np.clip(positions_at(r_peaks, fs, self.spec.fs), 0, len(x) - 1)

    def _frames_at(self, x: np.ndarray, centres: np.ndarray) -> np.ndarray:
        s = self.spec
        return normalize(extract_frames(x, centres, s.frame_size, s.r_peak), s.normalization, s.eps)

    def templates(
        self, frames: np.ndarray, record: np.ndarray, rr: np.ndarray | None = None
    ) -> np.ndarray | None:
        """The running templates of frames that hold whole recordings in beat order (None without); with
        `template_on_time`, of their on-time beats, read from `rr` (their `rr_intervals`, this spec's)."""
        s = self.spec
        if not s.template_beats:
            return None
        if not s.template_on_time:
            return beat_templates(frames, record, s.template_beats)
        if rr is None:
            raise ValueError("an on-time template reads each beat's RR intervals: pass them")
        return beat_templates(frames, record, s.template_beats, on_time(rr, s.template_on_time))

    def ecg(self, frames: np.ndarray, template: np.ndarray | None) -> np.ndarray:
        """(n, 1, T, C): the frame, and frame - running template as a second channel when there is one."""
        if template is None:
            return frames[:, None, :, None]
        return np.stack([frames, frames - template], axis=-1)[:, None, :, :]

    def rr_intervals(self, r_peaks: np.ndarray, fs: float, restarts=()) -> np.ndarray:
        """`rr_intervals` of one recording's R peaks, with the columns this spec's RR features read; from each
        of `restarts` (sorted indices) on, a recording of its own (a beat alone there reads zeros)."""
        if len(r_peaks) == 1:  # no interval: its ratios would read as a beat of extreme prematurity
            raise HeartzooError(
                "this model reads each beat's RR intervals (rr_features): one R peak has none; pass the "
                "recording's R peaks together (at least 2), not one beat at a time"
            )
        h, norm = self.spec.rr_history, self.spec.rr_normaliser
        return np.concatenate([rr_intervals(p, fs, h, norm) for p in np.split(r_peaks, restarts)])

    def rr(self, rr: np.ndarray) -> np.ndarray:
        """The RR input (n, len(rr_names)) from `rr_intervals`' columns."""
        return rr_ratios(rr, self.spec.rr_irregularity, self.spec.rr_history)

    def inputs(self, frames: np.ndarray, template: np.ndarray | None, rr: np.ndarray | None) -> Any:
        """Model inputs from frames, their templates and `rr_intervals`: an array, or {"ecg", "rr"}
        when the model takes RR features."""
        ecg = self.ecg(frames, template)
        if not self.rr_features:
            return ecg
        if rr is None:
            raise ValueError("this model takes RR features: pass the RR intervals")
        return {"ecg": ecg, "rr": self.rr(rr)}

    def __call__(self, values: np.ndarray, fs: float, r_peaks: np.ndarray) -> Any:
        """The model inputs of every beat of one recording (one lead, R-peak sample indices), checked as
        `check_recording` checks what any recording must be (NaN gave NaN inputs, reversed peaks RR ratios)."""
        values, fs, r_peaks = check_recording(values, fs, r_peaks)
        x = self.frames(values, fs, r_peaks)
        rr = self.rr_intervals(r_peaks, fs) if self.rr_features else None
        template = self.templates(x, np.zeros(len(x), dtype="<U1"), rr)
        return self.inputs(x, template, rr)

    def batches(
        self, values: np.ndarray, fs: float, r_peaks: np.ndarray, size: int, restarts: Sequence[int] = ()
    ) -> Iterator[Any]:
        """The inputs of `self(values, fs, r_peaks)`, `size` beats at a time (so that memory does not grow
        with the recording); one batch when there are no more beats than that. The RR features read the whole
        recording, and each batch's running templates the frames before it that they average, so the rows
        are those of one call (up to the rounding of the running mean's float64 sums). From each of `restarts`
        (indices into `r_peaks`) on, RR features and templates start again, as firmware's after a lead-off."""
        s = self.spec
        values, fs, r_peaks = check_recording(values, fs, r_peaks)
        x, centres = self._centred(values, fs, r_peaks)
        restarts = np.unique(np.asarray(restarts, np.int64))
        if len(restarts) and not 0 <= restarts[0] <= restarts[-1] < len(r_peaks):
            raise HeartzooError(f"restarts {restarts.tolist()}: not indices of the {len(r_peaks)} R peaks")
        part = np.cumsum(np.isin(np.arange(len(r_peaks)), restarts))  # each beat's stretch between restarts
        rr = self.rr_intervals(r_peaks, fs, restarts) if self.rr_features else None
        ring = None  # the beats that enter a template
        if s.template_beats:
            every = np.arange(len(centres))
            ring = every[on_time(rr, s.template_on_time)] if s.template_on_time and rr is not None else every
        for i in range(0, len(centres), size):
            j, w = min(i + size, len(centres)), i
            if ring is not None:  # back to the oldest frame the first template of the batch averages
                before = ring[ring < i]
                w = int(before[-s.template_beats]) if len(before) >= s.template_beats else 0
            frames = self._frames_at(x, centres[w:j])
            template = self.templates(frames, part[w:j], None if rr is None else rr[w:j])
            yield self.inputs(
                frames[i - w :],
                None if template is None else template[i - w :],
                None if rr is None else rr[i:j],
            )

    # -- the firmware contract ----------------------------------------------------------------
    def contract(self) -> dict[str, Any]:
        """The preprocessing part of the firmware contract (configuration.json's `firmware`)."""
        s = self.spec
        out: dict[str, Any] = {
            "sampling_rate_hz": s.fs,
            "lead": s.lead,
            "resampling": RESAMPLING,
            "frame_size": s.frame_size,
            "r_peak_index": s.r_peak,
            "normalization": {
                "name": s.normalization,
                "eps": s.eps,
                "formula": "(x - mean(x)) / (std(x) + eps) per frame"
                if s.normalization == "zscore"
                else "none",
            },
            "template_beats": s.template_beats,
        }
        if s.template_beats:
            out["template"] = (
                f"channel 1 = frame - mean of the previous {s.template_beats} frames of the same recording "
                "(the first frame is its own template)"
            )
        if s.template_on_time:
            out["template_on_time"] = s.template_on_time
            out["template"] = (
                f"channel 1 = frame - mean of the previous {s.template_beats} frames of the same recording "
                f"whose RR before was >= {s.template_on_time} x the {s.rr_normaliser} of the last 300 RR "
                "intervals, its own included (a frame with none before it is its own template)"
            )
        if s.rr_features:
            definition = RR_DEFINITION + ("; " + IRREGULARITY_DEFINITION if s.rr_irregularity else "")
            definition += "; " + MEDIAN_DEFINITION if s.rr_normaliser == "median" else ""
            definition += "; " + HISTORY_DEFINITION if s.rr_history else ""
            out["rr_features"] = {"order": list(self.rr_names), "definition": definition}
        return out

    @classmethod
    def from_contract(cls, firmware: Any) -> Preprocessor:
        """The preprocessor a firmware contract (a `meta.FirmwareContract` or its dict) describes."""
        f = firmware if isinstance(firmware, dict) else firmware.model_dump(mode="json", exclude_none=True)
        order = (f.get("rr_features") or {}).get("order", ())
        return cls(
            InputSpec(
                lead=f["lead"],
                fs=f["sampling_rate_hz"],
                frame_size=f["frame_size"],
                r_peak_index=f["r_peak_index"],
                normalization=f["normalization"]["name"],
                eps=f["normalization"]["eps"],
                template_beats=f["template_beats"],
                template_on_time=f.get("template_on_time") or 0.0,
                rr_features=f.get("rr_features") is not None,
                rr_irregularity=RR_IRREGULARITY in order,
                rr_history=rr_history_of(order),
                rr_normaliser=rr_normaliser_of(order),
            )
        )


#: below this rate a QRS complex (about 100 ms) is a few samples: no detector or model reads it
MIN_FS = 50.0
#: R peaks closer than this (median) are no heart's (500 per minute): a wrong rate or wrong indices
MIN_RR_S = 0.12


# What any one-lead recording handed to heartzoo must be, checked before detection or a model reads it.
def check_recording(signal, fs, r_peaks) -> tuple[np.ndarray, float, np.ndarray]:
    """One lead in mV, its sampling rate and R-peak sample indices, or an error that says what is wrong
    with them (a model would otherwise answer "N" with confidence for a beat that is not there). A lead a
    reader checked where it lies (`lead.CheckedLead`) is passed on as it is, read where sliced."""
    from .lead import CheckedLead

    lazy = isinstance(signal, CheckedLead)
    x = signal if lazy else np.asarray(signal)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise HeartzooError(f"signal must be one lead (a 1-D array), got shape {x.shape}; pick one column")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise HeartzooError(f"signal must hold real numbers (mV), got dtype {x.dtype}")
    try:
        rate = float(fs) if not isinstance(fs, bool | np.bool_) else math.nan  # True is no rate
    except (TypeError, ValueError):
        raise HeartzooError(f"fs must be a sampling rate in Hz, got {fs!r}") from None
    if not (np.isfinite(rate) and rate > 0):
        raise HeartzooError(f"fs must be a positive sampling rate in Hz, got {fs!r}")
    if rate < MIN_FS:
        raise HeartzooError(
            f"sampling rate {fs!r} Hz is too low to find or classify QRS complexes (need >= {MIN_FS:g} Hz)"
        )
    if not lazy:  # as the models read it: a sample past float32's range is infinite there
        with np.errstate(over="ignore"):
            x = x.astype(np.float32, copy=False)
    bad = np.zeros(0, np.int64) if lazy else np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise HeartzooError(
            f"signal holds {bad.size} NaN or infinite sample(s) (or past float32's range), the first at "
            f"sample {bad[0]} ({bad[0] / rate:.2f} s); fill or cut them first"
        )
    if not len(x):
        raise HeartzooError("signal is empty (no samples)")
    if not lazy and np.ptp(x) == 0:  # a checked lead is not flat
        raise HeartzooError("signal is flat (every sample the same): no lead connected?")
    r = np.asarray(r_peaks)
    if r.ndim != 1:
        raise HeartzooError(f"r_peaks must be a 1-D array of sample indices, got shape {r.shape}")
    whole = np.issubdtype(r.dtype, np.integer) or (
        np.issubdtype(r.dtype, np.floating) and np.all(np.isfinite(r)) and np.all(r == np.round(r))
    )
    if r.size and not whole:
        raise HeartzooError("r_peaks must be whole sample indices (integers)")
    # before the cast: 1e30, or 2**63 as uint64, is no int64 and would be named as another number
    outside = np.flatnonzero((r < 0) | (r >= len(x)))
    if outside.size:
        raise HeartzooError(
            f"r_peaks[{outside[0]}] = {r[outside[0]]:.0f} lies outside the signal's {len(x)} samples "
            f"({outside.size} peak(s) outside)"
        )
    r = r.astype(np.int64)
    back = np.flatnonzero(np.diff(r) <= 0)
    if back.size:
        i = back[0]
        raise HeartzooError(
            f"r_peaks must be strictly increasing: r_peaks[{i}] = {r[i]}, r_peaks[{i + 1}] = {r[i + 1]}"
        )
    return x, rate, r


def check_beats(r_peaks: np.ndarray, fs: float) -> None:
    """R peaks a heart could make, or an error: closer than `MIN_RR_S` (median) is a wrong rate or wrong
    indices (fs 1e9 called every beat S). For beats only: a rhythm model's windows may overlap."""
    r = np.asarray(r_peaks)
    if r.size >= 2 and (rr := float(np.median(np.diff(r))) / fs) < MIN_RR_S:
        raise HeartzooError(
            f"the R peaks are {1000 * rr:.3g} ms apart (median) at {fs:g} Hz, {60 / rr:,.0f} per minute: "
            "no heart beats so fast; is fs the recording's rate, and are r_peaks its sample indices?"
        )
