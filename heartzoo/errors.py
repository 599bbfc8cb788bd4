"""Errors the library raises: each names the file, record or field at fault and says what to do."""

from __future__ import annotations


class HeartzooError(Exception):
    """Base class: the CLI prints these as one clear message instead of a traceback."""


class DataError(HeartzooError, ValueError):
    """A record or data file that cannot be used as it is."""

    def __init__(self, record: str, problem: str, *, path: str | None = None) -> None:
        self.record = record
        self.problem = problem
        self.path = path
        where = f"record {record}" + (f" ({path})" if path else "")
        super().__init__(f"{where}: {problem}")


class ConfigError(HeartzooError, ValueError):
    """A configuration file with a typo, a wrong type or a value out of range."""


class ArgumentError(HeartzooError, ValueError):
    """An argument outside the values it may take."""


class DownloadError(HeartzooError, OSError):
    """A download that failed, or a file whose checksum does not match."""


class ExportError(HeartzooError):
    """An export that must not be published: the message says which check failed and by how much."""


class RecordingWarning(UserWarning):
    """A recording given as the models do not read it (a lead in V, a wrong rate, peaks that are not beats,
    a lead turned over): the answer comes all the same, and may be nonsense. The CLI says these itself."""
