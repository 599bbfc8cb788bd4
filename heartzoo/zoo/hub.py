"""Using the zoo from Python: find a model (a local zoo, else the download cache of
`heartzoo.zoo.downloads`), load it (every file verified first), predict.

In the manner of timm's pretrained configs and torchvision's weights metadata: a loaded model carries
its configuration, and `predict` applies exactly the preprocessing the model was trained with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DownloadError, HeartzooError, RecordingWarning
from ..integrity import (
    IntegrityError,
    contained,
    load_keras,
    zoo_entry,
)
from ..meta import FirmwareContract, check_pin, check_ref, read_configuration
from ..preprocess import check_beats, check_recording
from ..preprocess.plausibility import beat_doubts
from ..tasks import get_task
from .downloads import ENTRY, read_entry, verify_copy

# the download cache's public names, as `heartzoo.zoo.hub` has always given them
from .downloads import download as download
from .downloads import models_cache as models_cache
from .downloads import verify_cache as verify_cache

#: beats prepared and classified at a time by `predict`: more than any recording measured here holds, so
#: that memory does not grow with a recording of days (benchmarks/annotate_long.py); a model of longer
#: frames takes fewer at a time (a rhythm model's 10-s windows), each batch's frames at most those of
#: 16,384 frames of 512 samples
BATCH_BEATS = 16384
BATCH_SAMPLES = BATCH_BEATS * 512


@dataclass
class LoadedModel:
    """A zoo model with its configuration: `config` (validated), `firmware` (the typed contract)."""

    model: Any
    config: Any
    firmware: FirmwareContract
    format: str
    folder: Path
    #: a copy calibrated to one patient (`heartzoo.calibrate`): on what, as outputs write it; None: as published
    calibrated: str | None = None

    @property
    def class_names(self) -> list[str]:
        return list(self.firmware.class_names)

    @property
    def aggregation(self):
        """How its windows make a recording's class (a model labelled per recording; versions published
        before the contract carried it: the windows' mean)."""
        from ..evaluation.aggregation import MEAN

        return self.firmware.aggregation or MEAN


def load_model(
    name: str | os.PathLike[str],
    version: str | None = None,
    format: str = "keras",
    *,
    zoo: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
) -> LoadedModel:
    """A model by zoo name (local zoo first, else downloaded) or by a version folder of a zoo or of
    the cache, as Keras or TFLite. Every file is checked against its index entry before it is read;
    `sha256` pins the version's digest (`heartzoo zoo show` prints it)."""
    from ..config import parse_config

    if format not in ("keras", "tflite"):
        raise HeartzooError(f"format must be 'keras' or 'tflite', got {format!r}")
    folder = verified_folder(name, version, zoo=zoo, base_url=base_url, cache_dir=cache_dir, sha256=sha256)
    conf = read_configuration(folder)
    config = parse_config(conf.config, str(folder / "configuration.json"))
    if format == "keras":
        model = load_keras(folder / "model.keras")
    else:
        from ..export import litert_interpreter

        model = litert_interpreter((folder / "model.tflite").read_bytes())
    return LoadedModel(model, config, conf.firmware, format, folder)


def resolve_model(model, *, zoo=None, float_model: bool = False) -> LoadedModel:
    """A `LoadedModel`, or NAME[@VERSION] loaded from the zoo, or a version folder given by path, as int8
    TFLite (float Keras with `float_model`)."""
    from ..meta import check_ref

    if isinstance(model, LoadedModel):
        if float_model and model.format != "keras":  # never the int8 model where the float one was asked
            raise HeartzooError(
                f"{model.folder}: float_model asks for the float Keras model, and this one was loaded as "
                f"{model.format}: load it with format='keras', or give its name"
            )
        return model
    fmt = "keras" if float_model else "tflite"
    if isinstance(model, os.PathLike) or "/" in str(model) or os.sep in str(model):
        return load_model(model, format=fmt, zoo=zoo)  # a version folder, checked against its index
    name, version = check_ref(str(model))
    return load_model(name, version, format=fmt, zoo=zoo)


