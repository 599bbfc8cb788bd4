"""A lead that stays where a reader found it (`CheckedLead`): checked once, converted to mV wherever a
stage slices it, so that `annotate` never holds a patch's weeks of signal whole. Every stage of the line
reads a lead in stretches (the detector's chunks, the gate's windows, the resampler's chunks, a batch of
beats' frames); one that reads it whole gets it whole (`np.asarray`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def stretch(part: slice, length: int, what: str) -> tuple[int, int]:
    """(start, stop) of `lead[part]` for a lead of `length` samples that is read in stretches, never by
    index or step (`what` names it in the error)."""
    if not isinstance(part, slice):
        raise TypeError(f"{what} is read in stretches (lead[a:b])")
    start, stop, step = part.indices(length)
    if step != 1:
        raise ValueError(f"{what} is read in stretches")
    return start, max(start, stop)


#: a unit of voltage, as a file's header gives it (lower case) -> the factor to mV, the unit of every lead
#: here (`data.records.read_signal` for WFDB headers, `recording.edf` for EDF and BDF)
TO_MV = {
    **{"nv": 1e-6, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "mv": 1.0, "v": 1e3},
    # spelt out, as some writers do
    **{
        f"{p}volt{s}": k
        for p, k in (("nano", 1e-6), ("micro", 1e-3), ("milli", 1.0), ("", 1e3))
        for s in ("", "s")
    },
}
#: a lead is checked and converted this many samples at a time (an hour at 360 Hz): no float64 copy of
#: a patch's weeks (`data.records.read_signal`, `recording.read`, `CheckedLead` read whole)
READ_SAMPLES = 360 * 3600


@dataclass(frozen=True)
class CheckedLead(np.lib.mixins.NDArrayOperatorsMixin):
    """A lead in mV as float32, checked once where it lies (finite, a voltage, not flat: the readers of
    `recording.read`) and converted again wherever it is sliced, so that a recording of days is never held
    whole: `lead[a:b]` is float32, as the lead read whole would be sample for sample, and
    `np.asarray(lead)` the whole lead, for a stage that reads all of it at once; arithmetic and numpy's
    functions on it read it whole too (`lead * 1000` is an array, as it was when readers gave one). `convert`
    gives a stretch of `source` (a `StoredLead`, or a memmap of digital samples) in mV as float64."""

    source: Any
    convert: Callable[[np.ndarray], np.ndarray]

    dtype = np.dtype(np.float32)
    ndim = 1

    def __len__(self) -> int:
        return len(self.source)

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop = stretch(part, len(self), "a checked lead")
        return self.convert(np.asarray(self.source[start:stop])).astype(np.float32)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(np.asarray(x) if isinstance(x, CheckedLead) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.empty(len(self), np.float32)
        for s in range(0, len(self), READ_SAMPLES):  # never the whole lead in float64
            whole[s : s + READ_SAMPLES] = self[s : s + READ_SAMPLES]
        return whole if dtype is None else whole.astype(dtype)
