"""Many recordings in one call: `heartzoo annotate A B C ...` (a folder of Apple Watch exports, a day of
patch segments). Each recording is annotated and written as one alone is (`annotation.annotate_file`,
`write_annotations`: its three files, all or none); a recording that cannot be read is reported and the
others go on; and one table, `annotate-summary.csv`, gives a row per recording: its beats per class, its
rhythm and AF burden where a rhythm model was given, what the device said of it (an Apple Watch's own
classification), the warnings, and the error of a recording that was not annotated.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HeartzooError
from ..io import atomic_path, check_outside_zoo
from .annotation import Annotated, annotate_file, beat_model
from .annotation_files import output_paths, remove_outputs, write_annotations
from .quality import gate_name
from .read import output_name

SUMMARY = "annotate-summary.csv"


@dataclass(frozen=True)
class Outcome:
    """One recording of a batch: what `annotate` made of it and the files written, or why not."""

    path: Path
    result: Annotated | None = None
    files: dict[str, Path] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """`annotate --json`'s summary of the recording, with its file, its error and the files written."""
        summary = self.result.summary() if self.result else {}
        return {
            "file": str(self.path),
            **summary,
            "error": self.error,
            "files": {k: str(v) for k, v in self.files.items()},
        }


def batch_recordings(paths, extension: str) -> tuple[list[Path], list[Path]]:
    """(the recordings of a batch, the files left out of it): a WFDB record's other files where its header
    or record is in the batch too (`annotate folder/*` names 100.hea and 100.dat, one recording), and
    heartzoo's own outputs (`annotate *.csv` run again in its output folder names the summary and each
    RECORD.EXT.csv); an error where nothing else is left."""
    paths = [Path(p) for p in paths]
    given = set(paths)
    outputs = tuple(f".{extension}.{kind}" for kind in ("csv", "json", "png"))
    keep, left = [], []
    for p in paths:
        record = p.with_suffix("")  # a record named without a suffix is itself, no companion
        companion = p.suffix.lower() not in ("", ".hea") and (
            p.with_suffix(".hea") in given or record in given
        )
        ours = p.name == SUMMARY or p.name.endswith(outputs)
        (left if companion or ours else keep).append(p)
    if left and not keep:
        raise HeartzooError(
            "every file given is a WFDB record's other file or heartzoo's own output: no recording to annotate"
        )
    return keep, left


