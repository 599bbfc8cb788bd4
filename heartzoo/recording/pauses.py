"""Pauses: the stretches without a detected beat (`quality.gaps`) that a Holter report calls pauses. A
pause lies between two detected beats (before a recording's first beat or after its last there is no RR
interval) over a live lead: a lead that came off, or a recorder at rest, holds one value, which is a
signal lost, not the heart's pause."""

from __future__ import annotations

import numpy as np

#: a run of one value this long in a stretch without beats is a lead off, never an ECG's baseline: inside
#: the 43 reference pauses of mitdb, svdb, aftdb and the Icentia11k segments the longest is 39 ms
#: (`python studies/pause_flat.py`, results/pause_flat.jsonl)
FLAT_S = 1.0


def longest_run(x) -> int:
    """The samples of the longest run of one value in `x`."""
    x = np.asarray(x)
    if len(x) == 0:
        return 0
    changes = np.flatnonzero(x[1:] != x[:-1])
    return int(np.diff(np.r_[-1, changes, len(x) - 1]).max())


def pauses(x, fs: float, peaks, stretches) -> tuple[tuple[int, int], ...]:
    """The `stretches` ((start, end) samples without a beat) that are pauses: both ends are detected
    `peaks` and the lead between holds no run of one value `FLAT_S` long."""
    peaks = np.asarray(peaks, dtype=np.int64)
    flat = round(FLAT_S * fs)

    def is_beat(i: int) -> bool:
        k = np.searchsorted(peaks, i)
        return bool(k < len(peaks) and peaks[k] == i)

    # x[s:e]: a long lead (`CheckedLead`) is read stretch by stretch, never whole
    return tuple((s, e) for s, e in stretches if is_beat(s) and is_beat(e) and longest_run(x[s:e]) < flat)
