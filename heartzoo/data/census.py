"""What a database folder holds: patients, records, hours, beats per AAMI class and, where the database
labels them, rhythm episodes; from headers and annotation files alone (no signal is read). For a
database found in its folder (Icentia11k) it counts whatever part is present."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..tasks import AAMI_CLASSES
from .databases import get_database


def database_census(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    what: str = "all",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Counts of `name:what` (every record of the database by default), in total and per patient,
    as plain data."""
    db = get_database(name)
    folder = db.folder(data_dir)
    records = db.select(what, data_dir)
    rhythms = getattr(db, "read_rhythms", None)
    patients: dict[str, dict[str, Any]] = {}
    for record in records:
        beats = db.read_beats(folder, record)
        p = patients.setdefault(
            db.patient_of(record).partition(":")[2],
            {"records": [], "seconds": 0.0, "beats": dict.fromkeys(AAMI_CLASSES, 0), "rhythms": {}},
        )
        p["records"].append(record)
        p["seconds"] += beats.sig_len / beats.fs
        for c, n in beats.counts().items():
            p["beats"][c] += n
        if rhythms is not None:
            r = rhythms(folder, record)
            for label, n in r.counts().items():
                entry = p["rhythms"].setdefault(label, {"episodes": 0, "seconds": 0.0})
                entry["episodes"] += n
                entry["seconds"] += r.seconds()[label]
        if progress:
            progress(record)
    total_rhythms: dict[str, dict[str, float]] = {}
    for p in patients.values():
        for label, e in p["rhythms"].items():
            t = total_rhythms.setdefault(label, {"episodes": 0, "seconds": 0.0})
            t["episodes"] += e["episodes"]
            t["seconds"] += e["seconds"]
    return {
        "dataset": db.name,
        "title": db.title,
        "folder": str(folder),
        "selection": what,
        "licence": db.licence,
        "commercial_use": db.commercial_use,
        "citation": db.citation,
        "patients": len(patients),
        "records": len(records),
        "hours": sum(p["seconds"] for p in patients.values()) / 3600,
        "beats": {c: sum(p["beats"][c] for p in patients.values()) for c in AAMI_CLASSES},
        "rhythms": total_rhythms if rhythms is not None else None,
        "per_patient": patients,
    }
