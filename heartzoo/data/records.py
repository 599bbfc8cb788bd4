"""Reading one WFDB record, checked: beat annotations mapped to AAMI classes, one lead in mV.

Shared by every database module (`mitbih`, `svdb`, ...). Every problem with a record (missing or
truncated file, header that disagrees with its data, no such lead, wrong sampling rate, NaN or flat
signal, a beat outside the signal) is a `DataError` that names the record and the problem, raised before
anything is written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..preprocess import lead as lead_module
from ..preprocess.lead import CheckedLead
from ..tasks import AAMI_CLASSES
from . import signal_files
from .annotation_files import read_atr

#: WFDB beat symbol -> AAMI class (ANSI/AAMI EC57), the same for every MIT-format database. Every other
#: symbol is not a beat. `B` (bundle branch block beat, unspecified) is N in EC57: mitdb has none, svdb one.
#: `r` (R-on-T PVC), `n` (supraventricular escape) and `?` (unclassifiable), which bxb counts as beats and
#: no database here holds, are V, S and Q: another database's beats are never dropped unsaid.
SYMBOL_TO_AAMI: dict[str, str] = {
    **dict.fromkeys("NLRejB", "N"),
    **dict.fromkeys("AaJSn", "S"),
    **dict.fromkeys("VEr", "V"),
    "F": "F",
    **dict.fromkeys("/fQ?", "Q"),
}

# Bytes per sample of the WFDB storage formats we can size-check.
_BYTES_PER_SAMPLE = {"8": 1.0, "16": 2.0, "24": 3.0, "32": 4.0, "61": 2.0, "80": 1.0, "160": 2.0, "212": 1.5}
#: the storage formats of WFDB's signal specification (wfdb reads them all)
WFDB_FORMATS = ("8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524")


@dataclass(frozen=True)
class Beats:
    """Beat annotations of one record: R-peak samples, AAMI labels (index into AAMI_CLASSES), symbols."""

    record: str
    samples: np.ndarray  # int64, at the record's sampling rate
    aami: np.ndarray  # int8
    symbols: np.ndarray  # <U1
    fs: float
    sig_len: int

    def counts(self) -> dict[str, int]:
        c = np.bincount(self.aami, minlength=len(AAMI_CLASSES))
        return {name: int(n) for name, n in zip(AAMI_CLASSES, c, strict=True)}


@dataclass(frozen=True)
class Signal:
    """One lead of one record, in millivolts."""

    record: str
    lead: str
    fs: float
    values: np.ndarray  # float32
    #: what a reader should know about how it was read (e.g. a header without a checksum)
    notes: tuple[str, ...] = ()


def read_header(data_dir: Path, record: str):
    import wfdb

    hea = Path(data_dir) / f"{record}.hea"
    if not hea.is_file():
        raise DataError(record, "header file missing", path=str(hea))
    _check_record_line(record, hea)
    try:
        header = wfdb.rdheader(str(Path(data_dir) / record))
    except Exception as exc:  # wfdb raises bare ValueErrors/IndexErrors on malformed headers
        unread = clock_problem(hea)
        if unread is None:
            raise DataError(record, f"cannot parse the header: {exc}", path=str(hea)) from None
        # wfdb refuses the whole header for a start it cannot read: the samples are good, so the
        # record is read without a start (read_signal says why), as the other formats' readers do
        header = _without_clock(record, hea)
    else:
        unread = None
    header.unread_clock = unread  # what read_signal notes, found here once
    if header.sig_len is None:
        raise DataError(
            record,
            "the record line gives no number of samples per signal (its 4th field), which the signal file "
            "is checked against",
            path=str(hea),
        )
    # a signal line may leave out its description: such a lead is named by its number, as a CSV's
    # unnamed column is, so that it can be chosen and said
    header.sig_name = [n if n else str(i) for i, n in enumerate(header.sig_name or [])]
    return header


def _check_record_line(record: str, hea: Path) -> None:
    """The fields of the header's record line that wfdb reads leniently: a multi-segment record (`name/n`),
    and a sampling frequency that is not a positive number (wfdb falls back to 250 Hz on `-360`)."""
    try:
        fields = _record_line(hea)
    except OSError as exc:
        raise DataError(record, f"cannot read header: {exc}", path=str(hea)) from None
    if fields and "/" in fields[0]:
        raise DataError(
            record, f"a multi-segment record ({fields[0]}): read its segments one by one", path=str(hea)
        )
    if len(fields) >= 3:
        token = fields[2].split("/")[0]
        try:
            fs = float(token)
        except ValueError:
            fs = math.nan
        if not (math.isfinite(fs) and fs > 0):
            raise DataError(
                record,
                f"the record line's sampling frequency (3rd field) is {fields[2]!r}, not a positive number",
                path=str(hea),
            )


def _without_clock(record: str, hea: Path):
    """The header read as if its record line ended before the base time (5th field): wfdb's header of a
    copy so edited, the signal files still named relative to the record's folder."""
    import tempfile

    import wfdb

    lines = hea.read_text(encoding="latin-1").splitlines()
    at = _record_line_at(lines)
    lines[at] = " ".join(lines[at].split()[:4])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / hea.name).write_text("\n".join(lines) + "\n", encoding="latin-1")
        try:
            return wfdb.rdheader(str(Path(tmp) / record))
        except Exception as exc:
            raise DataError(record, f"cannot parse the header: {exc}", path=str(hea)) from None


