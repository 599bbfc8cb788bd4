"""Rhythm labels: episodes read from annotation files, the rhythm-3 classes, and labelled windows.

Two conventions of writing rhythm in WFDB annotations:

- MIT-BIH (mitdb, svdb): a `+` annotation whose aux note is `(NAME` starts a rhythm that lasts until
  the next `+` or the end of the record (`read_change_rhythms`). mitdb labels its whole length this way;
  svdb holds one `+`, so it gives next to no rhythm labels.
- Icentia11k: `(NAME` opens an episode and `)` closes it (`icentia11k.read_rhythms`).

Both give `Rhythms`. The rhythm-3 task maps their names to three classes (`RHYTHM_CLASSES`), and a
record becomes windows of the model's frame length, each labelled with the one rhythm that covers it
whole (`window_labels`; a window across a change, or outside every episode, is left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..tasks import RHYTHM_CLASSES

#: rhythm names (as annotated) of the first two classes; every other name is "other"
RHYTHM_NAMES: dict[str, str] = {"N": "NSR", "AFIB": "AF", "AFL": "AF"}


def rhythm_class(name: str) -> int:
    """The rhythm-3 label of an annotated rhythm name (`N`, `AFIB`, `B`, ...)."""
    return RHYTHM_CLASSES.index(RHYTHM_NAMES.get(name, "other"))


@dataclass(frozen=True)
class Rhythms:
    """Rhythm episodes of one record: [start, end) in samples, and their names as annotated."""

    record: str
    start: np.ndarray  # int64
    end: np.ndarray  # int64, exclusive
    label: np.ndarray  # <U8
    fs: float
    sig_len: int

    def counts(self) -> dict[str, int]:
        names, n = np.unique(self.label, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}

    def seconds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, a, b in zip(self.label, self.start, self.end, strict=True):
            out[str(name)] = out.get(str(name), 0.0) + float(b - a) / self.fs
        return out

    def episode_at(self, samples: np.ndarray) -> np.ndarray:
        """The index of the episode holding each sample (-1 outside every episode)."""
        samples = np.asarray(samples, dtype=np.int64)
        if not len(self.label):
            return np.full(len(samples), -1, dtype=np.int64)
        i = np.searchsorted(self.start, samples, side="right") - 1
        inside = (i >= 0) & (samples < self.end[np.maximum(i, 0)])
        return np.where(inside, i, -1)

    def at(self, samples: np.ndarray) -> np.ndarray:
        """The rhythm at each sample ('' outside every episode): a beat's rhythm label."""
        i = self.episode_at(samples)
        if not len(self.label):
            return np.full(len(i), "", dtype="<U8")
        return np.where(i >= 0, self.label[np.maximum(i, 0)], "")


def read_rhythm_marks(folder: Path, record: str):
    """(samples in the record, its `+` annotations as (sample, aux note), the .atr path): what both
    conventions start from. A missing or damaged header or annotation file is a `DataError` naming it."""
    from .annotation_files import read_atr
    from .records import read_header

    header = read_header(folder, record)
    ann, atr = read_atr(folder, record, header.fs)
    aux = ann.aux_note or [""] * len(ann.sample)
    marks = [
        (int(s), a.strip().rstrip("\x00"))
        for s, sym, a in zip(ann.sample, ann.symbol, aux, strict=True)
        if sym == "+"
    ]
    return int(header.sig_len), marks, atr


def read_change_rhythms(folder: Path, record: str, *, fs: float) -> Rhythms:
    """Rhythms written the MIT-BIH way: each `+` with aux `(NAME` starts one, which lasts until the next
    `+` or the end of the record; time before the first is unlabelled. A `+` whose aux note is not
    `(NAME`, or that lies outside the signal, is a `DataError` naming the file and the sample."""
    sig_len, changes, atr = read_rhythm_marks(folder, record)
    marks = []
    for sample, note in changes:
        if not (note.startswith("(") and len(note) > 1):
            raise DataError(
                record, f"rhythm change at sample {sample} has aux note {note!r}, not (NAME", path=str(atr)
            )
        if not 0 <= sample < sig_len:
            raise DataError(
                record, f"rhythm change at sample {sample} outside {sig_len} samples", path=str(atr)
            )
        marks.append((sample, note[1:]))
    marks.sort()
    starts = np.asarray([s for s, _ in marks], dtype=np.int64)
    return Rhythms(
        record,
        starts,
        np.append(starts[1:], sig_len).astype(np.int64) if len(starts) else starts,
        np.asarray([n for _, n in marks], dtype="<U8"),
        float(fs),
        sig_len,
    )


def window_starts(sig_len: int, length: int) -> np.ndarray:
    """The first samples of the non-overlapping windows of `length` samples that fit in the record."""
    return np.arange(0, sig_len - length + 1, length, dtype=np.int64) if length > 0 else np.zeros(0, np.int64)


def window_labels(rhythms: Rhythms, starts: np.ndarray, length: int) -> np.ndarray:
    """The rhythm-3 label of each window [start, start + length): that of the one episode holding it
    whole, or -1 (across a rhythm change, or unlabelled)."""
    first = rhythms.episode_at(starts)
    last = rhythms.episode_at(starts + length - 1)
    whole = (first >= 0) & (first == last)
    classes = np.asarray([rhythm_class(str(n)) for n in rhythms.label], dtype=np.int8)
    out = np.full(len(starts), -1, dtype=np.int8)
    out[whole] = classes[first[whole]]
    return out
