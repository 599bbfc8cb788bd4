"""A firmware kit for one exported version: the C preprocessing library (heartzoo/firmware, C99, no
malloc) with the model's contract as constants, the model as a C array with its golden vectors, an
example TFLM `main.cc` and a Makefile/CMake snippet. Generated on demand, never stored in the zoo.

The library is the Python Preprocessor, streamed: the resampler is scipy's `resample_poly` filter
(polyphase, taps computed here exactly as scipy computes them), run one output sample at a time, with
the signal taken as zero outside the recording as scipy does, so whole recordings match to the edges.
`fixed_point=True` renders the same steps in integers only (Q30 taps, the signal in Q16 for samples of up
to 14 bits, z-scores in Q24) for cores without an FPU; `fixed_point_numbers` sizes them for the ADC's
bits and the frame, so that no sum overflows.
"""

from __future__ import annotations

import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import HeartzooError
from ..preprocess.resampling import frame_samples_at
from .contract_events import af_lines, aggregation_lines, gate_lines, s_in_af_lines, vrun_lines
from .kit_names import DEFAULT_PREFIX, check_kit_folder, check_prefix, contract_file, kit_model, with_prefix

#: The rate the kit's resampler starts from by default: MIT-BIH's (its golden recording is at the kit's).
RECORDING_HZ = 360
#: ADC counts per mV of the fixed-point kit's input (MIT-BIH's gain; only eps depends on it), and the
#: signed bits its samples fit in (MIT-BIH's 11-bit ADC minus its baseline fits in 12).
ADC_GAIN = 200.0
ADC_BITS = 12
LIBRARY = ("heartzoo_preprocess.h", "heartzoo_preprocess.c")
#: Compiler flags the library needs: no contracted multiply-adds (numpy rounds each step), C99.
CFLAGS = ("-std=c99", "-ffp-contract=off", "-fno-math-errno")
#: Cortex-M targets: the float kit is made for a Cortex-M4F, the fixed-point kit for a Cortex-M0+.
CORES = {
    "cortex-m4f": ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
    "cortex-m0plus": ("-mcpu=cortex-m0plus", "-mthumb"),
}


#: Files rendered from `NAME.in` for each kit.
TEMPLATES = ("heartzoo_selftest.cc", "main.cc", "heartzoo.mk", "heartzoo.cmake", "heartzoo_readme.md")


def firmware_source(name: str) -> str:
    """A file of the C library as shipped in the package (heartzoo/firmware)."""
    return resources.files("heartzoo.firmware").joinpath(name).read_text(encoding="utf-8")