#: a WFDB record line's base time as WFDB reads it (wfdb's `wfdb_strptime`): s, m:s or h:m:s, the seconds
#: with a fraction
_BASE_TIME = re.compile(r"(?:(?:(\d{1,2}):)?(\d{1,2}):)?(\d{1,2})(\.\d{1,6})?")


def base_start(fields: list[str]) -> tuple[object, str | None]:
    """(the start a record line's base time and date give, what is wrong with them): `fields` are the line's
    5th and 6th fields (either may be absent). The start is a `datetime` with a date, a `time` without one,
    None with neither; the problem names the field and is None when both are readable or absent. The one
    reader of the WFDB clock: a multi-segment header's start, and why wfdb refused a record's header."""
    from datetime import date, datetime, time

    start, at = None, 4
    try:
        if fields:
            m = _BASE_TIME.fullmatch(fields[0])
            if m is None:
                raise ValueError
            h, mi, sec, frac = m.groups()
            start = time(int(h or 0), int(mi or 0), int(sec), round(float(frac or 0) * 1e6))
        if len(fields) > 1:
            at = 5
            d, mo, y = (int(p) for p in fields[1].split("/"))
            start = datetime.combine(date(y, mo, d), start)
    except (ValueError, TypeError, OverflowError):
        name, form = (
            ("base time (5th field)", "time of day (hh:mm:ss)")
            if at == 4
            else ("base date (6th field)", "date (dd/mm/yyyy)")
        )
        return None, f"the record line's {name} is {fields[at - 4]!r}, not a {form}"
    return start, None


def clock_problem(hea: Path) -> str | None:
    """What is wrong with the record line's base time (5th field) or date (6th), which wfdb cannot read,
    naming the field; None when both are readable or absent."""
    return base_start(_record_line(hea)[4:6])[1]


def _record_line(hea: Path) -> list[str]:
    """The fields of the header's first line that is not a comment (its record line)."""
    lines = hea.read_text(encoding="latin-1").splitlines()
    at = _record_line_at(lines)
    return lines[at].split() if at < len(lines) else []


def _record_line_at(lines: list[str]) -> int:
    """The index of the first line that is not a comment (the record line); len(lines) where none is."""
    return next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), len(lines)
    )


