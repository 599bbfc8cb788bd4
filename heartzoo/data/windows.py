"""From a record's signal to model frames: polyphase resampling, R-centred frames, normalisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd

import numpy as np

from ..config import InputSpec


def resample(values: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Resample with scipy's polyphase filter (anti-aliasing FIR, zero phase), float32 out."""
    if fs_in == fs_out:
        return np.asarray(values, dtype=np.float32)
    from scipy.signal import resample_poly

    fi, fo = round(fs_in), round(fs_out)
    if fi != fs_in or fo != fs_out:
        raise ValueError(f"sampling rates must be whole numbers of Hz, got {fs_in} -> {fs_out}")
    g = gcd(fi, fo)
    return resample_poly(np.asarray(values, dtype=np.float64), fo // g, fi // g).astype(np.float32)


def positions_at(samples: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """R-peak sample indices moved to the new sampling rate (nearest sample)."""
    return np.rint(np.asarray(samples, dtype=np.float64) * (fs_out / fs_in)).astype(np.int64)


def extract_frames(signal: np.ndarray, centres: np.ndarray, frame_size: int, r_peak: int) -> np.ndarray:
    """Frames of `frame_size` samples with sample `centres[i]` at index `r_peak` of frame i.

    Frames that reach past either end of the record are filled with the edge value, so every
    annotated beat gets a frame and the counts stay those of the database.
    """
    pad_before, pad_after = r_peak, frame_size - r_peak
    padded = np.pad(np.asarray(signal, dtype=np.float32), (pad_before, pad_after), mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, frame_size)
    # After padding by r_peak, the frame starting at index c has its R-peak at c + r_peak.
    return np.ascontiguousarray(view[np.asarray(centres, dtype=np.int64)])


def normalize(frames: np.ndarray, method: str, eps: float) -> np.ndarray:
    """Per-frame normalisation, in place on a float32 copy."""
    x = np.array(frames, dtype=np.float32, copy=True)
    if method == "none":
        return x
    if method == "zscore":
        x -= x.mean(axis=-1, keepdims=True)
        x /= x.std(axis=-1, keepdims=True) + np.float32(eps)
        return x
    raise ValueError(f"unknown normalization {method!r}; use 'zscore' or 'none'")


def make_frames(values: np.ndarray, fs: float, samples: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Resample one lead to `spec.fs`, cut a frame around every R-peak, normalise each frame."""
    x = resample(values, fs, spec.fs)
    centres = np.clip(positions_at(samples, fs, spec.fs), 0, len(x) - 1)
    return normalize(extract_frames(x, centres, spec.frame_size, spec.r_peak), spec.normalization, spec.eps)


@dataclass
class WindowSet:
    """Frames and their labels for a set of beats; concatenation of records keeps the beat order."""

    x: np.ndarray  # (n, frame_size) float32
    aami: np.ndarray  # (n,) int8, index into AAMI_CLASSES
    record: np.ndarray  # (n,) <U8, record name
    sample: np.ndarray  # (n,) int64, R-peak sample at the record's own sampling rate
    rr: np.ndarray  # (n, 4) float32: previous RR, next RR, mean of last 10 and of last 300 RRs (s)
    meta: dict = field(default_factory=dict)
    #: (n, frame_size) the record's running beat template (see `beat_templates`), when the input uses it
    template: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.aami)

    def subset(self, index: np.ndarray) -> WindowSet:
        return WindowSet(
            self.x[index],
            self.aami[index],
            self.record[index],
            self.sample[index],
            self.rr[index],
            dict(self.meta),
            None if self.template is None else self.template[index],
        )

    def with_templates(self, beats: int) -> WindowSet:
        """This set with its running beat templates (it must hold whole records in beat order)."""
        self.template = beat_templates(self.x, self.record, beats) if beats else None
        return self

    @staticmethod
    def concat(parts: list[WindowSet], meta: dict | None = None) -> WindowSet:
        if not parts:
            raise ValueError("no window sets to concatenate")
        return WindowSet(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.aami for p in parts]),
            np.concatenate([p.record for p in parts]),
            np.concatenate([p.sample for p in parts]),
            np.concatenate([p.rr for p in parts]),
            dict(meta or {}),
        )

    def for_task(self, task) -> tuple[WindowSet, np.ndarray]:
        """The beats `task` keeps and their task labels."""
        labels = task.labels(self.aami)
        keep = labels >= 0
        return self.subset(keep), labels[keep].astype(np.int64)


def beat_templates(x: np.ndarray, record: np.ndarray, beats: int) -> np.ndarray:
    """Causal running template: row i is the mean of the `beats` frames before beat i in its record
    (the first beat of a record is its own template). The model sees frame - template, the beat's
    departure from the patient's recent beats: firmware keeps the same running mean.
    """
    out = np.empty_like(x)
    starts = np.flatnonzero(np.r_[True, record[1:] != record[:-1]])
    ends = np.r_[starts[1:], len(record)]
    for a, b in zip(starts, ends, strict=True):
        seg = x[a:b].astype(np.float64)
        csum = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(seg, axis=0)])
        idx = np.arange(b - a)
        lo = np.maximum(idx - beats, 0)
        count = (idx - lo)[:, None]
        mean = (csum[idx] - csum[lo]) / np.maximum(count, 1)
        mean[0] = seg[0]
        out[a:b] = mean
    return out.astype(np.float32)
