"""What heartzoo needs to know of one ECG database: its records, patients, sampling rate, named record
sets, which of its leads stands for the model's lead, its licence, and its known quirks. One module per
database (`mitbih`, `svdb`, `icentia11k`, `cinc2017`) defines one; `databases` lists them (README,
"Add a database": the module, its line there and its download entry). A database whose records are too
many to list (Icentia11k) subclasses this and finds them in its folder (`owns`, `record_dir`,
`select`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError

#: PhysioNet's open licence (mitdb, svdb, CinC 2017), for the modules that declare it
ODC_BY = "ODC-By 1.0"
ODC_BY_URL = "https://opendatacommons.org/licenses/by/1-0/"


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
    #: the data's licence; a model trained on the data carries it on its card (`databases.licences_of`).
    #: No default: a new database that inherited one would hand its models a licence nobody read
    licence: str
    licence_url: str
    #: what a card or paper using the data must cite
    citation: str
    #: record -> the patient's first record, where one patient has several records
    same_patient: Mapping[str, str] = field(default_factory=dict)
    #: records whose last beat is annotated one sample past the end of the signal (kept at the last one)
    end_beats: frozenset[str] = frozenset()
    #: False where the licence forbids commercial use: of the data and of the models trained on it
    commercial_use: bool = True
    #: other folders under the data folder that may hold (part of) it, tried after `name`
    also_in: tuple[str, ...] = ()
    #: how to get the data, for the error when its folder is missing
    how_to_get: str = ""
    #: the description a database of your own was read from (`local_database`); None for heartzoo's
    described_in: Path | None = None
    #: what is labelled: every beat ("beat"), or a whole recording ("recording": CinC 2017)
    unit = "beat"

    def folder(self, data_dir=None) -> Path:
        """`<data folder>/<name>`, which must exist: if not, the error says how to get it."""
        from .. import paths
        from ..errors import HeartzooError

        root = paths.data_dir(data_dir)
        for name in (self.name, *self.also_in):
            if (root / name).is_dir():
                return root / name
        folder = root / self.name
        raise HeartzooError(
            f"no {self.name} folder at {folder}; set --data-dir or HEARTZOO_DATA_DIR, "
            f"or {self.how_to_get or f'run `heartzoo data download {self.name}`'}"
        )

    def owns(self, record: str) -> bool:
        """Whether `record` is one of this database's record names."""
        return record in self.records

    def record_dir(self, folder: Path, record: str) -> Path:
        """The folder holding `record`'s files (flat databases: the database folder itself)."""
        return Path(folder)

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

    def select(self, what: str, data_dir=None) -> tuple[str, ...]:
        """The records of a named set, or one record; a ValueError names what is allowed (`data_dir`
        matters only to databases that find their records in their folder)."""
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

        where = self.record_dir(folder, record)
        return read_beats(where, record, expected_fs=self.fs, end_beat=record in self.end_beats)

    def read_rhythms(self, folder: Path, record: str):
        """The record's rhythm episodes (`rhythms.Rhythms`), written the MIT-BIH way: a `+` with aux
        `(NAME` starts each (a database with another convention overrides this)."""
        from .rhythms import read_change_rhythms

        return read_change_rhythms(self.record_dir(folder, record), record, fs=self.fs)

    def read_signal(self, folder: Path, record: str, lead: str):
        """The lead standing for the model's `lead`, in mV."""
        return self.read_lead(folder, record, self.lead_for(lead, record))

    def read_lead(self, folder: Path, record: str, name: str):
        """The lead the record's header names `name` (this database's own name for it), in mV."""
        from .records import read_signal

        return read_signal(self.record_dir(folder, record), record, name, expected_fs=self.fs)

    def other_leads(self, folder: Path, record: str, lead: str) -> list[str]:
        """The record's leads, by its header's names, other than the one standing for the model's `lead`."""
        from .records import read_header

        primary = self.lead_for(lead, record)
        return [
            n for n in read_header(self.record_dir(folder, record), record).sig_name or [] if n != primary
        ]
