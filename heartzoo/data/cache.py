"""Prepared windows in HDF5, one file per record, keyed by everything that shapes them.

The folder name is a hash of the key (dataset, input spec, noise, code version); each file also stores
the size and modification time of the WFDB files it came from, so an edited record is prepared again.
Writes go to a temporary file in the same folder and are renamed into place: a crash or Ctrl-C leaves
either the old file or none, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

#: Bump when the way windows are made changes, so old caches are not reused.
CACHE_VERSION = 3  # 3: rr_intervals' fifth column, the irregularity

_ARRAYS = ("x", "aami", "sample", "rr")


def cache_key(**parts: Any) -> tuple[str, dict[str, Any]]:
    key = {"cache_version": CACHE_VERSION, **parts}
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16], key


def source_stamp(paths: list[Path]) -> str:
    """Size and mtime of the source files: cheap, and changes whenever a file is replaced or edited."""
    stamp = []
    for p in paths:
        st = Path(p).stat()
        stamp.append([Path(p).name, st.st_size, st.st_mtime_ns])
    return json.dumps(stamp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(final: Path, suffix: str = ".tmp"):
    """Yield a temporary path next to `final`; rename it onto `final` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix, dir=final.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes 0600; a file put in place gets the mode any new file gets (a web server serving
        # a mirror runs as another user)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_json(path: Path) -> Any:
    """A JSON file, or an error naming it when it is missing or not JSON."""
    from ..errors import HeartzooError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HeartzooError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HeartzooError(f"{path}: not readable JSON ({exc})") from None


def write_json(path: Path, data: Any) -> None:
    """JSON written atomically (temporary file, then rename)."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")


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


def append_json_line(path: Path | None, line: Any) -> None:
    """Append `line` as one JSON line to the results file `path` (a benchmark's `--record`); None: nothing."""
    if path is not None:
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


def latest_json_lines(path: Path, key) -> dict:
    """The latest line of each `key(line)` of a benchmark's JSON-lines record (a key of None: a line of
    another kind, left out), in the order the keys first appear."""
    latest = {}
    for x in Path(path).read_text().splitlines():
        if x.strip():
            line = json.loads(x)
            k = key(line)
            if k is not None:
                latest[k] = line
    return latest
