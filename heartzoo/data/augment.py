"""Training-time augmentation of prepared frames, vectorised over a batch (numpy).

Order: time jitter (shift the frame around its R-peak, edge-filled), NSTDB noise at a random SNR
(signal power measured on each frame's QRS), renormalisation to the input spec, amplitude scaling, and
polarity (a lead the other way round: CinC 2017's AliveCor recordings are often inverted).
Amplitude scaling acts after normalisation, so it models a gain mismatch between training and the
firmware's input rather than being undone by the normalisation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import AugmentConfig
from ..preprocess import InputSpec, normalize, resample
from .noise import NOISE_FOLDER, read_noise


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
        return (c.jitter > 0 or c.amplitude != (1.0, 1.0) or c.polarity > 0
                or (c.noise.probability > 0 and bool(self.bank)))  # fmt: skip

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        b, t = x.shape
        c = self.config
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
        half = max(1, round(0.05 * self.spec.fs))
        r = self.spec.r_peak
        qrs = x[:, max(0, r - half) : r + half + 1]
        signal_power = (qrs.max(axis=1) - qrs.min(axis=1)) ** 2 / 8.0
        noise_power = np.maximum((segs**2).mean(axis=1), 1e-12)
        snr = rng.uniform(*self.config.noise.snr_db, size=n)
        gain = np.sqrt(signal_power / (noise_power * 10 ** (snr / 10)))
        return normalize(x + segs * gain[:, None].astype(np.float32), self.spec.normalization, self.spec.eps)
