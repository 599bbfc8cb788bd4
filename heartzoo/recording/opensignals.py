"""OpenSignals text files: what PLUX's BITalino and biosignalsplux kits (and the RespiBAN chest strap of
the WESAD wearable dataset) record, a `.txt` with a JSON header between `#` lines:

    # OpenSignals Text File Format
    # {"00:07:80:58:9B:3F": {"sensor": ["ECG"], "column": ["nSeq", "I1", "I2", "O1", "O2", "A2"],
    #   "label": ["A2"], "sampling rate": 1000, "resolution": [4, 1, 1, 1, 1, 10], "device": "bitalino_rev",
    #   "date": "2017-4-25", "time": "14:37:41.493", ...}}
    # EndOfHeader
    0	0	0	0	0	512
    ...

The header gives the rate, the start on the recorder's clock, and each analog channel's label and sensor.
A channel whose sensor is `ECG` is a lead, read in mV by the sensor's transfer function from its data
sheet, ECG(mV) = (ADC / 2^n - 1/2) x VCC / G x 1000, with n the channel's resolution in bits: BITalino's
ECG sensor VCC 3.3 V, G 1100; biosignalsplux's VCC 3 V, G 1000 (PLUX, Electrocardiography (ECG) Sensor
Data Sheets). Another channel (`RAW`, `EDA`...) is read as recorded, with a note, if chosen by its label.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ..errors import HeartzooError
from .csv_file import Table, read_csv

MAGIC = "# OpenSignals Text File Format"
#: (VCC in V, gain) of each kit's ECG sensor, by the header's "device" (its prefix)
ECG_SENSOR = {"bitalino": (3.3, 1100.0), "biosignalsplux": (3.0, 1000.0)}


def is_export(path: Path) -> bool:
    """Whether the file at `path` starts as OpenSignals writes its text files."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            return f.readline().startswith(MAGIC)
    except OSError:
        return False


def _header(p: Path) -> dict:
    with open(p, encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            if line.startswith("# {"):
                try:
                    devices = json.loads(line[2:])
                except json.JSONDecodeError as exc:
                    raise HeartzooError(f"{p}: an OpenSignals header that is not JSON ({exc})") from None
                if not isinstance(devices, dict) or len(devices) != 1:
                    raise HeartzooError(
                        f"{p}: an OpenSignals file of {len(devices) if isinstance(devices, dict) else 0} "
                        "devices; export each device's channels on their own"
                    )
                header = next(iter(devices.values()))
                if not isinstance(header, dict):
                    break
                return header
            if line.startswith("# EndOfHeader") or not line.startswith("#"):
                break
    raise HeartzooError(f"{p}: an OpenSignals file without its JSON header line")


def _listed(value, kind: type) -> list:
    """A header field that must be a list of `kind` (str or int), or a TypeError."""
    if not isinstance(value, list) or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{value!r} is not a list of {kind.__name__}")
    return value


def _start(header: dict) -> datetime | None:
    """The header's date ('2017-5-22') and time ('9:39:1.0') as one, or None where they are not."""
    try:
        year, month, day = (int(v) for v in str(header["date"]).split("-"))
        h, m, s = str(header["time"]).split(":")
        return datetime(year, month, day, int(h), int(m)) + timedelta(seconds=float(s))
    except (KeyError, ValueError, TypeError):
        return None


def read_opensignals(p: Path) -> tuple[Table, list[str]]:
    """The analog channels of an OpenSignals file, named by their labels, the ECG ones in mV; and the
    labels of its ECG channels (the recording's leads)."""
    header = _header(p)
    try:
        labels = _listed(header["label"], str)
        sensors = [v.upper() for v in _listed(header.get("sensor", ["RAW"] * len(labels)), str)]
        columns = _listed(header["column"], str)
        resolution = _listed(header.get("resolution", []), int)
        fs = float(header["sampling rate"])
    except (KeyError, TypeError, ValueError) as exc:
        raise HeartzooError(
            f"{p}: its OpenSignals header lacks a field it needs, or holds one wrong ({exc})"
        ) from None
    if (
        not labels
        or len(sensors) != len(labels)
        or not set(labels) <= set(columns)
        or not (np.isfinite(fs) and fs > 0)
        or not all(1 <= b <= 32 for b in resolution)
    ):
        raise HeartzooError(
            f"{p}: its OpenSignals header's label, sensor, column, resolution or sampling rate disagree"
        )
    # a kit writes one resolution per column (BITalino) or per analog channel (biosignalsplux)
    bits = dict(zip(columns, resolution, strict=True)) if len(resolution) == len(columns) else {}
    if not bits and len(resolution) == len(labels):
        bits = dict(zip(labels, resolution, strict=True))
    table = read_csv(p)  # the `#` lines skipped, one column per entry of "column"
    if table.values.shape[1] != len(columns):
        raise HeartzooError(
            f"{p}: {table.values.shape[1]} columns of samples where its header names {len(columns)}"
        )
    device = str(header.get("device", "")).lower()
    sensor = next((v for k, v in ECG_SENSOR.items() if device.startswith(k)), None)
    values, notes = [], []
    for label, kind in zip(labels, sensors, strict=True):
        adc = table.values[:, columns.index(label)]
        if kind == "ECG" and sensor is not None and label in bits:
            vcc, gain = sensor
            values.append((adc / 2.0 ** bits[label] - 0.5) * vcc / gain * 1000.0)
        else:
            values.append(adc)
            if kind == "ECG":
                notes.append(f"channel {label}: no transfer function for device {device!r}; read as recorded")
    ecg = [label for label, kind in zip(labels, sensors, strict=True) if kind == "ECG"]
    table = Table(labels, np.stack(values, axis=1), fs, tuple(notes), _start(header))
    return table, ecg
