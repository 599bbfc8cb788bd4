"""A recording as text in columns (`.csv`, `.tsv`, a `.txt` of numbers): what spreadsheets, device loggers
and PhysioNet's own exports write.

- Cells separated by commas, semicolons (a spreadsheet's where the comma is the decimal mark), tabs or
  spaces, quoted or not ("..." or PhysioNet's '...'); `#` lines before the header, and a separator
  ending each line, as loggers write them.
- A header of names and, under it, optionally a row of units (PhysioNet: `'hh:mm:ss.mmm','mV','mV'`):
  each lead is read in mV from its unit.
- A time column (PhysioNet's `'Elapsed time'`, or `time`, `t`, `timestamp`, `seconds`, `time (ms)`...;
  numbers, clocks or ISO dates and times) is no lead: it gives the sampling rate the file carries, and
  with dates the recording's start. A sample-number column (`'sample #'`, the MIT-BIH CSVs shared on
  Kaggle, and pandas' unnamed index) is no lead either.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from ..errors import HeartzooError
from ..preprocess.lead import TO_MV
from .missing import placed

#: lines read to find the layout, the header, the units and the time column's steps
HEAD_LINES = 200
#: a time column's name, in the languages a logger's or spreadsheet's export is written in (German,
#: French, Spanish, Italian and Portuguese, Dutch, Scandinavian), with its unit as a suffix, `time_ms`
_TIME_NAMES = re.compile(
    r"((elapsed|relative)[ _]?)?(time|zeit|temps|tiempo|tempo|tijd|tid)"
    r"([ _]?(?P<unit>s|ms|us|sec|secs|seconds|min))?"
    r"|t|timestamp|zeitstempel|horodatage|seconds?|secs?|sekunden|secondes|segundos|ms|millis|micros"
)
_INDEX_NAMES = re.compile(r"sample( ?#| ?number| ?no\.?)?|samples|index|#|n")
_SECOND_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec", "millis"), 1e-3),  # millis: Arduino's millis(), as loggers name it
    **dict.fromkeys(("us", "µs", "μs", "usec", "micros"), 1e-6),
    **dict.fromkeys(("ns", "nsec", "nanos"), 1e-9),  # Android's sensor timestamps
    **dict.fromkeys(("min", "mins", "minutes"), 60.0),
}
#: a time cell that is a clock ('0:00.003', PhysioNet's '[08:12:08.000 01/12/2000]') or an ISO date and time
_CLOCK = re.compile(r"\[?(\d+:)?\d+:\d+(\.\d+)?( [^\]]*)?\]?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
#: a time column whose rate in seconds is under this was written in ms without saying so
_LOWEST_RATE = 20.0
#: cells that say a sample is missing, as spreadsheets and pandas write them (an empty cell says it too)
MISSING_CELLS = frozenset({"n/a", "na", "nan", "null", "none", "-"})
#: a step of the time column longer than this many typical steps, and than this many seconds, is a jump:
#: samples missing (a logger's lost stretch), not a slower clock
JUMP_STEPS = 5
JUMP_S = 0.05


@dataclass(frozen=True)
class Table:
    """The columns of a recording file (a CSV here; a `.mat`, `.npy` or OpenSignals file too): `names` and
    `values` (samples x columns, in mV where the file gives a unit), the sampling rate the file carries
    (None without one), notes for the user, and its start on the recorder's clock."""

    names: list[str]
    values: np.ndarray
    fs: float | None
    notes: tuple[str, ...]
    #: the first sample on the recorder's clock, where the time column gives dates and times
    start: datetime | None = None


def cells(line: str, sep: str | None) -> list[str]:
    """A line's cells, each without its surrounding quotes (`"..."` or PhysioNet's `'...'`); `sep` None:
    runs of spaces. A separator that ends the line (some loggers write one) ends it, no empty cell after."""
    line = line.strip()
    parts = line.split(sep)
    if sep is not None and len(parts) > 1 and line.endswith(sep):
        parts = parts[:-1]
    out = []
    for c in parts:
        c = c.strip()
        if len(c) >= 2 and c[0] == c[-1] and c[0] in "\"'":
            c = c[1:-1].strip()
        out.append(c)
    return out