def read_beats(
    data_dir: Path, record: str, *, expected_fs: float | None = None, end_beat: bool = False
) -> Beats:
    """Beat annotations of `record` (`.atr`), mapped to AAMI classes; non-beat symbols are dropped.

    `end_beat`: the database is known to annotate this record's last beat one sample past the end of
    the signal (svdb 860); that beat is kept, at the last sample."""
    header = read_header(data_dir, record)
    _check_fs(record, header.fs, expected_fs, Path(data_dir) / f"{record}.hea")
    ann, atr = read_atr(data_dir, record, header.fs)
    symbols = np.asarray(ann.symbol, dtype="<U1") if ann.symbol else np.zeros(0, dtype="<U1")
    samples = np.asarray(ann.sample, dtype=np.int64)
    keep = np.isin(symbols, list(SYMBOL_TO_AAMI))
    samples, symbols = samples[keep], symbols[keep]
    sig_len = int(header.sig_len)
    if end_beat and len(samples) and samples[-1] == sig_len:
        samples = samples.copy()
        samples[-1] = sig_len - 1
    if len(samples) and (samples.min() < 0 or samples.max() >= sig_len):
        # a header that undercounts its samples puts good beats "outside": blame it, not the .atr
        for ch, name in enumerate(header.file_name or []):
            if (Path(data_dir) / name).is_file() and str(header.fmt[ch]) in WFDB_FORMATS:
                _check_dat_size(record, header, ch, Path(data_dir) / name)
        bad = int(samples[(samples < 0) | (samples >= sig_len)][0])
        raise DataError(
            record,
            f"beat annotation at sample {bad} lies outside the record's {sig_len} samples",
            path=str(atr),
        )
    lut = {sym: AAMI_CLASSES.index(c) for sym, c in SYMBOL_TO_AAMI.items()}
    aami = np.fromiter((lut[s] for s in symbols), dtype=np.int8, count=len(symbols))
    return Beats(record, samples, aami, symbols, float(header.fs), sig_len)


def _check_fs(record: str, fs: float, expected_fs: float | None, hea: Path | None = None) -> None:
    if expected_fs is not None and not math.isclose(float(fs), float(expected_fs)):
        raise DataError(
            record,
            f"unexpected sampling rate {fs:g} Hz in its header's record line (3rd field; the database is "
            f"sampled at {expected_fs:g} Hz)",
            path=str(hea) if hea is not None else None,
        )


