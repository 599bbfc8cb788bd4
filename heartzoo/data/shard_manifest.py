"""The manifest of a folder of shards (`heartzoo.data.shards` writes it): what it may name, and the
shards it lists checked against it before anything streams from them.

A manifest is read from disk and may have been edited or swapped: each shard it lists must be a bare file
name of its own folder, of the size it records, and, when a training stream opens it, of the sha256 it
records.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import HeartzooError
from ..io import read_json, sha256_of

FORMAT = "heartzoo-shards"
FORMAT_VERSION = 2  # 2: per-record row counts, databases labelled per recording
MANIFEST = "manifest.json"
#: the file names a manifest may give its shards: a bare .h5 name (no separator, not hidden, not `.` or
#: `..`), so no path read from a manifest leaves its folder; `plan_shards`' names, or any other there
SHARD_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.h5")


#: what a shards folder holds besides its manifest: the shards and their summaries; hidden files (a
#: preparation's partial files and lock, a manifest being written, a file browser's own)
SHARDS_FOLDER_FILE = re.compile(r"shard-.*|\..*")


def check_shards_folder(folder: Path) -> None:
    """An error where `folder` exists and holds anything but shards (a run's folder, a data folder):
    before a file is written there, since its manifest.json may be a run's, and shards mixed into a folder
    of other files would be read back with them."""
    if not folder.is_dir():
        return
    path = folder / MANIFEST
    try:
        other = path.is_file() and read_json(path).get("format") != FORMAT
    except HeartzooError:
        other = False  # damaged: the preparation's own check says how to go on
    found = sorted(
        p.name for p in folder.iterdir() if p.name != MANIFEST and not SHARDS_FOLDER_FILE.fullmatch(p.name)
    )
    if other or found:
        what = f"its {MANIFEST} is no shards' manifest" if other else f"it holds {', '.join(found[:3])}"
        raise HeartzooError(
            f"{folder}: not a folder of shards ({what}); give a new or empty folder for them (nothing "
            "here was changed)"
        )


#: (shard's real path, size, mtime, ctime) -> its sha256, hashed in this process: a training process
#: reads the manifest more than once (the config's check, then the stream)
_HASHED: dict[tuple[str, int, int, int], str] = {}


def read_manifest(folder: str | os.PathLike[str], *, verify: bool = True) -> dict[str, Any]:
    """The manifest of a finished preparation; an unfinished one is an error saying to resume it.

    Each shard's file must be a bare .h5 name (`SHARD_FILE`), there, of the recorded size; with `verify`
    (what a training stream opens) its sha256 is checked too, once per process and file. That costs one
    sequential read of the shards, where training reads them pass after pass, in random pieces: cheap
    beside it, and a shard changed or swapped behind the manifest is refused before any batch."""
    path, m = _manifest(folder)
    for i, s in enumerate(m["shards"]):
        problem = _shard_problem(path, i, s, verify, cached=True)
        if problem:
            raise HeartzooError(
                f"{problem}; prepare the shards again (`heartzoo data shard ... --verify` redoes damaged ones)"
            )
    return m


def _manifest(folder: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """The manifest at `folder` and its path: a finished one of this format, each shard named by a bare
    file name of the folder, with its bytes and sha256 (refused otherwise; the files are not looked at)."""
    path = Path(folder) / MANIFEST
    m = read_json(path)
    if m.get("format") != FORMAT:
        raise HeartzooError(f"{path}: not a {FORMAT} manifest")
    if m.get("format_version") != FORMAT_VERSION:
        raise HeartzooError(
            f"{path}: shards of format version {m.get('format_version')}, this heartzoo reads version "
            f"{FORMAT_VERSION}; prepare them again into a new folder (or delete this one)"
        )
    if not m.get("complete"):
        raise HeartzooError(f"{path}: preparation unfinished; run it again to resume")
    shards = m.get("shards")
    if not isinstance(shards, list) or not all(isinstance(s, dict) for s in shards):
        raise HeartzooError(f"{path}: field 'shards' is not a list of shard summaries")
    for i, s in enumerate(shards):
        name = s.get("file")
        if not isinstance(name, str) or not SHARD_FILE.fullmatch(name):
            raise HeartzooError(
                f"{path}: field 'shards[{i}].file' is {name!r}, not a bare .h5 file name; refused, a "
                "manifest names only files of its own folder"
            )
        if not isinstance(s.get("bytes"), int) or not isinstance(s.get("sha256"), str):
            raise HeartzooError(
                f"{path}: field 'shards[{i}]' lacks its bytes or sha256; prepare the shards again"
            )
    return path, m


def _shard_problem(path: Path, i: int, s: dict[str, Any], verify: bool, cached: bool) -> str | None:
    """What is wrong with shard `i` of the manifest at `path` (checked by `_manifest`): missing, of
    another size or (`verify`) other bytes than its sha256; None if intact. `cached`: a file hashed
    before in this process, unchanged since, is not hashed again."""
    field, size, digest = f"field 'shards[{i}]", s["bytes"], s["sha256"]
    shard = path.parent / s["file"]
    try:
        st = shard.stat()
    except OSError as exc:
        what = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc.strerror})"
        return f"{shard}: {what}, listed in {path}"
    if st.st_size != size:
        return f"{shard}: {st.st_size:,} bytes, {field}.bytes' says {size:,} ({path})"
    if not verify:
        return None
    # a rewrite changes mtime or ctime (at the clock's tick): then the file is hashed again
    key = (str(shard.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if cached and _HASHED.get(key) == digest:
        return None
    try:
        found = sha256_of(shard)
    except OSError as exc:
        return f"{shard}: unreadable ({exc.strerror}), listed in {path}"
    if found != digest:
        return f"{shard}: its bytes do not match {field}.sha256' ({path})"
    _HASHED[key] = found
    return None


def verify_shards(folder: str | os.PathLike[str]) -> list[str]:
    """Shards missing, of another size than the manifest's or whose bytes no longer match its sha256,
    each hashed anew (empty: all intact). A manifest naming a file outside its folder is refused, as
    `read_manifest` refuses it."""
    path, m = _manifest(folder)
    return [s["file"] for i, s in enumerate(m["shards"]) if _shard_problem(path, i, s, True, cached=False)]


def sources_stamp(records, data_dir, labels: dict | None = None) -> str:
    """What a shard's rows were made from, as a sha256: each (database, record)'s files, size and mtime as
    the windows cache stamps them (the signal files its header names), and a recording's label where its
    database labels recordings (`labels`: those read so far, per database, read once for all the shards).
    A shard whose sources changed since is made again."""
    import hashlib

    from .cache import record_files, source_stamp
    from .databases import get_database

    parts, labels = [], {} if labels is None else labels
    for name, record in records:
        db = get_database(name)
        files = record_files(db.record_dir(db.folder(data_dir), record), record).values()
        parts.append(source_stamp([p for p in files if p.is_file()]))
        if db.unit == "recording":
            if db.name not in labels:
                labels[db.name] = db.labels(data_dir)
            parts.append(f"label {db.label_of(record, labels[db.name], data_dir)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def finished(
    out: Path, job, data_dir=None, verify: bool = False, labels: dict | None = None
) -> dict[str, Any] | None:
    """The summary of a finished shard (`shards.ShardJob` `job`), or None if it must be (re)done: its
    records, size, sources (`sources_stamp`; a record edited since) or, with `verify`, sha256 differ."""
    h5, js = Path(out) / f"{job.name}.h5", Path(out) / f"{job.name}.json"
    if not (h5.is_file() and js.is_file()):
        return None
    try:
        summary = read_json(js)
    except HeartzooError:
        return None
    if summary.get("records") != [r for _, r in job.records] or summary.get("bytes") != h5.stat().st_size:
        return None
    if summary.get("sources") != sources_stamp(job.records, data_dir, labels):
        return None
    if verify and summary.get("sha256") != sha256_of(h5):
        return None
    return summary
