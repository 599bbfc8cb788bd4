"""Where a record's S beats sit over each long-horizon normaliser (`input.rr_normaliser`), from its
reference beats alone (no model): per normaliser, the median pre/long300 of its S beats and of its N
beats, and how well that ratio alone separates them (ROC AUC, lower ratio = S).

A diagnosis, read after the `rr-median` screen (studies/beat_levers.py) and choosing nothing: it says
why the median moves DS2's record 232, whose S beats outnumber its N beats.

Run: `python studies/rr_normaliser.py [--records 232] [--record FILE]`.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", nargs="+", default=["232"])
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    for record in args.records:
        line = where_s_sits(record)
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
