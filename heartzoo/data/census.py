"""What a database folder holds: patients, records, hours, beats per AAMI class and, where the database
labels them, rhythm episodes, or, for a database labelled per recording (CinC 2017), recordings per
label; from headers, annotation and label files alone (no signal is read). For a database found in its
folder (Icentia11k) it counts whatever part is present."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..tasks import AAMI_CLASSES
from .databases import get_database
from .records import read_header


def database_census(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    what: str = "all",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Counts of `name:what` (every record of the database by default), in total and per patient,
    as plain data."""
    db = get_database(name, data_dir)
    folder = db.folder(data_dir)
    # a set's name typed in other letters (`--select ds2`); configs keep the exact names, as records do
    same = [s for s in db.splits if s.lower() == what.lower() and what not in db.records]
    records = db.select(same[0] if len(same) == 1 else what, data_dir)
    rhythms = getattr(db, "read_rhythms", None)
    # a database labelled per recording has no beats to count: its labels are counted instead
    labels = db.labels(data_dir) if hasattr(db, "labels") else None
    patients: dict[str, dict[str, Any]] = {}
    for record in records:
        p = patients.setdefault(
            db.patient_of(record).partition(":")[2],
            {"records": [], "seconds": 0.0, "beats": dict.fromkeys(AAMI_CLASSES, 0), "rhythms": {}},
        )
        p["records"].append(record)
        if labels is not None:
            header = read_header(db.record_dir(folder, record), record)
            p["seconds"] += header.sig_len / header.fs
            label = db.label_of(record, labels, data_dir)
            counts = p.setdefault("labels", {})
            counts[label] = counts.get(label, 0) + 1
            if progress:
                progress(record)
            continue
        beats = db.read_beats(folder, record)
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
    if labels is not None:
        per_label = dict.fromkeys(db.label_order, 0)
        for p in patients.values():
            p["beats"] = None
            for label, n in p["labels"].items():
                per_label[label] += n
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
        "beats": None
        if labels is not None
        else {c: sum(p["beats"][c] for p in patients.values()) for c in AAMI_CLASSES},
        "labels": per_label if labels is not None else None,
        "rhythms": total_rhythms if rhythms is not None and labels is None else None,
        "per_patient": patients,
    }
