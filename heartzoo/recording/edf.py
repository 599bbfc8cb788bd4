"""EDF and EDF+ files (Kemp et al. 1992; Kemp & Olivan 2003): what many patches and Holters export; and
BDF and BDF+, BioSemi's EDF of 24-bit samples, what research recorders of 24-bit ADCs write.

Read here rather than through wfdb, which turns every signal of a file into one float64 array at a common
rate: a wearable's EDF often holds its ECG beside an accelerometer at another rate, and a day of it would
be gigabytes. This reads the header (ASCII fields, checked one by one, each error naming the field and the
signal), leaves out EDF+ annotation signals, and reads one signal at its own rate, converted from its
digital to its physical range and from its unit (nV, µV, mV or V) to mV. An EDF+D or BDF+D file (records
with gaps between them, a recorder that paused) is read on its own clock: each data record where its
time-keeping annotation puts it, the gaps between them missing samples (`missing`), bridged by a straight
line from the record before to the one after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ..data.signal_files import StoredLead, int24
from ..errors import HeartzooError
from ..preprocess.lead import TO_MV
from .missing import check_span

HEADER_BYTES = 256
ANNOTATIONS = ("EDF Annotations", "BDF Annotations")
#: the version field that marks a BDF file (an EDF's is "0")
BDF_VERSION = b"\xffBIOSEMI"
#: the time-keeping annotation that opens each data record of an EDF+ file: its onset in seconds
_TIME_KEEPING = re.compile(rb"([+-]\d+(?:\.\d*)?)(?:\x15[^\x14]*)?\x14\x14")


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
    start: datetime | None = None  # the first record's date and time (None where they cannot be read)
    start_text: str = ""  # as the header gives them (dd.mm.yy hh.mm.ss), for the note where they cannot be
    #: an EDF+D file's data records: each one's onset in seconds after the first's (None: one after another)
    onsets: np.ndarray | None = None

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
        """One signal in mV, read where it is sliced (only its samples of the records that hold them); an
        EDF+D file's on its clock, each gap bridged (`missing`)."""
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

        def stored(a: int, b: int) -> np.ndarray:  # samples a..b-1 of the records one after another
            r0, r1 = a // per, -(-b // per)  # the data records that hold samples a..b-1
            if k == 2:
                digital = raw[r0:r1, first : first + per].reshape(-1)[a - r0 * per : b - r0 * per]
            else:
                part = raw[r0:r1, first * k : (first + per) * k].reshape(-1, k)
                digital = int24(part[a - r0 * per : b - r0 * per])
            return ((digital.astype(np.float64) - d0) * gain + p0) * unit

        if self.onsets is None:
            return StoredLead(self.records * per, stored)
        starts = self._starts(at)

        def read(a: int, b: int) -> np.ndarray:  # on the file's clock: each gap a line between its records
            out = np.empty(b - a)
            first_r = max(0, int(np.searchsorted(starts, a, side="right")) - 1)
            last_r = int(np.searchsorted(starts, b, side="left")) - 1
            for r in range(first_r, last_r + 1):
                begin, end = int(starts[r]), int(starts[r]) + per
                lo, hi = max(a, begin), min(b, end)
                if lo < hi:
                    out[lo - a : hi - a] = stored(r * per + lo - begin, r * per + hi - begin)
                after = int(starts[r + 1]) if r + 1 < len(starts) else end
                lo, hi = max(a, end), min(b, after)
                if lo < hi:  # in the gap after record r: the line from its last sample to the next's first
                    left, right = stored((r + 1) * per - 1, (r + 1) * per + 1)
                    out[lo - a : hi - a] = left + (right - left) * (np.arange(lo, hi) - (end - 1)) / (
                        after - end + 1
                    )
            return out

        return StoredLead(int(starts[-1]) + per, read)

    def missing(self, lead: int | str) -> tuple[tuple[int, int], ...]:
        """(start, end) samples of each gap between an EDF+D file's data records, in one signal."""
        if self.onsets is None:
            return ()
        starts, per = self._starts(self._at(lead)), self._signal(lead).per_record
        ends = starts[:-1] + per
        return tuple((int(e), int(s)) for e, s in zip(ends, starts[1:], strict=True) if s > e)

    def _starts(self, at: int) -> np.ndarray:
        """Where each data record's first sample of signal `at` lies on the file's clock: its onset at the
        signal's rate (a record no earlier than where the one before ends, `read` checked)."""
        per = self.signals[at].per_record
        offset = np.arange(len(self.onsets), dtype=np.int64) * per
        # a record rounded one sample into the one before starts where that one ends
        return offset + np.maximum.accumulate(
            np.round(self.onsets * (per / self.record_s)).astype(np.int64) - offset
        )

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
    if len(head) < HEADER_BYTES and (bdf or _text(head, 0, 8) == "0"):  # an EDF's start, cut short
        raise HeartzooError(
            f"{path}: truncated: {size:,} bytes, fewer than the 256 of an {'BDF' if bdf else 'EDF'} header"
        )
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
    onsets = None
    if plus.startswith(f"{kind}+D"):
        onsets = _onsets(path, kind, signals, records, record_s, header_bytes, 3 if bdf else 2)
        if start is not None:
            start += timedelta(seconds=float(onsets[0]))
        onsets = onsets - onsets[0]
    said = f"{_text(head, 168, 8)} {_text(head, 176, 8)}".strip()
    return Edf(path, signals, records, record_s, header_bytes, 3 if bdf else 2, start, said, onsets)


def _onsets(path: Path, kind: str, signals, records: int, record_s: float, header: int, k: int) -> np.ndarray:
    """Each data record's onset, seconds after the start, from the time-keeping annotation that opens its
    annotation signal (EDF+: "+onset" then two 20s); checked to be records one after another in time."""
    at = next((i for i, s in enumerate(signals) if s.name in ANNOTATIONS), None)
    if at is None:
        article = "a" if kind == "BDF" else "an"
        raise HeartzooError(
            f"{path}: {article} {kind}+D file with no '{kind} Annotations' signal: its records have no times"
        )
    width = k * sum(s.per_record for s in signals)
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=header, shape=(records, width))
    first = k * sum(s.per_record for s in signals[:at])
    texts = raw[:, first : first + k * signals[at].per_record]
    onsets = np.empty(records)
    for r in range(records):
        m = _TIME_KEEPING.match(texts[r].tobytes())
        if m is None:
            raise HeartzooError(
                f"{path}: data record {r + 1}'s annotations do not open with its onset ('+seconds' and two "
                "bytes 20): its time is unknown"
            )
        onsets[r] = float(m.group(1))
    step = np.diff(onsets)
    if len(step) and step.min() < record_s * (1 - 1e-6):
        r = int(np.argmin(step)) + 1
        raise HeartzooError(
            f"{path}: data record {r + 1} starts at {onsets[r]:g} s, {onsets[r] - onsets[r - 1]:g} s after "
            f"record {r} (records last {record_s:g} s): records out of order or overlapping"
        )
    check_span(path, records * record_s, onsets[-1] - onsets[0] + record_s, "data records' onsets")
    return onsets


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
