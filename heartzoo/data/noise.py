"""NSTDB noise (baseline wander `bw`, electrode motion `em`, muscle artefact `ma`) at a chosen SNR.

SNR follows the NSTDB convention: the signal power is estimated from QRS amplitudes, S = A^2 / 8 with A
the median peak-to-peak amplitude in +/-50 ms around each R-peak (the power of a sine of that
peak-to-peak amplitude), and the noise power N is the mean square of the noise segment after removing
its mean. The noise is scaled so that 10 log10(S / N) equals the target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError

NOISE_KINDS: tuple[str, ...] = ("bw", "em", "ma")
NOISE_FOLDER = "nstdb_noise"
#: The noise-stress levels of the NSTDB (dB).
STRESS_SNRS_DB: tuple[float, ...] = (24.0, 18.0, 12.0, 6.0, 0.0)


def read_noise(data_dir: Path, kind: str, channel: int | None = None) -> tuple[np.ndarray, float]:
    """A noise record in mV, (samples,) for one channel or both channels end to end, and its rate."""
    import wfdb

    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; use one of {', '.join(NOISE_KINDS)}")
    base = Path(data_dir) / kind
    if not base.with_suffix(".hea").is_file():
        raise DataError(kind, f"NSTDB noise record missing: {base.with_suffix('.hea')}", path=str(base))
    try:
        rec = wfdb.rdrecord(str(base))
    except Exception as exc:
        raise DataError(kind, f"cannot read noise record: {exc}", path=str(base)) from None
    sig = rec.p_signal.astype(np.float32)
    if not np.isfinite(sig).all():
        raise DataError(kind, "noise record holds NaN samples", path=str(base))
    values = sig[:, channel] if channel is not None else sig.T.reshape(-1)
    return values, float(rec.fs)


def qrs_power(values: np.ndarray, r_samples: np.ndarray, fs: float) -> float:
    """NSTDB-style signal power: (median QRS peak-to-peak)^2 / 8."""
    half = max(1, round(0.05 * fs))
    r = np.asarray(r_samples, dtype=np.int64)
    r = r[(r >= half) & (r < len(values) - half)]
    if len(r) == 0:
        p2p = float(np.ptp(values))
    else:
        seg = np.lib.stride_tricks.sliding_window_view(values, 2 * half + 1)[r - half]
        p2p = float(np.median(seg.max(axis=1) - seg.min(axis=1)))
    return p2p**2 / 8.0


def scale_for_snr(signal_power: float, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` with its mean removed, scaled so that signal_power / noise_power = 10^(snr_db/10)."""
    n = np.asarray(noise, dtype=np.float64)
    n = n - n.mean()
    power = float(np.mean(n**2))
    if power == 0:
        raise ValueError("noise segment is flat: cannot scale it to an SNR")
    gain = np.sqrt(signal_power / (power * 10 ** (snr_db / 10)))
    return (n * gain).astype(np.float32)


def add_record_noise(
    values: np.ndarray, r_samples: np.ndarray, fs: float, noise: np.ndarray, snr_db: float, offset: int = 0
) -> np.ndarray:
    """A whole record plus NSTDB noise at `snr_db` (the noise, at the same rate, is tiled if shorter)."""
    n = len(values)
    reps = int(np.ceil((offset + n) / len(noise)))
    seg = np.tile(noise, reps)[offset : offset + n]
    return (values + scale_for_snr(qrs_power(values, r_samples, fs), seg, snr_db)).astype(np.float32)
