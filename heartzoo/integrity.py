"""Nothing from outside is read or written before it is checked: paths that stay inside their root,
files that match their index entry, Keras files loaded without running code.

A path from data (an index entry, a cached entry, a config) is joined to its root only through
`contained`, which refuses anything whose resolved location is not exactly root/relative (a `..`, an
absolute part or a symbolic link anywhere on the way). Files are checked against the sha256 the index
gives; the hashes already computed are remembered by size, mtime, ctime and inode, so loading a
model twice does not hash it twice, while any change to the file hashes it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import HeartzooError

HASH_MEMO = ".verified-hashes.json"
QUARANTINE = ".quarantine"


class IntegrityError(HeartzooError):
    """A file that is not what its index says, or a path that leaves its root."""


def contained(root: Path, relative: str, what: str) -> Path:
    """root/relative, refused unless it resolves to exactly that place under the resolved root."""
    rel = PurePosixPath(relative)
    if (
        not relative
        or "\\" in relative
        or rel.is_absolute()
        or any(part in ("..", ".", "") for part in relative.split("/"))
        or ":" in relative
    ):
        raise IntegrityError(f"{what}: refused path {relative!r} (it must stay inside {root})")
    base = Path(root).resolve()
    lexical = base.joinpath(*rel.parts)
    if lexical.resolve() != lexical:
        raise IntegrityError(
            f"{what}: refused, {lexical} leads elsewhere through a symbolic link "
            f"(to {lexical.resolve()}); nothing is read or written outside {base}"
        )
    return lexical


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class HashMemo:
    """sha256 of files, remembered in a JSON file by path and stat, recomputed on any change."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[str, Any] = {}
        self.dirty = False
        if path is not None and path.is_file():
            try:
                self.known = json.loads(path.read_text())
            except (OSError, ValueError):
                self.known = {}

    def sha256(self, file: Path) -> str:
        from .io import sha256_of

        st = file.stat()
        key = str(file)
        hit = self.known.get(key)
        if isinstance(hit, dict) and hit.get("stat") == _stat_key(st):
            return str(hit.get("sha256"))
        return self.record(file, sha256_of(file))

    def record(self, file: Path, digest: str) -> str:
        """Remember a digest computed elsewhere (a download hashes its bytes on the way in)."""
        self.known[str(file)] = {"stat": _stat_key(file.stat()), "sha256": digest}
        self.dirty = True
        return digest

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        from .io import write_json

        with contextlib.suppress(OSError):  # a read-only cache only costs the hashing next time
            write_json(self.path, self.known)


def check_files(
    folder: Path, files: list[dict[str, Any]], *, memo: HashMemo | None = None, cache: bool = False
) -> list[str]:
    """Problems of a version folder against its index entry's files: missing, a link, wrong size or
    sha256, or present but not listed. Empty when every file is exactly what the index says. In the
    download cache (`cache`), the bookkeeping files and partial downloads beside them are expected."""
    memo = memo or HashMemo(None)
    problems: list[str] = []
    listed = {f["path"]: f for f in files}
    present = {p.name: p for p in folder.iterdir()} if folder.is_dir() else {}
    for name in sorted(set(present) - set(listed)):
        if not (cache and (name.startswith(".") or name.endswith(".part"))):
            problems.append(f"{folder / name}: not in the index")
    for name, f in sorted(listed.items()):
        p = folder / name
        if p.is_symlink():
            problems.append(f"{p}: a symbolic link, refused (the index lists a file)")
        elif not p.is_file():
            problems.append(f"{p}: missing")
        elif p.stat().st_size != f["bytes"]:
            problems.append(f"{p}: {p.stat().st_size:,} bytes, the index says {f['bytes']:,}")
        elif (got := memo.sha256(p)) != f["sha256"]:
            problems.append(f"{p}: sha256 {got} differs from the index {f['sha256']}")
    memo.save()
    return problems


def require_intact(
    folder: Path, files: list[dict[str, Any]], *, memo: HashMemo | None = None, cache_root: Path | None = None
) -> None:
    """Every file exactly as the index entry says, else an error naming the first one at fault. A copy
    in the download cache (`cache_root`) is moved to quarantine first: fetched again, never reused."""
    problems = check_files(folder, files, memo=memo, cache=cache_root is not None)
    if not problems:
        return
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    if cache_root is not None:
        moved = quarantine(cache_root, folder)
        raise IntegrityError(
            f"{problems[0]}{more}; refused, the cached copy is moved to {moved} (the next download or load "
            "fetches the version again)"
        )
    raise IntegrityError(f"{problems[0]}{more}; refused (heartzoo zoo verify lists every problem)")


def zoo_entry(folder: Path) -> dict[str, Any] | None:
    """The index entry of a version folder of a zoo, by the index three levels up (task/name/version):
    None when there is no index there, an error when it does not list the folder."""
    from .meta import read_index_file

    folder = Path(folder).resolve()
    if len(folder.parents) < 3 or not (folder.parents[2] / "index.json").is_file():
        return None
    root = folder.parents[2]
    rel = folder.relative_to(root).as_posix()
    entry = next((m for m in read_index_file(root / "index.json").models if m.path == rel), None)
    if entry is None:
        raise IntegrityError(f"{folder}: a folder of the zoo at {root} that its index does not list; refused")
    return entry.model_dump(mode="json", exclude_none=True)


def check_zoo_folder(folder: Path) -> None:
    """A version folder of a zoo is checked against its index before its model is read; other folders
    (runs, exports elsewhere) are the user's own and are read as they are."""
    if (Path(folder) / "configuration.json").is_file() and (entry := zoo_entry(folder)) is not None:
        require_intact(Path(folder), entry["files"])


def _quarantine_prefix(folder: Path) -> str:
    """The name a cached version folder (task/name/version) takes in quarantine, before its time."""
    return "__".join(Path(folder).parts[-3:]) + "__"


def quarantine(cache_root: Path, folder: Path) -> Path:
    """Move a cached version folder that failed its check out of the way, so it is never reused."""
    dest = Path(cache_root) / QUARANTINE / f"{_quarantine_prefix(folder)}{time.strftime('%Y%m%dT%H%M%S')}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    while dest.exists():
        n += 1
        dest = dest.with_name(f"{dest.name}-{n}")
    os.replace(folder, dest)
    return dest


def quarantined(cache_root: Path, folder: Path) -> list[Path]:
    """The copies of a cached version folder that `quarantine` set aside, oldest first."""
    return sorted((Path(cache_root) / QUARANTINE).glob(f"{_quarantine_prefix(folder)}*"))


def load_keras(path: Path):
    """A .keras file loaded with safe_mode=True (no Lambda or other code runs); an error naming the file
    when it is refused or damaged, instead of Keras' own (it says 'File not found' for a damaged zip)."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise HeartzooError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of a file cut short
        raise HeartzooError(
            f"{path}: not a readable Keras model (damaged or truncated: {path.stat().st_size:,} bytes, not a "
            "complete .keras archive)"
        )
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, KeyError, zipfile errors...
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise IntegrityError(
                f"{path}: refused, the model holds code (a Lambda layer or a custom function) and heartzoo "
                "loads .keras files with safe_mode=True"
            ) from None
        raise HeartzooError(f"{path}: not a readable Keras model ({type(exc).__name__}: {msg})") from None
