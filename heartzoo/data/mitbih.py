"""The MIT-BIH Arrhythmia Database: records, AAMI beat labels, and a reader that checks its input.

Every problem with a record (missing or truncated file, header that disagrees with its data, no MLII
lead, wrong sampling rate, NaN or flat signal) is a `DataError` that names the record and the problem,
raised before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from .cache import record_files
from .database import ODC_BY, ODC_BY_URL, Database
from .records import SYMBOL_TO_AAMI, Beats, Signal
from .records import read_beats as _read_beats
from .records import read_signal as _read_signal

DATASET = "mitdb"
SAMPLING_RATE = 360

ALL_RECORDS: tuple[str, ...] = tuple(
    str(r)
    for r in (
        *range(100, 110),
        111,
        112,
        113,
        114,
        115,
        116,
        117,
        118,
        119,
        121,
        122,
        123,
        124,
        200,
        201,
        202,
        203,
        205,
        207,
        208,
        209,
        210,
        212,
        213,
        214,
        215,
        217,
        219,
        220,
        221,
        222,
        223,
        228,
        230,
        231,
        232,
        233,
        234,
    )
)
PACED_RECORDS: tuple[str, ...] = ("102", "104", "107", "217")

# de Chazal, O'Dwyer, Reilly (2004), IEEE TBME 51(7): the inter-patient split.
DS1: tuple[str, ...] = tuple(
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()
)
DS2: tuple[str, ...] = tuple(
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234".split()
)

#: Records that come from one patient. 201 and 202 are the same person; de Chazal's split puts 201 in
#: DS1 and 202 in DS2, which we keep for comparability with published work, but every split this
#: package draws itself (validation, random record splits) keeps a patient on one side.
SAME_PATIENT: dict[str, str] = {"202": "201"}


def patient_of(record: str) -> str:
    """The patient a record belongs to (the record name of the patient's first record)."""
    return SAME_PATIENT.get(record, record)


def default_records(exclude_paced: bool = True) -> tuple[str, ...]:
    return tuple(r for r in ALL_RECORDS if not (exclude_paced and r in PACED_RECORDS))


def read_beats(data_dir: Path, record: str, *, expected_fs: float | None = SAMPLING_RATE) -> Beats:
    """Beat annotations of an MIT-BIH record, mapped to AAMI classes (`records.read_beats`)."""
    return _read_beats(data_dir, record, expected_fs=expected_fs)


def read_signal(
    data_dir: Path, record: str, lead: str = "MLII", *, expected_fs: float | None = SAMPLING_RATE
) -> Signal:
    """One lead of an MIT-BIH record in mV, checked (`records.read_signal`)."""
    return _read_signal(data_dir, record, lead, expected_fs=expected_fs)


DATABASE = Database(
    name=DATASET,
    title="MIT-BIH Arrhythmia Database",
    fs=SAMPLING_RATE,
    records=ALL_RECORDS,
    splits={"DS1": DS1, "DS2": DS2, "all": ALL_RECORDS},
    leads={"MLII": "MLII"},
    same_patient=SAME_PATIENT,
    licence=ODC_BY,
    licence_url=ODC_BY_URL,
    citation="Moody & Mark 2001; Goldberger et al. 2000 (PhysioNet)",
)

__all__ = [
    "DATABASE",
    "DS1",
    "DS2",
    "SYMBOL_TO_AAMI",
    "Beats",
    "Signal",
    "read_beats",
    "read_signal",
    "record_files",
]