def _float(cell: str, decimal_comma: bool) -> float:
    return float(cell.replace(",", ".") if decimal_comma else cell)


def _number(cell: str, decimal_comma: bool) -> bool:
    try:
        _float(cell, decimal_comma)
    except ValueError:
        return False
    return True


def numbers(line: str, sep: str | None, decimal_comma: bool, skip: int | None = None) -> bool:
    """Whether `line` is numbers between `sep`s (the cell at `skip`, a time column, not counted): a row
    of samples, not a header."""
    return bool(line.strip()) and all(
        _number(c, decimal_comma) for i, c in enumerate(cells(line, sep)) if i != skip
    )


def _units(line: str, sep: str | None, decimal_comma: bool) -> bool:
    """Whether `line` is a row of units (PhysioNet's `'hh:mm:ss.mmm','mV'`): no cell of it a number, so a
    row of samples with an empty cell (a sample missing) is not one."""
    return not any(_number(c.strip("'"), decimal_comma) for c in cells(line, sep))


def first_lines(p: Path, n: int = HEAD_LINES) -> tuple[int, str, list[str]]:
    """(how many `#` comment lines open the file, its first line after them, up to `n` lines after that),
    or an error naming the file."""
    try:
        with open(p, encoding="utf-8-sig") as f:  # -sig: the byte-order mark spreadsheets write
            comments, first = 0, f.readline()
            while first.lstrip().startswith("#"):
                comments, first = comments + 1, f.readline()
            return comments, first, [line for _, line in zip(range(n), f, strict=False)]
    except (OSError, UnicodeDecodeError) as exc:
        raise HeartzooError(f"{p}: not a readable CSV file ({exc})") from None


def layout(first: str, rows: list[str]) -> tuple[str | None, bool]:
    """(separator, whether the comma is the decimal mark) of a file whose first lines are these (`first`,
    then `rows`): commas, semicolons (a spreadsheet's where the comma is the decimal mark: "-0,145;0,065"),
    tabs, or None for spaces. A single column with decimal commas ("-0,145") looks like two columns of whole
    numbers; it is told from them by a header of one name, or by what no whole number is written as: "065",
    "-0"."""
    text = first + "".join(rows)
    sep = "\t" if "\t" in text else ";" if ";" in text else "," if "," in text else None
    if sep is None:  # numbers between spaces (a logger's, rdsamp's), or one column, whose name may hold a
        # space ("ECG [uV]"): the rows say which
        lines = [r for r in rows if r.strip()] or [first]
        return (None, False) if any(len(r.split()) > 1 for r in lines) else (",", False)
    if sep != ",":
        return sep, any("," in r for r in rows[:3])  # past a row of units
    split = [cells(r, ",") for r in rows if r.strip()]
    if not split or any(len(c) != 2 for c in split):
        return sep, False
    one_name = len(cells(first, ",")) == 1 and not numbers(first, ",", False)
    odd = any(a == "-0" or (len(b) > 1 and b[0] == "0" and b.isdigit()) for a, b in split)
    # one column: split at a separator it does not hold, so "-0,145" stays one cell
    return (";", True) if one_name or odd else (sep, False)


def columns_of_numbers(p: Path) -> bool:
    """Whether a text file's second line (its first, without a header) is numbers in columns."""
    try:
        _, first, rows = first_lines(p)
    except HeartzooError:
        return False
    return numbers(rows[0] if rows else first, *layout(first, rows))


def _name_and_unit(name: str) -> tuple[str, str]:
    """'time (ms)' -> ('time', 'ms'); 'ECG [uV]' -> ('ECG', 'uv'); 'MLII' -> ('MLII', '')."""
    m = re.fullmatch(r"(.+?)\s*[(\[]\s*([^)\]]*?)\s*[)\]]", name.strip())
    return (m[1], m[2].lower()) if m else (name.strip(), "")


def _time_column(named: list[tuple[str, str]]) -> tuple[int | None, str]:
    """(the time column's number, its unit: a name's suffix counts, 'time_ms'), or (None, '')."""
    for i, (name, unit) in enumerate(named):
        m = _TIME_NAMES.fullmatch(name)
        if m:
            suffix = m["unit"] or (name if name in _SECOND_UNITS else "")
            return i, unit or suffix
    return None, ""