def read_signal(
    data_dir: Path,
    record: str,
    lead: str | int,
    *,
    expected_fs: float | None = None,
    lazy: bool = False,
    missing_ok: bool = False,
) -> Signal:
    """One lead of `record`, chosen by name (the first of that name) or by its number in the header (from
    0: two may share a name), in mV; the files are checked before and after reading. `lazy`: the values
    are a `preprocess.lead.CheckedLead`, converted where they are sliced (`annotate` on a patch's weeks).
    A missing sample (WFDB's invalid value) is an error, for a database's beats are read whole; with
    `missing_ok` (a recording to annotate) a lead that has one is read whole, missing samples as NaN."""
    import wfdb

    header = read_header(data_dir, record)
    _check_fs(record, header.fs, expected_fs, Path(data_dir) / f"{record}.hea")
    names = list(header.sig_name or [])
    if isinstance(lead, int):
        if not 0 <= lead < len(names):
            raise DataError(record, f"no lead number {lead} (the header has {len(names)}, from 0)")
        ch, lead = lead, names[lead]
    elif lead in names:
        ch = names.index(lead)
    else:
        raise DataError(
            record,
            f"no {lead} lead (leads in the header: {', '.join(names) or 'none'})",
            path=str(Path(data_dir) / f"{record}.hea"),
        )
    dat = Path(data_dir) / header.file_name[ch]
    if str(header.fmt[ch]) not in WFDB_FORMATS:
        raise DataError(
            record,
            f"lead {lead}'s storage format (2nd field of its signal line) is {header.fmt[ch]!r}, not a WFDB "
            f"format ({', '.join(WFDB_FORMATS)})",
            path=str(Path(data_dir) / f"{record}.hea"),
        )
    _check_dat_size(record, header, ch, dat)
    # several samples a frame: read as wfdb reads them, their mean at the frame rate (the annotations' rate)
    per_frame, fs = int((header.samps_per_frame or [1] * (ch + 1))[ch] or 1), float(header.fs)
    digital = signal_files.stored_samples(header, ch, dat)  # formats 16 and 212 where they lie
    if digital is None:
        try:
            # 24-bit FLAC needs 32-bit integers (wfdb refuses to narrow them)
            res = 32 if str(header.fmt[ch]) in ("24", "32", "524") else 16
            rec = wfdb.rdrecord(str(Path(data_dir) / record), channels=[ch], physical=False, return_res=res)
        except Exception as exc:
            raise DataError(record, f"cannot read signal: {exc}", path=str(dat)) from None
        digital = rec.d_signal[:, 0]
    # WFDB marks missing samples with the smallest value of the format; wfdb reads them as that value.
    invalid = _invalid_value(header.fmt[ch])
    baseline, gain = header.baseline[ch], header.adc_gain[ch]
    # the header's physical unit (WFDB's default is mV): a record written in µV is read in mV too
    unit, gain_given = _unit(Path(data_dir) / f"{record}.hea", ch)
    to_mv = lead_module.TO_MV.get(unit.lower())

    def mv(part: np.ndarray) -> np.ndarray:
        """Stored samples in mV (float64), missing ones NaN."""
        v = (part.astype(np.float64) - baseline) / gain
        v = v if to_mv in (None, 1.0) else v * to_mv
        if invalid is not None:
            v[part == invalid] = np.nan
        return v

    values = None if lazy else np.empty(len(digital), np.float32)
    n_nan, first, total, step = 0, -1, 0, lead_module.READ_SAMPLES
    low, high = np.inf, -np.inf
    # in float64 an hour at a time, kept as float32: a patch's two weeks never have a float64 copy
    for s in range(0, len(digital), step):
        part = np.asarray(digital[s : s + step])
        total += int(np.sum(part, dtype=np.int64))
        v = mv(part)
        nan = np.flatnonzero(np.isnan(v))
        if nan.size and first < 0:
            first = s + int(nan[0])
        n_nan += nan.size
        v32 = v.astype(np.float32)  # the values the lead is read as
        low, high = (
            min(low, float(np.nanmin(v32, initial=np.inf))),
            max(high, float(np.nanmax(v32, initial=-np.inf))),
        )
        if values is not None:
            values[s : s + step] = v32
    if per_frame > 1:  # the header's checksum sums every sample, not the frames' means
        total = signal_files.every_sample_sum(Path(data_dir) / record, ch)
    notes = _check_sums(record, header, ch, lead, total, dat)  # a checksum error before missing samples
    many = f"lead {lead} holds {per_frame} samples a frame: read as their mean, at {fs:g} Hz"
    notes += (many,) if per_frame > 1 else ()
    if header.unread_clock:
        notes += (f"{header.unread_clock}: read without a start time",)
    if to_mv is None:
        notes += (f"lead {lead}'s unit is {unit!r}, not a voltage: read as mV",)
    if not gain_given:  # a size off by its gain is no unit error the size check could see
        notes += (f"lead {lead}'s header gives no gain (0 or none): WFDB's default, {gain:g} per {unit}",)
    if n_nan and missing_ok and n_nan < len(digital):
        if values is None:  # read whole: `missing.fill` bridges a stretch from the samples either side
            values = np.empty(len(digital), np.float32)
            for s in range(0, len(digital), step):
                values[s : s + step] = mv(np.asarray(digital[s : s + step]))
    elif n_nan:
        raise DataError(
            record,
            f"{n_nan} missing (NaN) samples in lead {lead}, the first at sample {first} ({first / fs:.2f} s)",
            path=str(dat),
        )
    if len(digital) == 0 or low == high:
        raise DataError(record, f"lead {lead} is flat (constant signal)", path=str(dat))
    if values is None:
        values = CheckedLead(digital, mv)
    return Signal(record, lead, fs, values, notes)


def _check_sums(record: str, header, ch: int, lead: str, got: int, dat: Path) -> tuple[str, ...]:
    """Refuse data that disagrees with its header's checksum (the 16-bit sum of the samples, signed or
    unsigned depending on the writer): a cheap check that data and header belong together. A checksum of
    0 that disagrees is a writer's placeholder, not a sum (every CinC 2017 header has one, and WFDB's own
    tools read those records): the data is read, with a note. (Nor is the initial value a check there:
    565 of CinC 2017's 8,528 headers give one that is not the first sample.) `got`: the samples' sum."""
    stored = None if header.checksum is None else header.checksum[ch]
    if stored is None:
        return ()
    if not (got - int(stored)) % 65536:
        return ()
    signed = (got + 32768) % 65536 - 32768
    if int(stored) != 0:
        raise DataError(
            record,
            f"header checksum {stored} for lead {lead} disagrees with the data ({signed}); the .dat file is "
            "corrupted or belongs to another header",
            path=str(dat),
        )
    return (f"{record}: the header records no checksum for lead {lead} (0); read without that check",)


