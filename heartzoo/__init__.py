"""heartzoo: ECG heartbeat classification models for microcontrollers, evaluated inter-patient.

>>> import heartzoo
>>> heartzoo.list_models()                      # published models (local zoo or the remote index)
>>> m = heartzoo.load_model("beat-3-cnn3-student@v6", format="tflite")  # int8, as on the MCU
>>> probs = heartzoo.predict(m, ecg_mv, fs=360, r_peaks=peaks)  # a RecordingWarning where input looks wrong
>>> rec = heartzoo.read_recording("mitdb/100", "MLII")  # WFDB, EDF, CSV, ...: one lead in mV, its rate
>>> mine = heartzoo.calibrate("beat-3-cnn3-student@v6", ecg_mv, fs=360, r_peaks=peaks, minutes=5)  # see docs
>>> inputs = heartzoo.Preprocessor.of(m.config)(ecg_mv, 360, peaks)  # exactly what the model sees
>>> beats = heartzoo.annotate(ecg_mv, 360, m)   # no R peaks at hand: detected, then classified
>>> peaks = heartzoo.detect.detect(ecg_mv, 360)  # the R-peak detector alone
"""

from __future__ import annotations

from .errors import RecordingWarning
from .legacy import install_moved_modules
from .version import __version__

install_moved_modules()  # the module paths of 0.1 still import, with a DeprecationWarning

__all__ = [
    "Preprocessor",
    "RecordingWarning",
    "__version__",
    "annotate",
    "calibrate",
    "classify_recording",
    "detect",
    "download",
    "list_models",
    "load_model",
    "predict",
    "read_recording",
]


def list_models(zoo=None, *, remote: bool = False, base_url: str | None = None, cache_dir=None) -> list[str]:
    """NAME@VERSION of every published model: from the local zoo (`zoo`, `$HEARTZOO_ZOO_DIR` or ./zoo)
    when there is one, else (or with remote=True) from the published index at `base_url`
    (`$HEARTZOO_ZOO_URL`, else heartzoo's own), which is cached for use offline."""
    from .zoo.index import load_index

    index = load_index(zoo, remote=remote, base_url=base_url, cache_dir=cache_dir)
    return [f"{m['name']}@{m['version']}" for m in index["models"]]


def __getattr__(name: str):
    # The heavy parts load on first use, so `import heartzoo` stays light.
    if name == "calibrate":
        from .zoo.patient_calibration import calibrate

        return calibrate
    if name in ("download", "load_model", "predict"):
        from .zoo import hub

        return getattr(hub, name)
    if name == "annotate":  # the function (heartzoo.recording.annotation holds it)
        from .recording.annotation import annotate

        return annotate
    if name == "classify_recording":  # a recording model's answer for a whole recording (af-4)
        from .recording.rhythm_annotation import classify_recording

        return classify_recording
    if name == "detect":  # the module: detect.detect(signal, fs), and its registry of detectors
        import importlib

        return importlib.import_module(".detect", __name__)
    if name == "read_recording":  # one lead of a file in any format the CLI reads, in mV
        from .recording.read import read_recording

        return read_recording
    if name == "Preprocessor":
        from .preprocess import Preprocessor

        return Preprocessor
    raise AttributeError(f"module 'heartzoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))  # what tab completion offers: the lazy names too
