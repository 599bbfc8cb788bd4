"""A MATLAB `.mat` file of samples with no WFDB header beside it: what many ECG datasets and lab scripts
save. Versions 4 and 5 (scipy) and 7.3 (HDF5, h5py).

The leads are the file's one array of numbers with more samples than leads: `(samples,)`,
`(samples, leads)` or `(leads, samples)`, the longer side being time (MATLAB's 7.3 files store arrays
transposed; this reads them the same). Variables inside a struct count as `struct.field`. Where several
arrays could be the ECG, the one the user names (`--lead NAME`: a variable, or a struct's field by its own
name, of one lead) is, else the one named `ecg`, `val` (PhysioNet's), `signal`, `sig` or `data`; else the
error names them. A scalar named `fs`, `Fs`, `sampling_rate`, `srate`, `sr` or `freq` gives the rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HeartzooError
from .csv_file import Table

_LEAD_NAMES = ("ecg", "val", "signal", "sig", "data")
_RATE_NAMES = ("fs", "fs_hz", "sampling_rate", "samplingrate", "srate", "sr", "freq", "frequency")
#: an array is leads x samples only with at most this many leads and more samples than leads
_MAX_LEADS = 16
_MIN_SAMPLES = 100


def _variables(p: Path) -> dict[str, np.ndarray]:
    """Every numeric variable of the file, a struct's fields as `struct.field`."""
    import h5py
    from scipy.io import loadmat

    if h5py.is_hdf5(p):  # a 7.3 file: HDF5 behind MATLAB's 512-byte header
        return _hdf5_variables(p)
    try:
        raw = loadmat(p, squeeze_me=True, struct_as_record=False)
    except Exception as exc:  # scipy raises bare errors on damaged files
        raise HeartzooError(f"{p}: not a readable MATLAB .mat file ({exc})") from None
    out: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name.startswith("__"):
            continue
        if hasattr(value, "_fieldnames"):  # a struct: one level of fields
            for field in value._fieldnames:
                out[f"{name}.{field}"] = getattr(value, field)
        else:
            out[name] = value
    arrays = {k: np.asarray(v) for k, v in out.items()}
    return {k: v for k, v in arrays.items() if v.dtype.kind in "iuf"}


def _hdf5_variables(p: Path) -> dict[str, np.ndarray]:
    import h5py

    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(p, "r") as f:

            def visit(name: str, item) -> None:
                if isinstance(item, h5py.Dataset) and item.dtype.kind in "iuf" and not name.startswith("#"):
                    out[name.replace("/", ".")] = np.squeeze(item[()])

            f.visititems(visit)
    except OSError as exc:
        raise HeartzooError(f"{p}: not a readable MATLAB .mat file ({exc})") from None
    return out


def _chosen(arrays: dict[str, np.ndarray], variable: str) -> str | None:
    """The array the user named: by its variable's name, else its field's within a struct, compared
    without case where no name matches exactly; None where no one array is so named."""
    if variable in arrays:
        return variable
    for name in (lambda k: k.casefold(), lambda k: k.split(".")[-1].casefold()):
        hits = [k for k in arrays if name(k) == variable.casefold()]
        if len(hits) == 1:
            return hits[0]
    return None


def read_mat(p: Path, variable: str | None = None) -> Table:
    """The leads of a `.mat` file, as the module says: named by number, in mV as stored; the array
    `variable` where one is so named (`_chosen`), its one lead named `variable`."""
    found = _variables(p)
    rate = next(
        (float(v) for k, v in found.items() if k.split(".")[-1].lower() in _RATE_NAMES and v.size == 1), None
    )
    arrays = {
        k: v
        for k, v in found.items()
        if v.ndim in (1, 2) and max(v.shape) >= _MIN_SAMPLES and (v.ndim == 1 or min(v.shape) <= _MAX_LEADS)
    }
    if not arrays:
        shown = ", ".join(f"{k} {v.shape}" for k, v in found.items()) or "none"
        raise HeartzooError(f"{p}: no array of samples in it (its numeric variables: {shown})")
    notes: tuple[str, ...] = ()
    key = None if variable is None else _chosen(arrays, variable)
    if key is not None:
        values = arrays[key]
        if values.ndim == 2 and min(values.shape) > 1:
            raise HeartzooError(
                f"{p}: its variable {key} {values.shape} holds {min(values.shape)} leads; --lead names a "
                "variable of one lead, or a lead by its number where the file holds one array"
            )
        chose = (f"its variable {key!r} read, chosen by --lead",) if key != variable else ()
        return Table([variable], values.reshape(-1, 1).astype(np.float64), _rate(p, rate), chose)
    if len(arrays) > 1:
        named = [k for k in arrays if k.split(".")[-1].lower() in _LEAD_NAMES]
        if len(named) != 1:
            shown = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
            # a name given that is none of them (a typo) is said; a number chooses among leads, not arrays
            named_one = variable is not None and not variable.isdigit()
            given = f"no array named {variable!r}, and " if named_one else ""
            raise HeartzooError(
                f"{p}: {given}{len(arrays)} arrays could be the ECG ({shown}); choose one with --lead NAME"
            )
        notes = (f"its variable {named[0]!r} read, of {len(arrays)} arrays of samples, by its name",)
        arrays = {named[0]: arrays[named[0]]}
    values = next(iter(arrays.values()))
    values = values.reshape(-1, 1) if values.ndim == 1 else values
    if values.shape[0] < values.shape[1]:
        values = values.T  # leads x samples, as PhysioNet's val and MATLAB's 7.3 files hold it
    return Table([str(i) for i in range(values.shape[1])], values.astype(np.float64), _rate(p, rate), notes)


def _rate(p: Path, rate: float | None) -> float | None:
    """The rate a variable of the file gives, or an error naming the file where it is no rate."""
    if rate is not None and not (np.isfinite(rate) and rate > 0):
        raise HeartzooError(f"{p}: its sampling rate is {rate:g}, not a rate")
    return rate
