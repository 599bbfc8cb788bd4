"""A lead at the model's rate: `resample` (the whole lead at once) and `resampled` (a `ResampledLead`,
resampled where it is sliced), the same samples bit for bit. A model reads a long recording a batch of
beats or windows at a time, so a week's lead at 100 Hz need never be held whole."""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from .lead import stretch

RESAMPLING = "polyphase anti-aliasing FIR (scipy.signal.resample_poly) from the recording rate"
#: a longer lead is resampled in chunks of about this many seconds (the same samples, less memory)
RESAMPLE_CHUNK_S = 2 * 3600.0


def frame_samples_at(frame_size: int, model_fs: float, fs: float) -> int:
    """A frame of `frame_size` samples at the model's `model_fs` Hz, in samples of a signal at `fs` Hz: how
    heartzoo cuts a recording's windows (`InputSpec.frame_samples`), and the firmware kit its stream's
    (`HZ_WINDOW_SAMPLES`)."""
    return round(frame_size * fs / model_fs)


@dataclass(frozen=True)
class _Chunks:
    """How `resample` cuts a lead of `n` samples at a whole rate: input chunks of `size` samples that
    start on the output's grid (`size` is a multiple of `down`), each read with `pad` samples of its
    neighbours, more than the filter's reach, so that the chunks give the samples of one pass."""

    n: int
    up: int
    down: int
    size: int
    pad: int

    @classmethod
    def of(cls, n: int, fi: int, fo: int, chunk_s: float) -> _Chunks:
        g = gcd(fi, fo)
        up, down = fo // g, fi // g
        size = down * max(1, round(chunk_s * fi / down))
        return cls(n, up, down, size, down * (20 * max(up, down) // (up * down) + 2))

    @property
    def out_len(self) -> int:
        return -(-self.n * self.up // self.down)

    @property
    def out_size(self) -> int:
        """Output samples of every chunk but the last."""
        return self.size * self.up // self.down

    def count(self) -> int:
        return max(1, -(-self.n // self.size))

    def chunk(self, x, k: int) -> np.ndarray:
        """The output samples of chunk `k` of lead `x`, float32."""
        from scipy.signal import resample_poly

        start, end = k * self.size, min(self.n, (k + 1) * self.size)
        if start == 0 and end == self.n:  # one chunk: the lead read once
            return resample_poly(np.asarray(x[0 : self.n], dtype=np.float64), self.up, self.down).astype(
                np.float32
            )
        lo, hi = max(0, start - self.pad), min(self.n, end + self.pad)
        y = resample_poly(np.asarray(x[lo:hi], dtype=np.float64), self.up, self.down)
        y = y[(start - lo) * self.up // self.down :]
        if end < self.n:
            y = y[: (end - start) * self.up // self.down]
        return y.astype(np.float32)


def _whole_rates(fs_in: float, fs_out: float) -> tuple[int, int]:
    fi, fo = round(fs_in), round(fs_out)
    if fo != fs_out:
        raise ValueError(f"cannot resample {fs_in} Hz -> {fs_out} Hz: the output rate must be a whole number")
    if fi < 1:
        raise ValueError(f"cannot resample {fs_in} Hz -> {fs_out} Hz: the input rate is under 1 Hz")
    return fi, fo


def resample(
    values: np.ndarray, fs_in: float, fs_out: float, *, chunk_s: float = RESAMPLE_CHUNK_S
) -> np.ndarray:
    """Resample with scipy's polyphase filter (anti-aliasing FIR, zero phase), float32 out. `fs_out` is a
    whole number of Hz (a model's rate); `fs_in` may be any rate, e.g. a device's measured clock (a Polar
    strap's 130.05 Hz): it is first read at the nearest whole rate by cubic-spline interpolation at the
    exact sample times, so that no timing drifts over hours, then resampled as a whole rate is. A lead
    longer than `chunk_s` seconds is resampled in chunks, bit for bit the same."""
    if fs_in == fs_out:
        return np.asarray(values, dtype=np.float32)
    fi, fo = _whole_rates(fs_in, fs_out)
    x = values
    if fi != fs_in:
        # fs_in is within half a hertz of fi: only that top half-hertz of the band could alias, where an
        # ECG holds nothing
        x = _at_whole_rate(np.asarray(x, dtype=np.float64), float(fs_in), fi)
        if fi == fo:
            return x.astype(np.float32)
    plan = _Chunks.of(len(x), fi, fo, chunk_s)
    if plan.count() == 1:
        return plan.chunk(x, 0)
    # not a float64 copy of a day at once
    out = np.empty(plan.out_len, dtype=np.float32)
    for k in range(plan.count()):
        y = plan.chunk(x, k)
        out[k * plan.out_size :][: len(y)] = y
    return out


class ResampledLead:
    """`resample(values, fs_in, fs_out)` computed where it is sliced: `lead[a:b]` is float32, the samples
    `resample` gives there bit for bit, made a chunk at a time (the last two kept, as readers go forward).
    `np.asarray(lead)` is the whole lead. Only for a whole input rate other than the output's
    (`resampled` gives the others)."""

    dtype = np.dtype(np.float32)
    ndim = 1

    def __init__(self, values, fs_in: float, fs_out: float, *, chunk_s: float = RESAMPLE_CHUNK_S):
        fi, fo = _whole_rates(fs_in, fs_out)
        if fi != fs_in or fi == fo:
            raise ValueError(f"a resampled lead needs two different whole rates, not {fs_in} -> {fs_out} Hz")
        self._values = values
        self._plan = _Chunks.of(len(values), fi, fo, chunk_s)
        self._kept: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self._plan.out_len

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    def _chunk(self, k: int) -> np.ndarray:
        if k not in self._kept:
            if len(self._kept) >= 2:
                del self._kept[min(self._kept)]
            self._kept[k] = self._plan.chunk(self._values, k)
        return self._kept[k]

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop = stretch(part, len(self), "a resampled lead")
        if stop == start:
            return np.zeros(0, np.float32)
        size = self._plan.out_size
        first, last = start // size, min((stop - 1) // size, self._plan.count() - 1)
        parts = [self._chunk(k) for k in range(first, last + 1)]
        whole = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return whole[start - first * size : stop - first * size]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[0 : len(self)]
        return whole if dtype is None else whole.astype(dtype)


def resampled(values, fs_in: float, fs_out: float):
    """The lead at `fs_out` for a reader that slices it (`extract_frames` reads only the stretch a batch
    covers): a `ResampledLead` for a whole input rate, `values` itself at the output's rate (float32
    where sliced, as `resample` gives it), else the whole `resample`."""
    if fs_in == fs_out:
        return values if not isinstance(values, np.ndarray) else np.asarray(values, dtype=np.float32)
    if round(fs_in) == fs_in:
        return ResampledLead(values, fs_in, fs_out)
    return resample(values, fs_in, fs_out)


def _at_whole_rate(x: np.ndarray, fs_in: float, fi: int) -> np.ndarray:
    """`x` (sampled at `fs_in` Hz) at the times k / fi that it spans, by cubic-spline interpolation."""
    from scipy.ndimage import map_coordinates

    n = int(np.floor((len(x) - 1) * fi / fs_in)) + 1
    where = np.arange(n, dtype=np.float64) * (fs_in / fi)
    return map_coordinates(x, where[None, :], order=3, mode="nearest")


def positions_at(samples: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """R-peak sample indices moved to the new sampling rate (nearest sample)."""
    return np.rint(np.asarray(samples, dtype=np.float64) * (fs_out / fs_in)).astype(np.int64)
