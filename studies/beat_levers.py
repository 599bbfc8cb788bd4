"""Screen levers on a beat recipe: what each does to validation, to wearable recordings and (read last) DS2.

A lever is a set of config overrides (LEVERS below). Each lever's variant of the base config trains with
seeds 0, 1, 2 (runs/levers/<name>-<lever>-seed<k>, never published) and is measured on:
- validation: macro-F1 and S F1 on the validation patients of the training pool, at the selected epoch;
- CinC validation: the share of beats called S in AF recordings and called V in normal-rhythm ones, over
  a fixed draw of the CinC 2017 *training* split (`heartzoo.training.af_beats.cinc_validation`: never the test
  split, never trained on), through the whole path a user takes (default detector, quality gate, the
  model's Preprocessor; float);
- DS2 (inter-patient test): macro-F1 and each class's F1, measured after the runs, choosing nothing.

The rule, fixed before any run (`heartzoo.site.lever_table.adopted`): a lever is adopted when, over the seeds,
its mean validation macro-F1 is above the baseline's and its mean CinC-validation AF S share is not above
the baseline's. The table in docs/training.md is made from the record (`make docs`).

aami-5 (configs/aami-5-cnn3.yaml) is screened by the same rule, with the levers beat-3's screen adopted and
their parts (baseline, template, af-beats, template-af-beats), written before any aami-5 run.
beat-2 (configs/beat-2-cnn3.yaml, beat-3-cnn3's comparison recipe for beat-2) likewise with baseline and
template, written before any beat-2 run (AF beats are refused for beat-2: its ectopic class holds V, so
"not S" says nothing); its "AF beats called S" is the share called ectopic.

Added before `extra-leads` ran (issue 46's lead robustness): a lever stacked on the adopted combination
`template-af-beats` (its name begins `template-af-beats-`) is adopted only if it passes the same rule against
that combination as well (it is what the wearable recipe would change).

Added before `rr-history` ran (issue 46 item 1, the rhythm before the beat): `input.rr_history: 16`, the 16
RR intervals before the beat's own over the mean of the last 300 (a long, causal horizon), so the model
sees the rhythm a beat comes in, as Lin & Yang (2014) and Mondéjar-Guerra et al. (2019) give their
classifiers normalised RR intervals around the beat. Screened alone against the baseline, and stacked on
`template-af-beats` by the rule above; 16 was fixed before any run (no screen over the length).

Added before `time-scale` ran (issue 46's sampling jitter): `augment.time_scale: [0.9, 1.1]`, each drawn
training frame read as if sampled at a rate off by up to 10 % (stretched or squeezed around its R peak),
as a device's clock, another device's rate or a faster heart shows the same beat. Alone and stacked on
`template-af-beats`, by the same rule; the range was fixed before any run.

Added before `rr-median` ran (issue 46 item 1's running median): `input.rr_normaliser: median`, the
long-horizon ratios (pre/post over the last 300 intervals) divided by the running lower median of those
intervals instead of their mean, so that runs of ectopic beats, pauses and missed beats (which pull a mean)
move the patient's reference rhythm less, as de Chazal et al. (2004) and Mondéjar-Guerra et al. (2019)
normalise RR intervals by the patient's own average rhythm. Alone against the baseline, and stacked on
`template-af-beats`, by the same rules; the horizon stays 300 beats (no screen over it).

Added after `rr-median` ran and before `rr-head` ran (issue 46: "RR features given a path the convolutions
cannot drown"): `model.params.rr_head: 32`, a hidden ReLU layer of 32 units joining the pooled waveform
features and the RR embedding before the logits. The classifier so far is linear in the two, so a shape
the convolutions score as N (232's bundle-branch block) adds the same N evidence whatever the timing;
through a hidden layer the timing can change what a shape means. Alone against the baseline, and stacked
on `template-af-beats` (where the template says how like the patient's own beats a beat is), by the same
rules; 32 units fixed before any run.

Added after `rr-head` ran and before any of these aami-5 runs: the levers beat-3's screen has adopted against
its baseline since aami-5's screen ran (`rr-history`, `time-scale`, `rr-median`, `rr-head`), each alone on
configs/aami-5-cnn3.yaml, seeds 0-2, by the same rule against aami-5's baseline; one that is adopted and
beats aami-5's highest adopted lever (`template-af-beats`) on validation would become aami-5's wearable
recipe. (AAMI's F and Q classes change nothing in the rule: macro-F1 over the task's scored classes.)

Added before any of these beat-2 runs, as aami-5's screen above was: the levers beat-3 adopted against its
baseline since beat-2's screen ran (`rr-history`, `time-scale`, `rr-median`, `rr-head`), each alone on
configs/beat-2-cnn3.yaml, seeds 0-2, by the same rule against beat-2's baseline (its "AF beats called S"
being the share called ectopic); one that is adopted and beats beat-2's highest adopted lever (`template`) on
validation would become beat-2's wearable recipe.

Added before `template-on-time` ran (issue 46's "shape relative to the patient's template"): a running template
of the beats that came on time. Measured on the reference beats, no model (`python studies/rr_normaliser.py
--templates`): the 8 frames before an S beat of record 232 are 76 % S beats (its atrial premature beats
outnumber its normal ones), so the template channel shows 232's S beats as the patient's usual beat; DS1's S
beats, which come in runs, have templates 43 % S. `input.template_on_time: 0.9` lets a beat into the template
only when its RR before is at least 0.9 of the long horizon (its pre/local300 feature >= 0.9): the templates
of 232's S beats then hold no S beat, DS1's 3 %. Screened as `template-on-time` (the template channel so
made) against the baseline, and as `template-af-beats-on-time` (the adopted combination with its template so
made), which must pass the rule against the baseline and against `template-af-beats`, whose recipe it would
change; 0.9 was fixed before any run (no screen over it). If `template-af-beats-on-time` passes, the beat-3
wearable line is trained again with it and published as its next versions, their cards carrying DS2 and
the external columns.

Added after the beat-3 `template-on-time` runs and before any of these: `template-on-time` alone on beat-2
(configs/beat-2-cnn3.yaml) and on aami-5 (configs/aami-5-cnn3.yaml), seeds 0-2, each by the same rule
against its task's baseline; adopted with a higher validation macro-F1 than the task's wearable recipe's
lever (beat-2: `template`; aami-5: `template-af-beats`), it becomes that task's wearable recipe, as on beat-3.

Added after every run above and before any of these (issue 46's "RR features given a path the convolutions
cannot drown", the strict form that `rr-head` was not): `model.params.s_timing: 16`, a head that scores N and
S as one supraventricular class and reads the log-odds of S against N from the RR inputs alone, through 16
ReLU units (`heartzoo.models.registry.add_rr_input`): P(S) / P(N) = exp(t(RR)) whatever the beat's shape,
as AAMI defines S by origin and timing. Shape still decides V (and F, Q) against the two. Screened on
beat-3, seeds 0-2, as `s-timing` (alone), `s-timing-rr-history` (the branch also sees the 16 intervals
before the beat, the rhythm a premature beat breaks and AF never keeps), `s-timing-af-beats` (the branch
also learns from AF beats that short intervals in AF are not S) and `template-on-time-s-timing` (stacked on
the beat-3 wearable recipe, which must pass the rule against `template-on-time` too, the recipe it would
change). Each by the same rule against the baseline; 16 units fixed before any run. One adopted with a
higher validation macro-F1 than `template-on-time` would become beat-3's wearable recipe, trained on its
full schedule and published as the line's next versions.

Added after beat-3's `s-timing` runs and before any of these, as for the levers before it: `s-timing` alone
on aami-5 (configs/aami-5-cnn3.yaml), seeds 0-2, by the same rule against aami-5's baseline; adopted with
a higher validation macro-F1 than aami-5's wearable recipe's lever (`template-on-time`), it would become
that recipe. (beat-2 has no S class for it.)

Added after every run above and before any of these: the two input levers that passed alone against
beat-3's baseline, stacked on the wearable recipe, which none of them has been yet: `template-on-time-
rr-history` (the on-time template and the 16 RR intervals before the beat) and `template-on-time-rr-median`
(the on-time template and the long-horizon RR ratios over the running median). Seeds 0-2, each by the same
rule against the baseline and against `template-on-time`, the recipe it would change (validation macro-F1
above it, CinC-validation AF beats called S not above it). One that passes would become beat-3's wearable
recipe, trained on its full schedule and published as the line's next versions (not in the stop that
screens it: a wearable chain is an hour here).

Added after beat-3's stacked runs and before any of these: `template-on-time-rr-median`, which passed on
beat-3, on beat-2 (configs/beat-2-cnn3.yaml) and on aami-5 (configs/aami-5-cnn3.yaml), seeds 0-2, each by the
same rule against its task's baseline and against `template-on-time`, its wearable recipe's lever (validation
macro-F1 above it; AF beats called S, for beat-2 called ectopic, not above it). One that passes becomes that
task's wearable recipe, trained on its full schedule and published as the line's next versions.

Run: `python studies/beat_levers.py configs/beat-3-cnn3.yaml --levers baseline premature ...
[--seeds 0 1 2] [--record results/beat_levers.jsonl]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

AF_BEATS = {"sources": ["cinc2017", "aftdb"], "share": 0.1}
#: lever -> overrides of the base config (dotted paths)
LEVERS: dict[str, dict[str, object]] = {
    "baseline": {},
    "premature": {"augment.premature": 0.1},
    "premature-25": {"augment.premature": 0.25},
    "template": {"input.template_beats": 8},
    "template-premature": {"input.template_beats": 8, "augment.premature": 0.1},
    "polarity": {"augment.polarity": 0.5},
    "af-beats": {"data.af_beats": AF_BEATS},
    "template-af-beats": {
        "input.template_beats": 8,
        "data.af_beats": AF_BEATS,
    },
    "af-beats-irregularity": {"input.rr_irregularity": True, "data.af_beats": AF_BEATS},
    "template-af-beats-irregularity": {
        "input.template_beats": 8,
        "input.rr_irregularity": True,
        "data.af_beats": AF_BEATS,
    },
    "extra-leads": {"data.extra_leads": True},
    "template-af-beats-extra-leads": {
        "input.template_beats": 8,
        "data.af_beats": AF_BEATS,
        "data.extra_leads": True,
    },
    "rr-history": {"input.rr_history": 16},
    "template-af-beats-rr-history": {
        "input.template_beats": 8,
        "data.af_beats": AF_BEATS,
        "input.rr_history": 16,
    },
    "time-scale": {"augment.time_scale": [0.9, 1.1]},
    "template-af-beats-time-scale": {
        "input.template_beats": 8,
        "data.af_beats": AF_BEATS,
        "augment.time_scale": [0.9, 1.1],
    },
    "rr-median": {"input.rr_normaliser": "median"},
    "template-af-beats-rr-median": {
        "input.template_beats": 8,
        "data.af_beats": AF_BEATS,
        "input.rr_normaliser": "median",
    },
    "rr-head": {"model.params.rr_head": 32},
    "template-af-beats-rr-head": {
        "input.template_beats": 8,
        "data.af_beats": AF_BEATS,
        "model.params.rr_head": 32,
    },
    "template-on-time": {"input.template_beats": 8, "input.template_on_time": 0.9},
    "template-af-beats-on-time": {
        "input.template_beats": 8,
        "input.template_on_time": 0.9,
        "data.af_beats": AF_BEATS,
    },
    "s-timing": {"model.params.s_timing": 16},
    "s-timing-rr-history": {"model.params.s_timing": 16, "input.rr_history": 16},
    "s-timing-af-beats": {"model.params.s_timing": 16, "data.af_beats": AF_BEATS},
    "template-on-time-s-timing": {
        "input.template_beats": 8,
        "input.template_on_time": 0.9,
        "model.params.s_timing": 16,
    },
    "af-beats-premature": {
        "data.af_beats": AF_BEATS,
        "augment.premature": 0.1,
    },
    "template-on-time-rr-history": {
        "input.template_beats": 8,
        "input.template_on_time": 0.9,
        "input.rr_history": 16,
    },
    "template-on-time-rr-median": {
        "input.template_beats": 8,
        "input.template_on_time": 0.9,
        "input.rr_normaliser": "median",
    },
}


def variant(config, lever: str, seed: int):
    """`config` with the lever's overrides and training seed `seed`, renamed <name>-<lever>-seed<k>."""
    from heartzoo.config import parse_config

    raw = config.model_dump(mode="json")
    for dotted, value in LEVERS[lever].items():
        *path, key = dotted.split(".")
        node = raw
        for p in path:
            node = node[p]
        node[key] = value
    raw["train"]["seed"] = seed
    raw["name"] = f"{config.name}-{lever}-seed{seed}"
    return parse_config(raw, f"{config.name} lever {lever}")


