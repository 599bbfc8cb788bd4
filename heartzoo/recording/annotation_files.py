"""The three files of a recording's annotations, written all or none: RECORD.EXT (WFDB annotations: the
beats, `~` noise annotations over unreadable stretches, comments where beats stop and where a run of
possible VT starts, the rhythm's `+` annotations), RECORD.EXT.csv (a row a beat) and RECORD.EXT.json (the
summary and the beats) of an `annotation.Annotated`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import HeartzooError
from ..io import check_outside_zoo
from .beat_codes import noted

if TYPE_CHECKING:
    from .annotation import Annotated


DEFAULT_EXTENSION = "heartzoo"


def output_paths(record: str, output_dir, extension: str = DEFAULT_EXTENSION) -> dict[str, Path]:
    out = Path(output_dir)
    return {
        "wfdb": out / f"{record}.{extension}",
        "csv": out / f"{record}.{extension}.csv",
        "json": out / f"{record}.{extension}.json",
    }


def _annotation_rows(a: Annotated) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """(samples, symbols, subtypes, aux notes) of the annotation file, in time order: the classified
    beats; `~` subtype -1 where an unreadable or missing stretch starts and `~` subtype 0 where it ends
    (WFDB's noise annotation: -1 is "all signals unreadable"); a comment `"` where a stretch without beats
    starts, and where a run of possible ventricular tachycardia starts (`ventricular_runs`)."""
    rows = [
        (int(s), sym, 0, noted(c))
        for s, sym, c in zip(a.samples.tolist(), a.symbols, a.classes.tolist(), strict=True)
    ]
    bad = a.unreadable()  # the gate's and the file's missing stretches
    last = (a.length or 1) - 1
    for start, end in bad:
        rows.append((start, "~", -1, "unreadable"))
        if end <= last:
            rows.append((end, "~", 0, ""))
    for start, end in a.gaps:
        # a pause is said wherever it is (the gate reads a window with one as unreadable); another stretch
        # without beats (a lead off, the recording's ends) only where no unreadable stretch says it already
        if (start, end) in a.pauses or not any(s < end and start < e for s, e in bad):
            rows.append((start, '"', 0, f"no beat for {(end - start) / a.fs:.1f} s"))
    from .rhythm_annotation import annotation_rows

    rows += annotation_rows(a.rhythm)
    rows += [(r.start, '"', 0, r.note) for r in a.ventricular_runs or () if r.tachycardia]
    rows.sort(key=lambda r: (r[0], r[1] not in "~+"))
    samples = np.asarray([r[0] for r in rows], dtype=np.int64)
    return (
        samples,
        [r[1] for r in rows],
        np.asarray([r[2] for r in rows], dtype=np.int64),
        [r[3] for r in rows],
    )


def _ours(summary: Path, record: str) -> bool:
    """Whether `summary` is the JSON heartzoo wrote for `record` (any file of that name will not do: an
    empty `{}` let a record's own .atr be replaced)."""
    try:
        got = json.loads(summary.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(got, dict) and got.get("record") == record and {"model", "r_peaks", "beats"} <= set(got)


def write_annotations(
    annotated: Annotated, output_dir, extension: str = DEFAULT_EXTENSION
) -> dict[str, Path]:
    """RECORD.EXT (WFDB annotations, readable by wfdb.rdann and WFDB's tools), RECORD.EXT.csv (one row
    per beat) and RECORD.EXT.json (summary and beats) in `output_dir`: all written to a temporary folder
    beside them and moved into place only once all three are whole; an earlier run's RECORD.EXT.png is
    removed (`plot.plot_file` draws this run's)."""
    import wfdb

    if not extension.isalpha() or not extension.isascii():
        raise HeartzooError(f"annotation extension {extension!r}: letters only (wfdb-python writes no other)")
    samples, symbols, subtypes, aux = _annotation_rows(annotated)
    if not len(samples):
        raise HeartzooError(f"{annotated.record}: no beats found, so no annotation file to write")
    out = Path(output_dir)
    check_outside_zoo(out, what="the annotations", option="--output-dir")
    final = output_paths(annotated.record, out, extension)
    if taken := [str(f) for f in final.values() if f.is_dir()]:
        raise HeartzooError(f"{', '.join(taken)}: a folder where the annotations go; nothing was written")
    if final["wfdb"].exists() and not _ours(final["json"], annotated.record):
        # heartzoo writes its RECORD.EXT.json beside every RECORD.EXT: without it, the file is the record's
        # own (its header, its signals, its reference annotations), and replacing it would destroy the record
        raise HeartzooError(
            f"{final['wfdb']}: exists and heartzoo did not write it (no heartzoo summary {final['json'].name} "
            "beside it), so it may be the record's own file; nothing was written: choose another --extension "
            "or --output-dir"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".heartzoo-annotate-", dir=out))
    except OSError as exc:
        raise HeartzooError(f"{out}: cannot write the annotations there ({exc.strerror or exc})") from None
    try:
        wfdb.wrann(
            annotated.record,
            extension,
            samples,
            symbol=symbols,
            subtype=subtypes,
            aux_note=aux,
            chan=np.full(len(samples), annotated.channel, dtype=np.int64),  # where wfdb.plot_wfdb draws them
            fs=annotated.fs,
            write_dir=str(tmp),
        )
        # written a beat at a time, never built whole in memory
        with open(tmp / final["csv"].name, "w") as f:
            annotated.write_csv(f)
        with open(tmp / final["json"].name, "w") as f:
            annotated.write_json(f)
        _replace_all({tmp / final[key].name: final[key] for key in ("csv", "json", "wfdb")}, tmp)
        # an earlier run's picture would sit beside this run's files as if it were theirs (`--plot` draws anew)
        stale = out / f"{annotated.record}.{extension}.png"
        if stale.is_file() and not stale.is_symlink():
            stale.unlink()
    except OSError as exc:
        raise HeartzooError(
            f"{out}: could not write {annotated.record}'s annotations ({exc.strerror or exc}); nothing there "
            "was changed"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def remove_outputs(record: str, output_dir, extension: str = DEFAULT_EXTENSION) -> list[Path]:
    """An earlier run's outputs of `record` in `output_dir` (its WFDB annotations, CSV, JSON and picture),
    removed where heartzoo's summary says it wrote them: a recording that now fails leaves none beside the
    row that says so. The files removed."""
    final = output_paths(record, output_dir, extension)
    if not _ours(final["json"], record):
        return []
    gone = [*final.values(), Path(output_dir) / f"{record}.{extension}.png"]
    gone = [f for f in gone if f.is_file() and not f.is_symlink()]
    for f in gone:
        f.unlink()
    return gone


def _replace_all(moves: dict[Path, Path], spare: Path) -> None:
    """Each new file moved onto its target, all or none: a target's old file is set aside in `spare` and
    put back, and the new ones taken away, if any move fails (a set of annotation files never mixes
    two runs)."""
    aside: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for new, target in moves.items():
            if target.exists():
                aside[target] = spare / f"old-{target.name}"
                os.replace(target, aside[target])
            os.replace(new, target)
            done.append(target)
    except OSError:
        for target in done:
            target.unlink(missing_ok=True)
        for target, old in aside.items():
            os.replace(old, target)
        raise
