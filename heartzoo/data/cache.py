"""Prepared windows in HDF5, one file per record, keyed by everything that shapes them.

The folder name is a hash of the key (dataset, input spec, noise, code version); each file also stores
the size and modification time of the WFDB files it came from, so an edited record is prepared again.
Writes go to a temporary file in the same folder and are renamed into place: a crash or Ctrl-C leaves
either the old file or none, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_path

#: Bump when the way windows are made changes, so old caches are not reused.
CACHE_VERSION = 3  # 3: rr_intervals' fifth column, the irregularity

_ARRAYS = ("x", "aami", "sample", "rr")


def cache_key(**parts: Any) -> tuple[str, dict[str, Any]]:
    key = {"cache_version": CACHE_VERSION, **parts}
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16], key


def record_files(data_dir: Path, record: str) -> dict[str, Path]:
    """The record's header, the signal files its signal lines name (`dat`, then `dat1`, ...: any name,
    not only `RECORD.dat`) and its reference annotations: what a cache of the record is stamped with, for
    every record of every run, so read from the header's text (the first field of each signal line), not
    by wfdb's whole parse. `RECORD.dat` where the header is missing or names none; its reader then says
    what is wrong with it."""
    folder = Path(data_dir)
    names = [f"{record}.dat"]
    with contextlib.suppress(OSError, ValueError, IndexError):
        lines = [
            line.split()
            for line in (folder / f"{record}.hea").read_text(errors="replace").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        named = [f[0] for f in lines[1 : 1 + int(lines[0][1])] if f]
        # a name with a folder in it is no file beside the header (wfdb's parser refuses it too)
        plain = [n for n in named if "/" not in n and "\\" not in n and n not in (".", "..")]
        names = list(dict.fromkeys(plain)) or names
    signals = {("dat" if i == 0 else f"dat{i}"): folder / n for i, n in enumerate(names)}
    return {"hea": folder / f"{record}.hea", **signals, "atr": folder / f"{record}.atr"}


def source_stamp(paths: list[Path]) -> str:
    """Size and mtime of the source files: cheap, and changes whenever a file is replaced or edited."""
    stamp = []
    for p in paths:
        st = Path(p).stat()
        stamp.append([Path(p).name, st.st_size, st.st_mtime_ns])
    return json.dumps(stamp)


class WindowCache:
    def __init__(self, root: Path, key_parts: dict[str, Any]) -> None:
        digest, key = cache_key(**key_parts)
        self.dir = Path(root) / "windows" / digest
        self.key = key

    def path(self, record: str) -> Path:
        return self.dir / f"{record}.h5"

    def load(self, record: str, stamp: str) -> dict[str, np.ndarray] | None:
        """The cached arrays, or None if absent, stale or unreadable (it is then rebuilt)."""
        import h5py

        p = self.path(record)
        if not p.is_file():
            return None
        try:
            with h5py.File(p, "r") as f:
                if f.attrs.get("source_stamp") != stamp:
                    return None
                return {name: f[name][()] for name in _ARRAYS}
        except (OSError, KeyError):
            return None

    def save(self, record: str, stamp: str, arrays: dict[str, np.ndarray]) -> Path:
        import h5py

        final = self.path(record)
        self._write_key()
        with atomic_path(final) as tmp, h5py.File(tmp, "w") as f:
            for name in _ARRAYS:
                f.create_dataset(name, data=arrays[name])
            f.attrs["source_stamp"] = stamp
            f.attrs["record"] = record
            f.attrs["key"] = json.dumps(self.key, sort_keys=True, default=str)
        return final

    def _write_key(self) -> None:
        key_file = self.dir / "key.json"
        if not key_file.exists():
            with atomic_path(key_file) as tmp:
                tmp.write_text(json.dumps(self.key, indent=2, sort_keys=True, default=str))
