"""heartzoo: ECG heartbeat classification models for microcontrollers, evaluated inter-patient.

>>> import heartzoo
>>> heartzoo.list_models()                      # published models (local zoo or the remote index)
>>> m = heartzoo.load_model("beat-3-cnn3-student")
>>> probs = heartzoo.predict(m, ecg_mv, fs=360, r_peaks=peaks)
>>> mine = heartzoo.calibrate(m, ecg_mv, fs=360, r_peaks=peaks, minutes=5)  # no labels; see docs
>>> inputs = heartzoo.Preprocessor.of(m.config)(ecg_mv, 360, peaks)  # exactly what the model sees
"""

from __future__ import annotations

from .version import __version__

__all__ = ["Preprocessor", "__version__", "calibrate", "download", "list_models", "load_model", "predict"]


def list_models(zoo=None, *, remote: bool = False, base_url: str | None = None) -> list[str]:
    """NAME@VERSION of every published model, from the local zoo or (remote=True) the published index."""
    from .zoo import load_index

    return [
        f"{m['name']}@{m['version']}" for m in load_index(zoo, remote=remote, base_url=base_url)["models"]
    ]


def __getattr__(name: str):
    # The heavy parts load on first use, so `import heartzoo` stays light.
    if name in ("calibrate", "download", "load_model", "predict"):
        from . import hub

        return getattr(hub, name)
    if name == "Preprocessor":
        from .preprocess import Preprocessor

        return Preprocessor
    raise AttributeError(f"module 'heartzoo' has no attribute {name!r}")
