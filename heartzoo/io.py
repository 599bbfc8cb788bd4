"""Files written whole or not at all, JSON read and written, hashes: the small I/O every layer shares.

Writes go to a temporary file in the same folder and are renamed into place, so a crash or Ctrl-C
leaves the old file or none, never half of one. JSON from outside the package (a zoo's index from a
server, a zoo's retraining checks) is read with a cap on its size, so that a huge or hostile file is
refused before it is parsed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import HeartzooError


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


def check_output(path: Path) -> Path:
    """`path`, once a file can be written there: checked before the work that fills it (a long
    evaluation should not end in a permission error), creating nothing."""
    path = Path(path)
    if path.is_dir():
        raise HeartzooError(f"{path}: a folder; give a file name to write to")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise HeartzooError(f"{path}: cannot write there, {folder} is a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HeartzooError(f"{path}: cannot write there, {folder} is not writable")
    return path


def read_json(path: Path) -> Any:
    """A JSON file, or an error naming it when it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HeartzooError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise HeartzooError(f"{path}: not readable JSON ({exc or 'nested too deep'})") from None


def write_json(path: Path, data: Any) -> None:
    """JSON written atomically (temporary file, then rename)."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")


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


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode_json(data: bytes, source: str, what: str, max_bytes: int, error=HeartzooError) -> Any:
    """JSON read from outside (an index, a zoo's checks): refused past `max_bytes` or when not JSON, by
    an `error` naming the source and what it should have been."""
    if len(data) > max_bytes:
        raise error(f"{source}: refused, {len(data):,} bytes is larger than any {what}")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"{source}: not a valid {what} (not JSON: {exc})") from None
    except RecursionError:
        raise error(f"{source}: not a valid {what} (JSON nested deeper than any {what})") from None


def read_capped(path: Path, what: str, max_bytes: int, error=HeartzooError) -> bytes:
    """At most `max_bytes` + 1 bytes of a file (one past the cap, so `decode_json` can refuse it);
    FileNotFoundError is the caller's to answer."""
    try:
        with open(path, "rb") as f:
            return f.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
