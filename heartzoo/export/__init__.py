"""Microcontroller export, one module per job:

- `convert`: Keras -> int8 TFLite (layers TFLM runs, batch of 1, softmax out, calibrated on DS1 frames);
- `runtimes`: LiteRT (reference and optimized kernels) and the TFLite Micro interpreter, arena, latency;
- `rescale`: int8 MUL output scales that LiteRT (float32) and TFLM (double) turn into one multiplier;
- `shrink`: the .tflite without what TFLM and LiteRT never read (names, metadata, repeated tables);
- `codegen`: the C header/source pair of a version, generated on demand;
- `firmware_kit`: the firmware kit of a version (the C preprocessing library, its contract header, the
  model array, golden vectors, an example TFLM main; `contract_events` its task-specific constants);
  `firmware_host` compiles it (host, Cortex-M) and `firmware_check` measures it against the Python
  Preprocessor.

What makes a version of a run (scores, checks, the folder) is the zoo's: `heartzoo.zoo.publish`. This
package imports the data, the models and the published metadata, never evaluation, training or the zoo.
"""

from ..errors import ExportError
from .codegen import c_array, c_array_files, c_symbol, write_c_array
from .convert import calibrated_int8, calibration_inputs, convert_int8, firmware_model, microcontroller_layers
from .firmware_kit import write_firmware_kit
from .runtimes import (
    TensorSpec,
    dequantize_probs,
    io_specs,
    litert_interpreter,
    quantize,
    quantize_inputs,
    quantized_inputs,
    run_interpreter,
    run_litert,
    run_tflm,
    runtime_mismatch,
    tflite_ops,
    tflm_arena_and_latency,
    verification_frames,
)
from .shrink import shrink_report, shrink_tflite

__all__ = [
    "ExportError",
    "TensorSpec",
    "c_array",
    "c_array_files",
    "c_symbol",
    "calibrated_int8",
    "calibration_inputs",
    "convert_int8",
    "dequantize_probs",
    "firmware_model",
    "io_specs",
    "litert_interpreter",
    "microcontroller_layers",
    "quantize",
    "quantize_inputs",
    "quantized_inputs",
    "run_interpreter",
    "run_litert",
    "run_tflm",
    "runtime_mismatch",
    "shrink_report",
    "shrink_tflite",
    "tflite_ops",
    "tflm_arena_and_latency",
    "verification_frames",
    "write_c_array",
    "write_firmware_kit",
]
