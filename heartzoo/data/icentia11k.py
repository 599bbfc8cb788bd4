"""Icentia11k (PhysioNet 1.0): continuous single-lead patch ECG of 11,000 patients, each up to two
weeks cut into segments of about 70 minutes; beat and rhythm labels; CC BY-NC-SA 4.0.

The release's WFDB layout, as read here (and as the sample segment in the data folder shows):

- `pXX/pXXXXX/pXXXXX_sYY.{hea,dat,atr}`: patient `pXXXXX` (five digits) sits in the group folder named
  by its first two digits (`p01001` in `p01/`); its segments `_s00`, `_s01`, ... are its records. The
  patient, taken from the folder, is the unit of every split: all segments of a patient on one side.
- One signal named `ecg`, 250 Hz, format 16. It is the patch's only lead (a chest patch, not a limb
  lead); it stands for the model's lead `MLII` only because there is no other, and a card must say so.
- Beats `N`, `S`, `V`, `Q` (`Q` = "unclassifiable" in Icentia11k's scheme: 27 % of the sample
  segment's beats); each beat annotation carries the literal aux note `None`, which means nothing.
- Rhythm episodes are `+` annotations: aux `(N`, `(AFIB` or `(AFL` opens one and `)` closes it; stretches
  outside any episode are unlabelled. A `+` may share its sample with a beat.
- Licence CC BY-NC-SA 4.0: non-commercial and share-alike, inherited by any model trained on it
  (`Database.commercial_use` is False; `databases.licences_of` tells a card).

Corrupt or truncated files are `DataError`s naming the file (the shared `records` reader checks size,
checksum and samples); a malformed rhythm annotation names the file and the sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .database import Database
from .rhythms import Rhythms, read_rhythm_marks

NAME = "icentia11k"
SAMPLING_RATE = 250
LEAD = "ecg"
#: rhythm names in the release's aux notes (`(N` opens a normal sinus rhythm episode, ...)
RHYTHMS = ("N", "AFIB", "AFL")
RECORD_RE = re.compile(r"p\d{5}_s\d{2}")
PATIENT_RE = re.compile(r"p\d{5}")
#: the patients of the data folder's segments: the wearable path's external tests, never trained or
#: selected on (a config whose training data holds one is refused, `splits.data_problem`)
EXTERNAL_TESTS = ("p00000", "p01001")


def patient_of(record: str) -> str:
    """`p01001_s00` -> `p01001`."""
    return record.split("_", 1)[0]


def segment_dir(folder: Path, record: str) -> Path:
    """Where a segment's files lie: `<folder>/p01/p01001/` for `p01001_s00`."""
    patient = patient_of(record)
    return Path(folder) / patient[:3] / patient


def find_segments(folder: Path, patients: list[str] | None = None) -> tuple[str, ...]:
    """The segments present under `folder` (a header is enough), by patient then segment; a header
    that breaks the layout (wrong name, or a patient in another patient's or group's folder) is a
    `DataError` naming it."""
    folder = Path(folder)
    dirs = (
        [segment_dir(folder, f"{p}_s00") for p in patients]
        if patients is not None
        else sorted(d for g in folder.glob("p[0-9][0-9]") for d in g.iterdir() if d.is_dir())
    )
    out: list[str] = []
    for d in dirs:
        for hea in sorted(d.glob("*.hea")):
            record = hea.stem
            if not RECORD_RE.fullmatch(record):
                raise DataError(record, "not an Icentia11k segment name (pXXXXX_sYY)", path=str(hea))
            if segment_dir(folder, record) != d:
                raise DataError(
                    record,
                    f"segment of patient {patient_of(record)} found in {d.relative_to(folder)}/; the release "
                    f"keeps it in {segment_dir(folder, record).relative_to(folder)}/",
                    path=str(hea),
                )
            out.append(record)
    return tuple(out)