def _datetime(cell: str, decimal_comma: bool) -> datetime | None:
    """An ISO 8601 date and time ('2026-11-27T08:12:08.004', a space for the T, a Z or an offset), or None
    where the cell is not one."""
    if not _ISO.match(cell):
        return None
    try:
        return datetime.fromisoformat(
            (cell.replace(",", ".") if decimal_comma else cell).replace("Z", "+00:00")
        )
    except ValueError:
        return None


def _seconds(cell: str, decimal_comma: bool) -> float:
    """A time cell in seconds: a clock ('0:00.003', '1:02:03.456', PhysioNet's '[08:12:08.000 01/12/2000]'),
    an ISO date and time (seconds since 1970, UTC where it gives no offset) or a number (in the column's
    unit, applied by the caller)."""
    if (when := _datetime(cell, decimal_comma)) is not None:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    if _CLOCK.fullmatch(cell):
        clock, _, day = cell.strip("[]").partition(" ")
        seconds = sum(float(f) * 60**i for i, f in enumerate(reversed(clock.split(":"))))
        try:  # PhysioNet's date (dd/mm/yyyy): a recording that runs over midnight goes on the next day
            d, m, y = (int(v) for v in day.split("/"))
            return seconds + (date(y, m, d) - date(1970, 1, 1)).days * 86400.0
        except ValueError:
            return seconds  # a clock without a date
    return _float(cell, decimal_comma)


