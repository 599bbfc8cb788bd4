"""A database of your own: WFDB records with beat annotations (`.atr`) in a folder of the data folder,
described by a `heartzoo-database.yaml` there (docs/data.md, "A database of your own"). Its folder's name
is its name in every command and config (`heartzoo data stats --dataset NAME`, `heartzoo evaluate MODEL
--dataset NAME`, `data.train: [mitdb:DS1, NAME:all]`); its records are read by the rules the others are
(sizes, checksums, units, rates checked), and a model trained on it carries the licence the file states.

The file is data, read as untrusted: its fields are checked (a typo is an error naming the file and
field), its name is its folder's, its records are the headers found in that folder (never a path it
names), and a record named as another database's (`100` beside MIT-BIH's) is refused, since a record's
name says which database it belongs to.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError
from .database import Database

DESCRIPTION = "heartzoo-database.yaml"
#: a database's name (its folder's) and its records' (their headers'): never a path
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RECORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class DatabaseFile(BaseModel):
    """What `heartzoo-database.yaml` says of the records beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(..., min_length=1, description="The database's name in full, for cards and tables.")
    fs: float = Field(
        ..., gt=0, description="The sampling rate (Hz) of every record; a header saying else is an error."
    )
    leads: dict[str, str] = Field(
        ...,
        min_length=1,
        description="The model's lead -> the name this database's headers give the lead standing for it "
        "(e.g. MLII: II).",
    )
    licence: str = Field(
        ..., min_length=1, description="The data's licence, which a model trained on it carries."
    )
    commercial_use: bool = Field(
        ..., description="False where the licence forbids commercial use (of the models too)."
    )
    licence_url: str = Field("", description="Where the licence's text is.")
    citation: str = Field("", description="What a card or paper using the data must cite.")
    splits: dict[str, list[str]] = Field(
        default_factory=dict, description="Named record sets (NAME:SET); `all` is every record."
    )
    same_patient: dict[str, str] = Field(
        default_factory=dict,
        description="record -> the patient's first record, where a patient has several (else each record "
        "is its own patient).",
    )


def read_database(folder: Path, others: dict[str, Database]) -> Database:
    """The database the description in `folder` gives, checked against the records in the folder and the
    `others` (by name); a `ConfigError` naming the file and field for anything wrong."""
    from ..validation import read_validated

    folder = Path(folder)
    path = folder / DESCRIPTION
    name = folder.name
    if not NAME_RE.fullmatch(name) or name in others:
        raise ConfigError(
            f"{path}: a database's name is its folder's, lower-case letters, digits, _ and - "
            f"(and not one of {', '.join(others)}): {name!r}"
        )
    fields = "fields (title, fs, leads, licence, commercial_use, ...)"
    spec = read_validated(path, DatabaseFile, "database description", fields)
    records = tuple(sorted(p.name.removesuffix(".hea") for p in folder.glob("*.hea")))
    if not records:
        raise ConfigError(f"{path}: no WFDB record (RECORD.hea) beside it in {folder}")
    if bad := [r for r in records if not RECORD_RE.fullmatch(r)]:
        raise ConfigError(f"{folder}: record name {bad[0]!r}: letters, digits, _ and - only")
    held = set(records)
    named = [(f"splits.{k}", r) for k, rs in spec.splits.items() for r in rs]
    named += [(f"same_patient.{k}", r) for k, v in spec.same_patient.items() for r in (k, v)]
    if missing := [(f, r) for f, r in named if r not in held]:
        field, record = missing[0]
        raise ConfigError(f"{path}: field {field!r}: no record {record!r} in {folder}")
    for record, first in spec.same_patient.items():  # a chain would make two patients of one
        if first in spec.same_patient:
            raise ConfigError(
                f"{path}: field 'same_patient.{record}': {first} is itself mapped to "
                f"{spec.same_patient[first]}; map every record of a patient to its first record"
            )
    if "all" in spec.splits:
        raise ConfigError(f"{path}: field 'splits.all': `all` is every record; name the set otherwise")
    for other in others.values():
        if clash := [r for r in records if other.owns(r)]:
            raise ConfigError(
                f"{folder}: record {clash[0]!r} is a record of {other.name}: a record's name says its "
                "database; rename this database's records"
            )
    return Database(
        name=name,
        title=spec.title,
        fs=int(spec.fs) if spec.fs.is_integer() else spec.fs,
        records=records,
        splits={"all": records, **{k: tuple(v) for k, v in spec.splits.items()}},
        leads=dict(spec.leads),
        licence=spec.licence,
        licence_url=spec.licence_url,
        citation=spec.citation,
        same_patient=dict(spec.same_patient),
        commercial_use=spec.commercial_use,
        how_to_get=f"put its records and {DESCRIPTION} in that folder (docs/data.md)",
        described_in=path,
    )
