"""Beat counts per split and class, from the annotation files alone (no signal is read)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..tasks import AAMI_CLASSES, get_task
from . import mitbih
from .databases import records_of
from .prepare import record_counts
from .splits import ValidationSplit, draw_validation_records, inter_patient_records


def split_counts(
    task_name: str,
    data_dir: str | os.PathLike[str] | None = None,
    validation: ValidationSplit | None = None,
    train: Sequence[str] = ("mitdb:DS1",),
) -> dict[str, Any]:
    """Counts of the task's classes in DS1, DS2 and the train/val draw from the training records
    (`train`: DATABASE:SET sources, DS1 by default), as plain data."""
    task = get_task(task_name)
    validation = validation or ValidationSplit()
    pool = records_of(train)
    per_record = record_counts(list(dict.fromkeys([*mitbih.DS1, *pool, *mitbih.DS2])), data_dir)
    val = validation.records or draw_validation_records(
        {r: per_record[r] for r in pool}, validation.fraction, validation.seed
    )
    splits = inter_patient_records(val, pool)
    # the databases the training records come from (a pool: mitdb+svdb); DS2 is always mitdb's
    databases = list(dict.fromkeys([*(s.split(":")[0] for s in train), mitbih.DATASET]))
    trained = "DS1" if list(train) == ["mitdb:DS1"] else "the pool " + " + ".join(train)
    out: dict[str, Any] = {
        "dataset": "+".join(databases),
        "train": list(train),
        "task": task.name,
        "classes": list(task.class_names),
        "protocol": f"inter-patient (de Chazal 2004): {trained} train, DS2 test; validation = whole patients "
        f"of {'DS1' if trained == 'DS1' else 'the pool'}",
        "splits": {},
        "notes": [
            "Paced records 102, 104, 107, 217 are excluded.",
            "Records 201 (DS1) and 202 (DS2) are one patient; de Chazal's split is kept as published.",
        ],
    }
    for name in ("ds1", "ds2", "train", "val"):
        aami = dict.fromkeys(AAMI_CLASSES, 0)
        for r in splits[name]:
            for c, n in per_record[r].items():
                aami[c] += n
        counts = dict.fromkeys(task.class_names, 0)
        left_out = 0
        for c, n in aami.items():
            target = task.aami_map.get(c)
            if target is None:
                left_out += n
            else:
                counts[target] += n
        out["splits"][name] = {
            "records": splits[name],
            "counts": counts,
            "total": sum(counts.values()),
            "left_out": left_out,
            "aami": aami,
        }
    return out
