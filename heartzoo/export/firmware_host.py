"""The firmware kit's C preprocessing, compiled and run: on the host (the system `cc`) against the Python
Preprocessor, and for Cortex-M (arm-none-eabi-gcc) for its code and RAM size.

Data goes to and from the C harness (heartzoo/firmware/heartzoo_host.c) through binary files: the raw
samples and R peaks of whole recordings in, each beat's int8 inputs out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import HeartzooError
from .firmware_kit import CFLAGS, CORES, firmware_source

ARM_GCC = "arm-none-eabi-gcc"
#: A QRS detector reports a peak this long after it (0.25 s at 360 Hz): how the harness feeds peaks.
PEAK_DELAY = 90


def host_compiler() -> str | None:
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")


def arm_compiler() -> str | None:
    return shutil.which(ARM_GCC)


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if res.returncode:
        raise HeartzooError(f"{what} failed ({' '.join(cmd[:3])} ...): {res.stderr.strip()[-2000:]}")
    return res


def compile_host(lib_dir: Path, exe: Path | None = None, *, double: bool = False, opt: str = "-O2") -> Path:
    """The host harness built on the library in `lib_dir` (a kit, or `library_files` written out)."""
    cc = host_compiler()
    if cc is None:
        raise HeartzooError("no C compiler (cc) on this machine: install gcc to run the C preprocessing")
    lib_dir = Path(lib_dir)
    exe = Path(exe) if exe is not None else lib_dir / ("heartzoo_host_double" if double else "heartzoo_host")
    harness = lib_dir / "heartzoo_host.c"
    harness.write_text(firmware_source("heartzoo_host.c"))
    cmd = [cc, opt, *CFLAGS, "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{lib_dir}"]
    cmd += [
        f"-DHZ_DOUBLE={int(double)}",
        str(harness),
        str(lib_dir / "heartzoo_preprocess.c"),
        "-lm",
        "-o",
        str(exe),
    ]
    _run(cmd, "compiling the C preprocessing")
    return exe


def run_host(
    exe: Path,
    records: list[tuple[np.ndarray, np.ndarray]],
    *,
    fixed_point: bool,
    ecg_len: int,
    rr_len: int = 4,
    peak_delay: int = PEAK_DELAY,
    work_dir: Path | None = None,
    pop_pause: tuple[int, int] | None = None,
) -> tuple[list[dict[str, np.ndarray]], dict[str, Any]]:
    """Stream each (samples, R peaks) recording through the compiled harness: per recording its beats'
    peaks, int8 `ecg` (beats, ecg_len) and `rr` (beats, rr_len: the contract's HZ_RR_LEN), and the number
    dropped; and the timings.
    `pop_pause` (every, length), in samples: no beat is popped while sample % every < length (an
    application busy elsewhere: beats whose frames leave the ring meanwhile are dropped)."""
    dtype = np.int16 if fixed_point else np.float32
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        with open(src, "wb") as f:
            f.write(np.int32(len(records)).tobytes())
            for x, peaks in records:
                x = np.asarray(x)
                if fixed_point and (x.dtype.kind == "f" or np.abs(x).max(initial=0) > 32767):
                    raise HeartzooError("the fixed-point harness takes int16 ADC counts")
                f.write(np.array([len(x), len(peaks)], np.int32).tobytes())
                f.write(np.ascontiguousarray(x, dtype).tobytes())
                f.write(np.ascontiguousarray(peaks, np.uint32).tobytes())
        cmd = [str(exe), str(src), str(dst), str(int(peak_delay))]
        if pop_pause is not None:
            cmd += [str(int(pop_pause[0])), str(int(pop_pause[1]))]
        res = _run(cmd, "the C preprocessing")
        data = dst.read_bytes()
    timing = json.loads(res.stdout.strip().splitlines()[-1])
    beat = np.dtype([("peak", "<u4"), ("ecg", "i1", (ecg_len,)), ("rr", "i1", (rr_len,))])
    out, pos = [], 0
    for _ in records:
        n, dropped = np.frombuffer(data, np.int32, 2, pos)
        pos += 8
        b = np.frombuffer(data, beat, int(n), pos)
        pos += int(n) * beat.itemsize
        out.append(
            {"peak": b["peak"].copy(), "ecg": b["ecg"].copy(), "rr": b["rr"].copy(), "dropped": int(dropped)}
        )
    return out, timing


PROBE = """#include "heartzoo_preprocess.h"
#ifdef WITH_LIB
hz_pre_t hz_state;
static int8_t ecg[HZ_ECG_LEN], rr[HZ_RR_LEN];
volatile int sink;
#endif
int main(void) {
#ifdef WITH_LIB
  hz_pre_init(&hz_state);
  hz_pre_push_sample(&hz_state, 0);
  hz_pre_push_peak(&hz_state, 0);
  hz_pre_finish(&hz_state);
  sink = hz_pre_pop(&hz_state, ecg, rr, 0) + hz_argmax(rr);
#endif
  return 0;
}
"""


def _berkeley(size_cmd: str, path: Path) -> dict[str, int]:
    line = _run([size_cmd, str(path)], "arm-none-eabi-size").stdout.splitlines()[1].split()
    return {"text": int(line[0]), "data": int(line[1]), "bss": int(line[2])}


def cortex_m_size(
    lib_dir: Path, core: str = "cortex-m4f", *, opt: str = "-Os", defines: Sequence[str] = ()
) -> dict[str, Any]:
    """The C preprocessing built for a Cortex-M core (arm-none-eabi-gcc, `opt`): `text`, `data`, `bss`
    of its object as arm-none-eabi-size gives them (code and constants, the taps included; it has no
    static RAM of its own); `text_linked`: the code it adds to a program, with the compiler's runtime
    helpers (64-bit division, memcpy) it pulls in (newlib-nano, --gc-sections); `state_bytes`: its
    state, `hz_pre_t`, that the application holds (statically: RAM). Flash: model + text_linked;
    RAM: arena + state_bytes + data + bss. `defines`: e.g. ("HZ_DOUBLE=0",)."""
    gcc = arm_compiler()
    if gcc is None:
        raise HeartzooError(f"{ARM_GCC} is not installed (Debian: apt-get install gcc-arm-none-eabi)")
    if core not in CORES:
        raise HeartzooError(f"unknown core {core!r}; one of {', '.join(CORES)}")
    lib_dir = Path(lib_dir)
    size_cmd, nm = gcc.replace("-gcc", "-size"), gcc.replace("-gcc", "-nm")
    flags = [*CORES[core], opt, *CFLAGS, "-ffunction-sections", "-fdata-sections", f"-I{lib_dir}"]
    flags += [f"-D{d}" for d in defines]
    link = ["--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections"]
    lib = str(lib_dir / "heartzoo_preprocess.c")
    with tempfile.TemporaryDirectory() as tmp:
        obj, probe = Path(tmp) / "heartzoo_preprocess.o", Path(tmp) / "probe.c"
        _run([gcc, *flags, "-c", lib, "-o", str(obj)], f"compiling for {core}")
        probe.write_text(PROBE)
        base, full = Path(tmp) / "base.elf", Path(tmp) / "full.elf"
        _run([gcc, *flags, *link, str(probe), "-o", str(base)], f"linking for {core}")
        _run([gcc, *flags, *link, "-DWITH_LIB", str(probe), lib, "-o", str(full)], f"linking for {core}")
        out = _berkeley(size_cmd, obj)
        linked = _berkeley(size_cmd, full)["text"] - _berkeley(size_cmd, base)["text"]
        symbols = _run([nm, "-S", "-t", "d", str(full)], "arm-none-eabi-nm").stdout
    state = next(int(p[1]) for p in (line.split() for line in symbols.splitlines()) if p[-1:] == ["hz_state"])
    return {
        **out,
        "text_linked": linked,
        "state_bytes": state,
        "core": core,
        "opt": opt,
        "defines": list(defines),
    }


def firmware_footprint(
    version_dir: Path, fixed_point: bool = False, *, core: str | None = None, recording_hz: int | None = None
) -> dict[str, Any]:
    """What the firmware kit of a version needs on a microcontroller: the preprocessing built for
    `core` (default: a Cortex-M4F for the float kit, a Cortex-M0+ for the fixed-point one) and for a
    stream of `recording_hz` (the kit's default: its state grows with the rate) as `cortex_m_size` gives
    it, the model (its .tflite bytes, TFLM's measured arena), and the sums a model card shows: flash =
    model + preprocessing code, RAM = arena + preprocessing state. TensorFlow Lite Micro itself and the
    golden self-test are not counted."""
    from ..meta import Configuration, read_meta, read_metrics
    from .firmware_kit import RECORDING_HZ, library_files

    version_dir = Path(version_dir)
    metrics = read_metrics(version_dir)
    firmware = read_meta(Configuration, version_dir / "configuration.json").firmware
    core = core or ("cortex-m0plus" if fixed_point else "cortex-m4f")
    with tempfile.TemporaryDirectory() as tmp:
        hz = RECORDING_HZ if recording_hz is None else recording_hz
        for name, text in library_files(firmware, fixed_point=fixed_point, recording_hz=hz).items():
            (Path(tmp) / name).write_text(text)
        pre = cortex_m_size(Path(tmp), core)
    return {
        "preprocessing": pre,
        "model_bytes": metrics.tflite_bytes,
        "arena_bytes": metrics.tflm_arena_bytes,
        "flash_bytes": metrics.tflite_bytes + pre["text_linked"] + pre["data"],
        "ram_bytes": metrics.tflm_arena_bytes + pre["state_bytes"] + pre["data"] + pre["bss"],
    }
