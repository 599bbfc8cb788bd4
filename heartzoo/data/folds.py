"""Folds of a config's training data: whole patients (DS1 and the databases `data.train` adds) or, for a
task labelled per recording, the CinC 2017 recordings outside the test split; each fold in turn is the
validation side. Cross-validation (`heartzoo.training.crossval`) and fold ensembles
(`ensemble.by: fold`) deal them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tasks import get_task

if TYPE_CHECKING:  # the config's type alone: the config module imports the data layer
    from ..config import HeartzooConfig


def fold_records(config: HeartzooConfig, folds: int, seed: int = 0, data_dir=None) -> list[list[str]]:
    """The training records of each fold (DS1 and the databases `data.train` adds; whole patients,
    classes spread evenly; see `patient_folds`)."""
    from .prepare import record_counts, training_records
    from .splits import patient_folds

    if get_task(config.task).per_recording:  # CinC 2017: recordings outside the test split, by label
        from .cinc2017 import DATABASE, held_out_records
        from .recording_windows import recording_folds

        return recording_folds(DATABASE.labels(data_dir), held_out_records(), folds, seed)
    return patient_folds(record_counts(training_records(config), data_dir), folds, seed)


#: what `heartzoo cv` leaves in each fold's folder: which fold it is, so that its model (trained without the
#: fold's patients, its epoch chosen on them) is never exported as what its recipe trains
FOLD_FILE = "fold.json"


def fold_config(config: HeartzooConfig, records: list[str]) -> HeartzooConfig:
    """`config` with `records` as its validation patients."""
    v = config.data.validation.model_copy(update={"records": list(records)})
    return config.model_copy(update={"data": config.data.model_copy(update={"validation": v})})


def fold_digest(records) -> str:
    """A fold's records as a short digest (sha256 of the sorted names), which a published fold ensemble
    records for each member so that its folds can be dealt again and checked without its members' files."""
    import hashlib

    return hashlib.sha256("\n".join(sorted(records)).encode()).hexdigest()[:16]
