"""The machine a stage trained on, recorded beside the commit of its code (the run's manifest, then the
published `metrics.json`'s `trained_on`). A recipe is deterministic on one kind of processor only: oneDNN,
TensorFlow's CPU kernels, picks its instructions by the processor, and the same recipe, code and thread
pool start from another first-epoch loss with them capped at AVX2 on an AVX-512 machine
(`python studies/first_epoch.py --isa`: af-4-cnn3-student v2's recipe and beat-2-cnn3-wearable v2's). A
version that a later machine does not make again is then told apart from a recipe that changed."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

#: the widest vector instructions, as /proc/cpuinfo flags, widest first
_ISA = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"))
#: x86 flags, or Arm's Features


def _cpuinfo() -> tuple[str, set[str]]:
    """The processor's model name and flags from /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", set()
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and not model:
            model = value.strip()
        elif key.strip() in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


def this_machine() -> dict[str, Any]:
    """What changes a run's numbers besides its code and thread pool: the processor and its widest
    vector instructions, whether oneDNN runs (and any cap on its instructions), the Keras backend and
    the versions of TensorFlow, Keras and NumPy; and the cores, for the record."""
    import keras
    import numpy as np

    model, flags = _cpuinfo()
    isa = next((name for flag, name in _ISA if flag in flags), "unknown")
    if isa == "unknown" and {"asimd", "sve"} & flags:  # Arm: /proc/cpuinfo's Features
        isa = "SVE" if "sve" in flags else "NEON"
    onednn, tf_version = "not used", None  # oneDNN: TensorFlow's CPU kernels
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf_version = tf.__version__
        off = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false")
        onednn = "off" if off else "on"
        if not off and (cap := os.environ.get("ONEDNN_MAX_CPU_ISA")):
            onednn += f", at most {cap}"
    return {
        "processor": model or platform.processor() or platform.machine() or "unknown",
        "isa": isa,
        "cores": os.cpu_count() or 0,
        "onednn": onednn,
        "backend": keras.backend.backend(),
        "tensorflow": tf_version,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