def verified_folder(name: str | os.PathLike[str], version: str | None = None, **where) -> Path:
    """The folder of NAME[@VERSION] (local zoo first, else downloaded) or of a version folder given by
    path, once every file in it is checked against its index entry (`verified_version`'s keywords)."""
    return verified_version(name, version, **where)[0]


def verified_version(
    name: str | os.PathLike[str],
    version: str | None = None,
    *,
    zoo: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """`verified_folder`, with the index entry its files were checked against."""
    from .index import INDEX, ZOO_DIR_ENV, find, read_index, version_dir, zoo_dir

    if not isinstance(name, str | os.PathLike):
        raise HeartzooError(f"a model is named NAME[@VERSION] or by its version folder, got {name!r}")
    cache = models_cache(cache_dir)
    given = Path(name)
    if (given / "configuration.json").is_file():
        folder, entry, in_cache = _entry_of_folder(given, cache)
    elif given.exists() and (isinstance(name, os.PathLike) or "/" in str(name) or given.is_file()):
        raise HeartzooError(
            f"{given}: not a version folder (no configuration.json in it); name a model NAME[@VERSION], or "
            "its version folder TASK/NAME/vN"
        )
    else:
        check_ref(str(name), version)  # a malformed name or version is the caller's, not the zoo's
        root = zoo_dir(zoo)
        entry, local = None, None
        named = zoo is not None or bool(os.environ.get(ZOO_DIR_ENV))  # by the user, not ./zoo by default
        if named and not (root / INDEX).is_file():
            # a zoo the user named is not one: never the published zoo's model of that name instead
            raise HeartzooError(
                f"{root}: no zoo here (no {INDEX}); name the folder of a zoo, or leave --zoo (zoo= in Python, "
                f"${ZOO_DIR_ENV}) out for the published one"
            )
        if (root / INDEX).is_file():
            index = read_index(root)  # a damaged local index is an error, not a reason to download
            try:
                entry = find(index, str(name), version)
            except HeartzooError as exc:
                if named and base_url is None:
                    # the zoo the user named lacks it: never another zoo's model of that name, unsaid
                    # (a base_url named with it says where to download from)
                    raise HeartzooError(
                        f"{root}: {exc}; leave --zoo (zoo= in Python, ${ZOO_DIR_ENV}) out for the published zoo"
                    ) from None
                local = exc  # not in the local zoo: the published one may have it
        if entry is not None:
            folder, in_cache = version_dir(root, entry), False
        else:
            try:
                folder = download(str(name), version, base_url=base_url, cache_dir=cache_dir, sha256=sha256)
            except HeartzooError as exc:
                if local is None and isinstance(exc, DownloadError) and not (root / INDEX).is_file():
                    # offline, a user is told where a local zoo would have been looked for
                    raise DownloadError(
                        f"{name}: in no local zoo ({root.resolve()} holds no {INDEX}), and downloading it failed: {exc}. "
                        f"Name a local zoo with --zoo (zoo= in Python, or ${ZOO_DIR_ENV})"
                    ) from None
                if local is None:
                    raise
                # the local zoo's answer names the typo; the download's alone would blame the network
                # (and where the published zoo is this one, it says the same: once is enough)
                nor = "" if str(exc).endswith(str(local)) else f"; nor could it be downloaded ({exc})"
                raise HeartzooError(f"{root}: {local}{nor}") from None
            entry, in_cache = read_entry(folder / ENTRY), True
    check_pin(entry, sha256, str(folder))
    verify_copy(folder, entry, cache, in_cache=in_cache)
    return folder, entry


def _entry_of_folder(folder: Path, cache: Path) -> tuple[Path, dict[str, Any], bool]:
    """The index entry of a version folder given by path: the cache's record beside it, or the index
    of the zoo that holds it (three levels up: task/name/version)."""
    folder = folder.resolve()
    if (folder / ENTRY).is_file():
        entry = read_entry(folder / ENTRY)
        root = folder.parents[2] if len(folder.parents) > 2 else folder
        if contained(root, entry["path"], str(folder / ENTRY)) == folder:
            return folder, entry, folder.is_relative_to(cache.resolve())
    elif (entry := zoo_entry(folder)) is not None:
        return folder, entry, False
    raise IntegrityError(
        f"{folder}: no zoo index lists this folder, so nothing vouches for its files; load a model by "
        "name from a zoo (heartzoo.load_model(NAME, zoo=DIR)) or from the download cache"
    )


def beat_inputs(loaded: LoadedModel, signal: np.ndarray, fs: float, r_peaks: np.ndarray):
    """The model inputs of every beat, through the model's own Preprocessor (as it was trained)."""
    from ..preprocess import Preprocessor

    signal, fs, r = check_recording(signal, fs, r_peaks)
    check_beats(r, fs)
    return Preprocessor.of(loaded.config)(signal, fs, r)


def predict(
    loaded: LoadedModel | str, signal: np.ndarray, fs: float, r_peaks: np.ndarray, restarts=()
) -> np.ndarray:
    """Class probabilities (n_beats, n_classes) for a raw one-lead ECG (mV) at any sampling rate and
    the R-peak sample indices in it, prepared exactly as the model was trained; `loaded` a `LoadedModel`
    or NAME[@VERSION] (loaded as int8, as `annotate` does). `restarts`: indices into `r_peaks` of the first
    beats after the signal was lost (a lead-off), where the RR features and templates start again. A model
    of windows (rhythm-3, af-4, quality) reads one window centred on each index of `r_peaks`. For a
    beat model, a `RecordingWarning` says what the lead and its peaks show was given wrong (a lead in V, a
    rate that puts the heart rate outside 30-220 bpm, peaks that are not all beats, a lead turned over:
    `preprocess.plausibility`; a rate only somewhat off gives a plausible heart rate and no warning)."""
    return _predicted(resolve_model(loaded), signal, fs, r_peaks, restarts, warn=True)


def probabilities(loaded: LoadedModel | str, signal, fs: float, r_peaks, restarts=()) -> np.ndarray:
    """`predict` without its warnings, for a caller that says the same in its own findings (`annotate`)."""
    return _predicted(resolve_model(loaded), signal, fs, r_peaks, restarts, warn=False)


def _predicted(loaded: LoadedModel, signal, fs: float, r_peaks, restarts, *, warn: bool) -> np.ndarray:
    import warnings

    from ..preprocess import Preprocessor

    if len(np.atleast_1d(np.asarray(r_peaks))) == 0:
        check_recording(signal, fs, np.zeros(0, np.int64))
        return np.zeros((0, len(loaded.class_names)), np.float32)
    signal, fs, r = check_recording(signal, fs, r_peaks)
    if get_task(loaded.config.task).unit == "beat":  # a rhythm or quality model's windows may lie closer
        check_beats(r, fs)
        for doubt in beat_doubts(signal, fs, r) if warn else ():
            warnings.warn(doubt, RecordingWarning, stacklevel=3)  # at the caller of `predict`
    pre = Preprocessor.of(loaded.config)
    size = min(BATCH_BEATS, max(1, BATCH_SAMPLES // pre.spec.frame_size))
    batches = pre.batches(signal, fs, r, size, restarts)
    return np.concatenate([_probabilities(loaded, inputs) for inputs in batches])


def _probabilities(loaded: LoadedModel, inputs) -> np.ndarray:
    if loaded.format == "keras":
        from ..inference import predict_probs

        return predict_probs(loaded.model, inputs)
    from ..export import dequantize_probs, io_specs, quantize_inputs, run_interpreter

    # the interpreter load_model built: no second one, and the .tflite is not read again
    ins, outs = io_specs(loaded.model)
    q = quantize_inputs(ins, inputs)
    return dequantize_probs(run_interpreter(loaded.model, q), outs[0])


def __getattr__(name: str) -> Any:
    # `calibrate` moved to `patient_calibration`: the old path still works, with a DeprecationWarning
    if name == "calibrate":
        import importlib
        import warnings

        warnings.warn(
            f"{__name__}.calibrate moved to {__package__}.patient_calibration.calibrate",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(f"{__package__}.patient_calibration").calibrate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
