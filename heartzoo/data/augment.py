"""Training-time augmentation of prepared frames, vectorised over a batch (numpy).

Order: time jitter (shift the frame around its R-peak, edge-filled), NSTDB noise at a random SNR
(signal power measured on each frame's QRS), renormalisation to the input spec, amplitude scaling, and
polarity (a lead the other way round: CinC 2017's AliveCor recordings are often inverted).
Amplitude scaling acts after normalisation, so it models a gain mismatch between training and the
firmware's input rather than being undone by the normalisation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..preprocess import InputSpec, normalize, resample
from .noise import NOISE_FOLDER, read_noise

NoiseKind = Literal["bw", "em", "ma"]


class NoiseAugment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    probability: float = Field(0.0, ge=0, le=1, description="Chance that a frame gets NSTDB noise.")
    snr_db: tuple[float, float] = Field((6.0, 24.0), description="SNR range (dB), drawn uniformly.")
    kinds: list[NoiseKind] = Field(
        ["bw", "em", "ma"], min_length=1, description="NSTDB noise records to use."
    )
    reference: Literal["qrs", "window"] = Field(
        "qrs",
        description="The signal the SNR is measured against, as NSTDB measures it, by QRS amplitude: the "
        "frame's QRS at its R peak (a beat's frame), or the median peak-to-peak of the window's seconds "
        "(a rhythm window, which holds a QRS most seconds but none at a fixed place).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> NoiseAugment:
        if self.snr_db[0] > self.snr_db[1]:
            raise ValueError(f"snr_db must be (low, high), got {self.snr_db}")
        return self


class AugmentConfig(BaseModel):
    """A config's `augment`: what training does to the frames it draws (never to validation or test)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    noise: NoiseAugment = Field(NoiseAugment(), description="NSTDB noise added to training frames.")
    amplitude: tuple[float, float] = Field((1.0, 1.0), description="Amplitude scale range, drawn uniformly.")
    jitter: int = Field(0, ge=0, description="Largest shift of the frame around the R-peak (samples).")
    polarity: float = Field(0.0, ge=0, le=1, description="Chance that a frame is inverted (lead reversed).")
    time_scale: tuple[float, float] = Field(
        (1.0, 1.0),
        description="Sampling jitter: each frame read as if sampled at a rate off by a factor drawn uniformly "
        "from this range (stretched or squeezed around its R peak), as another device's rate or clock shows it.",
    )
    premature: float = Field(
        0.0,
        ge=0,
        le=0.5,
        description="Share of drawn normal beats given a real S beat's RR features and "
        "labelled S: a beat of the patient's own shape that comes early is supraventricular (AAMI).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> AugmentConfig:
        lo, hi = self.amplitude
        if not 0 < lo <= hi:
            raise ValueError(f"amplitude must be (low, high) with 0 < low <= high, got {self.amplitude}")
        lo, hi = self.time_scale
        if not 0.5 <= lo <= hi <= 2.0:
            raise ValueError(
                f"time_scale must be (low, high) with 0.5 <= low <= high <= 2, got {self.time_scale}"
            )
        return self


def premature_classes(task) -> tuple[int, int] | None:
    """The task classes of AAMI N and S beats, when the task holds them apart (None otherwise)."""
    n, s = task.aami_map.get("N"), task.aami_map.get("S")
    if task.unit != "beat" or n is None or s is None or n == s:
        return None
    return task.class_names.index(n), task.class_names.index(s)


def s_class(task) -> int | None:
    """The task class that holds AAMI S beats and nothing else (None: there is none)."""
    target = task.aami_map.get("S")
    if task.unit != "beat" or target is None or [a for a, t in task.aami_map.items() if t == target] != ["S"]:
        return None
    return task.class_names.index(target)


def augment_problem(config: Any) -> str | None:
    """What makes a config's `augment` impossible for its task and input (None: nothing)."""
    if config.augment.premature <= 0:
        return None
    from ..tasks import get_task

    if premature_classes(get_task(config.task)) is None:
        return f"augment.premature needs a beat task that holds N and S beats apart, not {config.task}"
    if not config.input.rr_features:
        return "augment.premature gives beats an S beat's RR features: it needs input.rr_features: true"
    return None


def premature_context(
    rr: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    share: float,
    classes: tuple[int, int],
    early: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A `share` of a batch's normal beats take the RR inputs of beats drawn from `early` (the training S
    beats') and the S label (copies; the rest unchanged).

    AAMI's S class is defined by origin and timing, not by QRS shape: an atrial premature beat is
    conducted like the patient's normal beats, bundle-branch block included (MIT-BIH 232). Models trained
    on shape learn that a bundle-branch-block beat is N; this shows them the patient's own beat coming
    early, labelled S.
    """
    normal, premature = classes
    hit = np.flatnonzero((y == normal) & (rng.random(len(y)) < share))
    if not len(hit) or not len(early):
        return rr, y
    rr, y = rr.copy(), y.copy()
    rr[hit] = early[rng.integers(0, len(early), size=len(hit))]
    y[hit] = premature
    return rr, y


def time_scaled(x: np.ndarray, scale: np.ndarray, centre: int) -> np.ndarray:
    """Frames resampled around sample `centre` by `scale` (> 1: the beat stretched, as a faster sampling
    rate records it), by linear interpolation; where the stretch reads past an end, the edge value."""
    t = x.shape[1]
    pos = np.clip(centre + (np.arange(t)[None, :] - centre) / scale[:, None], 0, t - 1)
    lo = np.minimum(pos.astype(np.int64), t - 2)
    w = (pos - lo).astype(np.float32)
    left, right = np.take_along_axis(x, lo, axis=1), np.take_along_axis(x, lo + 1, axis=1)
    return left + w * (right - left)


class Augmenter:
    def __init__(self, config: AugmentConfig, spec: InputSpec, data_dir: Path | None = None) -> None:
        self.config = config
        self.spec = spec
        self.bank: list[np.ndarray] = []
        if config.noise.probability > 0:
            if data_dir is None:
                raise ValueError("noise augmentation needs the data folder holding nstdb_noise/")
            for kind in config.noise.kinds:
                values, fs = read_noise(Path(data_dir) / NOISE_FOLDER, kind)
                self.bank.append(resample(values, fs, spec.fs))

    @property
    def active(self) -> bool:
        c = self.config
        return (
            c.jitter > 0
            or c.time_scale != (1.0, 1.0)
            or c.amplitude != (1.0, 1.0)
            or c.polarity > 0
            or (c.noise.probability > 0 and bool(self.bank))
        )

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        b, t = x.shape
        c = self.config
        if c.time_scale != (1.0, 1.0):  # drawn only when asked: other recipes keep their random streams
            x = time_scaled(x, rng.uniform(*c.time_scale, size=b), self.spec.r_peak)
        if c.jitter > 0:
            shift = rng.integers(-c.jitter, c.jitter + 1, size=b)
            idx = np.clip(np.arange(t)[None, :] - shift[:, None], 0, t - 1)
            x = np.take_along_axis(x, idx, axis=1)
        if c.noise.probability > 0 and self.bank:
            hit = np.flatnonzero(rng.random(b) < c.noise.probability)
            if len(hit):
                x = x.copy()
                x[hit] = self._noisy(x[hit], rng)
        if c.amplitude != (1.0, 1.0):
            x = x * rng.uniform(*c.amplitude, size=(b, 1)).astype(np.float32)
        if c.polarity > 0:
            x = x * np.where(rng.random((b, 1)) < c.polarity, -1.0, 1.0).astype(np.float32)
        return x

    def _noisy(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, t = x.shape
        kinds = rng.integers(0, len(self.bank), size=n)
        segs = np.empty_like(x)
        for i, k in enumerate(kinds):
            src = self.bank[k]
            start = rng.integers(0, len(src) - t)
            segs[i] = src[start : start + t]
        segs -= segs.mean(axis=1, keepdims=True)
        if self.config.noise.reference == "window":
            second = max(1, min(self.spec.fs, t))
            secs = x[:, : t // second * second].reshape(n, -1, second)
            amplitude = np.median(secs.max(axis=2) - secs.min(axis=2), axis=1)
        else:
            half = max(1, round(0.05 * self.spec.fs))
            r = self.spec.r_peak
            qrs = x[:, max(0, r - half) : r + half + 1]
            amplitude = qrs.max(axis=1) - qrs.min(axis=1)
        signal_power = amplitude**2 / 8.0
        noise_power = np.maximum((segs**2).mean(axis=1), 1e-12)
        snr = rng.uniform(*self.config.noise.snr_db, size=n)
        gain = np.sqrt(signal_power / (noise_power * 10 ** (snr / 10)))
        return normalize(x + segs * gain[:, None].astype(np.float32), self.spec.normalization, self.spec.eps)
