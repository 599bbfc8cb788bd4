"""Which annotation files `heartzoo ec57` compares (two files of one record, or two folders) and what
their reader must be told beside the scores (`ec57` holds the comparison itself)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import HeartzooError
from .ec57 import Annotations, Report, read_annotations


def _resolve(p: Path, ext: str | None) -> Path:
    """A file or folder as given, or a record path RECORD whose RECORD.EXT exists."""
    if p.exists():
        return p
    if ext and p.with_name(f"{p.name}.{ext}").is_file():
        return p.with_name(f"{p.name}.{ext}")
    other = f" (nor {p.name}.{ext})" if ext and p.suffix != f".{ext}" else ""
    raise HeartzooError(f"{p}: no such annotation file or folder{other}")


def notes(pairs: list[tuple[Annotations, Annotations]], report: Report | None = None) -> list[str]:
    """What a reader of the scores of `pairs` (and their `report`) must be told: test annotations
    without beats (each of the record's beats counts as missed), beat-2's "S or V" class, which has no
    WFDB code and is written as Q (EC57 counts it as neither VEB nor SVEB), test annotations read at their
    reference's rate (they gave none), and the misses that lie in the test's shutdown (the stretches
    `annotate` found unreadable: no detector's miss)."""
    out = [
        f"note: {t.file or t.record} holds no beat annotations: each of its record's beats counts as missed"
        for _, t in pairs
        if not len(t.samples)
    ]
    out += [
        f"note: {t.file or t.record} gives no sampling rate, nor has a header beside it: read at its "
        f"reference's {r.fs:g} Hz"
        for r, t in pairs
        if t.rate_given
    ]
    ectopic = sum(t.ectopic_q for _, t in pairs)
    if ectopic:
        out.append(
            f"note: {ectopic:,} test beats are a beat-2 model's 'ectopic' class, written as Q (WFDB has no "
            "code for S or V): EC57 counts them as detected beats but never as VEBs or SVEBs, so VEB and "
            "SVEB Se are 0 (or -) whatever the model found"
        )
    out += [f"note: not scored: {why}" for _, why in (report.skipped if report is not None else ())]
    missed = report.gross.tallies["shutdown_fn"] if report is not None else 0
    if missed:
        fn = report.gross.tallies["qrs_fn"]
        out.append(
            f"note: {missed:,} of the {fn:,} missed beats (FN) lie where the test annotations mark every "
            f"signal unreadable ({report.shutdown_s:,.0f} s, WFDB's shutdown: `~` noise annotations, as "
            "annotate writes the quality gate's unreadable windows); EC57 counts them as missed (bxb's "
            "'beats missed in shutdown'), and the JSON gives them per record (shutdown_fn)"
        )
    return out


def read_pairs(
    ref: str | os.PathLike[str],
    test: str | os.PathLike[str],
    *,
    ref_ext: str = "atr",
    test_ext: str | None = None,
    records: list[str] | None = None,
) -> list[tuple[Annotations, Annotations]]:
    """(reference, test) annotations to compare: two annotation files (RECORD.EXT each, or the record
    paths and the extensions), or two folders and the extensions, every record with a reference file (or
    each of `records`) needing its test file."""
    ref, test = _resolve(Path(ref), ref_ext), _resolve(Path(test), test_ext)
    if ref.is_dir() != test.is_dir():
        raise HeartzooError(f"{ref} and {test}: give two annotation files, or two folders")
    if not ref.is_dir():
        if records:
            raise HeartzooError("--records chooses records in folders; two files are one record")
        from ..data.wfdb_names import wfdb_letters

        a = read_annotations(ref)
        b = read_annotations(test, need_beats=False, fs=a.fs)
        # two files are one record's two annotation sets (100.atr, 100.heartzoo; annotate writes a WFDB
        # record's in the letters WFDB takes, rec.1 -> rec_1): another record's beats would be scored as
        # misses and extras without a word
        if wfdb_letters(a.record) != wfdb_letters(b.record):
            raise HeartzooError(
                f"{ref} and {test}: annotations of two different records ({a.record} and {b.record}); "
                "compare a record's reference annotations with its own test annotations"
            )
        return [(a, b)]
    if not test_ext:
        raise HeartzooError("comparing folders: give the test annotations' extension")
    names = (
        list(records) if records else sorted(p.name[: -len(ref_ext) - 1] for p in ref.glob(f"*.{ref_ext}"))
    )
    if not names:
        raise HeartzooError(f"{ref}: no *.{ref_ext} annotation files")
    missing = [r for r in names if not (test / f"{r}.{test_ext}").is_file()]
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise HeartzooError(
            f"{test}: no .{test_ext} annotations for record(s) {shown}; choose records with --records"
        )
    return [
        (a, read_annotations(test / r, test_ext, need_beats=False, fs=a.fs))
        for r in names
        for a in [read_annotations(ref / r, ref_ext)]
    ]
