"""A lead left on disk as integers and read in mV where it is sliced (`StoredLead`): the ISHNE and EDF
readers give one, and `read` checks and converts it an hour at a time, so that a recording of days is
never converted to float64 whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StoredLead:
    """`length` samples; `lead[a:b]` is `read(a, b)`, those samples in mV as float64."""

    length: int
    read: Callable[[int, int], np.ndarray]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop, step = part.indices(self.length)
        if step != 1:
            raise ValueError("a stored lead is read in stretches")
        return self.read(start, max(start, stop))
