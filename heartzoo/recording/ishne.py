"""ISHNE Holter files (`.ecg`): the output format of the ISHNE Holter standard (Badilini et al., "The ISHNE
Holter Standard Output File Format", Ann Noninvasive Electrocardiol 3(3):263-266, 1998), which Holter
recorders and the THEW databases write.

Layout (little-endian): the magic `ISHNE1.0`, a CRC-16 (CCITT, initial 0xFFFF) of the header from byte 10
to the samples, a 512-byte fixed header (among others: samples per lead, where the variable block and the
samples start, the recording's date and start time, the number of leads, each lead's code and its
resolution in nV per unit, the sampling rate), a variable block, then int16 samples interleaved lead by
lead. Every field that says where or how to read is checked against the file before a sample is read; a
checksum of 0 reads as "none written" (a note), as WFDB's does. The person's name, ID and birth date are
never read.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..data.signal_files import StoredLead
from ..errors import HeartzooError

MAGIC = b"ISHNE1.0"
HEADER_END = 522  # magic (8) + CRC (2) + fixed header (512)
#: the variable block is free text (a recorder's notes); larger than this, the header is not to be trusted
MAX_VAR_BLOCK = 1 << 20
#: Table 1 of the standard: lead codes
LEADS = {0: "unknown", 1: "generic", 2: "X", 3: "Y", 4: "Z", 5: "I", 6: "II", 7: "III", 8: "aVR", 9: "aVL"}
LEADS |= {10: "aVF", 11: "V1", 12: "V2", 13: "V3", 14: "V4", 15: "V5", 16: "V6", 17: "ES", 18: "AS", 19: "AI"}
#: Table 2: lead quality codes worth a note
QUALITY = {
    2: "intermittent noise",
    3: "frequent noise",
    4: "intermittent disconnect",
    5: "frequent disconnect",
}


def _field(header: bytes, offset: int, fmt: str):
    return struct.unpack_from(f"<{fmt}", header, offset)


@dataclass(frozen=True)
class Holter:
    """An ISHNE file's leads, checked, its samples left on disk until one lead is read."""

    path: Path
    names: list[str]
    fs: float
    notes: tuple[str, ...]  # what the user should know of the file
    lead_notes: dict[str, str]  # and of a lead (by name): the quality the Holter marked it with
    samples_at: int  # byte offset of the samples
    samples: int  # per lead
    nv: tuple[int, ...]  # each lead's resolution, nV a unit
    start: datetime | None = None  # the recording's date and start time (None where they are not valid)

    def lead(self, name: str) -> StoredLead:
        """One lead in mV, read where it is sliced (only its column: a day of 12 leads is gigabytes as
        floats)."""
        i = self.names.index(name)
        raw = np.memmap(
            self.path, dtype="<i2", mode="r", offset=self.samples_at, shape=(self.samples, len(self.names))
        )
        scale = self.nv[i] * 1e-6
        return StoredLead(self.samples, lambda a, b: raw[a:b, i].astype(np.float64) * scale)


def read(path: Path) -> Holter:
    """The ISHNE file at `path`, its header checked against the file."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(HEADER_END)
    if len(head) < HEADER_END or head[:8] != MAGIC:
        raise HeartzooError(
            f"{path}: not an ISHNE Holter file (it does not start with 'ISHNE1.0' and a {HEADER_END}-byte "
            "header)"
        )
    (crc,) = _field(head, 8, "H")
    var_size, per_lead, var_at, ecg_at = _field(head, 10, "4i")
    if not (
        var_at == HEADER_END and 0 <= var_size <= MAX_VAR_BLOCK and ecg_at == HEADER_END + var_size <= size
    ):
        raise HeartzooError(
            f"{path}: its header places the variable block at byte {var_at} ({var_size} bytes) and the "
            f"samples at byte {ecg_at}, not where the standard puts them ({HEADER_END}, then right after) "
            f"in a file of {size} bytes: corrupted"
        )
    with open(path, "rb") as f:
        f.seek(10)
        computed = binascii.crc_hqx(f.read(ecg_at - 10), 0xFFFF)
    if crc != 0 and computed != crc:
        raise HeartzooError(
            f"{path}: header checksum {crc:#06x} disagrees with the header ({computed:#06x}): corrupted"
        )
    (n_leads,) = _field(head, 156, "h")
    codes, quality, nv = _field(head, 158, "12h"), _field(head, 182, "12h"), _field(head, 206, "12h")
    (rate,) = _field(head, 272, "h")
    if not 1 <= n_leads <= 12:
        raise HeartzooError(f"{path}: its header gives {n_leads} leads; an ISHNE file holds 1 to 12")
    if rate <= 0:
        raise HeartzooError(f"{path}: its header gives a sampling rate of {rate} Hz")
    names = _names(codes[:n_leads])
    for name, res in zip(names, nv[:n_leads], strict=True):
        if res <= 0:
            raise HeartzooError(f"{path}: lead {name}'s resolution is {res} nV a unit; it must be positive")
    stored, extra = divmod(size - ecg_at, 2 * n_leads)
    # the standard counts samples per lead; some writers count them over every lead
    if per_lead not in (stored, stored * n_leads) or extra or stored == 0:
        raise HeartzooError(
            f"{path}: its header gives {per_lead} samples a lead, the file holds {size - ecg_at} bytes of "
            f"samples ({stored} a lead over {n_leads} lead(s)"
            f"{f' and {extra} byte(s) more' if extra else ''}): truncated or corrupted"
        )
    recorder = "".join(c for c in head[232:272].split(b"\0")[0].decode("latin-1") if c.isprintable()).strip()
    notes = [f"an ISHNE Holter file{f' ({recorder})' if recorder else ''}"]
    if crc == 0:
        notes.append("its header carries no checksum (0); read without one")
    lead_notes = {
        name: f"the Holter marked lead {name} '{QUALITY[q]}'"
        for name, q in zip(names, quality[:n_leads], strict=True)
        if q in QUALITY
    }
    start = _start(_field(head, 138, "3h"), _field(head, 150, "3h"))
    return Holter(
        path, names, float(rate), tuple(notes), lead_notes, ecg_at, stored, tuple(nv[:n_leads]), start
    )


def _start(day: tuple[int, ...], clock: tuple[int, ...]) -> datetime | None:
    """The header's recording date (day, month, year) and start time (hour, minute, second); None where
    they are not a date and time (a writer that leaves them 0)."""
    (d, m, y), (hh, mm, ss) = day, clock
    try:
        return datetime(y, m, d, hh, mm, ss) if y >= 1900 else None
    except ValueError:
        return None


def _names(codes) -> list[str]:
    """Each lead's name by its code; a name two leads share is numbered ("generic-1", "generic-2")."""
    names = [LEADS.get(c, f"code {c}") for c in codes]
    return [f"{n}-{names[:i].count(n) + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)]
