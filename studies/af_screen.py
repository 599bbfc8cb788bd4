"""The af-4 screen: what a small model on CinC 2017 gains from each lever, scored on the validation
recordings (a stratified fifth of the training split; the committed test split is never read here).

The rule, fixed before any run: every variant trains from configs/af-4-cnn3.yaml with the changes below
(seed 0); the headline is the challenge's F1 per recording on validation, (F1_N + F1_A + F1_O) / 3. The
student's recipe takes the variant with the highest headline among those whose model stays within the
wearable budget of the issue (<= 64 KB int8 `.tflite`: about 60,000 parameters); the teacher's the
highest of all. The top two are then trained with seeds 1 and 2 (`--seeds 0 1 2`) and the choice is
made on the mean.

Run: `python studies/af_screen.py [--variants NAME ...] [--seeds 0] [--record FILE]`; one JSON line per
variant and seed, runs in runs/af-screen/NAME-sSEED.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "configs" / "af-4-cnn3.yaml"
LONGER = {"train": {"epochs": 60, "steps_per_epoch": 160}}
#: name -> changes to the base recipe (merged section by section)
VARIANTS: dict[str, dict] = {
    "base": {},
    "longer": LONGER,
    "100hz": {**LONGER, "input": {"fs": 100, "frame_size": 1000}},
    "20s": {**LONGER, "input": {"frame_size": 1000}},
    "cnn4": {**LONGER, "model": {"arch": "cnn4", "params": {"kernel": 9}}},
    "cnn5": {**LONGER, "model": {"arch": "cnn5", "params": {"kernel": 9}}},
    "efficientnetv2-sm": {**LONGER, "model": {"arch": "efficientnetv2-sm", "params": {}}},
}
#: the second round, written after the first round's 100 Hz won (0.8156 against 0.7949 at 50 Hz) and
#: before any of it ran: the first round's other levers on the 100 Hz input. The first round's
#: architectures at 50 Hz (cnn4, cnn5, efficientnetv2-sm) were then stopped unrun (cnn4 part-run and
#: discarded): the second round asks the same question on the better input.
HZ100 = {**LONGER, "input": {"fs": 100, "frame_size": 1000}}
VARIANTS |= {
    "100hz-20s": {**LONGER, "input": {"fs": 100, "frame_size": 2000}},
    "100hz-cnn4": {**HZ100, "model": {"arch": "cnn4", "params": {"kernel": 9}}},
    "100hz-cnn5": {**HZ100, "model": {"arch": "cnn5", "params": {"kernel": 9}}},
    "100hz-efficientnetv2-sm": {**HZ100, "model": {"arch": "efficientnetv2-sm", "params": {}}},
}

#: the third round, written after studies/af_aggregation.py adopted the mean+max aggregation and before
#: any of it ran: overlapping training windows (`data.window_hop`: half a frame), so each recording gives
#: twice the crops, on both published architectures at seeds 0-2. A variant is adopted if the mean of its
#: three seeds beats its architecture's 100 Hz mean (100hz, 100hz-cnn5) by >= 0.01 on validation, with
#: the mean aggregation recorded here and with mean+max (`af_aggregation.py --runs`) alike.
VARIANTS |= {
    "100hz-hop50": {**HZ100, "data": {"window_hop": 0.5}},
    "100hz-cnn5-hop50": {
        **HZ100,
        "data": {"window_hop": 0.5},
        "model": {"arch": "cnn5", "params": {"kernel": 9}},
    },
}

#: the fourth round, written before it ran (issue 46's sampling jitter, now `augment.time_scale`, asked of
#: the rhythm task too): each training window read as if sampled at a rate up to 10 % off (another device's
#: rate or clock; the rhythm's rate moves with it, by as much as a heart's does within minutes), cnn3 at
#: 100 Hz, seeds 0-2. Adopted by the third round's rule: the mean of its three seeds beats 100hz's mean by
#: >= 0.01 on validation, with the windows' mean (recorded here) and with mean+max (`af_aggregation.py
#: --runs`) alike.
VARIANTS |= {"100hz-time-scale": {**HZ100, "augment": {"time_scale": [0.9, 1.1]}}}

#: the fifth round, written before it ran (issue 47's teacher stands at 0.8284 on the test split, under the
#: 0.84 it asks): what the teacher can see, not its recipe. The screen's largest gain was the input's rate
#: (50 to 100 Hz: +0.02); here cnn5 reads the same 10 s at 200 Hz (frame 2000), seeds 0-2. Adopted for the
#: teacher by the third round's rule: the mean of its three seeds beats 100hz-cnn5's mean over seeds 0-2 by
#: >= 0.01 on validation, with the windows' mean (recorded here) and with mean+max (`af_aggregation.py
#: --runs`) alike. A student distils from a teacher of its own input, so an adopted rate passes to the
#: student's recipe only by studies/af_student.py's rule. Stopped after seed 0 (0.7998 against 100hz-cnn5's
#: 0.8269 at seed 0): seeds 1 and 2 would have needed 0.836 each, above any of cnn5's five seeds at 100 Hz.
VARIANTS |= {
    "200hz-cnn5": {
        **LONGER,
        "input": {"fs": 200, "frame_size": 2000},
        "model": {"arch": "cnn5", "params": {"kernel": 9}},
    }
}

#: the sixth round, written before it ran (the teacher's bar again; what it can see, not its recipe): cnn5
#: at 100 Hz reading 30 s windows (frame 3000) instead of 10 s, seeds 0-2. 5,977 of CinC 2017's 8,528
#: recordings last exactly 30 s, so the window then holds the whole recording, and an "other rhythm"
#: recording whose few ectopic beats or pauses fall in one of its three 10 s windows no longer trains the
#: other two windows, which hold none, as O (the label is the recording's). A shorter recording is one centred
#: window, as now; a 60 s one two. Adopted for the teacher by the third round's rule: the mean of its three
#: seeds beats 100hz-cnn5's mean over seeds 0-2 by >= 0.01 on validation, with the windows' mean (recorded
#: here) and with mean+max (`af_aggregation.py --runs`) alike. Adopted, the teacher's recipe is trained again
#: by `heartzoo train` as a three-member seed ensemble and published as the next af-4 teacher; the student's
#: input changes only by studies/af_student.py's rule.
VARIANTS |= {
    "100hz-cnn5-30s": {
        **LONGER,
        "input": {"fs": 100, "frame_size": 3000},
        "model": {"arch": "cnn5", "params": {"kernel": 9}},
    }
}


#: the seventh round, written before it ran (the teacher's bar again: test 0.8284 against 0.84): depth. The
#: deep models of CinC 2017 (Hannun et al. 2019's 34 layers; Kamaleswaran et al. 2018's 13) repeat each
#: stage's block at one resolution; cnn5 halves the signal at each of its four blocks, so it has 9
#: convolutions. `100hz-cnn5-deep` is cnn5 with each stage's block followed by a second at stride 1 (8
#: blocks, 17 convolutions; 264,756 parameters, 2.1x cnn5's MACs), seeds 0-2. Adopted for the teacher by
#: the third round's rule: the mean of its three seeds beats 100hz-cnn5's mean over seeds 0-2 by >= 0.01 on
#: validation, with the windows' mean (recorded here) and with mean+max (`af_aggregation.py --runs`) alike;
#: then, by the ninth aggregation round's rule, its three screen runs as one ensemble must reach 0.8600 with
#: mean+max on validation (`af_aggregation.py --ensemble`; the published ensemble's 0.8500 + 0.01). Only
#: then is it trained again by `heartzoo train` as a three-member ensemble, published, and the test split
#: read once.
#: Stopped after seed 1 and not adopted: 0.8050 and 0.8196 with the windows' mean, so seed 2 would have
#: needed 0.8475, above any af-4 run yet (the best, 100hz-cnn5-30s at seed 0, 0.8458).
VARIANTS |= {
    "100hz-cnn5-deep": {
        **HZ100,
        "model": {
            "arch": "resnet-compact",
            "params": {
                "filters": 16,
                "scales": [1, 1, 2, 2, 3, 3, 4, 4],
                "strides": [2, 1, 2, 1, 2, 1, 2, 1],
                "kernel": 9,
            },
        },
    }
}


#: the eighth round, written before it ran (the teacher's bar; what it can see): noise. AliveCor's lead is
#: read from the fingers, and its recordings carry motion, muscle noise and baseline wander that no
#: training window of cnn5 shows beyond what CinC holds. `100hz-cnn5-noise` adds NSTDB noise (bw, em, ma)
#: to 30 % of the training windows at 6-24 dB, the beat recipes' range, the SNR measured against the
#: window's QRS amplitude (`augment.noise.reference: window`), seeds 0-2. Adopted for the teacher by the
#: seventh round's rules (the third round's against 100hz-cnn5 over seeds 0-2, then its three runs as one
#: ensemble >= 0.8600 with mean+max on validation). The external sets are read after, never chosen on.
#: Stopped after seed 0 and not adopted: 0.8119 with the windows' mean (cnn5 without noise: 0.8269 at seed
#: 0), so seeds 1 and 2 would have needed 0.8300 each, above any of cnn5's five seeds at 10 s.
VARIANTS |= {
    "100hz-cnn5-noise": {
        **HZ100,
        "model": {"arch": "cnn5", "params": {"kernel": 9}},
        "augment": {
            "noise": {
                "probability": 0.3,
                "snr_db": [6, 24],
                "kinds": ["bw", "em", "ma"],
                "reference": "window",
            }
        },
    }
}


#: the ninth round, written before it ran: a diagnosis of the teacher's bar (test 0.8284 against 0.84), not
#: a candidate. Eight rounds of the input and the network moved no more than a seed's spread; what is left
#: is the data. `100hz-cnn5-half` trains cnn5 on fewer training recordings: validation fraction 0.49 (the
#: most the config allows) is the standard fifth (the same seeded draw, so the standard validation
#: recordings are a subset) plus 1,979 more, and training keeps the other 3,479 (a subset of the usual
#: 5,458: 0.65 of a halving). Every variant is scored on the standard validation recordings (the base's
#: `data.validation`), whatever its own. Seeds 0-2. The gain of doubling the data, g = (cnn5's mean over
#: seeds 0-4, 0.8135, - this mean) / 0.65, extrapolated log-linearly, says what the public data outside
#: the test split can add: training on all 6,822 recordings (x1.25) would add 0.32 g. Fixed now: if
#: 0.32 g >= 0.0116 (the teacher's gap on test), i.e. the difference is >= 0.0235, the next teacher
#: trains on every recording outside the test split (a fold ensemble, the map fitted out of fold); else
#: the note reports how much more labelled data the gap needs at that slope, and the teacher stays.
#: Result: 0.7757, 0.7683, 0.7925 (mean 0.7788): the difference is 0.0347, g = 0.053 a doubling, 0.32 g =
#: 0.017 >= 0.0116, so the teacher trains on every recording outside the test split
#: (configs/af-4-cnn5-fold-ensemble.yaml). Disclosed: cnn5's five runs chose their epoch on the very
#: recordings scored here, these on a set of which those are 41 %, which flatters the five a little.
VARIANTS |= {
    "100hz-cnn5-half": {
        **HZ100,
        "model": {"arch": "cnn5", "params": {"kernel": 9}},
        "data": {"validation": {"fraction": 0.49, "seed": 0}},
    }
}


def merged(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "params":
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def main() -> None:
    import yaml

    from heartzoo.config import parse_config
    from heartzoo.evaluation.evaluate import evaluate_model, load_run
    from heartzoo.io import append_json_line
    from heartzoo.models import describe
    from heartzoo.training.train import train

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    base = yaml.safe_load(BASE.read_text())
    for name in args.variants:
        for seed in args.seeds:
            raw = merged(base, {**VARIANTS[name], "name": f"af-4-screen-{name}"})
            raw["train"] = {**raw["train"], "seed": seed}
            config = parse_config(raw, f"{BASE.name} + {name}")
            run_dir = REPO / "runs" / "af-screen" / f"{name}-s{seed}"
            t0 = time.perf_counter()
            result = train(config, run_dir)
            model, _ = load_run(run_dir)
            # the standard validation recordings, whatever the variant's own (the ninth round's is larger)
            scored_on = parse_config(
                merged(raw, {"data": {"validation": base["data"]["validation"]}}), BASE.name
            )
            rep = evaluate_model(model, scored_on, "val")
            line = {
                "benchmark": "af_screen",
                "variant": name,
                "seed": seed,
                "changes": VARIANTS[name],
                "val_challenge_f1": rep["macro_f1"],
                "val_f1": {c: v["f1"] for c, v in rep["per_class"].items()},
                "recordings": rep["n"],
                "best_epoch": result.best_epoch,
                **describe(model),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(json.dumps(line), flush=True)
            append_json_line(args.record, line)


if __name__ == "__main__":
    main()