class Interrupted(KeyboardInterrupt):
    """A batch stopped by Ctrl-C, with the `outcomes` of the recordings finished before it (each written
    whole): what its summary lists."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__()
        self.outcomes = outcomes


def check_names(paths, output_dir, extension: str) -> None:
    """Refuse, before anything is written, two recordings whose annotations would take the same files
    (`a/ecg.csv` and `b/ECG.csv` both write `ecg.heartzoo` on a disk that ignores case), or the summary's
    (`--extension csv` of a recording named `annotate-summary`), and an output folder inside a zoo."""
    check_outside_zoo(Path(output_dir), what="the annotations", option="--output-dir")
    seen: dict[str, Path] = {}
    summary = Path(output_dir) / SUMMARY
    summary_key = str(summary).casefold()  # keys in any case: one file on the disks of macOS and Windows
    for p in map(Path, paths):
        try:
            name = output_name(p)
        except HeartzooError:
            continue  # reported with the recording, in its turn
        written = output_paths(name, output_dir, extension)
        if summary_key in {str(f).casefold() for f in written.values()}:
            raise HeartzooError(
                f"{p} would be written as {summary}, the batch's summary: give another --extension"
            )
        target = written["wfdb"]
        key = str(target).casefold()
        if key in seen:
            raise HeartzooError(
                f"{seen[key]} and {p} would both be written as {target} (the same recording twice, or "
                "two of one name, in any case: annotate those into different --output-dir folders)"
            )
        seen[key] = p


def _earlier_outputs_removed(path: Path, output_dir, extension: str) -> bool:
    try:
        name = output_name(path)
    except HeartzooError:
        return False
    return bool(remove_outputs(name, output_dir, extension))


def annotate_files(
    paths, model, *, output_dir, extension: str, progress=None, plot: bool = False, **options
) -> list[Outcome]:
    """Each recording of `paths` annotated by `model` (loaded once) and written to `output_dir` (`plot`:
    with its picture, `plot.plot_file`); the options are `annotate_file`'s. `progress(path, i, n)` before
    each recording."""
    from ..zoo.hub import resolve_model

    paths = [Path(p) for p in paths]
    if not paths:
        raise HeartzooError("no recording to annotate")
    check_names(paths, output_dir, extension)
    zoo, float_model = options.get("zoo"), options.pop("float_model", False)
    loaded = beat_model(model, zoo=zoo, float_model=float_model)  # an unknown model fails first
    if options.get("rhythm"):  # and an unknown rhythm model, before any recording; loaded once too
        options["rhythm"] = resolve_model(options["rhythm"], zoo=zoo)
    # an earlier run's summary would list other files, or another model's counts, beside this run's
    (Path(output_dir) / SUMMARY).unlink(missing_ok=True)
    out: list[Outcome] = []
    try:
        for i, p in enumerate(paths):
            if progress is not None:
                progress(p, i, len(paths))
            out.append(_annotate_one(p, loaded, output_dir, extension, plot, options))
    except KeyboardInterrupt:
        raise Interrupted(out) from None
    return out


def _annotate_one(p: Path, loaded, output_dir, extension: str, plot: bool, options: dict) -> Outcome:
    """One recording of a batch annotated and written, or why not."""
    own = _own_rate(p, options)
    try:
        result = annotate_file(p, loaded, **own)
    except (HeartzooError, OSError, ValueError) as exc:  # one bad file never stops the others
        error = str(exc) if isinstance(exc, HeartzooError) else f"{p}: {exc}"
        if _earlier_outputs_removed(p, output_dir, extension):
            error += " (an earlier run's outputs of it removed)"
        return Outcome(p, error=error)
    files: dict[str, Path] = {}
    try:
        files.update(write_annotations(result, output_dir, extension))
        if plot:
            from .plot import plot_file

            files["png"] = plot_file(
                p,
                result,
                output_dir,
                extension,
                fs=own.get("fs"),
                lead=own.get("lead"),
                invert=own.get("invert", False),
            )
        return Outcome(p, result, files)
    except HeartzooError as exc:  # no beats in it, or the folder refused: its summary row says so
        return Outcome(p, result, files, error=str(exc))


def _own_rate(path: Path, options: dict) -> dict:
    """`options` for one recording of a batch: --fs is for the files that carry no rate, so a record whose
    header states its own (WFDB, EDF, ISHNE) is read at that one."""
    from .read import RATE_IN_HEADER, input_format

    if options.get("fs") is None:
        return options
    try:
        fmt, _ = input_format(path)
    except HeartzooError:
        return options  # not a recording: annotate_file says so, in its turn
    return {**options, "fs": None} if fmt in RATE_IN_HEADER else options


def summary_rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per recording, in the order given (the columns of `annotate-summary.csv`)."""
    classes: list[str] = []
    for o in outcomes:
        classes += [c for c in (o.result.class_names if o.result else ()) if c not in classes]
    rows = []
    for o in outcomes:
        r = o.result
        row: dict[str, Any] = {"file": str(o.path), "record": r.record if r else ""}
        row |= {
            "seconds": round(r.length / r.fs, 1) if r else "",
            "fs": r.fs if r else "",
            "lead": r.lead if r else "",
            "model": r.model if r else "",  # NAME@VERSION: a summary says which model's beats it counts
            # and what found and gated them: a batch's counts are those of one detector and one gate
            "r_peaks": r.peaks if r else "",
            "quality_gate": (gate_name(r.gate) or "") if r and r.windows is not None else "",
            "beats": len(r.classes) if r else "",
        }
        counts = Counter(r.classes.tolist()) if r else Counter()
        row |= {f"beats_{c}": counts.get(c, 0) if r else "" for c in classes}
        row["unclassified"] = r.unclassified if r else ""
        whole, af = (r.rhythm_recording, r.af_burden) if r else (None, None)
        row |= {
            # which model made the rhythm columns, as `model` says whose beats are counted
            "rhythm_model": (r.rhythm_model or "") if r else "",
            "rhythm": whole["class"] if whole else "",
            "rhythm_p": round(whole["probabilities"][whole["class"]], 3) if whole else "",
            "af_burden_pct": round(100 * af.burden, 1) if af is not None and af.burden is not None else "",
            "af_episodes": len(af.episodes) if af is not None else "",
        }
        findings = r.findings if r else ()
        row["notes"] = " | ".join(f.message for f in findings if f.code == "read")
        row["warnings"] = " | ".join(f.message for f in findings if f.code != "read")
        row["error"] = o.error or ""
        rows.append(row)
    return rows


def summary_csv(outcomes: list[Outcome]) -> str:
    rows = summary_rows(outcomes)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["file"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_summary(outcomes: list[Outcome], output_dir) -> Path:
    """`annotate-summary.csv` in `output_dir`, written whole or not at all."""
    path = Path(output_dir) / SUMMARY
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(summary_csv(outcomes), encoding="utf-8")
    except OSError as exc:
        raise HeartzooError(f"{path}: cannot write the summary there ({exc.strerror or exc})") from None
    return path