def read_rhythms(folder: Path, record: str, *, fs: float = SAMPLING_RATE) -> Rhythms:
    """The rhythm episodes of one segment, from the `+` annotations of its `.atr` in `folder` (the
    segment's own folder). An episode left open at the end of the segment ends with it; a `)` with no
    episode open, an episode opened inside another, or a `+` without `(NAME`/`)` is a `DataError`
    naming the file and the sample."""
    sig_len, changes, atr = read_rhythm_marks(folder, record)
    starts: list[int] = []
    ends: list[int] = []
    labels: list[str] = []
    open_at: tuple[int, str] | None = None
    # ties: a `)` and a `(` on one sample close the old episode first
    marks = sorted((sample, not note.startswith(")"), note) for sample, note in changes)
    for sample, _, note in marks:
        if not 0 <= sample <= sig_len:
            raise DataError(
                record, f"rhythm change at sample {sample} outside {sig_len} samples", path=str(atr)
            )
        if note.startswith("(") and len(note) > 1:
            if open_at is not None:
                raise DataError(
                    record,
                    f"rhythm {note!r} at sample {sample} opens inside the episode ({open_at[1]} "
                    f"opened at sample {open_at[0]}, never closed)",
                    path=str(atr),
                )
            open_at = (sample, note[1:])
        elif note == ")":
            if open_at is None:
                raise DataError(record, f"rhythm ')' at sample {sample} closes no episode", path=str(atr))
            starts.append(open_at[0])
            ends.append(sample)
            labels.append(open_at[1])
            open_at = None
        else:
            raise DataError(
                record,
                f"rhythm annotation at sample {sample} has aux note {note!r}, not (NAME or )",
                path=str(atr),
            )
    if open_at is not None:  # the segment ends inside an episode: it ends with the segment
        starts.append(open_at[0])
        ends.append(sig_len)
        labels.append(open_at[1])
    return Rhythms(
        record,
        np.asarray(starts, dtype=np.int64),
        np.asarray(ends, dtype=np.int64),
        np.asarray(labels, dtype="<U8"),
        float(fs),
        sig_len,
    )


@dataclass(frozen=True, eq=False)
class Icentia11kDatabase(Database):
    """Icentia11k: records found in the folder (too many to list), in the release's nested layout."""

    def owns(self, record: str) -> bool:
        return RECORD_RE.fullmatch(record) is not None

    def record_dir(self, folder: Path, record: str) -> Path:
        return segment_dir(folder, record)

    def patient_of(self, record: str) -> str:
        return f"{self.name}:{patient_of(record)}"

    def select(self, what: str, data_dir=None) -> tuple[str, ...]:
        """`all` (every segment present), a patient (`p01001`: its segments) or one segment."""
        from ..errors import HeartzooError

        if RECORD_RE.fullmatch(what):
            return (what,)
        if what != "all" and not PATIENT_RE.fullmatch(what):
            raise ValueError(
                f"{self.name} has no record set or record {what!r}; use all, a patient (p01001) or a "
                "segment (p01001_s00)"
            )
        try:
            folder = self.folder(data_dir)
        except HeartzooError as exc:  # config validation expects a ValueError
            raise ValueError(str(exc)) from None
        found = find_segments(folder, None if what == "all" else [what])
        if not found:
            raise ValueError(f"{self.name}: no segment of {what} in {folder}")
        return found

    def read_rhythms(self, folder: Path, record: str) -> Rhythms:
        return read_rhythms(self.record_dir(folder, record), record, fs=self.fs)


DATABASE = Icentia11kDatabase(
    name=NAME,
    title="Icentia11k Single Lead Continuous Raw Electrocardiogram Dataset",
    fs=SAMPLING_RATE,
    records=(),
    splits={},
    # the only lead; it stands for MLII for lack of another (see the module's notes)
    leads={"MLII": LEAD, LEAD: LEAD},
    licence="CC BY-NC-SA 4.0",
    licence_url="https://creativecommons.org/licenses/by-nc-sa/4.0/",
    commercial_use=False,
    citation="Tan et al. 2022, Icentia11k (PhysioNet 1.0); Tan et al. 2019; Goldberger et al. 2000",
    also_in=("icentia11k_sample",),
    how_to_get=(
        "download it from PhysioNet (https://physionet.org/content/icentia11k-continuous-ecg/1.0/) "
        "and keep its pXX/pXXXXX/ folders under <data folder>/icentia11k"
    ),
)
