"""WFDB annotation files, checked before they are believed: whole (wfdb reads a file cut short without a
word) and at the rate of the record they annotate (a file written at another rate puts every beat at the
wrong time)."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError


def read_atr(folder: Path, record: str, record_fs: float):
    """(wfdb's annotations, path) of `record`'s `.atr` in `folder`, checked: present, whole, readable and
    at the record's rate `record_fs`; else a `DataError` naming the file."""
    import wfdb

    atr = Path(folder) / f"{record}.atr"
    if not atr.is_file():
        raise DataError(record, "annotation file missing", path=str(atr))
    check_annotation_file(record, atr)
    try:
        ann = wfdb.rdann(str(Path(folder) / record), "atr")
    except Exception as exc:  # wfdb raises bare errors on a damaged file
        raise DataError(record, f"cannot read annotations: {exc}", path=str(atr)) from None
    if problem := rate_problem(ann.fs, record_fs, f"{record}.hea"):
        raise DataError(record, problem, path=str(atr))
    return ann, atr


def check_annotation_file(record: str, path: Path) -> None:
    """A DataError naming `path` unless it is a whole WFDB annotation file: wfdb reads a file cut short
    as the beats before the cut, without a word (a copy that stopped halfway would train on half a
    record)."""
    if not annotation_file_complete(Path(path).read_bytes()):
        raise DataError(
            record, "truncated WFDB annotation file (its end-of-file mark is missing)", path=str(path)
        )


def annotation_file_complete(data: bytes) -> bool:
    """Whether a WFDB (MIT format) annotation file ends where it says: its words walked from the start
    (a word's top 6 bits its code, the rest its argument; SKIP is followed by two words, AUX by its
    bytes), the end-of-file word 0 comes last. wfdb reads a file cut short without a word."""
    n, i = len(data), 0
    while i + 2 <= n:
        word = data[i] | data[i + 1] << 8
        code, arg = word >> 10, word & 0x3FF
        i += 2
        if word == 0:
            return n - i <= 1  # some writers pad the file to an even byte count
        if code == 59:  # SKIP: a 32-bit interval follows
            i += 4
        elif code == 63:  # AUX: `arg` bytes follow, padded to a whole word
            i += arg + (arg & 1)
    return False


def rate_problem(annotation_fs, record_fs, header_name: str) -> str | None:
    """Why annotations that store `annotation_fs` Hz cannot be read against a record of `record_fs` Hz
    (its header `header_name`), or None. wfdb gives a file that stores no rate its header's."""
    if annotation_fs and record_fs and float(annotation_fs) != float(record_fs):
        return (
            f"annotations written at {float(annotation_fs):g} Hz, but {header_name} says {float(record_fs):g} "
            "Hz (the samples would be read at the wrong times)"
        )
    return None