def read_csv(p: Path) -> Table:
    """The leads of a text recording in columns, read as the module says."""
    comments, first, rows = first_lines(p)
    sep, decimal_comma = layout(first, rows)
    header = None if numbers(first, sep, decimal_comma) else cells(first, sep)
    named = [_name_and_unit(h) for h in header] if header else []
    time, time_unit = _time_column([(n.lower(), u) for n, u in named])
    units = [u for _, u in named]
    skip = comments + (0 if header is None else 1)
    if header and rows and len(cells(rows[0], sep)) == len(header) and _units(rows[0], sep, decimal_comma):
        units = [c.lower() or units[i] for i, c in enumerate(cells(rows[0], sep))]  # PhysioNet's row of units
        time_unit = units[time] if time is not None else ""
        skip, rows = skip + 1, rows[1:]
    # the commonest count of cells: a row whose last cell is empty (a sample missing) reads one short
    counts = [len(cells(r, sep)) for r in rows if r.strip()]
    width = max(set(counts), key=counts.count) if counts else len(cells(first, sep))
    if header and len(header) != width:  # names that are not one per column: the columns by number
        header, named, time = None, [], None
    # pandas' `to_csv` writes its index first, unnamed ("Unnamed: 0" once read back and written again)
    unnamed = width > 1 and bool(named) and named[0][0].strip().lower() in ("", "unnamed: 0")
    index = (
        0
        if unnamed
        else next((i for i, (n, _) in enumerate(named) if _INDEX_NAMES.fullmatch(n.lower())), None)
    )
    leads = [i for i in range(width) if i not in (time, index)]
    if not leads:
        raise HeartzooError(f"{p}: no column of samples (its columns: {', '.join(header or [])})")
    quoted = any("'" in r for r in rows[:3])  # PhysioNet quotes its cells with '

    def read(converter):
        with warnings.catch_warnings():  # "input contained no data": said below, as an error naming the file
            warnings.simplefilter("ignore", UserWarning)
            return np.loadtxt(
                p,
                delimiter=sep,
                skiprows=skip,
                usecols=leads,
                ndmin=2,
                dtype=np.float64,
                encoding="utf-8-sig",
                quotechar='"',  # a spreadsheet may quote every cell
                converters=converter,
            )

    def cell(v: str) -> float:
        v = v.strip().strip("'")
        # an empty cell, or what spreadsheets and pandas write for none: a sample missing
        return np.nan if not v or v.lower() in MISSING_CELLS else _float(v, decimal_comma)

    converter = cell if decimal_comma or quoted else None
    try:
        values = read(converter)
    except ValueError as exc:
        # numpy counts rows from 0 after the lines it skipped, and columns from 1: both from 1, as people do
        said = re.sub(
            r"at row (\d+), column (\d+)", lambda m: f"in data row {int(m[1]) + 1}, column {m[2]}", str(exc)
        )
        # a row with fewer cells (a footer's "End of recording"): numpy's words, said as people count
        said = re.sub(
            r"invalid column index (\d+) at row (\d+) with (\d+) columns?",
            lambda m: f"data row {m[2]} has {m[3]} cell(s) where the others have more",
            said,
        )
        refused = HeartzooError(f"{p}: not a CSV of numbers, one column per lead ({said})")
        if converter is not None:  # read cell by cell already
            raise refused from None
        try:  # a logger's empty cells, where it lost samples: read cell by cell, missing (NaN)
            values = read(cell)
        except ValueError:
            raise refused from None
    if values.size == 0:
        raise HeartzooError(f"{p}: no samples")
    names = [named[i][0] for i in leads] if header else [str(i) for i in leads]  # "ECG (mV)": ECG
    notes: list[str] = []
    for k, i in enumerate(leads):
        unit = units[i] if header else ""
        scale = TO_MV.get(unit, 1.0)
        if unit and unit not in TO_MV:
            notes.append(f"lead {names[k]}'s unit is {unit!r}, not a voltage: read as mV")
        elif scale != 1.0:
            values[:, k] *= scale
    fs, start = None, None
    if time is not None:
        head = [cells(r, sep)[time] for r in rows if r.strip()]
        numeric = not (_CLOCK.fullmatch(head[0]) or _ISO.match(head[0]))  # clocks and dates are in seconds

        def seconds(v: str) -> float:
            return _seconds(v.strip().strip("'"), decimal_comma)

        # plain numbers are parsed by numpy itself: a cell converter in Python costs a day's file minutes
        plain = numeric and not decimal_comma and not quoted
        try:  # every time, not the first rows': a jump or a time going back may come anywhere
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                t = np.loadtxt(
                    p,
                    delimiter=sep,
                    skiprows=skip,
                    usecols=[time],
                    ndmin=1,
                    dtype=np.float64,
                    encoding="utf-8-sig",
                    quotechar='"',
                    converters=None if plain else seconds,
                )
        except (ValueError, IndexError):
            raise HeartzooError(f"{p}: its time column holds a value that is no time") from None
        if _CLOCK.fullmatch(head[0].strip("'")) and not re.search(r"\d/\d", head[0]):
            # a clock without a date that passes midnight starts again from 0: the next day
            t = t + 86400.0 * np.cumsum(np.r_[0, np.diff(t) < -43200.0])
        digits = max(len(m[1]) if (m := re.search(r"[.,](\d+)", c)) else 0 for c in head)
        fs, places = _timeline(p, t, time_unit, numeric, digits, notes)
        if places is not None:  # samples missing where the times jump: NaN where they would have been
            held = values
            values = np.full((int(places[-1]) + 1, held.shape[1]), np.nan, np.float32)
            values[places] = held
        start = _datetime(head[0], decimal_comma)
    return Table(names, values, fs, tuple(notes), start)


