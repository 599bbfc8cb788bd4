"""The databases heartzoo reads, by name, and the `NAME:SET` / `NAME:RECORD` sources a config names;
and the licences a model trained on some of them inherits (`licences_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cinc2017, icentia11k, mitbih, svdb
from .database import Database

DATABASES: dict[str, Database] = {
    db.name: db for db in (mitbih.DATABASE, svdb.DATABASE, icentia11k.DATABASE, cinc2017.DATABASE)
}


#: databases of your own read so far, by their description's path: (its mtime, the database)
_LOCAL: dict[Path, tuple[int, Database]] = {}


def get_database(name: str, data_dir=None) -> Database:
    """The database `name`: one heartzoo ships (`DATABASES`), or one of your own, a folder `name` of the
    data folder holding its `heartzoo-database.yaml` (`local_database`), read and checked once per
    version of that file."""
    if name in DATABASES:
        return DATABASES[name]
    from .. import paths
    from .local_database import DESCRIPTION, NAME_RE, read_database

    path = paths.data_dir(data_dir) / name / DESCRIPTION if NAME_RE.fullmatch(name) else None  # never a path
    if path is None or not path.is_file():
        raise ValueError(
            f"unknown database {name!r}; known: {', '.join(DATABASES)}, or one of your own: a folder of the "
            f"data folder holding its {DESCRIPTION} (docs/data.md)"
        )
    mtime = path.stat().st_mtime_ns
    if path not in _LOCAL or _LOCAL[path][0] != mtime:
        _LOCAL[path] = (mtime, read_database(path.parent, DATABASES))
    return _LOCAL[path][1]


def local_databases(data_dir=None) -> tuple[list[Database], list[Exception]]:
    """The databases of your own in the data folder (each folder holding a `heartzoo-database.yaml`), and
    the errors of the descriptions that could not be read."""
    from .. import paths
    from .local_database import DESCRIPTION

    root = paths.data_dir(data_dir)
    found, broken = [], []
    for path in sorted(root.glob(f"*/{DESCRIPTION}")) if root.is_dir() else []:
        try:
            found.append(get_database(path.parent.name, data_dir))
        except ValueError as exc:  # one broken description does not hide the others' records
            broken.append(exc)
    return found, broken


def database_of(record: str, data_dir=None) -> Database:
    """The database a record belongs to: record names are unique across the databases, and a name two
    claim (a new database's `100` beside MIT-BIH's) is an error, never the first one's record. A record of
    none of heartzoo's is looked for in the databases of your own in the data folder."""
    owners = [db for db in DATABASES.values() if db.owns(record)]
    broken: list[Exception] = []
    if not owners:
        local, broken = local_databases(data_dir)
        owners = [db for db in local if db.owns(record)]
    if not owners and broken:
        raise broken[0]
    if len(owners) > 1:
        raise ValueError(
            f"record {record!r} is a record of {' and '.join(db.name for db in owners)}: record names must be "
            "unique across the databases (rename one database's records)"
        )
    if not owners:
        raise ValueError(f"record {record!r} is in none of the databases ({', '.join(DATABASES)})")
    return owners[0]


def records_of(sources, data_dir=None) -> list[str]:
    """The records of several sources (`mitdb:DS1`, `svdb:all`, ...), in order, each once."""
    return list(dict.fromkeys(r for source in sources for r in resolve(source, data_dir)[1]))


def unit_of(sources) -> str:
    """What the sources' databases label, one for all ("beat" or "recording", `Database.unit`); a
    ValueError when they mix."""
    units = {get_database(s.partition(":")[0]).unit for s in sources}
    if len(units) != 1:
        raise ValueError(
            f"sources {', '.join(sources)} mix databases labelled per beat and per recording; "
            "prepare them into separate folders"
        )
    return units.pop()


def resolve(source: str, data_dir=None) -> tuple[Database, tuple[str, ...]]:
    """`mitdb:DS1`, `svdb:all`, `svdb:860`, `icentia11k:p01001` -> the database and its records
    (`data_dir` is read only by databases that find their records in their folder)."""
    name, sep, what = source.partition(":")
    if not sep or not what:
        raise ValueError(f"{source!r} is not DATABASE:SET or DATABASE:RECORD (e.g. mitdb:DS1, svdb:all)")
    db = get_database(name, data_dir)
    return db, db.select(what, data_dir)


@dataclass(frozen=True)
class DataLicence:
    """The licence of one database a model learnt from, as its card must state it."""

    database: str
    title: str
    licence: str
    url: str
    commercial_use: bool
    citation: str


#: aftdb is no `Database` (read for its AF beats alone, `af_beats`): its licence, which a model trained
#: on it carries
AFTDB_LICENCE = {
    "database": "aftdb",
    "title": "AF Termination Challenge Database (PhysioNet, 1.0.0)",
    "licence": "Open Data Commons Attribution License v1.0 (ODC-By 1.0)",
    "url": "https://physionet.org/content/aftdb/view-license/1.0.0/",
    "commercial_use": True,
    "citation": "Moody GB. Spontaneous Termination of Atrial Fibrillation: A Challenge from PhysioNet and "
    "Computers in Cardiology 2004. Computers in Cardiology 31:101-104 (2004); Goldberger AL et al. "
    "PhysioBank, PhysioToolkit, and PhysioNet. Circulation 101(23):e215-e220 (2000).",
}


def licences_of(config: Any) -> list[DataLicence]:
    """The licences of the databases a configuration trains on (`data.train`, then `data.af_beats`; a
    `HeartzooConfig` or its JSON dump), in the order it names them, each once. MIT-BIH, whose DS2 tests every
    model but af-4's (tested on CinC 2017 alone), is among them. One with `commercial_use` False makes the
    model non-commercial."""
    from ..tasks import get_task

    data = config["data"] if isinstance(config, dict) else config.data.model_dump(mode="json")
    task = config.get("task") if isinstance(config, dict) else config.task
    af = (data.get("af_beats") or {}).get("sources", [])  # unlabelled AF beats (`af_beats`) teach too
    ds2 = [] if task is not None and get_task(task).per_recording else [mitbih.DATASET]
    names = dict.fromkeys([*(s.partition(":")[0] for s in data["train"]), *af, *ds2])
    return [
        DataLicence(**AFTDB_LICENCE)
        if name == "aftdb"
        else DataLicence(db.name, db.title, db.licence, db.licence_url, db.commercial_use, db.citation)
        for name in names
        for db in [None if name == "aftdb" else get_database(name)]
    ]
