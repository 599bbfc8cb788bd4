"""EDF and EDF+ files (Kemp et al. 1992; Kemp & Olivan 2003): what many patches and Holters export; and
BDF and BDF+, BioSemi's EDF of 24-bit samples, what research recorders of 24-bit ADCs write.

Read here rather than through wfdb, which turns every signal of a file into one float64 array at a common
rate: a wearable's EDF often holds its ECG beside an accelerometer at another rate, and a day of it would
be gigabytes. This reads the header (ASCII fields, checked one by one, each error naming the field and the
signal), leaves out EDF+ annotation signals, and reads one signal at its own rate, converted from its
digital to its physical range and from its unit (nV, µV, mV or V) to mV. An EDF+D or BDF+D file (records
with gaps between them) is refused: its samples are not one unbroken recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..data.signal_files import StoredLead, int24
from ..errors import HeartzooError
from ..preprocess.lead import TO_MV

HEADER_BYTES = 256
ANNOTATIONS = ("EDF Annotations", "BDF Annotations")
#: the version field that marks a BDF file (an EDF's is "0")
BDF_VERSION = b"\xffBIOSEMI"


@dataclass(frozen=True)
class Signal:
    name: str
    unit: str
    physical: tuple[float, float]
    digital: tuple[int, int]
    per_record: int  # samples in each data record


@dataclass(frozen=True)
class Edf:
    """An EDF file's signals, checked, their samples left on disk until one is read."""

    path: Path
    signals: list[Signal]  # every signal, annotations included, in the file's order
    records: int
    record_s: float
    header_bytes: int
    sample_bytes: int = 2  # 3 in a BDF file
    start: datetime | None = None  # the header's start date and time (None where they cannot be read)

    @property
    def names(self) -> list[str]:
        """The signals that are leads (EDF+ annotation signals left out)."""
        return [s.name for s in self.signals if s.name not in ANNOTATIONS]

    def fs(self, lead: int | str) -> float:
        return self._signal(lead).per_record / self.record_s

    def is_voltage(self, lead: int | str) -> bool:
        """Whether the signal's unit is one of a voltage (an ECG's); none given counts as mV, as wfdb does."""
        unit = self._signal(lead).unit.lower()
        return unit in TO_MV or not unit

    def lead_notes(self, lead: int | str) -> tuple[str, ...]:
        s = self._signal(lead)
        unit = s.unit
        if unit.lower() in TO_MV:
            return ()
        return (f"signal {s.name}'s unit is {unit or 'not given'}, not a voltage: read as mV",)

    def lead(self, lead: int | str) -> StoredLead:
        """One signal in mV, read where it is sliced (only its samples of the records that hold them)."""
        at = self._at(lead)
        s = self.signals[at]
        width, k = sum(x.per_record for x in self.signals), self.sample_bytes
        # a record's samples as 16-bit integers (EDF), or as bytes, three a sample (BDF)
        dtype, columns = ("<i2", width) if k == 2 else (np.uint8, width * k)
        raw = np.memmap(
            self.path, dtype=dtype, mode="r", offset=self.header_bytes, shape=(self.records, columns)
        )
        first = sum(x.per_record for x in self.signals[:at])
        per = s.per_record
        (p0, p1), (d0, d1) = s.physical, s.digital
        gain, unit = (p1 - p0) / (d1 - d0), TO_MV.get(s.unit.lower(), 1.0)

        def read(a: int, b: int) -> np.ndarray:
            r0, r1 = a // per, -(-b // per)  # the data records that hold samples a..b-1
            if k == 2:
                digital = raw[r0:r1, first : first + per].reshape(-1)[a - r0 * per : b - r0 * per]
            else:
                part = raw[r0:r1, first * k : (first + per) * k].reshape(-1, k)
                digital = int24(part[a - r0 * per : b - r0 * per])
            return ((digital.astype(np.float64) - d0) * gain + p0) * unit

        return StoredLead(self.records * per, read)

    def _signal(self, lead: int | str) -> Signal:
        return self.signals[self._at(lead)]

    def _at(self, lead: int | str) -> int:
        """Where a lead is in `signals`: by its number in `names` (two may share a name, and then equal
        each other as values), or the first of its name."""
        if isinstance(lead, int):
            return [i for i, s in enumerate(self.signals) if s.name not in ANNOTATIONS][lead]
        return next(i for i, s in enumerate(self.signals) if s.name == lead)