def _timeline(
    p: Path, t: np.ndarray, unit: str, numeric: bool, digits: int, notes: list[str]
) -> tuple[float, np.ndarray | None]:
    """(the sampling rate a time column `t` gives, where each sample lies on it where the times jump, else
    None). The rate is the samples over the span of the stretches between jumps, which rounding (a
    logger's whole milliseconds) does not bias; a jump (a step over `JUMP_STEPS` typical steps and
    `JUMP_S`) is samples missing, placed where the times put the stretch after it and said in `notes`, up
    to as long as the samples the file holds. Times that go back are an error naming the data row; times
    that repeat (written coarser than one sample, as `%g` writes them) give the rate of their span, and no
    jump is looked for where most steps are 0."""
    if len(t) < 2:
        raise HeartzooError(f"{p}: {len(t)} sample; a recording needs many more")
    steps = np.diff(t)
    if np.any(steps < 0) or t[-1] <= t[0]:
        row = int(np.argmax(steps < 0)) + 2 if np.any(steps < 0) else len(t)
        raise HeartzooError(f"{p}: its time column does not increase (at data row {row})")
    if numeric and unit and unit not in _SECOND_UNITS:  # read as seconds, it would give any rate at all
        raise HeartzooError(
            f"{p}: its time column's unit is {unit!r}, not one heartzoo reads ({', '.join(_SECOND_UNITS)})"
        )
    typical = float(np.median(steps))  # a jump, however long, does not move it
    scale = _SECOND_UNITS.get(unit, 1.0) if numeric else 1.0  # no unit: seconds
    raw_rate = 1.0 / typical if typical > 0 else (len(t) - 1) / (t[-1] - t[0])
    if unit not in _SECOND_UNITS and numeric and raw_rate < _LOWEST_RATE:
        # no unit given, and no ECG is sampled that slowly: the first of ms, µs and ns giving a rate
        # (a logger's millis(), micros(), or Android's nanosecond timestamps)
        unitless = {"ms": 1e-3, "µs": 1e-6, "ns": 1e-9}
        name = next((u for u, s in unitless.items() if raw_rate / s >= _LOWEST_RATE), "ns")
        scale = unitless[name]
        notes.append(f"its time column, which states no unit, read in {name}")
    if typical > 0:
        jumps = np.flatnonzero(steps > max(JUMP_STEPS * typical, JUMP_S / scale))
        span = (float(t[-1] - t[0]) - float(steps[jumps].sum())) * scale
        fs = (len(steps) - len(jumps)) / span
    else:
        # times repeat (whole seconds at 360 Hz): the samples from the first change of time to the last,
        # whose times are exact, over their times; the first and last times hold part of their step
        jumps = np.zeros(0, np.int64)
        changes = np.flatnonzero(steps > 0) + 1
        if len(changes) >= 2:
            first, last = int(changes[0]), int(changes[-1])
        else:
            first, last = 0, len(t) - 1
        span = float(t[last] - t[first]) * scale
        fs = (last - first) / span
    # the times' last digit bounds the span, so the rate is known to 2 steps over the span: within that,
    # a whole number of hertz is the rate (4 decimals over 10 s at 360 Hz read 360.0008)
    if abs(fs - round(fs)) <= 2 * 10.0**-digits * scale / span * fs:
        fs = float(round(fs))
    if numeric and abs(t[0] * scale) * fs >= 1:  # the outputs count time from the first row, not from 0
        t0 = f"{t[0] * scale:.6f}".rstrip("0").rstrip(".")  # exactly: a logger's epoch time has 13 digits
        unix = (
            f"; as Unix time, {datetime.fromtimestamp(t[0] * scale, UTC).isoformat()}"
            if 1e9 <= t[0] * scale <= 4e9  # 2001 to 2096: a logger's clock, not a recording's seconds
            else ""
        )
        notes.append(
            f"its time column starts at {t0} s: the outputs' times count from that first row "
            f"(add {t0} s for the file's own{unix})"
        )
    if typical <= 0:
        notes.append(
            f"its times repeat (written coarser than one sample): read at {fs:.6g} Hz, the samples between "
            "their first and last change of time"
        )
    if not jumps.size:
        return fs, None
    # the stretch after a jump begins where its first time says, never over the one before
    starts = np.r_[0, jumps + 1]
    places = placed([round((t[lo] - t[0]) * scale * fs) for lo in starts], np.diff(np.r_[starts, len(t)]))
    gaps = (places[jumps + 1] - places[jumps] - 1) / fs
    if gaps.sum() > len(t) / fs:  # filled, it would be mostly NaN (and could be days of it)
        raise HeartzooError(
            f"{p}: its time column jumps {gaps.sum():,.0f} s in all, more than the {len(t) / fs:,.0f} s of "
            "samples it holds: not one recording (two sessions in one file?)"
        )
    longest = (t[jumps[np.argmax(gaps)]] - t[0]) * scale
    notes.append(
        f"its time column jumps {len(jumps)} time(s) ({gaps.sum():.3g} s in all, the longest "
        f"{gaps.max():.3g} s from {longest:.3g} s): read as samples missing where its times put them"
    )
    return fs, places
