"""Levers for af-4's student, each trained through the student's whole line (distilled from the teacher its
recipe names, channel-pruned, the stage `export.stage` selects) and scored as export scores it: the
challenge's F1 on the validation recordings by the recipe's aggregation, cross-fitted for a fitted one
(`evaluation.evaluate.fitted_aggregation`). The committed test split is never read.

The rule, fixed before any run: a variant replaces configs/af-4-cnn3-student.yaml's recipe (and is
published as its next version) if its validation F1 beats the published version it would follow by >= 0.01.

`hop50`: the teacher's soft labels on overlapping windows (`data.window_hop: 0.5`): twice the crops of each
training recording, every one labelled by the teacher, where plain training only repeats the recording's
label (af_screen's third round gave undistilled cnn3 +0.0096, under its bar).

`qat` (added before it ran, for the int8 loss: on validation the published student scores 0.8425 float
against 0.8334 int8, and neither the map's eps nor the calibration set's size is the cause): the distilled
stage (the one v2 published) fine-tuned 3 epochs with fake int8 quantization (`compress.qat`, tfmot's
`quantize_model`), then converted as export converts it; no channel pruning (v2's best stage was before
it), `export.stage: last`. Its rule, fixed before it ran: scored, as every variant now is, by the int8
model's validation F1 too (TFLM, the map fitted on the float probabilities and cross-fitted, as export
scores it; the version it would follow scored the same way here), it replaces the recipe if its int8
validation F1 beats that version's by >= 0.005 (the int8 loss it targets is about 0.009) and its float
validation F1 is not lower by more than 0.005. One run: distillation is deterministic, so the QAT stage
starts from v2's model and the comparison is paired.

`cnn4` (added before it ran): the student one size up (cnn4, 31,900 parameters before pruning), since
the published student uses 24,752 B of flash and 14,976 B of arena of the issue's 64 KB each; undistilled
at seed 0 it scored below cnn3 in af_screen's second round (0.8097 against 0.8156), so the question is
whether the teacher's soft labels reach a larger student further. The float rule above (>= 0.01), and
within the budget.

`ensemble-2` (added before it ran): the student recipe as a seed ensemble of as many members as the
wearable's budget holds: two (seeds 0 and 1; one member of v2's size takes 24,752 B of the 64 KB flash,
three would not fit), each distilled from the teacher and channel-pruned as the recipe does, their logits
averaged in one int8 graph (`ensemble`). Why: the student is one draw of its seed, and the teacher's three
seeds as one ensemble scored 0.8500 against 0.8314 for its single seeds (af_aggregation's third round);
seed 0's member is v2's recipe itself, so the comparison is paired. The float rule above (>= 0.01), and
the int8 model within the budget (<= 64 KB `.tflite`, <= 64 KB TFLM arena, checked by export).

Fourth round, written after v3 was published and before any of it ran. The levers above were judged against
v2, whose validation F1 (0.8362) its recipe does not make again here (`heartzoo zoo retrain`, docs/history.md);
the recipe stands at v3 now (0.8248, the same recipe trained again), the version a lever would follow. So
each is judged again against v3 by the same rule (+0.01 in float; qat by its int8 rule): on the record,
`cnn4` (0.8390) passes, `hop50` (0.8300), `ensemble-2` (0.8337) and `qat` (int8 0.8152) do not. Since the
record's cnn4 run was made before training pinned its thread pool and on a machine not recorded, cnn4 is
trained again here at one clean commit and carried only if this run also passes (validation F1 >= v3's
+ 0.01, as export scores it, within the budget). A cnn4 student is not a cnn3 one, so the run trains it
under its own name, `configs/af-4-cnn4-student.yaml` (the recipe with `model.arch: cnn4`; a variant given
as a config file is trained as it is): `--variants configs/af-4-cnn4-student.yaml --against
zoo/af-4/af-4-cnn3-student/v3`. If carried, that run is published (`heartzoo train
configs/af-4-cnn4-student.yaml --run-dir runs/af-student/af-4-cnn4-student`, at the same commit, without
training again); the test split is read by export only, after. The recommendation follows its unchanged
rule.
Result: carried, by 0.0008 (validation 0.8355 against v3's 0.8248 + 0.01; int8 0.8227 against 0.8149),
32,544 B and a 15,328 B arena; published as af-4-cnn4-student v1 (test F1 int8 0.8223, read after).

Run: `python studies/af_student.py [--variants hop50] [--record FILE]`; runs in runs/af-student/NAME, each
a run of the recipe's own name, so an adopted one is published by `heartzoo train
configs/af-4-cnn3-student.yaml --run-dir runs/af-student/NAME` without training again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "configs" / "af-4-cnn3-student.yaml"
VARIANTS: dict[str, dict] = {
    "hop50": {"data": {"window_hop": 0.5}},
    "qat": {
        "compress": {"channel_prune": None, "qat": {"epochs": 3, "learning_rate": 1e-4}},
        "export": {"stage": "last"},
    },
    "cnn4": {"model": {"arch": "cnn4", "params": {"kernel": 9}}},
    "ensemble-2": {"ensemble": {"members": 2}},
}
#: variants judged by their int8 validation F1 (the rule above), the others by their float one
INT8_RULE = {"qat": (0.005, 0.005)}


#: the wearable's budget (issue 47): flash of the .tflite and TFLM arena, bytes
BUDGET = 64 * 1024


def validation_f1(model, config) -> tuple[float, float, int, int]:
    """The float and the int8 model's validation F1 as export scores them: the int8 model converted as
    export converts it and run in TFLM, each fold's map fitted on the float probabilities and read on
    the float ones, then on the int8 ones; with that .tflite's bytes and its TFLM arena."""
    from heartzoo.evaluation.evaluate import cross_fitted_f1, split_probabilities
    from heartzoo.export.convert import calibration_inputs, published_int8
    from heartzoo.export.runtimes import quantized_inputs, tflm_arena_and_latency
    from heartzoo.preprocess import input_rows

    probs, labels, ws = split_probabilities(model, config, "val")
    calibration = calibration_inputs(config, n=config.export.calibration_frames)
    buf = published_int8(model, config, calibration)
    q, _, _ = split_probabilities(model, config, "val", int8=buf)
    arena, _ = tflm_arena_and_latency(
        buf, quantized_inputs(buf, input_rows(calibration, slice(0, 1))), repeats=5
    )
    return (
        cross_fitted_f1(probs, labels, ws.record, config),
        cross_fitted_f1(probs, labels, ws.record, config, applied_to=q),
        len(buf),
        arena,
    )


