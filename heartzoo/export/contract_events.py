"""The task-specific parts of a firmware contract, as C constants: the runs of ventricular beats (a
model with a V class), the quality gate's readable windows (a `quality` model), the AF burden and
episodes and the recording's aggregation (a model labelled per recording); `firmware_kit.contract_header`
puts them in heartzoo_contract.h."""

from __future__ import annotations

from typing import Any


def vrun_lines(class_names: list[str]) -> list[str]:
    """The runs of ventricular beats (`tasks.VT_BPM`, `recording.ventricular_runs`) as C constants, for a model with a V
    class: its index, the beats that make a run and the rate above which it is VT."""
    from ..tasks import VENTRICULAR_RUN_BEATS, VT_BPM

    if "V" not in class_names:
        return []
    return [
        f"#define HZ_V_CLASS {class_names.index('V')} /* runs of V beats: hz_vrun_* */",
        f"#define HZ_VRUN_MIN_BEATS {VENTRICULAR_RUN_BEATS}",
        f"#define HZ_VT_BPM {VT_BPM}",
    ]


def s_in_af_lines(class_names: list[str]) -> list[str]:
    """AAMI's "no S beat in atrial fibrillation" (`recording.rhythm_annotation.s_in_af_to_n`) as C
    constants, for a model with both an N and an S class: their indices (beat-2's `ectopic` holds V too)."""
    if "N" not in class_names or "S" not in class_names:
        return []
    return [
        f"#define HZ_N_CLASS {class_names.index('N')} /* a beat inside AF: hz_argmax_in_af */",
        f"#define HZ_S_CLASS {class_names.index('S')}",
    ]


def af_lines(class_names: list[str], aggregation: dict[str, Any] | None) -> list[str]:
    """The AF burden and the AF episodes of `tasks.AF_EPISODE_S` or more (`recording.af_burden`) as C
    constants, for a model labelled per recording with an AF class: its index, the too-noisy class's (-1:
    none) and the episode's seconds."""
    from ..tasks import AF_EPISODE_S

    if aggregation is None or "A" not in class_names:
        return []
    noise = class_names.index("~") if "~" in class_names else -1
    return [
        f"#define HZ_AF_CLASS {class_names.index('A')} /* AF burden and episodes: hz_af_* */",
        f"#define HZ_NOISE_CLASS ({noise})",
        f"#define HZ_AF_EPISODE_S {AF_EPISODE_S}",
    ]


def gate_lines(class_names: list[str], output: dict[str, Any]) -> list[str]:
    """The quality gate's reading of a window (`tasks.READABLE_P`) as C constants, for a model with a
    `readable` class: its index and the smallest int8 output whose probability, dequantized as numpy
    dequantizes it (float32), reaches READABLE_P (128: none does)."""
    import numpy as np

    from ..tasks import READABLE_P
    from .runtimes import TensorSpec, dequantize_probs

    if "readable" not in class_names:
        return []
    q = np.arange(-128, 128, dtype=np.int8)
    spec = TensorSpec("output", [len(q)], "int8", float(output["scale"]), int(output["zero_point"]))
    reached = np.flatnonzero(dequantize_probs(q, spec) >= READABLE_P)
    return [
        f"#define HZ_READABLE_CLASS {class_names.index('readable')} /* the quality gate: hz_readable */",
        f"#define HZ_READABLE_MIN_Q ({int(q[reached[0]]) if len(reached) else 128})",
    ]


def aggregation_lines(aggregation: dict[str, Any] | None, output_scale: float, flt) -> list[str]:
    """The contract's recording aggregation (`meta.RecordingAggregation`) as C constants: HZ_AGGREGATION 1
    (the windows' mean) or 2 (mean+max, with its map); none for a beat model's contract."""
    if aggregation is None:
        return []
    head = [
        f"/* aggregation: {aggregation['method']}"
        + (f", fitted on {aggregation['fitted_on']}" if aggregation.get("fitted_on") else "")
        + " (hz_rec_class) */",
        f"#define HZ_AGG_OUTPUT_SCALE {flt(output_scale)}",
    ]
    if aggregation["method"] == "mean":
        return [*head, "#define HZ_AGGREGATION 1"]
    rows = ", ".join("{" + ", ".join(flt(v) for v in row) + "}" for row in aggregation["coef"])
    return [
        *head,
        "#define HZ_AGGREGATION 2",
        f"#define HZ_AGG_EPS {flt(aggregation['eps'])}",
        f"#define HZ_AGG_COEF {{{rows}}}",
        f"#define HZ_AGG_INTERCEPT {{{', '.join(flt(v) for v in aggregation['intercept'])}}}",
    ]
