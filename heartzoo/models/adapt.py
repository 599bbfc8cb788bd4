"""Per-patient calibration without labels: batch-norm statistics re-estimated on a patient's own beats.

A model trained on DS1 patients meets a new patient's morphology as a shift in what its batch-norm
layers see. Re-estimating their moving mean and variance on that patient's first minutes of unlabelled
beats (AdaBN, Li et al. 2016) adapts the model to the patient without reading a label, which a wearable
can do on its wearer. Evaluation keeps it causal: beats inside the calibration window are classified by
the model as published, later beats by the calibrated copy.

Measured (docs/training.md, studies/calibration.py): it raised the first published versions' macro-F1
on the DS1 validation patients and lowered it on DS2 for most, where a record's first minutes are mostly
ectopic beats or its rhythm changes later; the recommended beat-3 falls on both. It is a protocol of its
own; no zoo number uses it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..errors import HeartzooError


def batchnorm_layers(model) -> list:
    """The model's own BatchNormalization layers in graph order; an error if it has none to calibrate."""
    import keras

    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
    if nested:
        raise HeartzooError(
            f"model {model.name!r}: calibration re-estimates top-level batch-norm layers, and this model "
            f"nests models ({', '.join(nested)}); calibrate each member instead"
        )
    if not norms:
        raise HeartzooError(f"model {model.name!r} has no BatchNormalization layer: nothing to calibrate")
    return norms


def calibrated_copy(model, inputs: Any, batch_size: int = 2048):
    """A copy of `model` whose batch-norm moving statistics are the mean and variance of each layer's
    input over `inputs` (frames, or the dict of model inputs). Layers are set in graph order, so each
    sees the inputs the calibrated layers before it produce. `model` itself is left as it was."""
    import keras

    batchnorm_layers(model)
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    norms = batchnorm_layers(copy)
    # one feed model for every layer's input, so it is traced once; pass k sees layers < k calibrated
    feed = keras.Model(copy.inputs, [layer.input for layer in norms])
    for k, layer in enumerate(norms):
        h = np.asarray(feed.predict(inputs, batch_size=batch_size, verbose=0)[k], dtype=np.float64)
        axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
        reduce = tuple(i for i in range(h.ndim) if i != axis % h.ndim)
        layer.moving_mean.assign(h.mean(axis=reduce).astype(np.float32))
        layer.moving_variance.assign(h.var(axis=reduce).astype(np.float32))
    return copy


#: the fewest beats calibration reads: on the validation records of the recommended beat models, fewer
#: than this fell more than 0.02 macro-F1 below a 5-minute calibration (1 beat: 0.24 below for beat-2),
#: from 32 on none did (studies/calibration_beats.py, its rule written before it ran)
MIN_BEATS = 32


def check_minutes(minutes: float) -> None:
    number = isinstance(minutes, numbers.Real) and not isinstance(minutes, bool)
    if not (number and math.isfinite(minutes) and minutes > 0):
        raise HeartzooError(f"calibration minutes must be a positive number, got {minutes!r}")


def calibration_mask(
    records: np.ndarray, times_s: np.ndarray, minutes: float, *, min_beats: int = MIN_BEATS
) -> np.ndarray:
    """True for the beats in each record's first `minutes`; an error naming a record with fewer than
    `min_beats` there, or with none after it (its beats would all be scored uncalibrated under a
    calibrated protocol)."""
    check_minutes(minutes)
    mask = np.asarray(times_s) < 60.0 * minutes
    empty = sorted(r for r in np.unique(records) if not mask[records == r].any())
    if empty:
        raise HeartzooError(
            f"record(s) {', '.join(empty)}: no beat in the first {minutes:g} min to calibrate on"
        )
    few = {r: int(mask[records == r].sum()) for r in np.unique(records)}
    few = {r: n for r, n in sorted(few.items()) if n < min_beats}
    if few:
        shown = ", ".join(f"{r} ({n})" for r, n in few.items())
        raise HeartzooError(
            f"record(s) {shown}: fewer than {min_beats} beats in the first {minutes:g} min to calibrate on; "
            "batch-norm statistics from so few beats mislead the model (docs/training.md); calibrate on more "
            "minutes"
        )
    full = sorted(r for r in np.unique(records) if mask[records == r].all())
    if full:
        raise HeartzooError(
            f"record(s) {', '.join(full)}: every beat lies in the first {minutes:g} min, so none would be "
            "scored by a calibrated model; use fewer minutes than the records last"
        )
    return mask


def calibrated_logits(model, inputs: Any, records: np.ndarray, times_s: np.ndarray, minutes: float):
    """Logits of every beat under per-record calibration: each record's beats in its first `minutes`
    calibrate a copy of the model (no labels) and are classified by `model` itself; its later beats are
    classified by that copy. Returns the logits and the calibration mask."""
    from ..inference import input_rows, predict_logits

    mask = calibration_mask(records, times_s, minutes)
    logits = predict_logits(model, inputs)
    for record in np.unique(records):
        later = np.flatnonzero((records == record) & ~mask)
        if later.size:
            copy = calibrated_copy(model, input_rows(inputs, np.flatnonzero((records == record) & mask)))
            logits[later] = predict_logits(copy, input_rows(inputs, later))
    return logits, mask
