"""What heartzoo needs to know of one ECG database: its records, patients, sampling rate, named record
sets, which of its leads stands for the model's lead, and its known quirks. One module per database
(`mitbih`, `svdb`) defines one; `databases` lists them. Adding a database is one new module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError


@dataclass(frozen=True, eq=False)  # one instance per database: compared and hashed by identity
class Database:
    name: str  # also its folder under the data folder
    title: str
    fs: int
    records: tuple[str, ...]
    #: named record sets a config may ask for as NAME:SET (every database has "all")
    splits: Mapping[str, tuple[str, ...]]
    #: the model's lead (InputSpec.lead) -> this database's lead that stands for it
    leads: Mapping[str, str]
    #: record -> the patient's first record, where one patient has several records
    same_patient: Mapping[str, str] = field(default_factory=dict)
    #: records whose last beat is annotated one sample past the end of the signal (kept at the last one)
    end_beats: frozenset[str] = frozenset()

    def folder(self, data_dir=None) -> Path:
        """`<data folder>/<name>`, which must exist: if not, the error says how to get it."""
        from .. import paths
        from ..errors import HeartzooError

        folder = paths.data_dir(data_dir) / self.name
        if not folder.is_dir():
            raise HeartzooError(
                f"no {self.name} folder at {folder}; set --data-dir or HEARTZOO_DATA_DIR, "
                f"or run `heartzoo data download {self.name}`"
            )
        return folder

    def patient_of(self, record: str) -> str:
        """A key for the record's patient, unique across databases."""
        return f"{self.name}:{self.same_patient.get(record, record)}"

    def lead_for(self, lead: str, record: str = "") -> str:
        if lead not in self.leads:
            raise DataError(
                record or self.name,
                f"{self.name} has no lead standing for {lead}; it maps {', '.join(self.leads) or 'none'}",
            )
        return self.leads[lead]

    def select(self, what: str) -> tuple[str, ...]:
        """The records of a named set, or one record; a ValueError names what is allowed."""
        if what in self.splits:
            return tuple(self.splits[what])
        if what in self.records:
            return (what,)
        raise ValueError(
            f"{self.name} has no record set or record {what!r}; sets: {', '.join(self.splits)}; "
            f"records: {self.records[0]} ... {self.records[-1]}"
        )

    def read_beats(self, folder: Path, record: str):
        from .records import read_beats

        return read_beats(folder, record, expected_fs=self.fs, end_beat=record in self.end_beats)

    def read_signal(self, folder: Path, record: str, lead: str):
        """The lead standing for the model's `lead`, in mV."""
        from .records import read_signal

        return read_signal(folder, record, self.lead_for(lead, record), expected_fs=self.fs)
