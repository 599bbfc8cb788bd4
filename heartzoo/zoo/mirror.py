"""`heartzoo zoo mirror`: the zoo as a static folder any HTTP host serves (GitHub Pages or releases, S3,
nginx, `python -m http.server`), in the layout `heartzoo download` reads: `index.json` at the top and
each version's files at `task/name/version/FILE`.

Every file is checked against the source index before it is copied and hashed again as it is written, a
version is copied whole into `vN.part/` and renamed into place (a crash leaves only that folder, redone
by the next run, or versions renamed into place that the next run finds intact and lists), a version the
mirror holds already is left alone when its files are the same and refused when they differ (published
versions never change: every such conflict is found before the first write), and `index.json` is
written after them, so a reader never meets an index that lists missing files; the retraining checks
(`checks.json`) of the versions it lists come last. Files get the mode any new file gets (umask), so a
web server running as another user can read them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HeartzooError
from ..integrity import check_files, contained
from ..io import write_json
from ..meta import check_ref, parse_index


@dataclass
class MirrorReport:
    folder: Path
    copied: list[str] = field(default_factory=list)  # NAME@VERSION written now
    kept: list[str] = field(default_factory=list)  # NAME@VERSION already there, identical
    bytes_copied: int = 0


def _wanted(entries: list[dict[str, Any]], models: list[str] | None) -> list[dict[str, Any]]:
    """The entries `models` (NAME: every version, NAME@vN: that one) names; all without it."""
    if not models:
        return entries
    picked = []
    for ref in models:
        name, version = check_ref(ref)
        hits = [e for e in entries if e["name"] == name and version in (None, e["version"])]
        if not hits:
            raise HeartzooError(f"{ref}: not in the zoo being mirrored")
        picked += [e for e in hits if e not in picked]
    return picked


def _copy_hashed(src: Path, dest: Path) -> str:
    """Copy `src` to `dest` and return the sha256 of the bytes written (not of a second read)."""
    import hashlib

    digest = hashlib.sha256()
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
    return digest.hexdigest()


def _holds_exactly(target: Path, entry: dict[str, Any]) -> bool:
    """Whether `target` holds the entry's files, intact, and nothing else."""
    return (
        target.is_dir()
        and {p.name for p in target.iterdir()} == {f["path"] for f in entry["files"]}
        and not check_files(target, entry["files"])
    )


def mirror(dest: str | os.PathLike[str], zoo=None, *, models: list[str] | None = None) -> MirrorReport:
    """Copy the zoo's versions (or those `models` names) into `dest` and write its index: the versions
    already mirrored there and the new ones, with the source's recommendations that still apply."""
    from .index import INDEX, read_index, version_dir, zoo_dir
    from .retrain_checks import read_checks, write_checks

    src = zoo_dir(zoo)
    index = read_index(src)
    dest = Path(dest)
    if dest.resolve() == src.resolve() or src.resolve() in dest.resolve().parents:
        # inside it, the mirror would be a folder of the zoo that its index does not list
        raise HeartzooError(f"{dest}: is, or is inside, the zoo being mirrored; name a folder outside it")
    entries = _wanted(index["models"], models)
    # every source version is checked before the first byte (or folder) is written
    for e in entries:
        problems = check_files(version_dir(src, e), e["files"])
        if problems:
            raise HeartzooError(f"{src / e['path']}: not as its index says, nothing mirrored: {problems[0]}")
    theirs = read_checks(src, index)  # the source's retraining checks, validated before anything is written
    dest.mkdir(parents=True, exist_ok=True)
    before = read_index(dest) if (dest / INDEX).is_file() else {"models": []}
    checks = [*read_checks(dest, before), *theirs]  # and the mirror's own
    had = before["models"]
    report = MirrorReport(dest)
    same = {(e["name"], e["version"]): e for e in had}
    # every conflict is found before the first write, so a refused run leaves the mirror as it was
    todo = []
    for e in entries:
        ref = f"{e['name']}@{e['version']}"
        target = contained(dest, e["path"], ref)
        old = same.get((e["name"], e["version"]))
        if old is not None and old["files"] != e["files"]:
            raise HeartzooError(
                f"{target}: {ref} is mirrored there with other files; a published version never changes"
            )
        if _holds_exactly(target, e):  # listed, or left by a run that stopped before its index: kept
            report.kept.append(ref)
        elif old is None and target.exists() and any(target.iterdir()):
            raise HeartzooError(f"{target}: holds files no index of {dest} lists; move them away first")
        else:
            todo.append((e, ref, target))
    for e, ref, target in todo:
        # copied whole into a sibling folder, then renamed: a crash leaves only that folder, redone next time
        part = target.with_name(target.name + ".part")
        if part.exists():
            shutil.rmtree(part)
        part.mkdir(parents=True)
        for f in e["files"]:
            got = _copy_hashed(version_dir(src, e) / f["path"], part / f["path"])
            if got != f["sha256"]:
                shutil.rmtree(part)
                raise HeartzooError(
                    f"{src / e['path'] / f['path']}: changed while being mirrored; nothing of {ref} written"
                )
            report.bytes_copied += f["bytes"]
        if target.exists():  # a listed version whose files were damaged: replaced by the good copy
            shutil.rmtree(target)
        os.replace(part, target)
        report.copied.append(ref)
    merged = {(e["name"], e["version"]): e for e in [*had, *entries]}
    out: dict[str, Any] = {"format": 1, "models": sorted(merged.values(), key=lambda e: e["path"])}
    old_rec = before.get("recommended", {})
    listed = {f"{e['name']}@{e['version']}" for e in out["models"]}
    out["recommended"] = {t: r for t, r in {**old_rec, **index.get("recommended", {})}.items() if r in listed}
    parse_index(out, str(dest / INDEX))
    write_json(dest / INDEX, out)
    # after the index, as each check must name a version it lists: the mirror's cards say what the
    # source's say, and its recommendation rests on the same checks
    kept = []
    for c in checks:
        if c.ref in listed and c not in kept:
            kept.append(c)
    if kept:
        write_checks(dest, kept)
    # GitHub Pages would otherwise run Jekyll over the folder
    (dest / ".nojekyll").touch()
    return report
