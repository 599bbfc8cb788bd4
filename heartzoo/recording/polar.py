"""Polar chest-strap ECG files: what Polar Sensor Logger (the Android app most Polar H10 studies record
with) writes for the ECG stream, `..._ECG.txt`, semicolon-separated:

    Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]
    2026-07-26T21:56:26.765;838432586543515816;0.0;-166
    ...

The strap samples at 130 Hz by its own crystal, which runs a little off, so the rate is measured from the
sensor's timestamps (nanoseconds; the least-squares slope over every sample, which is right whether the
SDK stamps each sample or each Bluetooth packet) rather than assumed. A stretch that Bluetooth lost shows
as a jump in those timestamps: it is read as missing samples (NaN, `missing`) where the sensor's clock
puts them, never joined into beats that did not happen. Samples in µV are read in mV.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import HeartzooError
from .missing import check_span, placed

HEAD_BYTES = 4096
ECG_COLUMN = "ecg [uv]"
CLOCK_COLUMN = "sensor timestamp [ns]"
#: the longest step between two sensor timestamps that is not a loss: one Bluetooth packet (about 73
#: samples, 0.56 s at 130 Hz) where the SDK stamps packets, not samples
MAX_STEP_S = 1.0
#: rates a Polar strap's ECG can have (the H10 streams 130 Hz); outside, the timestamps are not its clock
RATE_RANGE_HZ = (50.0, 1000.0)


def _columns(first_line: str) -> list[str]:
    return [c.strip().lower() for c in first_line.strip().split(";")]


def is_export(path: Path) -> bool:
    """Whether the file at `path` is a Polar Sensor Logger ECG file: its first line names the sensor's
    clock and the ECG in µV, separated by semicolons."""
    try:
        with open(path, "rb") as f:
            first = f.read(HEAD_BYTES).decode("utf-8-sig", errors="replace").splitlines()[:1]
    except OSError:
        return False
    cols = _columns(first[0]) if first else []
    return ECG_COLUMN in cols and CLOCK_COLUMN in cols


def read(
    path: Path, fs: float | None = None
) -> tuple[str, np.ndarray, float, tuple[str, ...], datetime | None]:
    """(lead name, samples in mV, rate in Hz, notes, start) of the Polar ECG file at `path`; `start`: the
    phone's clock at the first sample (None where the file has no phone timestamps)."""
    if fs is not None:
        raise HeartzooError(
            f"{path}: a Polar ECG file carries its sampling rate in its sensor timestamps; --fs is for CSV, "
            ".mat and .npy"
        )
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HeartzooError(f"{path}: a Polar ECG file that cannot be read as UTF-8 text ({exc})") from None
    cols = _columns(lines[0])
    clock, ecg = cols.index(CLOCK_COLUMN), cols.index(ECG_COLUMN)
    stamps = np.empty(len(lines) - 1, dtype=np.int64)
    uv = np.empty(len(lines) - 1)
    at = np.empty(len(lines) - 1, dtype=np.int64)  # each sample's line, for the errors
    n = 0
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(";")
        try:
            stamps[n], uv[n], at[n] = int(cells[clock]), float(cells[ecg]), i
        except (IndexError, ValueError, OverflowError):  # a timestamp past 64 bits overflows
            raise HeartzooError(
                f"{path}: line {i} is {line.strip()[:60]!r}, not a sample ({len(cols)} fields: "
                f"{CLOCK_COLUMN} a whole number, {ECG_COLUMN} a number)"
            ) from None
        n += 1
    stamps, uv, at = stamps[:n], uv[:n], at[:n]
    if n < 2:
        raise HeartzooError(f"{path}: a Polar ECG file with {n} sample(s); a recording needs more")
    rate, places = _clock(path, stamps, at)
    span = n if places is None else int(places[-1]) + 1
    check_span(path, n / rate, span / rate, "sensor timestamps")
    if places is not None:  # Bluetooth lost stretches: missing where the sensor's clock puts them
        mv = np.full(span, np.nan, np.float32)  # float32 as every reader's lead is: a day of 130 Hz is 45 MB
        mv[places] = uv * 1e-3
    else:
        mv = uv * 1e-3
    start = lines[1].split(";")[0].strip() if cols[0] == "phone timestamp" else ""
    said = f", recorded from {start} (the phone's clock)" if start else ""
    notes = (
        f"a Polar ECG file (Polar Sensor Logger): {rate:.3f} Hz measured from the sensor's timestamps{said}",
    )
    try:  # the phone's clock at the first sample, as Polar Sensor Logger writes it (ISO 8601)
        first = datetime.fromisoformat(start) if start else None
    except ValueError:
        first = None
    return "ECG", mv, rate, notes, first


def _clock(path: Path, stamps: np.ndarray, at: np.ndarray) -> tuple[float, np.ndarray | None]:
    """(samples per second of the sensor's clock, where each sample lies on it where Bluetooth lost some,
    else None); `at`: each sample's line, for the errors. The rate is the least-squares slope of the
    timestamps within the stretches between losses, so a loss does not bend it."""
    step = np.diff(stamps)
    back = np.flatnonzero(step < 0)
    if back.size:
        raise HeartzooError(
            f"{path}: the sensor timestamps go back at line {at[back[0] + 1]}; not one recording in order"
        )
    cuts = np.flatnonzero(step > MAX_STEP_S * 1e9) + 1  # where a stretch after a loss begins
    idx = np.arange(len(stamps), dtype=np.float64)
    # stamps are ~1e17 ns since 2000: subtract the first before the fit, or float64 loses the nanoseconds
    t = (stamps - stamps[0]).astype(np.float64) * 1e-9
    num = den = 0.0
    for i, s in zip(np.split(idx, cuts), np.split(t, cuts), strict=True):
        num += float(((i - i.mean()) * (s - s.mean())).sum())
        den += float(((i - i.mean()) ** 2).sum())
    seconds_per_sample = num / den if den > 0 else 0.0
    lo, hi = RATE_RANGE_HZ
    if not seconds_per_sample > 0 or not lo <= 1.0 / seconds_per_sample <= hi:
        raise HeartzooError(
            f"{path}: its sensor timestamps give {len(stamps)} samples in "
            f"{(stamps[-1] - stamps[0]) / 1e9:.3f} s, not an ECG rate ({lo:g}-{hi:g} Hz)"
        )
    if not cuts.size:
        return float(1.0 / seconds_per_sample), None
    # each stretch where its timestamps' line puts its first sample, never over the stretch before
    firsts = [
        round((s.mean() - seconds_per_sample * (i.mean() - i[0])) / seconds_per_sample)
        for i, s in zip(np.split(idx, cuts), np.split(t, cuts), strict=True)
    ]
    return float(1.0 / seconds_per_sample), placed(firsts, np.diff(np.r_[0, cuts, len(stamps)]))
