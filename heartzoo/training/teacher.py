"""The teacher a config distils from (`compress.distill.teacher`): found in the zoo or a run folder,
checked to take the student's input, and what it trained on that the student keeps for validation."""

from __future__ import annotations

from pathlib import Path

from ..config import HeartzooConfig
from ..errors import ConfigError, HeartzooError


def teacher_folder(config: HeartzooConfig, *, zoo=None, cache_dir=None) -> Path:
    """The folder of the teacher `compress.distill.teacher` names (a zoo NAME@vN, checked against its
    index, or a run folder), once its configuration is shown to take the student's input; no TensorFlow."""
    from ..compress.distill import check_compatible
    from ..evaluation.evaluate import run_config
    from ..zoo.hub import verified_folder

    dc = config.compress.distill
    where = Path(dc.teacher)
    try:
        if dc.zoo_ref is not None:
            where = Path(verified_folder(*dc.zoo_ref, zoo=zoo, cache_dir=cache_dir))
        teacher = run_config(where)[1]
    except HeartzooError as exc:  # a bare name that is no folder was meant as a zoo model, without its vN
        hint = "; a zoo model is named NAME@vN" if dc.zoo_ref is None and "/" not in dc.teacher else ""
        raise ConfigError(f"{config.where}: field 'compress.distill.teacher': {exc}{hint}") from None
    check_compatible(config, teacher)
    return where


def load_teacher(config: HeartzooConfig, *, zoo=None, cache_dir=None):
    """The teacher model `compress.distill.teacher` names (`teacher_folder`)."""
    from ..evaluation.evaluate import load_run

    return load_run(teacher_folder(config, zoo=zoo, cache_dir=cache_dir))[0]


def validation_seen(config: HeartzooConfig, folder: Path, data_dir=None) -> str | None:
    """What to say where the teacher in `folder` trained on records the student validates on: the
    student's choice of epoch then reads what its teacher learnt from them (a fold ensemble, trained on
    every fold, is refused for it: `distill.check_compatible`). None where it did not, or where either
    splits other than by record (`split_records`)."""
    from ..data.prepare import split_records
    from ..evaluation.evaluate import run_config

    teacher = run_config(folder)[1]
    try:
        seen = sorted(
            set(split_records(teacher, data_dir)["train"]) & set(split_records(config, data_dir)["val"])
        )
    except (ValueError, OSError, HeartzooError):  # splits by beat or recording, or data not here
        return None
    if not seen:
        return None
    return (
        f"the teacher {config.compress.distill.teacher} trained on {len(seen)} of the student's validation "
        f"records ({', '.join(seen)}): the student's choice of epoch and its validation numbers read what the "
        "teacher learnt from them; give the student the teacher's validation records "
        "(data.validation.records) to keep them apart"
    )
