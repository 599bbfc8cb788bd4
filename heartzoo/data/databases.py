"""The databases heartzoo reads, by name, and the `NAME:SET` / `NAME:RECORD` sources a config names."""

from __future__ import annotations

from . import mitbih, svdb
from .database import Database

DATABASES: dict[str, Database] = {db.name: db for db in (mitbih.DATABASE, svdb.DATABASE)}


def get_database(name: str) -> Database:
    try:
        return DATABASES[name]
    except KeyError:
        raise ValueError(f"unknown database {name!r}; known: {', '.join(DATABASES)}") from None


def database_of(record: str) -> Database:
    """The database a record belongs to (record names are unique across the databases)."""
    for db in DATABASES.values():
        if record in db.records:
            return db
    raise ValueError(f"record {record!r} is in none of the databases ({', '.join(DATABASES)})")


def records_of(sources) -> list[str]:
    """The records of several sources (`mitdb:DS1`, `svdb:all`, ...), in order, each once."""
    return list(dict.fromkeys(r for source in sources for r in resolve(source)[1]))


def resolve(source: str) -> tuple[Database, tuple[str, ...]]:
    """`mitdb:DS1`, `svdb:all`, `svdb:860` -> the database and its records."""
    name, sep, what = source.partition(":")
    if not sep or not what:
        raise ValueError(f"{source!r} is not DATABASE:SET or DATABASE:RECORD (e.g. mitdb:DS1, svdb:all)")
    db = get_database(name)
    return db, db.select(what)
