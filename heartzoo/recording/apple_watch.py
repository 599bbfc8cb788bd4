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
reported beside heartzoo's reading (an English export's `Classification` line). The person's name and date
of birth are never read into anything.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import HeartzooError

#: how many lines the header may take before the first sample
HEADER_LINES = 40
HEAD_BYTES = 4096
_RATE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(?:hertz|hz)\s*$", re.IGNORECASE)
#: one sample a line, a comma as the decimal mark where the phone's language writes one (then quoted or not)
_SAMPLE = re.compile(r'^\s*"?[-+]?[0-9]+(?:[.,][0-9]+)?"?\s*$')
#: the recorded date's value, in every language the Health app writes (its key is translated)
_RECORDED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}")
#: the unit of the samples -> the factor to mV
_UNITS = {"µv": 1e-3, "μv": 1e-3, "uv": 1e-3, "mv": 1.0}
#: the keys of an English export besides Name
_KEYS = {"Date of Birth", "Recorded Date", "Classification", "Symptoms", "Software Version", "Device"}
_KEYS |= {"Sample Rate", "Lead", "Unit"}


def is_export(path: Path) -> bool:
    """Whether the CSV at `path` is an Apple Watch ECG export: before its first sample, a header that
    states a rate in hertz and a unit of voltage, or that starts with the `Name` line, in any language."""
    try:
        with open(path, "rb") as f:  # a bad byte further on is read's to report, not a reason to miss it
            head = f.read(HEAD_BYTES).decode("utf-8-sig", errors="replace").splitlines()[:HEADER_LINES]
    except OSError:
        return False
    first = next((i for i, line in enumerate(head) if _SAMPLE.match(line)), len(head))
    rows = [r for r in csv.reader(head[:first]) if r]
    values = [r[1].strip() for r in rows[1:] if len(r) >= 2]  # the first row is the person's name
    stated = any(_RATE.match(v) for v in values) and any(v.lower() in _UNITS for v in values)
    return stated or bool(rows and rows[0][0].strip() == "Name" and len(rows) > 1)


def _rate(value: str) -> float | None:
    if m := _RATE.match(value):
        return float(m.group(1).replace(",", "."))
    return None


def read(
    path: Path, fs: float | None = None
) -> tuple[str, np.ndarray, float, tuple[str, ...], datetime | None]:
    """(lead name, samples in mV, rate in Hz, notes, start) of the export at `path`; `start`: the recorded
    date, in the watch's time zone (the header's one value of a date and a time of day, in any language).
    `fs`: the rate, only where the header states none."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HeartzooError(
            f"{path}: an Apple Watch ECG export that cannot be read as UTF-8 text ({exc})"
        ) from None
    first = next((i for i, line in enumerate(lines) if _SAMPLE.match(line)), None)
    if first is None:
        raise HeartzooError(f"{path}: an Apple Watch ECG export with no samples after its header")
    rows = [r for r in csv.reader(lines[:first]) if len(r) >= 2 and r[0].strip()]
    header = {r[0].strip(): r[1].strip() for r in rows}
    values = [r[1].strip() for r in rows[1:]]  # not the first row: the person's name
    rates = [r for r in map(_rate, values) if r is not None]
    if rates and fs is not None:
        raise HeartzooError(
            f"{path}: an Apple Watch ECG export carries its sampling rate; --fs is for CSV, .mat and .npy"
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
    units = [v for v in values if v.lower() in _UNITS]
    unit = header.get("Unit", units[0] if len(units) == 1 else None)
    if unit is None or unit.lower() not in _UNITS:
        raise HeartzooError(
            f"{path}: its header's unit is {unit!r}; an Apple Watch export states µV ('Unit,µV')"
        )
    samples = np.empty(len(lines) - first)
    n = 0
    for i, line in enumerate(lines[first:], start=first + 1):
        if not line.strip():
            continue
        if not _SAMPLE.match(line):
            raise HeartzooError(f"{path}: line {i} is {line.strip()[:40]!r}, not a sample")
        samples[n] = float(line.strip().strip('"').replace(",", "."))
        n += 1
    notes = ["an Apple Watch ECG export" + _device(header)]
    if header.get("Classification"):
        notes.append(f"the watch classified this recording as {header['Classification']!r}")
    starts = [_recorded(m[0]) for v in values if (m := _RECORDED.fullmatch(v))]
    start = starts[0] if len(starts) == 1 else None
    return header.get("Lead", "Lead I"), samples[:n] * _UNITS[unit.lower()], rates[0], tuple(notes), start


def _recorded(text: str) -> datetime | None:
    """The recorded date and time, None where it is not one (month 13, an offset of a day or more): a
    clock that is wrong does not keep the samples from being read."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None


def _device(header: dict[str, str]) -> str:
    said = [f"{k.lower()} {header[k]}" for k in ("Device", "Software Version") if header.get(k)]
    return f" ({', '.join(said)})" if said else ""
