"""The PhysioNet/Computing in Cardiology Challenge 2017 training set: 8,528 single-lead AliveCor
recordings (lead I from the fingers, often inverted), 9-61 s at 300 Hz, 1000 adu/mV, each labelled for
the whole recording in `REFERENCE-v3.csv`: N normal sinus rhythm, A atrial fibrillation, O other rhythm,
~ too noisy to classify. No beat annotations.

- Files: `training2017/A00001.hea/.mat` ... as the challenge distributes them; the `.mat` is a MATLAB v4
  file the header reads as format `16+24`. Every header's checksum field is 0 (a placeholder, read with a
  note: `records.read_signal`).
- Labels: `REFERENCE-v3.csv` beside `training2017/` (the revised labels of 6 November 2017; the older
  versions inside the folder are not read).
- Test split: `lists/cinc2017-test.txt` in this package, a stratified 20 % of the records drawn once
  (`draw_test_split`, seed 2017) and committed before any model saw the data. It is never trained on or
  selected on; the rest (`train`) is for training and cross-validation folds.
- Licence ODC-By 1.0. Cite Clifford et al. (2017) and Goldberger et al. (2000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import DataError
from .database import ODC_BY, ODC_BY_URL, Database

NAME = "cinc2017"
SAMPLING_RATE = 300
LABELS: tuple[str, ...] = ("N", "A", "O", "~")
LABEL_NAMES = {"N": "normal sinus rhythm", "A": "atrial fibrillation", "O": "other rhythm", "~": "too noisy"}
REFERENCE = "REFERENCE-v3.csv"
RECORDS: tuple[str, ...] = tuple(f"A{i:05d}" for i in range(1, 8529))
RECORD_RE = re.compile(r"A\d{5}")
TEST_FILE = "cinc2017-test.txt"
TEST_SEED = 2017
TEST_SHARE = 0.2
CITATION = (
    "Clifford GD et al., AF classification from a short single lead ECG recording: the PhysioNet/Computing "
    "in Cardiology Challenge 2017, CinC 44 (2017); Goldberger et al. 2000 (PhysioNet)"
)


def read_labels(folder: Path) -> dict[str, str]:
    """Record -> label (N, A, O, ~) from `REFERENCE-v3.csv` in the database folder, checked line by line."""
    path = Path(folder) / REFERENCE
    if not path.is_file():
        raise DataError(NAME, f"label file missing: {path}", path=str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(NAME, f"label file unreadable ({exc.strerror})", path=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(NAME, f"line {line} is not UTF-8 text (byte {exc.start})", path=str(path)) from None
    labels: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        record, sep, label = (c.strip() for c in line.partition(","))
        if not sep or not RECORD_RE.fullmatch(record) or label not in LABELS:
            raise DataError(
                NAME,
                f"line {i} is not RECORD,LABEL with a label of {', '.join(LABELS)}: {line!r}",
                path=str(path),
            )
        if record in labels:
            raise DataError(NAME, f"line {i}: record {record} is labelled twice", path=str(path))
        labels[record] = label
    return labels


def draw_test_split(labels: dict[str, str], *, seed: int = TEST_SEED, share: float = TEST_SHARE) -> list[str]:
    """A stratified draw of `share` of the records of each label, sorted: how `lists/cinc2017-test.txt`
    was made (a test keeps the committed file equal to this draw)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for label in LABELS:
        records = sorted(r for r, lab in labels.items() if lab == label)
        chosen += rng.choice(records, size=round(share * len(records)), replace=False).tolist()
    return sorted(chosen)


def held_out_records() -> tuple[str, ...]:
    """The committed test split (never trained or selected on)."""
    text = resources.files("heartzoo.data").joinpath("lists", TEST_FILE).read_text(encoding="utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    bad = [n for n in names if not RECORD_RE.fullmatch(n)]
    if bad:
        raise DataError(NAME, f"{TEST_FILE}: {bad[0]!r} is not a record name", path=TEST_FILE)
    return names


@dataclass(frozen=True, eq=False)
class Cinc2017Database(Database):
    """The records live in `training2017/` under the database folder; the labels beside it."""

    unit = "recording"

    def record_dir(self, folder: Path, record: str) -> Path:
        return Path(folder) / "training2017"

    def read_beats(self, folder: Path, record: str):
        raise DataError(record, "CinC 2017 has no beat annotations (its labels are per recording)")

    #: the labels in the order the challenge and the af-4 task give them
    label_order = LABELS

    def labels(self, data_dir=None) -> dict[str, str]:
        return read_labels(self.folder(data_dir))

    def label_of(self, record: str, labels: dict[str, str], data_dir=None) -> str:
        """`record`'s label in `labels` (`labels()`); a record the label file leaves out is a DataError
        naming the file, not a KeyError."""
        if record not in labels:
            path = self.folder(data_dir) / REFERENCE
            raise DataError(record, f"no label in {REFERENCE}; add a line {record},LABEL", path=str(path))
        return labels[record]


_TEST = held_out_records()
DATABASE = Cinc2017Database(
    name=NAME,
    title="PhysioNet/Computing in Cardiology Challenge 2017 (AF classification, training set)",
    fs=SAMPLING_RATE,
    records=RECORDS,
    splits={"all": RECORDS, "test": _TEST, "train": tuple(r for r in RECORDS if r not in set(_TEST))},
    # lead I from the fingers; it stands for a model's MLII for lack of another (an external test)
    leads={"MLII": "ECG", "ECG": "ECG"},
    licence=ODC_BY,
    licence_url=ODC_BY_URL,
    citation=CITATION,
    how_to_get="copy the challenge's training2017/ folder and REFERENCE-v3.csv into <data folder>/cinc2017",
)
