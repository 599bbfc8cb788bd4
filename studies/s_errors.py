"""Where a model's S errors lie: by the rhythm annotated at each beat and by record.

S (supraventricular ectopic) is the class every task misses its target on. This splits one model's S
errors on a split (DS2 by default) by the rhythm each beat falls in, as the database annotates it
(mitdb: `N` sinus, `AFIB`, `AFL`, `B` bigeminy, `SBR`, ...; '' where none is annotated, as in most of
svdb), and names the records that hold most of them:
- false alarms: beats of another class called S;
- misses: S beats called something else.
A diagnostic of a published model, read after it was chosen and published: it chooses nothing. The int8
model as published runs (the runtime its metrics.json names), so the totals are its card's.

Run: `python studies/s_errors.py zoo/beat-3/beat-3-cnn3-student/v4 [...] [--split ds2] [--top 5]
[--record FILE]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from heartzoo.environment import Environment


def beat_rhythms(records: np.ndarray, samples: np.ndarray, data_dir=None) -> np.ndarray:
    """The rhythm annotated at each beat ('' where none is): `samples` at each record's own rate."""
    from heartzoo.data.databases import database_of

    out = np.full(len(records), "", dtype="<U8")
    for record in dict.fromkeys(records.tolist()):
        db = database_of(record)
        at = records == record
        out[at] = db.read_rhythms(db.folder(data_dir), record).at(samples[at])
    return out


def s_errors(
    labels: np.ndarray, predicted: np.ndarray, s: int, rhythms: np.ndarray, records: np.ndarray, top: int = 5
) -> dict:
    """S beats, hits, misses and false alarms in total, per rhythm (most false alarms first) and for the
    `top` records of most false alarms and of most misses."""
    truth, called = labels == s, predicted == s
    kinds = {"false_alarm": called & ~truth, "miss": truth & ~called}

    def count(mask: np.ndarray) -> dict:
        return {
            "beats": int(mask.sum()),
            "s_beats": int((truth & mask).sum()),
            "hits": int((truth & called & mask).sum()),
            **{k: int((v & mask).sum()) for k, v in kinds.items()},
        }

    by_rhythm = {str(r): count(rhythms == r) for r in np.unique(rhythms)}
    out = {
        "total": count(np.ones(len(labels), dtype=bool)),
        "by_rhythm": dict(sorted(by_rhythm.items(), key=lambda kv: (-kv[1]["false_alarm"], kv[0]))),
    }
    for kind, mask in kinds.items():
        names, n = np.unique(records[mask], return_counts=True)
        order = np.lexsort([names, -n])[:top]
        out[f"records_by_{kind}"] = {str(names[i]): int(n[i]) for i in order}
    return out


def diagnose(folder: Path, split: str, top: int, data_dir=None, cache_dir=None) -> dict:
    from heartzoo.evaluation.evaluate import check_split, int8_tflite, load_run, split_probabilities
    from heartzoo.tasks import get_task

    model, config = load_run(folder)
    split = check_split(config, split)
    buf, source = int8_tflite(folder, model, config, env=Environment(data_dir=data_dir, cache_dir=cache_dir))
    probs, labels, ws = split_probabilities(
        model, config, split, env=Environment(data_dir=data_dir, cache_dir=cache_dir), int8=buf
    )
    s = get_task(config.task).class_names.index("S")
    rhythms = beat_rhythms(ws.record, ws.sample, data_dir)
    result = s_errors(labels, probs.argmax(axis=1), s, rhythms, ws.record, top)
    return {"model": str(folder), "task": config.task, "split": split, "int8": source, **result}


def main() -> None:
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", type=Path, nargs="+", help="zoo version folders or run folders")
    ap.add_argument("--split", default="ds2")
    ap.add_argument("--top", type=int, default=5, help="records named per kind of error")
    ap.add_argument("--record", type=Path, help="append each result as one JSON line to this file")
    args = ap.parse_args()
    for folder in args.models:
        r = diagnose(folder, args.split, args.top)
        t = r["total"]
        print(
            f"{folder} ({r['split']}): {t['s_beats']} S beats, {t['hits']} found, {t['miss']} missed, "
            f"{t['false_alarm']} false alarms"
        )
        for name, c in r["by_rhythm"].items():
            print(
                f"  rhythm {name or '(none)':6} {c['beats']:6d} beats  S {c['s_beats']:5d}  "
                f"missed {c['miss']:5d}  false alarms {c['false_alarm']:5d}"
            )
        print("  false alarms by record:", r["records_by_false_alarm"])
        print("  misses by record:", r["records_by_miss"])
        append_json_line(args.record, r)


if __name__ == "__main__":
    main()