def _check_mat_preamble(record: str, header, ch: int, dat: Path) -> None:
    """A WFDB `.mat` signal file (format `16+24`, as CinC 2017 ships them) is a MATLAB v4 matrix: a 20-byte
    header (type, rows, columns, imaginary flag, name length) and the name before the samples. A file whose
    matrix does not hold the header's samples is refused before it is read as something else."""
    import struct

    offset = int((header.byte_offset or [0] * (ch + 1))[ch] or 0)
    if offset < 20:
        return  # no MATLAB v4 preamble declared: read as plain samples
    head = dat.read_bytes()[:offset]
    if len(head) < offset:
        raise DataError(
            record,
            f"truncated signal file: {dat.name} holds {len(head)} bytes, not even the {offset}-byte MATLAB "
            "header its record header declares",
            path=str(dat),
        )
    _, rows, cols, imag, namelen = struct.unpack("<5i", head[:20])
    if rows * cols != int(header.sig_len) * len(header.sig_name) or imag != 0 or 20 + namelen != offset:
        raise DataError(
            record,
            f"{dat.name} is not the MATLAB v4 matrix its header declares: {rows} x {cols} (imaginary {imag}, "
            f"name of {namelen} bytes) where {header.sig_len} samples of {len(header.sig_name)} signal(s) "
            f"start at byte {offset}",
            path=str(dat),
        )


def _unit(hea: Path, ch: int) -> tuple[str, bool]:
    """Signal `ch`'s unit from its header line (`gain(baseline)/unit`; mV where none: wfdb reads a µV it
    writes as V), and whether it gives a gain (0 or none: WFDB's default, 200 per unit)."""
    lines = [s for s in hea.read_text(encoding="utf-8", errors="replace").splitlines() if s.strip()]
    lines = [s.split() for s in lines if not s.lstrip().startswith("#")]
    gain = lines[1 + ch][2] if len(lines) > 1 + ch and len(lines[1 + ch]) > 2 else ""
    number = re.match(r"[-+]?[\d.]+(e[-+]?\d+)?", gain, re.I)
    given = number is not None and float(number[0].rstrip(".") or 0) != 0
    return (gain.split("/", 1)[1] if "/" in gain else "mV"), given


#: the value that marks a missing sample in each WFDB format (signal(5); format 8 stores differences and
#: has none)
_INVALID = {"80": -(2**7), "508": -(2**7), "310": -(2**9), "311": -(2**9), "212": -(2**11), "16": -(2**15)}
_INVALID.update({"61": -(2**15), "160": -(2**15), "516": -(2**15), "24": -(2**23), "524": -(2**23)})
_INVALID["32"] = -(2**31)


def _invalid_value(fmt: str) -> int | None:
    return _INVALID.get(str(fmt))


def _check_dat_size(record: str, header, ch: int, dat: Path) -> None:
    if not dat.is_file():
        raise DataError(record, "signal file missing", path=str(dat))
    if dat.suffix == ".mat":
        _check_mat_preamble(record, header, ch, dat)
    fmt = str(header.fmt[ch])
    if fmt not in _BYTES_PER_SAMPLE:
        return  # formats we do not size-check are still read (and checksummed) by wfdb
    in_file = [i for i, f in enumerate(header.file_name) if f == header.file_name[ch]]
    if any(str(header.fmt[i]) != fmt for i in in_file):
        return
    offset = int((header.byte_offset or [0] * (ch + 1))[ch] or 0)
    spf = header.samps_per_frame or [1] * len(header.file_name)  # a frame holds each signal's samples
    frame_bytes = _BYTES_PER_SAMPLE[fmt] * sum(spf[i] or 1 for i in in_file)
    have = dat.stat().st_size - offset
    frames = int(have // frame_bytes)
    need = int(header.sig_len)
    if frames < need:
        raise DataError(
            record,
            f"truncated signal file: {dat.name} holds {have} bytes ({frames} samples per lead) but the header "
            f"declares {need} samples (format {fmt}, {len(in_file)} signal(s))",
            path=str(dat),
        )
    if frames > need:
        raise DataError(
            record,
            f"header disagrees with its data: the header declares {need} samples but {dat.name} holds "
            f"{frames} samples per lead",
            path=str(dat),
        )