def loaded_run(run: Path):
    """A run's float model in the form `annotate` takes."""
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.meta import FirmwareContract
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task
    from heartzoo.zoo.hub import LoadedModel

    model, config = load_run(run)
    contract = {
        **Preprocessor.of(config).contract(),
        "class_names": list(get_task(config.task).class_names),
        "inputs": [],
        "outputs": [],
        "output": "float softmax probabilities",
    }
    return LoadedModel(model, config, FirmwareContract.model_validate(contract), "keras", run)


def validation_by_class(run: Path, best_epoch: int) -> dict[str, float]:
    with open(run / "history.csv") as f:
        row = next(r for r in csv.DictReader(f) if int(r["epoch"]) == best_epoch)
    return {k.removeprefix("val_f1_"): float(v) for k, v in row.items() if k.startswith("val_f1_")}


def measure(config, lever: str, seed: int, runs: Path, cinc: tuple[str, ...]) -> dict:
    from heartzoo.evaluation.evaluate import load_run, split_probabilities
    from heartzoo.evaluation.metrics import report_from_probabilities
    from heartzoo.recording.external import cinc2017
    from heartzoo.site.card_external import false_call_classes
    from heartzoo.tasks import get_task
    from heartzoo.training.runs import run_pipeline

    v = variant(config, lever, seed)
    out = run_pipeline(v, runs / v.name, publish=False)
    last = Path(out["final"])
    summary = json.loads((last / "train_summary.json").read_text())
    task = get_task(config.task)
    ext = cinc2017(loaded_run(last), records=cinc)
    model, cfg = load_run(last)
    probs, labels, _ = split_probabilities(model, cfg, "test")
    rep = report_from_probabilities(probs, labels, task.class_names, task.macro_classes)
    # by name: aami-5's last class is Q, not V; beat-2's false call in AF is "ectopic"
    s_name, v_name = false_call_classes(task.class_names)
    return {
        "lever": lever,
        "overrides": LEVERS[lever],
        "seed": seed,
        "run": str(last),
        "val": {
            "macro_f1": out["selected"]["val_macro_f1"],
            "f1": validation_by_class(last, summary["best_epoch"]),
        },
        "cinc_validation": {
            "records": len(cinc),
            "af_share_s": ext["A"]["share"][s_name],
            "normal_share_v": ext["N"]["share"][v_name],
        },
        "ds2": {"macro_f1": rep["macro_f1"], "f1": {c: rep["per_class"][c]["f1"] for c in task.class_names}},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", type=Path)
    ap.add_argument("--levers", nargs="+", default=["baseline"], choices=list(LEVERS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "levers")
    ap.add_argument("--record", type=Path, help="append each run as one JSON line to this file")
    ap.add_argument("--report", type=Path, help="summarise the runs recorded in this file instead of running")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.report:
        from heartzoo.site.lever_table import adopted, read_rows, summarise

        summary = summarise(read_rows(args.report, str(args.config)))
        for lever, s in summary.items():
            cells = " · ".join(
                f"{k} {v[0]:.4f}±{v[1]:.4f}" for k, v in s.items() if k not in ("seeds", "overrides")
            )
            print(f"{lever} (seeds {s['seeds']}): {cells}")
        if "baseline" in summary:
            print("adopted by the rule:", adopted(summary))
        return

    from heartzoo.config import load_config
    from heartzoo.io import append_json_line
    from heartzoo.training.af_beats import cinc_validation

    config = load_config(args.config)
    cinc = cinc_validation()
    for lever in args.levers:
        for seed in args.seeds:
            row = {"config": str(args.config), **measure(config, lever, seed, args.runs, cinc)}
            print(
                f"{lever} seed {seed}: validation {row['val']['macro_f1']:.4f} (S {row['val']['f1'].get('S', 0):.3f}) · "
                f"CinC AF S {row['cinc_validation']['af_share_s']:.3%} · DS2 {row['ds2']['macro_f1']:.4f} "
                f"(S {row['ds2']['f1'].get('S', 0):.3f})",
                flush=True,
            )
            append_json_line(args.record, row)


if __name__ == "__main__":
    main()
