"""Where a record's S beats sit over each long-horizon normaliser (`input.rr_normaliser`), from its
reference beats alone (no model): per normaliser, the median pre/long300 of its S beats and of its N
beats, and how well that ratio alone separates them (ROC AUC, lower ratio = S).

A diagnosis, read after the `rr-median` screen (studies/beat_levers.py) and choosing nothing: it says
why the median moves DS2's record 232, whose S beats outnumber its N beats.

With `--templates`, what the running template of the template channel (`input.template_beats: 8`) is made
of, from the reference beats alone: for the S beats of record 232, of DS1 and of DS2's other records, the
share of S beats among the 8 beats their template averages, with every beat entering it and with only the
on-time ones (`input.template_on_time: 0.9`), and the share of S and N beats that are on time. A diagnosis,
made before the `template-on-time` screen (studies/beat_levers.py) to say why it is tried; it chooses nothing.

Run: `python studies/rr_normaliser.py [--records 232] [--templates] [--record FILE]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from heartzoo.io import append_json_line


def where_s_sits(record: str) -> dict:
    from sklearn.metrics import roc_auc_score

    from heartzoo.data import mitbih
    from heartzoo.data.records import read_beats
    from heartzoo.preprocess.rr_features import RR_EPS, rr_intervals

    beats = read_beats(mitbih.DATABASE.folder(), record)
    s, n = beats.aami == 1, beats.aami == 0
    out = {"study": "rr_normaliser", "record": record, "S": int(s.sum()), "N": int(n.sum())}
    for normaliser in ("mean", "median"):
        rr = rr_intervals(beats.samples, beats.fs, normaliser=normaliser)
        ratio = rr[:, 0] / (rr[:, 3] + RR_EPS)
        both = s | n
        out[normaliser] = {
            "S_median_ratio": round(float(np.median(ratio[s])), 3),
            "N_median_ratio": round(float(np.median(ratio[n])), 3),
            "auc": round(float(roc_auc_score(s[both], -ratio[both])), 4),
        }
    return out


def template_makeup(name: str, records: list[str], beats: int = 8, share: float = 0.9) -> dict:
    from heartzoo.data import mitbih
    from heartzoo.data.records import read_beats
    from heartzoo.preprocess import beat_templates, on_time
    from heartzoo.preprocess.rr_features import rr_intervals

    s_in = {"every beat": [], "on time": []}
    eligible = {"S": [], "N": []}
    for record in records:
        b = read_beats(mitbih.DATABASE.folder(), record)
        ok = on_time(rr_intervals(b.samples, b.fs), share)
        is_s = b.aami == 1
        # the running template of a beat's S label is the share of S beats it averages, as the model's is made
        label = is_s[:, None].astype(np.float32)
        for rule, enters in (("every beat", None), ("on time", ok)):
            s_in[rule] += list(beat_templates(label, np.zeros(len(b.aami), "<U1"), beats, enters)[is_s, 0])
        eligible["S"] += list(ok[is_s])
        eligible["N"] += list(ok[b.aami == 0])
    return {
        "study": "template_makeup",
        "group": name,
        "template_beats": beats,
        "template_on_time": share,
        "S_beats": len(eligible["S"]),
        "S_share_in_S_templates": {k: round(float(np.mean(v)), 3) for k, v in s_in.items()},
        "on_time": {k: round(float(np.mean(v)), 3) for k, v in eligible.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", nargs="+", default=["232"])
    ap.add_argument("--templates", action="store_true", help="what the running templates are made of")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    if args.templates:
        from heartzoo.data.mitbih import DS1, DS2

        groups = {"232": ["232"], "DS1": list(DS1), "DS2 without 232": [r for r in DS2 if r != "232"]}
        for name, records in groups.items():
            line = template_makeup(name, records)
            print(json.dumps(line), flush=True)
            append_json_line(args.record, line)
        return
    for record in args.records:
        line = where_s_sits(record)
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
