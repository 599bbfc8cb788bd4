"""The MIT-BIH Supraventricular Arrhythmia Database (svdb): 78 half-hour Holter records at 128 Hz, two
unnamed leads (`ECG1`, `ECG2`), 12,198 S beats. A training database only: DS2 of mitdb stays the test.

- Lead: `ECG1` stands for MIT-BIH's MLII. PhysioNet says the leads are "usually approximately modified
  lead II and a modified lead V2" but not consistent; studies/svdb_lead.py measures, on training
  records only (svdb and mitdb DS1), how closely each lead's median normal beat matches MIT-BIH MLII's,
  and its recorded result (results/svdb_lead.json) chose `ECG1`.
- Record 860's last beat is annotated at sample 230,400, one past the end: kept at the last sample.
- One `B` beat (868) is N, as in AAMI EC57 (`records.SYMBOL_TO_AAMI`).
- No subject identifiers: each record is taken as its own patient.
"""

from __future__ import annotations

from .database import ODC_BY, ODC_BY_URL, Database

RECORDS: tuple[str, ...] = tuple(str(r) for r in (*range(800, 813), *range(820, 830), *range(840, 895)))

DATABASE = Database(
    name="svdb",
    title="MIT-BIH Supraventricular Arrhythmia Database",
    fs=128,
    records=RECORDS,
    splits={"all": RECORDS},
    leads={"MLII": "ECG1"},
    end_beats=frozenset({"860"}),
    licence=ODC_BY,
    licence_url=ODC_BY_URL,
    citation="Greenwald 1990; Goldberger et al. 2000 (PhysioNet)",
)