def resampling_filter(fs_in: int, fs_out: int) -> tuple[int, int, int, np.ndarray]:
    """(up, down, half_len, taps) of `preprocess.resample`: scipy.signal.resample_poly's default filter
    (firwin of 20 * max(up, down) + 1 taps, cut-off 1 / max(up, down), Kaiser beta 5), times `up`."""
    from scipy.signal import firwin

    g = math.gcd(int(fs_in), int(fs_out))
    up, down = int(fs_out) // g, int(fs_in) // g
    if up == down == 1:
        return 1, 1, 0, np.ones(1)
    max_rate = max(up, down)
    half = 10 * max_rate
    return up, down, half, firwin(2 * half + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * up


def polyphase(up: int, taps: np.ndarray) -> np.ndarray:
    """(up, taps per phase): phase p holds taps p, p + up, p + 2 up, ... (zero-padded)."""
    per = -(-len(taps) // up)
    out = np.zeros((up, per))
    for p in range(up):
        row = taps[p::up]
        out[p, : len(row)] = row
    return out


def _contract(firmware: Any) -> dict[str, Any]:
    from ..meta import FirmwareContract

    # a plain dict is validated as configuration.json's is: its strings are written into C
    firmware = FirmwareContract.model_validate(firmware) if isinstance(firmware, dict) else firmware
    f = firmware.model_dump(mode="json", exclude_none=True)
    from ..preprocess.rr_features import (
        MAX_RR_HISTORY,
        RR_FEATURES,
        RR_IRREGULARITY,
        rr_feature_names,
        rr_history_of,
        rr_normaliser_of,
    )

    ins = {t["name"]: (i, t) for i, t in enumerate(f["inputs"])}
    channels = 2 if f["template_beats"] else 1
    if "ecg" not in ins or ins["ecg"][1]["shape"][-2:] != [f["frame_size"], channels]:
        raise HeartzooError(
            f"the contract's ecg input is not [.., {f['frame_size']}, {channels}]: {f['inputs']}"
        )
    rr = f.get("rr_features")
    order = list(rr["order"]) if rr is not None else []
    history = rr_history_of(order)
    # the order heartzoo writes
    known = list(rr_feature_names(RR_IRREGULARITY in order, history, rr_normaliser_of(order)))
    if rr is not None and (order != known or history > MAX_RR_HISTORY or "rr" not in ins):
        raise HeartzooError(
            f"RR features {rr['order']} are not heartzoo's: {RR_FEATURES} (or median300 for local300), "
            f"then {RR_IRREGULARITY} and pre-1/local300 ... pre-{MAX_RR_HISTORY}/local300 where the model "
            "takes them"
        )
    if rr is not None and ins["rr"][1]["shape"][-1] != len(rr["order"]):
        raise HeartzooError(
            f"the contract's rr input {ins['rr'][1]['shape']} does not hold its {len(rr['order'])} features"
        )
    if any(t["dtype"] != "int8" for t in f["inputs"] + f["outputs"]):
        raise HeartzooError("the firmware kit needs an int8 model (inputs and outputs)")
    return {**f, "_ins": ins, "_channels": channels}


def rr_length(firmware: Any) -> int:
    """HZ_RR_LEN: the int8 values of a beat's RR input, as many as the contract's RR features (4 when
    the model takes none: the library's buffers keep that size)."""
    f = firmware if isinstance(firmware, dict) else firmware.model_dump(mode="json", exclude_none=True)
    rr = f.get("rr_features")
    return len(rr["order"]) if rr else 4


def history_size(taps_per_phase: int) -> int:
    """HZ_HIST: the input samples the streaming FIR keeps, a power of two >= the taps of a phase (the
    ring is indexed with a mask: a shorter one would read newer samples for older ones)."""
    return 1 << max(taps_per_phase - 1, 0).bit_length()


def fixed_point_numbers(
    firmware: Any, *, recording_hz: int = RECORDING_HZ, adc_gain: float = ADC_GAIN, adc_bits: int = ADC_BITS
) -> dict[str, int]:
    """The fixed-point kit's formats, from the ADC's bits, the resampling filter and the frame:
    `signal_q` (the resampled signal in counts in Q(signal_q), at most 16), `signal_bits` (|x| <
    2^signal_bits <= 2^30 for any input in range, the filter's worst case: the largest L1 norm of its
    Q30 phases; a difference of two samples fits an int32) and `sq_shift` (each (x - mean)^2 is shifted
    right by it, so that a frame's sum, below T 2^(2 signal_bits - sq_shift), fits 64 bits: 6 unless the
    frame and the ADC need more). Raises HeartzooError for what the integers cannot hold."""
    f = firmware if isinstance(firmware, dict) else firmware.model_dump(mode="json", exclude_none=True)
    if not 2 <= adc_bits <= 16:
        raise HeartzooError(f"the fixed-point kit takes int16 samples: adc_bits {adc_bits} is not 2..16")
    up, _, _, taps = resampling_filter(recording_hz, f["sampling_rate_hz"])
    x_max = 2 ** (adc_bits - 1)  # |ADC counts minus the baseline|
    # the largest sum of |taps| of a phase, Q30 (1: no resampling)
    l1 = 2**30 if len(taps) == 1 else int(np.abs(np.round(polyphase(up, taps) * 2**30)).sum(axis=1).max())

    def bound(q: int) -> int:  # |resampled| in Q(q): Q30 taps x counts, rounded to Q(q)
        return ((l1 * x_max + (1 << (29 - q))) >> (30 - q)) + 1

    q = min(16, 30 - adc_bits)
    while bound(q).bit_length() > 30:
        q -= 1
    bits, frame = bound(q).bit_length(), int(f["frame_size"])
    sq_shift = 6
    while frame > (2**64 - 1) >> (2 * bits - sq_shift):
        sq_shift += 1
    normalization = f["normalization"]["name"]
    if normalization == "zscore" and frame > 16384:
        raise HeartzooError(
            f"the fixed-point kit holds z-scores in Q24 (int32): frames of {frame} samples are too long"
        )
    gain_q = round(adc_gain * 2**q)
    if normalization != "zscore" and bound(q) >= 128 * gain_q:
        raise HeartzooError(
            f"the fixed-point kit holds unnormalised frames in mV in Q24 (int32: |x| < 128 mV), but "
            f"{adc_bits}-bit samples at {adc_gain:g} counts per mV reach {bound(q) / gain_q:.0f} mV after "
            "resampling: give the ADC's real bits and gain, or use the float kit"
        )
    return {"signal_q": q, "signal_bits": bits, "sq_shift": sq_shift, "gain_q": gain_q, "l1_q30": l1}


def _shift_for(value: float, bits: int, lo: int = 0) -> tuple[int, int]:
    """(mult, shift): mult = round(2^shift * value) as large as fits in `bits` bits, shift >= lo."""
    shift = lo
    while round(2 ** (shift + 1) * value) < 2**bits:
        shift += 1
    return round(2**shift * value), shift


def contract_header(
    firmware: Any,
    *,
    recording_hz: int = RECORDING_HZ,
    fixed_point: bool = False,
    adc_gain: float = ADC_GAIN,
    adc_bits: int = ADC_BITS,
    label: str = "",
) -> str:
    """heartzoo_contract.h: the firmware contract of configuration.json as C constants."""
    from ..preprocess.rr_features import (
        IRREGULARITY_BEATS,
        LONG_BEATS,
        RR_IRREGULARITY,
        rr_history_of,
        rr_normaliser_of,
    )

    f = _contract(firmware)
    up, down, half, taps = resampling_filter(recording_hz, f["sampling_rate_hz"])
    per = 0 if len(taps) == 1 else polyphase(up, taps).shape[1]
    ins, out = f["_ins"], f["outputs"][0]
    ecg = ins["ecg"][1]
    rr = ins["rr"][1] if f.get("rr_features") else None
    classes = ", ".join(f'"{c}"' for c in f["class_names"])

    def flt(v: float) -> str:  # the float32 numpy makes of a Python float
        return f"((float){float(v)!r})"

    lines = [
        f"/* heartzoo_contract.h: the firmware contract of {label or 'a heartzoo model'}",
        " * (configuration.json's `firmware`), as constants. Generated by heartzoo. Do not edit. */",
        "#ifndef HEARTZOO_CONTRACT_H_",
        "#define HEARTZOO_CONTRACT_H_",
        "",
        f"#define HZ_FIXED_POINT {int(fixed_point)}",
        f"#define HZ_RECORDING_HZ {recording_hz} /* the input stream's rate */",
        f"#define HZ_MODEL_HZ {f['sampling_rate_hz']} /* sampling_rate_hz: the model's rate */",
        f"/* resampling: {f['resampling']}; up {up}, down {down}, {len(taps)} taps */",
        f"#define HZ_UP {up}",
        f"#define HZ_DOWN {down}",
        f"#define HZ_TAPS_PER_PHASE {per}",
        f"#define HZ_HIST {history_size(per)} /* input samples kept: a power of two >= HZ_TAPS_PER_PHASE */",
        f"#define HZ_J0 {half // up} /* the first output waits for this input sample */",
        f"#define HZ_P0 {half % up}",
        f"#define HZ_FRAME_SIZE {f['frame_size']}",
        f"#define HZ_R_PEAK_INDEX {f['r_peak_index']}",
        # a window model's windows where heartzoo cuts them
        f"#define HZ_WINDOW_SAMPLES {frame_samples_at(f['frame_size'], f['sampling_rate_hz'], recording_hz)} "
        "/* a window model's window in stream samples */",
        f"/* normalization: {f['normalization']['formula']} */",
        f"#define HZ_ZSCORE {int(f['normalization']['name'] == 'zscore')}",
        f"#define HZ_TEMPLATE_BEATS {f['template_beats']}",
        f"#define HZ_TEMPLATE_ON_TIME {int(bool(f.get('template_on_time')))} /* only on-time beats enter it */",
        f"#define HZ_ECG_CHANNELS {f['_channels']}",
        f"#define HZ_RR_FEATURES {int(rr is not None)}",
        f"#define HZ_NUM_INPUTS {len(f['inputs'])}",
        f"#define HZ_INPUT_ECG {ins['ecg'][0]} /* the model's input index of each input */",
        f"#define HZ_ECG_ZERO_POINT ({ecg['zero_point']})",
    ]
    if rr is not None:
        lines += [
            f"/* rr_features {', '.join(f['rr_features']['order'])}: {f['rr_features']['definition']} */",
            f"#define HZ_INPUT_RR {ins['rr'][0]}",
            "#define HZ_RR_SHORT 10",
            f"#define HZ_RR_LONG {LONG_BEATS}",
            f"#define HZ_RR_MEDIAN {int(rr_normaliser_of(f['rr_features']['order']) == 'median')}",
            f"#define HZ_RR_IRREGULARITY {int(RR_IRREGULARITY in f['rr_features']['order'])}",
            f"#define HZ_RR_IRREGULARITY_BEATS {IRREGULARITY_BEATS}",
            f"#define HZ_RR_HISTORY {rr_history_of(f['rr_features']['order'])}",
            f"#define HZ_RR_ZERO_POINT ({rr['zero_point']})",
        ]
    lines += [
        f"#define HZ_NUM_CLASSES {len(f['class_names'])}",
        f"#define HZ_CLASS_NAMES {{{classes}}}",
        *vrun_lines(f["class_names"]),
        *s_in_af_lines(f["class_names"]),
        f"/* output: {f['output']} */",
        f"#define HZ_OUTPUT_ZERO_POINT ({out['zero_point']})",
        *aggregation_lines(f.get("aggregation"), out["scale"], flt),
        *af_lines(f["class_names"], f.get("aggregation")),
        *gate_lines(f["class_names"], out),
    ]
    if fixed_point:
        from ..preprocess.rr_features import RR_EPS

        nums = fixed_point_numbers(f, recording_hz=recording_hz, adc_gain=adc_gain, adc_bits=adc_bits)
        q = nums["signal_q"]
        mult, shift = _shift_for(1.0 / (ecg["scale"] * 2**24), 31, 25)
        lines += [
            f"/* fixed point: input in ADC counts minus the baseline, {adc_gain:g} counts per mV,",
            " * |x| <= 2^(HZ_ADC_BITS - 1); the resampled signal in counts in Q(HZ_SIGNAL_Q) */",
            f"#define HZ_ADC_BITS {adc_bits}",
            f"#define HZ_COUNTS_PER_MV {float(adc_gain)!r} /* only to turn mV into counts (self-test) */",
            f"#define HZ_SIGNAL_Q {q}",
            f"#define HZ_SIGNAL_BITS {nums['signal_bits']} /* |resampled| < 2^HZ_SIGNAL_BITS, taps' L1 "
            f"{nums['l1_q30'] / 2**30:.4f} */",
            f"#define HZ_SQ_SHIFT {nums['sq_shift']} /* (x - mean)^2 >> HZ_SQ_SHIFT: a frame's sum fits 64 bits */",
            f"#define HZ_EPS_Q {round(f['normalization']['eps'] * adc_gain * 2**q)} /* eps in counts */",
            f"#define HZ_GAIN_Q {nums['gain_q']} /* counts per mV */",
            f"#define HZ_ECG_MULT {mult} /* round(2^HZ_ECG_SHIFT / (scale * 2^24)): Q24 z -> steps */",
            f"#define HZ_ECG_SHIFT {shift}",
            f"#define HZ_OUTPUT_SCALE_Q24 {round(out['scale'] * 2**24)}",
        ]
        if rr is not None:
            rmult, rshift = _shift_for(1.0 / rr["scale"], 30, 16)
            lines += [
                f"#define HZ_TEMPLATE_SHARE_Q20 {round((f.get('template_on_time') or 0) * 2**20)}",
                f"#define HZ_RR_EPS_Q16 {round(RR_EPS * recording_hz * 65536)} /* eps in input samples */",
                f"#define HZ_RR_MULT {rmult} /* round(2^HZ_RR_SHIFT / scale) */",
                f"#define HZ_RR_SHIFT {rshift}",
            ]
    else:
        from ..preprocess.rr_features import RR_EPS

        lines += [
            f"#define HZ_EPS {flt(f['normalization']['eps'])}",
            f"#define HZ_ECG_SCALE {flt(ecg['scale'])}",
            f"#define HZ_OUTPUT_SCALE {flt(out['scale'])}",
        ]
        if rr is not None:
            lines += [f"#define HZ_RR_EPS {flt(RR_EPS)}", f"#define HZ_RR_SCALE {flt(rr['scale'])}"]
            lines += [f"#define HZ_TEMPLATE_SHARE {flt(f.get('template_on_time') or 0.0)}"]
    lines += ["", "#endif /* HEARTZOO_CONTRACT_H_ */", ""]
    return "\n".join(lines)


def taps_header(firmware: Any, *, recording_hz: int = RECORDING_HZ, fixed_point: bool = False) -> str:
    """heartzoo_taps.h: the polyphase resampling filter (float: scipy's float64 taps; fixed: Q30)."""
    f = firmware if isinstance(firmware, dict) else firmware.model_dump(mode="json", exclude_none=True)
    up, down, _, taps = resampling_filter(recording_hz, f["sampling_rate_hz"])
    head = (
        f"/* heartzoo_taps.h: resampling {recording_hz} -> {f['sampling_rate_hz']} Hz, the filter of\n"
        f" * scipy.signal.resample_poly (up {up}, down {down}) by phase. Generated by heartzoo. Do not edit. */\n"
    )
    if len(taps) == 1:
        return head + "/* same rate: no filter */\nstatic const hz_tap_t hz_taps[1][1] = {{0}};\n"
    table = polyphase(up, taps)
    # Q30, or the float64 value (read back exactly as double, or rounded to float by the compiler)
    fmt = (lambda v: str(round(v * 2**30))) if fixed_point else (lambda v: repr(float(v)))
    rows = []
    for row in table:
        cells = [fmt(v) for v in row]
        rows.append("  {" + ",\n   ".join(", ".join(cells[i : i + 6]) for i in range(0, len(cells), 6)) + "}")
    return head + (
        "static const hz_tap_t hz_taps[HZ_UP][HZ_TAPS_PER_PHASE] = {\n" + ",\n".join(rows) + "\n};\n"
    )


def library_files(
    firmware: Any,
    *,
    recording_hz: int = RECORDING_HZ,
    fixed_point: bool = False,
    adc_gain: float = ADC_GAIN,
    adc_bits: int = ADC_BITS,
    label: str = "",
) -> dict[str, str]:
    """The C preprocessing library for one contract: the fixed sources and the two generated headers."""
    f = firmware if isinstance(firmware, dict) else firmware.model_dump(mode="json", exclude_none=True)
    if int(recording_hz) != recording_hz or recording_hz <= 0:
        raise HeartzooError(f"the recording rate must be a whole number of Hz, got {recording_hz}")
    files = {name: firmware_source(name) for name in LIBRARY}
    files["heartzoo_contract.h"] = contract_header(
        f,
        recording_hz=recording_hz,
        fixed_point=fixed_point,
        adc_gain=adc_gain,
        adc_bits=adc_bits,
        label=label,
    )
    files["heartzoo_taps.h"] = taps_header(f, recording_hz=recording_hz, fixed_point=fixed_point)
    return files


def kit_files(
    folder: Path,
    *,
    fixed_point: bool = False,
    recording_hz: int = RECORDING_HZ,
    adc_gain: float = ADC_GAIN,
    adc_bits: int = ADC_BITS,
    prefix: str = DEFAULT_PREFIX,
) -> dict[str, str]:
    """Every file of the kit of the version in `folder`: library, contract, model array, golden vectors,
    a self-test of the preprocessing on them, an example TFLM main.cc, heartzoo.mk and heartzoo.cmake;
    with a `prefix`, the library's names and files under it (`kit_names`), so that kits link together."""
    from ..meta import Configuration, Metrics, read_meta
    from ..tasks import TASKS
    from .codegen import c_array_files, c_symbol, op_method

    folder = Path(folder)
    # before anything is rendered
    check_kit_options(
        fixed_point=fixed_point,
        recording_hz=recording_hz,
        adc_gain=adc_gain,
        adc_bits=adc_bits,
        prefix=prefix,
    )
    if not (folder / "configuration.json").is_file():
        hint = (
            " (a run folder: export it first, `heartzoo export RUN`)"
            if (folder / "config.json").is_file()
            else ""
        )
        raise HeartzooError(f"{folder}: not an exported version, no configuration.json{hint}")
    conf = read_meta(Configuration, folder / "configuration.json")
    metrics = read_meta(Metrics, folder / "metrics.json")
    name = conf.config.get("name", folder.parent.name)
    symbol = c_symbol(name)
    label = f"{name} {folder.name}"
    firmware = conf.firmware
    if TASKS[conf.config["task"]].per_recording and firmware.aggregation is None:
        from ..meta import RecordingAggregation

        # published before the contract carried it: the windows' mean, as `load_model` reads such a version
        firmware = firmware.model_copy(update={"aggregation": RecordingAggregation(method="mean")})
    files = library_files(
        firmware,
        recording_hz=recording_hz,
        fixed_point=fixed_point,
        adc_gain=adc_gain,
        adc_bits=adc_bits,
        label=label,
    )
    files.update(c_array_files(folder, adc_gain if fixed_point else None, recording_hz))
    resolver = "\n".join(
        f"  if (resolver.Add{op_method(op)}() != kTfLiteOk) return kTfLiteError;" for op in metrics.ops
    )
    subs = {
        "@SYMBOL@": symbol,
        "@LABEL@": label,
        "@RESOLVER@": resolver,
        "@NUM_OPS@": str(len(metrics.ops)),
        "@KIND@": "fixed point (no FPU: Cortex-M0+)" if fixed_point else "float (Cortex-M4F)",
        "@WINDOWS@": str(int(TASKS[conf.config["task"]].unit == "window")),
        "@CORE_FLAGS@": " ".join(CORES["cortex-m0plus" if fixed_point else "cortex-m4f"]),
    }
    files["heartzoo_selftest.h"] = firmware_source("heartzoo_selftest.h")
    for target in TEMPLATES:
        text = firmware_source(target + ".in")
        for key, value in subs.items():
            text = text.replace(key, value)
        files[target] = text
    return with_prefix(files, prefix)


def check_kit_options(
    *,
    fixed_point: bool = False,
    recording_hz: int = RECORDING_HZ,
    adc_gain: float = ADC_GAIN,
    adc_bits: int = ADC_BITS,
    prefix: str = DEFAULT_PREFIX,
) -> None:
    """An error naming the option where the kit cannot be made with these (a prefix that cannot name C
    symbols, a rate too low for a QRS, an ADC that cannot hold the golden recording): `heartzoo export
    --firmware` asks before it publishes a version, not after."""
    from .codegen import check_adc_holds_golden, check_kit_rate

    check_prefix(prefix)
    check_kit_rate(recording_hz)
    if fixed_point:
        check_adc_holds_golden(adc_gain, adc_bits, recording_hz)


def write_firmware_kit(
    version_dir: Path,
    out_dir: Path,
    fixed_point: bool = False,
    *,
    recording_hz: int = RECORDING_HZ,
    adc_gain: float = ADC_GAIN,
    adc_bits: int = ADC_BITS,
    prefix: str = DEFAULT_PREFIX,
) -> list[Path]:
    """Write the firmware kit of an exported version into `out_dir` (each file atomically); kits of other
    prefixes can share the folder."""
    from ..io import atomic_path, check_output_dir

    out_dir = check_output_dir(Path(out_dir))
    files = kit_files(
        version_dir,
        fixed_point=fixed_point,
        recording_hz=recording_hz,
        adc_gain=adc_gain,
        adc_bits=adc_bits,
        prefix=prefix,
    )
    # the model its contract names, at the rate the folder's other kits stream
    check_kit_folder(out_dir, prefix, kit_model(files[contract_file(prefix)]), recording_hz)
    # every target checked before the first is written: a kit is written whole or not at all
    blocked = [name for name in files if (out_dir / name).exists() and not (out_dir / name).is_file()]
    if blocked:
        raise HeartzooError(
            f"{out_dir / blocked[0]}: not a file, where the kit writes one; nothing was written"
        )
    written = []
    for name, text in files.items():
        with atomic_path(out_dir / name) as tmp:
            tmp.write_text(text)
            os.chmod(tmp, 0o644)
        written.append(out_dir / name)
    return written