def main() -> None:
    from af_screen import merged

    from heartzoo.config import parse_config
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.io import append_json_line
    from heartzoo.meta import read_metrics
    from heartzoo.training.runs import run_pipeline

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--against", default="zoo/af-4/af-4-cnn3-student/v2", help="the version it would follow")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    from heartzoo.training.threads import pin_threads

    pin_threads()  # before the version it would follow is scored: that starts TensorFlow
    base = yaml.safe_load(RECIPE.read_text())
    against = read_metrics(REPO / args.against).val_macro_f1
    # the version it would follow, scored first and the same way (a failure shows before any training)
    against_int8 = validation_f1(*load_run(REPO / args.against))[1]
    for name in args.variants:
        if name.endswith(".yaml"):  # a recipe of its own, trained as it is (a carried run is published)
            from heartzoo.config import load_config

            config, changes = load_config(REPO / name), name
            name = config.name
        else:
            config, changes = (
                parse_config(merged(base, VARIANTS[name]), f"{RECIPE.name} + {name}"),
                VARIANTS[name],
            )
        t0 = time.perf_counter()
        out = run_pipeline(config, REPO / "runs" / "af-student" / name, zoo=REPO / "zoo", publish=False)
        model, _ = load_run(out["final"])
        val, int8, nbytes, arena = validation_f1(model, config)
        if name in INT8_RULE:
            gain, loss = INT8_RULE[name]
            adopted = int8 >= against_int8 + gain and val >= against - loss
        else:
            adopted = val >= against + 0.01
        adopted = adopted and nbytes <= BUDGET and arena <= BUDGET
        line = {
            "study": "af_student",
            "variant": name,
            "changes": changes,
            "stage": out["selected"]["stage"],
            "val_f1": val,
            "val_f1_int8": int8,
            "against": args.against,
            "against_val_f1": against,
            "against_val_f1_int8": against_int8,
            "tflite_bytes": nbytes,
            "tflm_arena_bytes": arena,
            "adopted": adopted,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
