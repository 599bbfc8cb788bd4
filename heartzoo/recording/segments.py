"""WFDB multi-segment records: the layout of PhysioNet's long and bedside recordings (the MIMIC waveform
databases). The master header's record line is `name/segments signals fs length`, then one line a
segment, `segment length`: each segment a WFDB record of its own in the same folder, `~` a stretch no
segment covers, a first segment of length 0 (the layout) naming every signal.

One lead is read across the segments, each through the reader of single records (`records.read_signal`:
size, checksum, unit); a stretch that is `~`, or a segment without that lead, is missing (NaN,
`missing`). The master header is read here: every name in it is checked to be a record's name, so none
reaches outside the record's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

import numpy as np

from ..errors import DataError, HeartzooError
from .missing import check_span

#: a segment's name: a WFDB record's letters (no folder, no path), or `~` for no segment
_NAME = re.compile(r"[A-Za-z0-9_-]+|~")
#: more segments than this is not a header (MIMIC's longest records hold a few thousand)
MAX_SEGMENTS = 100_000


@dataclass(frozen=True)
class Layout:
    fs: float
    segments: list[tuple[str, int]]  # (name, samples); "~": none
    start: datetime | time | None
    #: what reading the master header found (a start that is no time)
    notes: tuple[str, ...] = ()


def is_multi_segment(hea: Path) -> bool:
    """Whether the header at `hea` is a multi-segment record's (its record line `name/segments ...`)."""
    try:
        with open(hea, encoding="latin-1") as f:
            for line in f:
                if line.strip() and not line.lstrip().startswith("#"):
                    return "/" in line.split()[0]
    except OSError:
        return False
    return False


def layout(hea: Path) -> Layout:
    """The master header at `hea`, each field checked, or an error naming the header and the field."""
    lines = [
        line.split()
        for line in hea.read_text(encoding="latin-1").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    record = lines[0]
    count = record[0].partition("/")[2]
    if not count.isdigit() or not 1 <= int(count) <= MAX_SEGMENTS:
        raise HeartzooError(
            f"{hea}: its record line's {record[0]!r} gives no number of segments (1-{MAX_SEGMENTS:,})"
        )
    try:
        fs = float(record[2].split("/")[0]) if len(record) > 2 else 250.0  # WFDB's default rate
    except ValueError:
        fs = float("nan")
    if not (np.isfinite(fs) and fs > 0):
        raise HeartzooError(
            f"{hea}: the record line's sampling frequency (3rd field) is {record[2]!r}, not a positive number"
        )
    rows = lines[1 : 1 + int(count)]
    if len(rows) < int(count):
        raise HeartzooError(f"{hea}: the record line gives {count} segments, the header lists {len(rows)}")
    segments = []
    for i, row in enumerate(rows, start=1):
        if len(row) < 2 or not _NAME.fullmatch(row[0]) or not row[1].isdigit():
            raise HeartzooError(
                f"{hea}: segment line {i} is {' '.join(row)!r}, not a record's name (letters, digits, _ "
                "and -; or ~) and its number of samples"
            )
        segments.append((row[0], int(row[1])))
    total = sum(n for _, n in segments)
    held = sum(n for name, n in segments if name != "~")
    check_span(hea, held / fs, total / fs, "segments' lengths")
    if len(record) > 3 and record[3].isdigit() and int(record[3]) != total:
        raise HeartzooError(
            f"{hea}: the record line gives {record[3]} samples, its segments {total:,}: corrupted"
        )
    from ..data.records import base_start

    start, said = base_start(record[4:6])
    notes = (f"{said}: read without a start time",) if said else ()  # read on, as a single record is
    return Layout(fs, segments, start, notes)


def headers(base: Path, found: Layout) -> dict:
    """Each segment's header, read once and checked as a single record's, by its name."""
    from ..data.records import read_header

    out = {}
    for seg, _ in found.segments:
        if seg != "~" and seg not in out:
            try:
                out[seg] = read_header(base.parent, seg)
            except DataError as exc:
                raise HeartzooError(f"{base}.hea: its segment {seg}: {exc}") from None
    return out


def lead_names(found: Layout, heads: dict) -> list[str]:
    """The record's signals: its layout segment's (length 0), else those of its segments in turn
    (`heads`: `headers`)."""
    names: list[str] = []
    for seg, n in found.segments:
        if seg == "~":
            continue
        header = heads[seg]
        for s in header.sig_name or []:
            if s not in names:
                names.append(s)
        if n == 0:  # the layout names them all
            return list(header.sig_name or [])
    return names


def read_lead(base: Path, found: Layout, lead: str, heads: dict) -> tuple[np.ndarray, tuple[str, ...]]:
    """(the lead across the segments in mV, NaN where no segment holds it; notes) of the record at
    `base`, every segment's signal file checked as a single record's (`heads`: `headers`)."""
    from ..data.records import read_signal

    parts, notes, held = [], [], 0
    for seg, n in found.segments:
        if n == 0:
            continue
        part = np.full(n, np.nan, np.float32)
        if seg != "~":
            header = heads[seg]
            if not np.isclose(float(header.fs), found.fs) or header.sig_len != n:
                raise HeartzooError(
                    f"{base.parent / seg}.hea: segment {seg} gives {header.sig_len} samples at "
                    f"{header.fs:g} Hz, its record {base.name} {n} at {found.fs:g} Hz: not one recording"
                )
            if lead in (header.sig_name or []):
                try:
                    sig = read_signal(base.parent, seg, lead, missing_ok=True)
                except DataError as exc:
                    raise HeartzooError(str(exc)) from None
                part[:] = sig.values
                notes += [note for note in sig.notes if note not in notes]
                held += 1
        parts.append(part)
    segs = sum(1 for s, n in found.segments if n)
    notes.insert(0, f"a multi-segment record: lead {lead} read from {held} of its {segs} segments")
    return np.concatenate(parts) if parts else np.zeros(0, np.float32), tuple(notes)
