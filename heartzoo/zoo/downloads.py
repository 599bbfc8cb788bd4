"""The download cache of zoo versions: each version fetched into its own folder, every file checked
against the validated index (sha256 and size, resumable), the entry it was fetched with and where from
kept beside it, so that a published version, which never changes, is served offline and a mirror that
changes it is refused. `heartzoo.zoo.hub` loads what it holds."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..errors import DownloadError, HeartzooError
from ..integrity import (
    HASH_MEMO,
    HashMemo,
    IntegrityError,
    check_files,
    contained,
    quarantined,
    require_intact,
)
from ..io import read_json, write_json
from ..meta import check_pin, check_ref

#: The index entry a cached version was downloaded with, kept beside its files.
ENTRY = ".entry.json"
#: Where a cached version was downloaded from (the index's address), kept beside its entry.
SOURCE = ".source.json"

log = logging.getLogger(__name__)


def models_cache(explicit: str | os.PathLike[str] | None = None) -> Path:
    from .. import paths

    return paths.cache_dir(explicit) / "models"


def download(
    name: str,
    version: str | None = None,
    *,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    retries: int = 3,
    sha256: str | None = None,
) -> Path:
    """Fetch NAME[@VERSION] into the local cache and return its folder.

    The index is validated first, and every file goes only to its version's folder in the cache,
    streamed into a `.part` file (resumed with HTTP Range after a dropped connection) that may not grow
    past the size the index gives, and renamed into place only once its sha256 matches. Files already
    cached and intact are not fetched again, so the cache serves offline once a version is there; a
    version named (NAME@vN) and cached intact is served without reading the index at all.
    `sha256` pins the version: its digest (`heartzoo zoo show`) must be this, or nothing is fetched.
    """
    from ..data.download import fetch_resumable
    from ..io import sha256_of
    from .index import find, remote_index, zoo_url

    name, version = check_ref(name, version)
    cache = models_cache(cache_dir)
    root = zoo_url(base_url)  # the zoo's address, as SOURCE records where a copy came from
    kept = _pinned_copy(cache, name, version, root + "index.json") if version is not None else None
    if kept is not None:
        check_pin(kept[1], sha256, str(kept[0] / ENTRY))
        return kept[0]
    try:
        index = remote_index(base_url, timeout, cache_dir=cache_dir, offline=False)
    except DownloadError as exc:
        local = _cached_entry(cache, name, version, sha256)
        if local is not None:
            # said: a name alone is then the latest version cached, which the zoo may have passed
            log.warning("%s; using %s@%s cached at %s", exc, name, local.name, local)
            return local
        raise
    entry = find(index, name, version)
    check_pin(entry, sha256, root + "index.json")
    folder = contained(cache, entry["path"], f"{entry['name']}@{entry['version']}")
    memo = HashMemo(cache / HASH_MEMO)
    if (folder / ENTRY).is_file():
        _same_version(folder, entry, root + "index.json")
    else:  # a copy set aside in quarantine still says what this version was: its files may not change
        for old in quarantined(cache, folder):
            if (old / ENTRY).is_file():
                _same_version(old, entry, root + "index.json")
    if folder.is_dir():
        # the files already there (the others are only not fetched yet): a damaged or tampered copy is
        # set aside for inspection, never reused
        present = [
            f for f in entry["files"] if (folder / f["path"]).exists() or (folder / f["path"]).is_symlink()
        ]
        require_intact(folder, present, memo=memo, cache_root=cache)
    folder.mkdir(parents=True, exist_ok=True)
    url = root + entry["path"] + "/"
    for f in entry["files"]:
        where = f"{entry['path']}/{f['path']}"
        dest = contained(cache, where, where)
        if dest.is_file() and dest.stat().st_size == f["bytes"] and memo.sha256(dest) == f["sha256"]:
            continue
        part = contained(cache, where + ".part", where)
        resumed = part.is_file()  # a part left by a dropped connection, perhaps from another host
        for attempt in (1, 2):
            fetch_resumable(
                url + f["path"], part, timeout, retries, where, None, max_bytes=f["bytes"], same_origin=True
            )
            size, got = part.stat().st_size, sha256_of(part)
            if size == f["bytes"] and got == f["sha256"]:
                break
            part.unlink()
            if resumed and attempt == 1:  # the bytes kept from before may be what is wrong: once from 0
                continue
            raise DownloadError(
                f"{where}: refused, {size:,} bytes with sha256 {got}; the index lists {f['bytes']:,} bytes "
                f"with sha256 {f['sha256']}"
                + (" (fetched again from its first byte)" if resumed else "")
                # the files fetched intact are kept, unvouched, until a download completes the version
                + f"; the version's intact files stay in {folder} for the next download"
            )
        os.replace(part, dest)
        memo.record(dest, got)  # loading it next hashes nothing again
    write_json(folder / ENTRY, entry)
    write_json(folder / SOURCE, {"index": root + "index.json"})
    memo.save()
    return folder


def _pinned_copy(cache: Path, name: str, version: str, source: str) -> tuple[Path, dict[str, Any]] | None:
    """NAME@VERSION's folder where it was cached from the index at `source` and every file is intact: a
    published version never changes, so it needs no index and no network (a name alone asks the index
    which version is the latest). Anything else, another mirror's copy or a file missing or damaged, goes
    the way of a download, which refuses a mirror that changed it or fetches what is missing."""
    for entry, folder in _cached_versions(cache, name):
        if folder is None or entry["version"] != version:
            continue
        try:
            same = read_json(folder / SOURCE)["index"] == source
        except (HeartzooError, KeyError, TypeError):  # a copy cached before the record was kept
            return None
        intact = not check_files(folder, entry["files"], memo=HashMemo(cache / HASH_MEMO), cache=True)
        return (folder, entry) if same and intact else None
    return None


def _same_version(folder: Path, entry: dict[str, Any], source: str) -> None:
    """Refuse an index that lists other files for a version than those it was cached with: a published
    version never changes, so the index (not the cached copy) is what is wrong, and the cache is left as
    it is."""
    try:
        cached = read_entry(folder / ENTRY)
    except (HeartzooError, OSError):
        return  # not an entry this cache wrote: the files' own check decides

    def files(e: dict[str, Any]) -> dict[str, tuple[str, int]]:
        return {f["path"]: (f["sha256"], f["bytes"]) for f in e["files"]}

    def said(f: tuple[str, int] | None) -> str:
        return "absent" if f is None else f"{f[0][:12]}, {f[1]:,} bytes"

    was, now = files(cached), files(entry)
    if was != now:
        changed = ", ".join(
            f"{name}: {said(was.get(name))} cached, {said(now.get(name))} listed"
            for name in sorted(set(was) | set(now))
            if was.get(name) != now.get(name)
        )
        try:  # whose copy it is: a first download from a host that lied is what the user must see
            origin = f" from {str(read_json(folder / SOURCE)['index'])[:300]}"
        except (HeartzooError, KeyError, TypeError):  # a copy cached before the record was kept
            origin = ""
        raise DownloadError(
            f"{source}: refused, it lists other files for {entry['name']}@{entry['version']} than the copy "
            f"cached at {folder}{origin} ({changed}); a published version never changes, so the cached copy is "
            "left as it is (a zoo of your own republished it? remove that folder, or use another --cache-dir)"
        )


def _cached_entry(cache: Path, name: str, version: str | None, sha256: str | None = None) -> Path | None:
    """Offline: the cached folder of NAME (latest cached version unless given), verified."""
    name, version = check_ref(name, version)
    found = []
    for entry, folder in _cached_versions(cache, name):
        # a folder without a valid entry of its own is not one this cache wrote
        if folder is not None and version in (None, entry["version"]):
            found.append((int(entry["version"][1:]), folder, entry))
    if not found:
        return None
    _, folder, entry = max(found, key=lambda t: t[0])
    check_pin(entry, sha256, str(folder / ENTRY))
    verify_copy(folder, entry, cache, in_cache=True)
    return folder


def verify_cache(cache_dir: str | os.PathLike[str] | None = None) -> tuple[int, list[str]]:
    """Every version in the download cache re-hashed against the index entry it was downloaded with, and
    every version folder without one named: (folders checked, problems). Nothing is moved or fetched."""
    cache = models_cache(cache_dir)
    if not cache.is_dir():
        raise HeartzooError(f"{cache}: no download cache here (nothing downloaded, or another --cache-dir?)")
    checked, problems = 0, []
    for entry, folder in _cached_versions(cache):
        checked += 1
        problems += [entry] if folder is None else check_files(folder, entry["files"], cache=True)
    # task/name/version folders with no entry: an interrupted download, or files the cache did not write
    for place in sorted(cache.glob("*/*/*")):
        if (
            not any(part.startswith(".") for part in place.relative_to(cache).parts)
            and not (place / ENTRY).is_file()
        ):
            checked += 1
            problems.append(
                f"{place}: no {ENTRY} beside it (an interrupted or refused download, whose intact files wait "
                f"for `heartzoo download {place.parent.name}@{place.name}` to fetch the rest; or not written by "
                "heartzoo): nothing vouches for its files yet"
            )
    return checked, problems


def _cached_versions(cache: Path, name: str = "*"):
    """(entry, folder) of each version of `name` in the cache, or (what is wrong with it, None) where its
    entry is not valid or names another folder than the one it is in."""
    for marker in sorted(cache.glob(f"*/{name}/v*/{ENTRY}")):
        if marker.is_symlink():  # the cache writes its entries; a link may lead anywhere
            yield f"{marker}: a symbolic link, refused (the cache writes its entries as files)", None
            continue
        try:
            entry = read_entry(marker)
            folder = contained(cache, entry["path"], str(marker))
        except HeartzooError as exc:
            yield str(exc), None
            continue
        if folder != marker.parent.resolve():
            yield f"{marker}: its entry names {entry['path']!r}, not the folder it is in", None
        else:
            yield entry, folder


def read_entry(path: Path) -> dict[str, Any]:
    from pydantic import ValidationError

    from ..meta import IndexEntry

    try:
        return IndexEntry.model_validate(read_json(path)).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise IntegrityError(f"{path}: not a valid index entry ({exc.error_count()} problem(s))") from None


def verify_copy(folder: Path, entry: dict[str, Any], cache: Path, *, in_cache: bool) -> None:
    """Every file of `folder` as `entry` lists it; a damaged copy in the cache is set aside (quarantine)."""
    require_intact(
        folder, entry["files"], memo=HashMemo(cache / HASH_MEMO), cache_root=cache if in_cache else None
    )
