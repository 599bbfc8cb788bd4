"""A synthetic ECG made here, deterministic and free of any database's licence: what golden vectors
for firmware tests and the tests' own small WFDB records are cut from."""

from __future__ import annotations

import numpy as np


def synthetic_ecg(fs: float, seconds: float, beat_every: float = 0.8, seed: int = 0):
    """A clean ECG-like trace (Gaussian QRS spikes on a slow wave) in mV and its R-peak samples."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    t = np.arange(n) / fs
    peaks = np.arange(int(0.5 * fs), n - int(0.5 * fs), int(beat_every * fs))
    x = 0.1 * np.sin(2 * np.pi * 0.3 * t) + 0.01 * rng.standard_normal(n)
    width = 0.012 * fs
    for p in peaks:
        x += 1.2 * np.exp(-0.5 * ((np.arange(n) - p) / width) ** 2)
    return x, peaks
