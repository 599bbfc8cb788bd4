"""Apple Watch ECG exports: the CSV the Health app writes for each ECG (Health → Heart →
Electrocardiograms → Export as CSV, or the `electrocardiograms/` folder of a full Health export).

The file is a key/value header, then one voltage per line:

    Name,...
    Date of Birth,"Jan 1, 1990"
    Recorded Date,2026-03-14 09:15:00 -0400
    Classification,Sinus Rhythm
    Symptoms,
    Software Version,1.90
    Device,"Watch6,7"
    Sample Rate,512 hertz
    Lead,Lead I
    Unit,µV

    -26.599
    ...

The values follow the phone's locale: "-265,868" where a comma is the decimal mark. The rate and the
unit come from the header (µV becomes mV, what every reader here returns), found by their values ("512
hertz", "µV") so that a phone set to another language reads too; the watch's own classification is
reported beside heartzoo's reading. The name and the date of birth are never read into anything.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from ..errors import HeartzooError

#: how many lines the header may take before the first sample
HEADER_LINES = 40
_RATE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(?:hertz|hz)\s*$", re.IGNORECASE)
_SAMPLE = re.compile(r"^\s*[-+]?[0-9]+(?:[.,][0-9]+)?\s*$")
#: the unit of the samples -> the factor to mV
_UNITS = {"µv": 1e-3, "μv": 1e-3, "uv": 1e-3, "mv": 1.0}
#: the keys of an English export besides Name
_KEYS = {"Date of Birth", "Recorded Date", "Classification", "Symptoms", "Software Version", "Device"}
_KEYS |= {"Sample Rate", "Lead", "Unit"}


def is_export(path: Path) -> bool:
    """Whether the CSV at `path` is an Apple Watch ECG export: it starts with the `Name` line, and its
    header states a rate in hertz or holds the export's other keys."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            head = [f.readline() for _ in range(HEADER_LINES)]
    except (OSError, UnicodeDecodeError):
        return False
    rows = [r for r in csv.reader(head) if r]
    return (
        bool(rows)
        and rows[0][0].strip() == "Name"
        and any(_rate(r) or r[0].strip() in _KEYS for r in rows[1:])
    )


def _rate(row: list[str]) -> float | None:
    if len(row) >= 2 and (m := _RATE.match(row[1])):
        return float(m.group(1).replace(",", "."))
    return None


def read(path: Path, fs: float | None = None) -> tuple[str, np.ndarray, float, tuple[str, ...]]:
    """(lead name, samples in mV, rate in Hz, notes) of the export at `path`. `fs`: the rate, only where
    the header states none."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    first = next((i for i, line in enumerate(lines) if _SAMPLE.match(line)), None)
    if first is None:
        raise HeartzooError(f"{path}: an Apple Watch ECG export with no samples after its header")
    header = {r[0].strip(): r[1].strip() for r in csv.reader(lines[:first]) if len(r) >= 2 and r[0].strip()}
    rates = [r for r in (_rate(["", v]) for v in header.values()) if r is not None]
    if rates and fs is not None:
        raise HeartzooError(
            f"{path}: an Apple Watch ECG export carries its sampling rate; --fs is for CSV and .npy"
        )
    if fs is not None:
        rates = [float(fs)]
    if not rates:
        raise HeartzooError(
            f"{path}: an Apple Watch ECG export whose header states no sampling rate ('Sample Rate,512 "
            "hertz'); give it (--fs HZ)"
        )
    if len(rates) > 1 or rates[0] <= 0:
        raise HeartzooError(
            f"{path}: its header states {', '.join(f'{r:g} Hz' for r in rates)}, not one rate"
        )
    units = [v for v in header.values() if v.lower() in _UNITS]
    unit = header.get("Unit", units[0] if len(units) == 1 else None)
    if unit is None or unit.lower() not in _UNITS:
        raise HeartzooError(
            f"{path}: its header's unit is {unit!r}; an Apple Watch export states µV ('Unit,µV')"
        )
    values = np.empty(len(lines) - first)
    n = 0
    for i, line in enumerate(lines[first:], start=first + 1):
        if not line.strip():
            continue
        if not _SAMPLE.match(line):
            raise HeartzooError(f"{path}: line {i} is {line.strip()[:40]!r}, not a sample")
        values[n] = float(line.replace(",", "."))
        n += 1
    notes = ["an Apple Watch ECG export" + _device(header)]
    if header.get("Classification"):
        notes.append(f"the watch classified this recording as {header['Classification']!r}")
    return header.get("Lead", "Lead I"), values[:n] * _UNITS[unit.lower()], rates[0], tuple(notes)


def _device(header: dict[str, str]) -> str:
    said = [f"{k.lower()} {header[k]}" for k in ("Device", "Software Version") if header.get(k)]
    return f" ({', '.join(said)})" if said else ""