def _text(head: bytes, at: int, width: int) -> str:
    return head[at : at + width].decode("latin-1").strip()


def read(path: Path) -> Edf:
    """The EDF file at `path`, its header checked against the file."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    bdf = head[:8] == BDF_VERSION
    if len(head) < HEADER_BYTES or not (bdf or _text(head, 0, 8) == "0"):
        raise HeartzooError(
            f"{path}: not an EDF file (it does not start with EDF's version '0' and a 256-byte header, nor "
            "with BDF's byte 255 and 'BIOSEMI')"
        )
    kind = "BDF" if bdf else "EDF"

    def number(value: str, field: str, kind=float):
        try:
            return kind(value)
        except ValueError:
            raise HeartzooError(f"{path}: its header's {field} is {value!r}, not a number") from None

    header_bytes = number(_text(head, 184, 8), "header size", int)
    plus = _text(head, 192, 44)
    records = number(_text(head, 236, 8), "number of data records", int)
    record_s = number(_text(head, 244, 8), "duration of a data record")
    n = number(_text(head, 252, 4), "number of signals", int)
    if plus.startswith(f"{kind}+D"):
        raise HeartzooError(
            f"{path}: {'a' if bdf else 'an'} {kind}+D file, whose data records have gaps between them: not "
            f"one unbroken recording; export it as {kind}+C, or split it where it stops"
        )
    if not 1 <= n <= 4096 or header_bytes != HEADER_BYTES * (1 + n) or record_s <= 0:
        raise HeartzooError(
            f"{path}: its header gives {n} signal(s), a header of {header_bytes} bytes and data records of "
            f"{record_s:g} s: corrupted"
        )
    with open(path, "rb") as f:
        f.seek(HEADER_BYTES)
        more = f.read(HEADER_BYTES * n)
    if len(more) < HEADER_BYTES * n:
        raise HeartzooError(
            f"{path}: its header is cut short: the fields of its {n} signal(s) are not all there"
        )

    def column(width: int, offset: int) -> list[str]:
        return [_text(more, offset + i * width, width) for i in range(n)]

    at = 0
    fields = {}
    for key, width in (("label", 16), ("transducer", 80), ("unit", 8), ("pmin", 8), ("pmax", 8)):
        fields[key], at = column(width, at), at + width * n
    for key, width in (("dmin", 8), ("dmax", 8), ("prefilter", 80), ("per_record", 8)):
        fields[key], at = column(width, at), at + width * n
    signals = []
    for i in range(n):
        name = fields["label"][i] or str(i)
        what = f"signal {i + 1} ({name})"
        s = Signal(
            name,
            fields["unit"][i],
            (
                number(fields["pmin"][i], f"{what} physical minimum"),
                number(fields["pmax"][i], f"{what} physical maximum"),
            ),
            (
                number(fields["dmin"][i], f"{what} digital minimum", int),
                number(fields["dmax"][i], f"{what} digital maximum", int),
            ),
            number(fields["per_record"][i], f"{what} samples per data record", int),
        )
        if s.per_record < 1 or s.digital[1] <= s.digital[0] or s.physical[1] == s.physical[0]:
            raise HeartzooError(
                f"{path}: {what} has {s.per_record} samples a record, digital range {s.digital} and physical "
                f"range {s.physical}: it cannot be read"
            )
        signals.append(s)
    record_bytes = (3 if bdf else 2) * sum(s.per_record for s in signals)
    whole, extra = divmod(size - header_bytes, record_bytes)
    if records == -1:  # "not known": a recorder stopped before it could write the count
        records = whole
    if whole != records or extra or records < 1:
        raise HeartzooError(
            f"{path}: its header gives {records} data records of {record_bytes} bytes, the file holds "
            f"{size - header_bytes} bytes after its header: truncated or corrupted"
        )
    start = _start(_text(head, 168, 8), _text(head, 176, 8))
    return Edf(path, signals, records, record_s, header_bytes, 3 if bdf else 2, start)


def _start(day: str, clock: str) -> datetime | None:
    """The header's startdate (dd.mm.yy, years 1985-2084 as the standard clips them) and starttime
    (hh.mm.ss); None where either is not a date or time: a recorder's clock left unset does not keep its
    samples from being read."""
    try:
        d, m, y = (int(v) for v in day.split("."))
        hh, mm, ss = (int(v) for v in clock.split("."))
        return datetime(y + (1900 if y >= 85 else 2000), m, d, hh, mm, ss)
    except ValueError:
        return None
