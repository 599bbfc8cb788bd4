"""A published beat model calibrated to one patient without labels (`heartzoo.calibrate`): its batch-norm
statistics re-estimated on the beats of the first minutes of that patient's recording
(`heartzoo.models.adapt`), as EC57 lets a device learn from a record's first 5 minutes."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ..errors import HeartzooError, RecordingWarning
from ..preprocess import check_recording
from ..preprocess.plausibility import beat_doubts
from ..tasks import get_task
from .hub import LoadedModel, beat_inputs, resolve_model


def calibrate(
    loaded: LoadedModel | str, signal: np.ndarray, fs: float, r_peaks: np.ndarray, minutes: float = 5.0
) -> LoadedModel:
    """The model calibrated to one patient on the beats of the first `minutes` of its recording, with no
    labels: its batch-norm statistics re-estimated on them (`heartzoo.models.adapt`). Predict that patient's
    later beats with what this returns (its `calibrated` says on what; `annotate` writes it beside the
    model's name); the loaded model itself is not changed. On DS2 this lowered most published models'
    macro-F1 (docs/training.md): a window of mostly ectopic beats is taken as the patient's normal.
    Given the whole recording, `annotate` and `predict` classify its first minutes with the copy too
    (`heartzoo evaluate --calibrate-minutes` scores them with the model as published, as EC57's learning
    period asks). `loaded`: a float beat model (`load_model(..., format='keras')`) or NAME[@VERSION]. A `RecordingWarning`
    says what the lead and its peaks show was given wrong, as `predict`'s does: a copy calibrated on it
    would carry the mistake into every later beat."""
    from ..models.adapt import MIN_BEATS, calibrated_copy, check_minutes
    from ..preprocess import input_rows

    if not isinstance(loaded, LoadedModel):  # NAME[@VERSION]: its float model, the one that calibrates
        loaded = resolve_model(loaded, float_model=True)
    name = f"{loaded.config.name}@{loaded.folder.name}"
    if get_task(loaded.config.task).unit != "beat":
        raise HeartzooError(
            f"{name}: calibration re-normalises a beat model to one patient's beats; its task is "
            f"{loaded.config.task}, a model of windows"
        )
    if loaded.format != "keras":
        raise HeartzooError(
            f"{name}: calibration needs the Keras model (load_model(..., format='keras')); "
            "the int8 model has its batch-norm statistics folded into its weights"
        )
    if loaded.calibrated is not None:
        raise HeartzooError(f"{name} is already calibrated to a patient ({loaded.calibrated})")
    check_minutes(minutes)
    signal, fs, r = check_recording(signal, fs, r_peaks)
    rows = np.flatnonzero(r < 60.0 * minutes * fs)
    if not rows.size:
        raise HeartzooError(f"no R peak in the first {minutes:g} min of the recording to calibrate on")
    if rows.size < MIN_BEATS:
        raise HeartzooError(
            f"{rows.size} R peak(s) in the first {minutes:g} min of the recording: calibration needs at least "
            f"{MIN_BEATS} (fewer mislead the model; studies/calibration_beats.py); give more minutes"
        )
    first = input_rows(beat_inputs(loaded, signal, fs, r), rows)
    for doubt in beat_doubts(signal, fs, r):
        warnings.warn(doubt, RecordingWarning, stacklevel=2)
    if rows.size == r.size:
        warnings.warn(
            f"every R peak lies in the first {minutes:g} min: the copy has no later beat of this recording to "
            "classify, and scoring it on the beats it was calibrated on would flatter it",
            UserWarning,
            stacklevel=2,
        )
    return replace(
        loaded,
        model=calibrated_copy(loaded.model, first),
        calibrated=f"to one patient on the first {minutes:g} min of a recording, {rows.size} beats, no labels",
    )
