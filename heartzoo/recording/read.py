"""One lead of a recording from a file: a WFDB record (a multi-segment one too, `segments`), an EDF or
BDF file (`edf`), an ISHNE Holter file (`ishne`), a CSV (an Apple Watch ECG export too, `apple_watch`), a
Polar chest strap's ECG file (`polar`), a MATLAB file (`matlab`), an OpenSignals file (`opensignals`) or
a NumPy .npy array.

The lead is chosen by name (a model's contract names its lead, e.g. MLII; a recording of one lead is read
whatever its lead is called, unless a lead is asked for, with a note); CSV columns are named by their
header row when there is one, NumPy columns and unnamed CSV columns by their index ("0", "1", ...).
WFDB, EDF and ISHNE files, Apple Watch exports and Polar files carry their sampling rate; CSV and NumPy
files need it given. Every problem (no such file or lead, an infinite sample, a flat lead) is a
`HeartzooError` naming the file and the problem; samples the file marks missing (NaN, WFDB's invalid
value, an EDF+D file's gaps) are bridged and given as `Recording.missing` (`missing`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from tokenize import TokenError

import numpy as np

from ..data.annotation_files import annotation_file_complete, rate_problem
from ..data.records import SYMBOL_TO_AAMI
from ..data.signal_files import StoredLead
from ..data.wfdb_names import wfdb_letters
from ..errors import DataError, HeartzooError
from ..preprocess import lead as lead_module
from ..preprocess.lead import CheckedLead
from . import apple_watch, csv_file, edf, ishne, matlab, missing, opensignals, polar, segments
from .missing import Stretches

FORMATS = ("wfdb", "edf", "ishne", "csv", "mat", "opensignals", "apple-watch", "polar", "npy")
#: the exports of a device, each read by its module: module.read(path, fs) -> (name, mV, rate, notes, start)
DEVICE_READERS = {"apple-watch": apple_watch, "polar": polar}
#: formats whose header states the sampling rate: --fs is refused for one alone, left out for one of a batch
RATE_IN_HEADER = ("wfdb", "edf", "ishne")


@dataclass(frozen=True)
class Recording:
    """One lead in mV, its rate, its name, and where it came from (`base`: a WFDB record's path)."""

    name: str
    #: read in stretches (`signal[a:b]`) where the file lies, so that a week's patch is never held whole;
    #: `np.asarray(signal)` is the whole lead as an array (`preprocess.lead.CheckedLead`)
    signal: np.ndarray | CheckedLead
    fs: float
    lead: str
    format: str
    base: Path | None = None
    #: what the user should know about how it was read (e.g. a WFDB header without a checksum)
    notes: tuple[str, ...] = ()
    #: the first sample on the recorder's clock: a WFDB header's base date and time (a time of day where
    #: it gives no date), an EDF, BDF or ISHNE header's start, an Apple Watch export's recorded date, a
    #: Polar file's first phone timestamp, a CSV's first date and time; None where the file gives none
    start: datetime | time | None = None
    #: (start, end) samples of each stretch the file marks missing (NaN, WFDB's invalid value), bridged in
    #: `signal` by a straight line (`missing.fill`)
    missing: Stretches = ()
    #: the lead's index among a WFDB record's signals (its annotations' `chan`); 0 for other files
    channel: int = 0


def record_name(path: Path) -> str:
    """A name WFDB accepts for annotation files, from a file's stem."""
    return wfdb_letters(path.stem if path.suffix else path.name)


def output_name(path: Path) -> str:
    """The name a recording's annotations take, as its reader names it: a WFDB record's own name, in the
    letters WFDB accepts ('rec.1' -> 'rec_1'); another file's stem."""
    fmt, p = input_format(Path(path))
    return wfdb_letters(p.name) if fmt == "wfdb" else record_name(p)


def input_format(path: Path) -> tuple[str, Path]:
    """(format, path): a WFDB record is named by its .hea file or by the path without extension."""
    if path.is_dir():
        raise HeartzooError(
            f"{path}: a folder, not a recording; give a WFDB record (.hea), .edf or .bdf, an ISHNE .ecg, "
            ".csv, .mat or .npy file"
        )
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt") and path.is_file():  # a device's export, known by its header
        if polar.is_export(path):
            return "polar", path
        if suffix == ".csv" and apple_watch.is_export(path):
            return "apple-watch", path
        if opensignals.is_export(path):  # PLUX's BITalino and biosignalsplux kits
            return "opensignals", path
    if path.suffix == ".HEA" or (not path.exists() and path.with_name(f"{path.name}.HEA").is_file()):
        # WFDB (and wfdb) open RECORD.hea: an old CD-ROM's or a DOS tool's upper-case name is not found
        stem = path.stem if path.suffix == ".HEA" else path.name
        raise HeartzooError(
            f"{path}: WFDB opens a record's header in lower case: rename {stem}.HEA to {stem}.hea"
        )
    if suffix == ".hea" or (not path.is_file() and path.with_name(f"{path.name}.hea").is_file()):
        return "wfdb", path.with_suffix("") if suffix == ".hea" else path
    if suffix in (".edf", ".csv", ".npy"):
        return suffix[1:], path
    if suffix == ".tsv" or (suffix == ".txt" and path.is_file() and csv_file.columns_of_numbers(path)):
        return "csv", path  # read as a CSV is (tabs, semicolons or commas between the columns)
    if suffix == ".bdf":  # BioSemi's EDF of 24-bit samples: the EDF reader reads both
        return "edf", path
    if suffix == ".ecg":  # the ISHNE Holter standard's extension
        return "ishne", path
    if not path.exists():
        raise HeartzooError(f"{path}: no such file (and no WFDB record {path.name}.hea beside it)")
    if path.with_suffix(".hea").is_file():  # 100.dat, A00005.mat, 100.atr: a file of a WFDB record
        raise HeartzooError(
            f"{path}: a file of the WFDB record {path.stem}, not the record; give the record: "
            f"{path.with_suffix('')} (or its {path.stem}.hea)"
        )
    if suffix == ".mat":  # MATLAB's, with no WFDB header beside it
        return "mat", path
    raise HeartzooError(
        f"{path}: not a recording heartzoo reads; give a WFDB record (.hea), .edf or .bdf, an ISHNE .ecg, "
        ".csv, .mat, .npy, an OpenSignals .txt or a Polar ECG file (its header 'Phone timestamp;sensor "
        "timestamp [ns];...;ecg [uV]')"
    )


def read_recording(
    path: str | os.PathLike[str],
    lead: str | int,
    *,
    fs: float | None = None,
    lead_given: bool = False,
    invert: bool = False,
) -> Recording:
    """The lead `lead` (its name, or its number from 0 as `--lead` takes it) of the recording at `path`.
    `lead_given`: the user chose it (else it is the model's, and an error says how to choose another).
    `invert`: the lead turned over (electrodes swapped, a device held the other way), and a note that
    says so."""
    if isinstance(lead, int) and not isinstance(lead, bool):  # a number, as the CLI reads "--lead 0"
        lead, lead_given = str(lead), True
    elif not isinstance(lead, str):
        raise HeartzooError(f"a lead is named by its name or its number from 0, got {lead!r}")
    fmt, p = input_format(Path(path))  # once: a device's export is known by reading its head
    rec = _read(p, fmt, lead, fs, lead_given)
    if rec.name != (own := p.name if fmt == "wfdb" else p.stem):  # said, not only seen in the files' names
        rec = replace(rec, notes=(*rec.notes, f"{own}: its outputs are named {rec.name} (WFDB's letters)"))
    if not invert:
        return rec
    x = rec.signal
    turned = CheckedLead(x.source, lambda a, c=x.convert: -c(a)) if isinstance(x, CheckedLead) else -x
    note = f"lead {rec.lead} turned over (--invert): every sample's sign reversed"
    return replace(rec, signal=turned, notes=(*rec.notes, note))


def _read(p: Path, fmt: str, lead: str, fs: float | None, lead_given: bool) -> Recording:
    """The lead of the file `p` of format `fmt` (as `input_format` gives them)."""
    if fmt != "wfdb" and not p.is_file():
        raise HeartzooError(f"{p}: no such file")
    if fmt in DEVICE_READERS:
        return _read_device(p, fmt, lead, fs, lead_given)
    if fmt in RATE_IN_HEADER and fs is not None:
        article = "a" if fmt == "wfdb" else "an"
        raise HeartzooError(
            f"{p}: {article} {fmt.upper()} file carries its sampling rate; --fs is for CSV, .mat and .npy"
        )
    if fmt == "npy" and fs is None:
        raise HeartzooError(f"{p}: a .npy file carries no sampling rate; give it (--fs HZ)")
    if fmt == "wfdb":
        return _read_wfdb(p, lead, lead_given)
    if fmt == "ishne":
        return _read_ishne(p, lead, lead_given)
    if fmt == "edf":
        return _read_edf(p, lead, lead_given)
    if fmt == "npy":
        table, leads = csv_file.Table(*_read_npy(p), None, ()), None
    elif fmt == "opensignals":
        table, leads = opensignals.read_opensignals(p)
    else:
        table = csv_file.read_csv(p) if fmt == "csv" else matlab.read_mat(p, lead if lead_given else None)
        leads = None
    return _table_lead(p, fmt, table, lead, fs, lead_given, leads)


def _table_lead(
    p: Path,
    fmt: str,
    table: csv_file.Table,
    lead: str,
    fs: float | None,
    lead_given: bool,
    leads: list[str] | None,
) -> Recording:
    """The lead of a file read as columns (CSV, .mat, .npy, OpenSignals): by name or number, or its one
    column, or (`leads`) its one ECG channel."""
    rate = float(fs) if fmt == "npy" else _carried_rate(p, table.fs, fs, fmt)  # type: ignore[arg-type]
    col, notes = _pick_lead(p, lead, table.names, lead_given, leads)
    name = table.names[col]
    if len(table.names) == 1 and not lead_given:
        notes = ()  # one column: it is the lead, named or not
    if leads is not None and name not in leads:
        notes += (f"{name} is no ECG sensor's channel: read as recorded",)
    values, gone = _checked(p, table.values[:, col], name)
    return Recording(
        record_name(p), values, rate, name, fmt, notes=table.notes + notes, start=table.start, missing=gone
    )


def _carried_rate(p: Path, carried: float | None, given: float | None, fmt: str) -> float:
    """The sampling rate of a CSV or .mat: the one it carries (a time column, a variable fs), or the one
    given, which must agree with it."""
    carrier = {"csv": "time column", "mat": "variable fs"}.get(fmt, "header's sampling rate")
    if carried is None and given is None:
        raise HeartzooError(
            f"{p}: a {p.suffix} file carries no sampling rate; give it (--fs HZ), or a {carrier}"
        )
    if carried is not None and given is not None and abs(given / carried - 1) > 0.01:
        raise HeartzooError(
            f"{p}: --fs {given:g} disagrees with its {carrier}, which gives {carried:.6g} Hz; leave --fs out"
        )
    return float(given if given is not None else carried)  # type: ignore[arg-type]


def _read_device(p: Path, fmt: str, lead: str, fs: float | None, lead_given: bool) -> Recording:
    """A device's export of one lead (`DEVICE_READERS`)."""
    name, values, rate, notes, start = DEVICE_READERS[fmt].read(p, fs)
    if lead_given and lead not in (name, "0"):  # one lead, as a one-column CSV
        raise HeartzooError(_no_lead(p, lead, [name], lead_given))
    if not lead_given and lead != name:
        notes += (_one_lead_note(name, lead),)
    values, gone = _checked(p, values, name)
    return Recording(record_name(p), values, rate, name, fmt, notes=notes, start=start, missing=gone)


def _pick_lead(
    p: Path, lead: str, names: list[str], lead_given: bool, leads: list[str] | None = None
) -> tuple[int, tuple[str, ...]]:
    """(the number of the signal to read, from 0 in the file's order; its note): the signal named `lead`;
    else, where the user gave a number, that signal (two leads may share a name: aftdb's are both
    "ECG"); else, unless the user chose it, the recording's one lead (of `leads`, the signals that can be
    one: all of `names` by default), with a note; else an error that names the recording's leads."""
    same = [i for i, n in enumerate(names) if n == lead]
    if len(same) > 1:
        numbers = ", ".join(map(str, same))
        raise HeartzooError(
            f"{p}: {len(same)} leads are named {lead} (numbers {numbers}, counting from 0); choose one by "
            f"its number, e.g. --lead {same[0]}"
        )
    if same:
        return same[0], ()
    folded = [i for i, n in enumerate(names) if n.casefold() == lead.casefold()]
    if len(folded) == 1:  # `--lead mlii` for MLII: no two leads differ by case alone
        return folded[0], (f"lead {names[folded[0]]} read for {lead} (names compared without case)",)
    if lead_given and lead.isascii() and lead.isdigit() and int(lead) < len(names):
        i = int(lead)
        return i, (f"lead {i} of {len(names)} read ({names[i]}), chosen by its number",)
    one = names if leads is None else leads
    if len(one) == 1 and not lead_given:
        return names.index(one[0]), (_one_lead_note(one[0], lead),)
    raise HeartzooError(_no_lead(p, lead, names, lead_given))


def _one_lead_note(name: str, lead: str) -> str:
    return f"{name}, the recording's one lead, read for the model's {lead}"


def _no_lead(p: Path, lead: str, names: list[str], lead_given: bool) -> str:
    hint = "" if lead_given else " (the model's lead); choose one with --lead, by name or number"
    # numbered where two share a name, for a lead chosen by number
    shown = [f"{i} {n}" for i, n in enumerate(names)] if len(set(names)) < len(names) else names
    return f"{p}: no lead {lead}{hint}; leads: {', '.join(shown) or 'none'}"


def _checked(p: Path, x: np.ndarray | StoredLead, lead: str) -> tuple[np.ndarray | CheckedLead, Stretches]:
    """(the lead as float32, its missing stretches), or an error naming the file: an infinite sample, a
    sample no voltage in mV is (finite, but infinite in float32), a flat lead, a lead of no sample that is
    not missing. NaN samples are missing (`missing.fill` bridges them). Checked an hour at a time, so a
    day's lead never has a float64 copy; one a reader left on disk (a `StoredLead` in mV) stays there, a
    `CheckedLead` converted where it is sliced, and an array is converted into a new one (a float32 one is
    not copied)."""
    n, step = len(x), lead_module.READ_SAMPLES
    stored = isinstance(x, StoredLead)
    out = x if stored or (isinstance(x, np.ndarray) and x.dtype == np.float32) else np.empty(n, np.float32)
    top = np.finfo(np.float32).max
    low, high, nan = np.inf, -np.inf, 0
    for s in range(0, n, step):
        c = np.asarray(x[s : s + step], dtype=np.float64)
        bad = np.flatnonzero(np.isinf(c))
        if bad.size:
            rest = range(s + step, n, step)
            total = bad.size + sum(int(np.count_nonzero(np.isinf(x[t : t + step]))) for t in rest)
            raise HeartzooError(
                f"{p}: lead {lead} holds {total} infinite sample(s), the first at sample {s + bad[0]}"
            )
        big = np.flatnonzero((c > top) | (c < -top))
        if big.size:  # finite here, infinite once in float32: no lead in mV is that large
            raise HeartzooError(
                f"{p}: lead {lead} holds a sample of {c[big[0]]:g} (sample {s + big[0]}), not a voltage"
            )
        c = c.astype(np.float32)  # the values the lead is read as, whole or in stretches
        nan += int(np.count_nonzero(np.isnan(c)))
        low, high = (
            min(low, float(np.nanmin(c, initial=np.inf))),
            max(high, float(np.nanmax(c, initial=-np.inf))),
        )
        if out is not x:
            out[s : s + step] = c
    if n and nan == n:
        raise HeartzooError(f"{p}: lead {lead} holds no sample: every one of its {n:,} is missing (NaN)")
    if n == 0 or low == high:
        raise HeartzooError(f"{p}: lead {lead} is flat (every sample the same)")
    if nan and stored:  # no reader leaves a lead of missing samples on disk: read it whole
        out = np.asarray(x[0:n], dtype=np.float32)
    if nan:
        return missing.fill(np.asarray(out))
    return (CheckedLead(x, lambda v: np.asarray(v, dtype=np.float64)) if stored else out), ()


def _read_wfdb(base: Path, lead: str, lead_given: bool) -> Recording:
    from ..data.records import read_header, read_signal

    if segments.is_multi_segment(Path(f"{base}.hea")):
        return _read_segments(base, lead, lead_given)
    try:  # checked: the record line wfdb reads leniently, and what wfdb cannot parse
        header = read_header(base.parent, base.name)
    except DataError as exc:
        raise HeartzooError(str(exc)) from None
    # one lead: it is the lead, as a one-column CSV's is (CinC 2017's ECG, Icentia11k's ecg)
    ch, notes = _pick_lead(Path(f"{base}.hea"), lead, list(header.sig_name or []), lead_given)
    try:
        # checked: size, checksum, flat; left on disk where the format allows, read where sliced; its
        # missing samples (WFDB's invalid value) as NaN
        sig = read_signal(base.parent, base.name, ch, lazy=True, missing_ok=True)
    except DataError as exc:
        raise HeartzooError(str(exc)) from None
    values, gone = sig.values, ()
    if isinstance(values, np.ndarray):  # a lead with missing samples is read whole
        values, gone = missing.fill(values)
    start = header.base_time
    if start is not None and header.base_date is not None:
        start = datetime.combine(header.base_date, start)
    return Recording(
        output_name(base),
        values,
        sig.fs,
        sig.lead,
        "wfdb",
        base,
        sig.notes + notes,
        start,
        missing=gone,
        channel=ch,
    )


def _read_segments(base: Path, lead: str, lead_given: bool) -> Recording:
    """One lead of a multi-segment WFDB record, across its segments (`segments`)."""
    hea = Path(f"{base}.hea")
    found = segments.layout(hea)
    heads = segments.headers(base, found)
    names = segments.lead_names(found, heads)
    ch, notes = _pick_lead(hea, lead, names, lead_given)
    values, read = segments.read_lead(base, found, names[ch], heads)
    values, gone = _checked(hea, values, names[ch])
    return Recording(
        output_name(base),
        values,
        found.fs,
        names[ch],
        "wfdb",
        base,
        found.notes + read + notes,
        found.start,
        missing=gone,
        channel=ch,
    )


def _read_ishne(p: Path, lead: str, lead_given: bool) -> Recording:
    holter = ishne.read(p)  # checked: the header against the file; only the chosen lead is read
    i, picked = _pick_lead(p, lead, holter.names, lead_given)
    lead = holter.names[i]  # unique: the reader numbers leads of the same kind
    notes = holter.notes + picked
    if lead in holter.lead_notes:  # the quality the Holter marked it with
        notes += (holter.lead_notes[lead],)
    values, gone = _checked(p, holter.lead(lead), lead)
    return Recording(
        record_name(p), values, holter.fs, lead, "ishne", notes=notes, start=holter.start, missing=gone
    )


def _read_edf(p: Path, lead: str, lead_given: bool) -> Recording:
    found = edf.read(p)  # checked: the header against the file; only the chosen signal is read
    # one lead among signals of other kinds (a patch's accelerometer in g): it is the lead
    voltages = [n for n in found.names if found.is_voltage(n)]
    i, notes = _pick_lead(p, lead, found.names, lead_given, voltages)
    lead = found.names[i]
    values, gone = _checked(p, found.lead(i), lead)
    gone = missing.merged(gone, found.missing(i))  # an EDF+D file's gaps between its records
    notes += found.lead_notes(i)
    if found.start is None and found.start_text:  # a clock left unset (31.02.24) is said, not dropped
        notes += (f"its header's start, {found.start_text!r}, is no date and time: read without a start",)
    return Recording(
        record_name(p), values, found.fs(i), lead, "edf", notes=notes, start=found.start, missing=gone
    )


def _read_npy(p: Path) -> tuple[list[str], np.ndarray]:
    with open(p, "rb") as f:
        magic = f.read(6)
    if magic[:4] == b"PK\x03\x04":
        raise HeartzooError(f"{p}: a .npz archive (np.savez), not a .npy array; save the lead with np.save")
    if magic != b"\x93NUMPY":
        raise HeartzooError(f"{p}: not a NumPy .npy file (it does not start with .npy's magic bytes)")
    try:
        values = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError, SyntaxError, TokenError) as exc:  # the header is Python text
        raise HeartzooError(f"{p}: not a readable .npy array ({exc})") from None
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim == 2 and values.shape[0] == 0:
        raise HeartzooError(f"{p}: no samples (shape {values.shape})")
    numeric = np.issubdtype(values.dtype, np.number) and not np.issubdtype(values.dtype, np.complexfloating)
    if values.ndim != 2 or not numeric:
        raise HeartzooError(
            f"{p}: expected numbers of shape (samples,) or (samples, leads), got "
            f"{values.dtype} {values.shape}"
        )
    if values.shape[1] > values.shape[0]:
        raise HeartzooError(
            f"{p}: shape {values.shape} has more leads than samples; save it as (samples, leads)"
        )
    return [str(i) for i in range(values.shape[1])], values.astype(np.float64)


