"""How many calibration windows af-4's int8 conversion takes: `export.calibration_frames` 600 (every version so
far) against 2,400, on the six af-4 screen runs (studies/af_screen.py: cnn3 and cnn5 at 100 Hz, seeds
0-2), each converted to int8 as export converts it and run in TFLM on the validation recordings; the
recording's class by mean+max, fitted on the float model's probabilities and cross-fitted as export scores
it. The committed test split is never read.

The rule, fixed before any run: 2,400 replaces 600 for the next af-4 versions if the int8 validation F1 is
higher on average over the six runs and in at least four of them. (On validation the published student
loses 0.009 to int8, 0.8425 float against 0.8334; studies/af_aggregation.py's fifth round found the map's
eps is not the cause.)

`--input-range` (a diagnosis, no rule and nothing to adopt): where the published student's int8 loss
comes from, on validation. The float model is scored on its inputs quantized to the int8 input's steps and
back (the input's share of the loss), and the int8 model converted again with its calibration windows
clipped to +-8, 6 and 4 (z-scored units: the converter then spends the input's 256 steps on a narrower
range, and saturates the larger QRS peaks).

`--log-softmax` (its rule written before it ran): the int8 graph ending in LOG_SOFTMAX instead of SOFTMAX.
The mean+max map reads the log of each window's probabilities, and an int8 SOFTMAX output has steps of
1/256 in probability: every probability under 1/512 becomes 0, which the map reads as log(1e-6) = -13.8
where the float model gave, say, -7 (the fifth round of studies/af_aggregation.py moved eps, not this).
An int8 LOG_SOFTMAX (TFLite's fixed output steps of 1/16 over [-16, 0], run by TFLM) gives the map the
log-probabilities themselves, as fine for a window's unlikely classes as for its likely one. Scored on
the four published af-4 versions (af-4-cnn3-student v1 and v2, af-4-cnn5 v1, af-4-cnn5-ensemble v1: the
same float models, so every comparison is paired), each converted both ways with the same calibration
windows and run in TFLM on the validation recordings, mean+max fitted on the float probabilities and
cross-fitted as export scores it. The rule: the next af-4 versions end in LOG_SOFTMAX if its int8
validation F1 is higher by >= 0.005 on average over the four and higher in at least three.

Run: `python studies/af_int8.py [--record FILE]`; `python studies/af_int8.py --input-range [--record FILE]`;
`python studies/af_int8.py --log-softmax [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = [f"runs/af-screen/{v}-s{s}" for v in ("100hz", "100hz-cnn5") for s in (0, 1, 2)]
#: the published af-4 versions `--log-softmax` converts both ways
VERSIONS = [
    f"zoo/af-4/{v}"
    for v in ("af-4-cnn3-student/v1", "af-4-cnn3-student/v2", "af-4-cnn5/v1", "af-4-cnn5-ensemble/v1")
]
FRAMES = (600, 2400)


def main() -> None:
    from heartzoo.evaluation.evaluate import cross_fitted_f1, load_run, split_probabilities
    from heartzoo.export.convert import calibration_inputs, published_int8
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", default=RUNS)
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    ap.add_argument("--input-range", action="store_true", help="the diagnosis of the student's input")
    ap.add_argument(
        "--version", default="zoo/af-4/af-4-cnn3-student/v2", help="the version --input-range reads"
    )
    ap.add_argument("--log-softmax", action="store_true", help="the int8 graph ending in LOG_SOFTMAX")
    args = ap.parse_args()
    if args.log_softmax:
        lines = [log_softmax(v) for v in VERSIONS]
        gains = [x["challenge_f1"]["int8_log_softmax"] - x["challenge_f1"]["int8_softmax"] for x in lines]
        adopted = sum(gains) / len(gains) >= 0.005 and sum(g > 0 for g in gains) >= 3
        for line in lines:
            line["adopted"] = adopted
            print(json.dumps(line), flush=True)
            append_json_line(args.record, line)
        return
    if args.input_range:
        line = {
            "study": "af_int8",
            "diagnosis": "input_range",
            "version": args.version,
            **input_range(args.version),
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)
        return
    for run in args.runs:
        model, config = load_run(REPO / run)
        probs, labels, ws = split_probabilities(model, config, "val")
        scores = {}
        for n in FRAMES:
            buf = published_int8(model, config, calibration_inputs(config, n=n))
            q, _, _ = split_probabilities(model, config, "val", int8=buf)
            # each fold's map fitted on the float probabilities, read on the int8 ones, as export scores it
            scores[str(n)] = cross_fitted_f1(probs, labels, ws.record, config, "mean+max", applied_to=q)
        scores["float"] = cross_fitted_f1(probs, labels, ws.record, config, "mean+max")
        line = {"study": "af_int8", "run": run, "challenge_f1": scores}
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


def log_softmax(version: str) -> dict:
    """`--log-softmax` for one published version: validation F1 (mean+max, cross-fitted on the float
    probabilities) of the float model and of its int8 graph ending in SOFTMAX and in LOG_SOFTMAX."""
    import keras
    import numpy as np

    from heartzoo.evaluation.evaluate import cross_fitted_f1, load_run, split_probabilities
    from heartzoo.export.convert import calibration_inputs, convert_int8, firmware_model
    from heartzoo.export.runtimes import tflite_ops
    from heartzoo.export.shrink import shrink_tflite

    model, config = load_run(REPO / version)
    probs, labels, ws = split_probabilities(model, config, "val")
    calibration = calibration_inputs(config, n=config.export.calibration_frames)
    fw = firmware_model(model, config)
    logs = keras.layers.Activation(keras.activations.log_softmax, name="log_probs")(
        fw.get_layer("probs").input
    )
    scores = {"float": cross_fitted_f1(probs, labels, ws.record, config, "mean+max")}
    for name, graph in (("int8_softmax", fw), ("int8_log_softmax", keras.Model(fw.inputs, logs))):
        buf = convert_int8(graph, calibration)
        buf = shrink_tflite(buf) if config.export.shrink else buf  # as export publishes it
        q, _, _ = split_probabilities(model, config, "val", int8=buf)
        if "LOG_SOFTMAX" in tflite_ops(buf):
            q = np.exp(q)  # dequantized log-probabilities
        scores[name] = cross_fitted_f1(probs, labels, ws.record, config, "mean+max", applied_to=q)
    return {"study": "af_int8", "variant": "log_softmax", "version": version, "challenge_f1": scores}


def input_range(version: str) -> dict:
    """The diagnosis of `--input-range` for a published version: validation F1 (mean+max, cross-fitted
    on the float probabilities) of the float model, of the float model on int8-quantized inputs, and of
    the int8 model converted with its calibration windows clipped to each range."""
    import numpy as np

    from heartzoo.evaluation.evaluate import cross_fitted_f1, load_run, split_probabilities
    from heartzoo.export.convert import calibration_inputs, published_int8
    from heartzoo.export.runtimes import io_specs
    from heartzoo.inference import predict_probs
    from heartzoo.preprocess import Preprocessor

    folder = REPO / version
    model, config = load_run(folder)
    probs, labels, ws = split_probabilities(model, config, "val")

    def score(p) -> float:
        return round(cross_fitted_f1(probs, labels, ws.record, config, applied_to=p), 4)

    buf = (folder / "model.tflite").read_bytes()
    (ecg,), _ = io_specs(buf)
    x = ws.model_inputs(Preprocessor.of(config))
    xq = np.clip(np.round(x / ecg.scale) + ecg.zero_point, -128, 127)
    published, _, _ = split_probabilities(model, config, "val", int8=buf)
    out = {
        "float": score(probs),
        "float_on_int8_inputs": score(
            predict_probs(model, ((xq - ecg.zero_point) * ecg.scale).astype("float32"))
        ),
        "int8": score(published),
        "input_scale": ecg.scale,
        "clipped": {},
    }
    cal = calibration_inputs(config, n=config.export.calibration_frames)
    for c in (8.0, 6.0, 4.0):
        q, _, _ = split_probabilities(
            model, config, "val", int8=published_int8(model, config, np.clip(cal, -c, c))
        )
        out["clipped"][str(c)] = score(q)
    return out


if __name__ == "__main__":
    main()
