"""What any one-lead recording handed to heartzoo must be (one lead of real numbers, a sampling rate, R peaks
inside it), checked before detection or a model reads it. numpy and the errors only: the detector and
the hub both use it."""

from __future__ import annotations

import numpy as np

from .errors import HeartzooError


def check_recording(signal, fs, r_peaks) -> tuple[np.ndarray, float, np.ndarray]:
    """One lead in mV, its sampling rate and R-peak sample indices, or an error that says what is wrong
    with them (a model would otherwise answer "N" with confidence for a beat that is not there)."""
    x = np.asarray(signal)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise HeartzooError(f"signal must be one lead (a 1-D array), got shape {x.shape}; pick one column")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise HeartzooError(f"signal must hold real numbers (mV), got dtype {x.dtype}")
    try:
        rate = float(fs)
    except (TypeError, ValueError):
        raise HeartzooError(f"fs must be a sampling rate in Hz, got {fs!r}") from None
    if not (np.isfinite(rate) and rate > 0):
        raise HeartzooError(f"fs must be a positive sampling rate in Hz, got {fs!r}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise HeartzooError(
            f"signal holds {bad.size} NaN or infinite sample(s), the first at sample {bad[0]} "
            f"({bad[0] / rate:.2f} s); fill or cut them first"
        )
    r = np.asarray(r_peaks)
    if r.ndim != 1:
        raise HeartzooError(f"r_peaks must be a 1-D array of sample indices, got shape {r.shape}")
    whole = np.issubdtype(r.dtype, np.integer) or (
        np.issubdtype(r.dtype, np.floating) and np.all(np.isfinite(r)) and np.all(r == np.round(r))
    )
    if r.size and not whole:
        raise HeartzooError("r_peaks must be whole sample indices (integers)")
    r = r.astype(np.int64)
    outside = np.flatnonzero((r < 0) | (r >= len(x)))
    if outside.size:
        raise HeartzooError(
            f"r_peaks[{outside[0]}] = {r[outside[0]]} lies outside the signal's {len(x)} samples "
            f"({outside.size} peak(s) outside)"
        )
    back = np.flatnonzero(np.diff(r) <= 0)
    if back.size:
        i = back[0]
        raise HeartzooError(
            f"r_peaks must be strictly increasing: r_peaks[{i}] = {r[i]}, r_peaks[{i + 1}] = {r[i + 1]}"
        )
    return x.astype(np.float32), rate, r