def reference_peaks(base: Path, extension: str, length: int, fs: float) -> np.ndarray:
    """The beat annotations (any beat code) of WFDB annotation file BASE.EXTENSION, as R peaks of the
    record of `length` samples at `fs` Hz that BASE.hea describes."""

    file = Path(f"{base}.{extension}")
    if not file.is_file():
        raise HeartzooError(f"{file}: no such annotation file (--reference-peaks {extension})")
    import wfdb

    if not annotation_file_complete(file.read_bytes()):
        raise HeartzooError(f"{file}: truncated WFDB annotation file (its end-of-file mark is missing)")
    try:
        ann = wfdb.rdann(str(base), extension)
    except Exception as exc:  # wfdb raises bare errors on damaged files
        raise HeartzooError(f"{file}: not a readable WFDB annotation file ({exc})") from None
    if problem := rate_problem(ann.fs, fs, f"{Path(base).name}.hea"):
        raise HeartzooError(f"{file}: {problem}")
    s = np.asarray(ann.sample, dtype=np.int64)[
        np.isin(np.asarray(ann.symbol or [], dtype=object), list(SYMBOL_TO_AAMI))
    ]
    if len(s) and s[-1] == length:
        s[-1] = length - 1  # a last beat annotated one past the end (svdb 860): kept at the last sample
    outside = s[(s < 0) | (s >= length)]
    if outside.size:
        raise HeartzooError(
            f"{file}: beat at sample {outside[0]} lies outside the {length} samples of the record"
        )
    if not s.size:
        raise HeartzooError(f"{file}: holds no beat annotations")
    return s
