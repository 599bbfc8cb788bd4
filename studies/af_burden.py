"""AF burden and AF episodes of 30 s or more (`heartzoo.recording.af_burden`) as `heartzoo annotate --rhythm`
reports them, against the annotated rhythm, for published af-4 models (int8 as published, the rhythm
model's windows from each recording's start, `rhythm_annotation.rhythm_episodes`).

Nothing is chosen here: the 30 s is the ESC guidelines' (clinical AF on a single-lead tracing), the models
are published, and every database below is one af-4 never trained on, or CinC 2017's committed test split;
this measures what a user gets.

- `mitdb`: MIT-BIH's 44 non-paced records, lead MLII, whole. Reference AF: its `(AFIB` and `(AFL` episodes
  (what af-4's external test counts as AF), neighbours merged. Per record the reference burden (AF time over
  the record) and the reported one (AF time over the time the model could read). ANSI/AAMI EC57's AF
  measures, on the reported episodes of 30 s or more: episode sensitivity (reference AF episodes of 30 s or
  more that one overlaps), episode positive predictivity (reported episodes that overlap reference AF),
  duration sensitivity (the share of reference AF time inside reported episodes) and duration positive
  predictivity (the share of reported episode time inside reference AF). And false episodes per hour in the
  records without AF.
- `icentia11k`: the two chest-patch segments (no AF): reported episodes per hour, all false.
- `aftdb`: 80 one-minute AF recordings (first signal, 128 Hz): the share with a reported episode.
- `cinc2017-test`: CinC 2017's committed test split, the recordings of 30 s or more: the share of each
  label (N, A, O, ~) with a reported episode (A: found; the others: false).

Run: `python studies/af_burden.py [--models NAME@VERSION,...] [--record FILE]`; one JSON line a model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
AF_LABELS = ("AFIB", "AFL")


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Touching or overlapping (start, end) spans made one."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def overlap(a: tuple[int, int], spans) -> int:
    """Samples of `a` inside `spans`."""
    return sum(max(0, min(a[1], e) - max(a[0], s)) for s, e in spans)


def reported(loaded, x, fs: float):
    from heartzoo.recording.af_burden import af_burden
    from heartzoo.recording.rhythm_annotation import rhythm_episodes

    return af_burden(rhythm_episodes(x, fs, loaded), fs)


def mitdb(loaded, data_dir=None) -> dict:
    from heartzoo.data.mitbih import DATABASE, default_records
    from heartzoo.tasks import AF_EPISODE_S

    folder = DATABASE.folder(data_dir)
    per, tallies = {}, dict.fromkeys(("ref_eps", "ref_eps_found", "eps", "eps_true"), 0)
    ref_time = found_time = rep_time = rep_true_time = 0
    hours_without, false_without = 0.0, 0
    for record in default_records(exclude_paced=True):
        sig = DATABASE.read_signal(folder, record, "MLII")
        fs, n = float(sig.fs), len(sig.values)
        rh = DATABASE.read_rhythms(folder, record)
        ref = merged(
            [
                (int(s), int(e))
                for s, e, lab in zip(rh.start, rh.end, rh.label, strict=True)
                if lab in AF_LABELS
            ]
        )
        got = reported(loaded, sig.values, fs)
        eps = list(got.episodes)
        long_ref = [r for r in ref if r[1] - r[0] >= AF_EPISODE_S * fs]
        tallies["ref_eps"] += len(long_ref)
        tallies["ref_eps_found"] += sum(overlap(r, eps) > 0 for r in long_ref)
        tallies["eps"] += len(eps)
        tallies["eps_true"] += sum(overlap(e, ref) > 0 for e in eps)
        ref_time += sum(e - s for s, e in ref)
        found_time += sum(overlap(r, eps) for r in ref)
        rep_time += sum(e - s for s, e in eps)
        rep_true_time += sum(overlap(e, ref) for e in eps)
        if not ref:
            hours_without += n / fs / 3600
            false_without += len(eps)
        per[record] = {
            "reference_burden": round(sum(e - s for s, e in ref) / n, 4),
            "burden": None if got.burden is None else round(got.burden, 4),
            "reference_episodes_30s": len(long_ref),
            "episodes_30s": len(eps),
        }
    af = [r for r in per.values() if r["reference_burden"] > 0]
    return {
        "records": len(per),
        "af_records": len(af),
        "episode_se": tallies["ref_eps_found"] / max(1, tallies["ref_eps"]),
        "episode_pp": tallies["eps_true"] / max(1, tallies["eps"]),
        "duration_se": found_time / max(1, ref_time),
        "duration_pp": rep_true_time / max(1, rep_time),
        "tallies": tallies,
        "burden_abs_error_af_records": float(np.mean([abs(r["burden"] - r["reference_burden"]) for r in af])),
        "hours_without_af": round(hours_without, 2),
        "false_episodes_per_hour_without_af": false_without / max(hours_without, 1e-9),
        "records_without_af_flagged": sum(
            r["episodes_30s"] > 0 for r in per.values() if r["reference_burden"] == 0
        ),
        "per_record": per,
    }


def icentia11k(loaded, data_dir=None) -> dict:
    from heartzoo.data.databases import get_database

    db = get_database("icentia11k")
    folder = db.folder(data_dir)
    hours, episodes, per = 0.0, 0, {}
    for record in db.select("all", data_dir):
        sig = db.read_signal(folder, record, "ecg")
        got = reported(loaded, sig.values, float(sig.fs))
        h = len(sig.values) / sig.fs / 3600
        per[record] = {"hours": round(h, 3), "episodes_30s": len(got.episodes), "burden": got.burden}
        hours, episodes = hours + h, episodes + len(got.episodes)
    return {"hours": round(hours, 3), "false_episodes_per_hour": episodes / hours, "records": per}


def aftdb(loaded, data_dir=None) -> dict:
    import wfdb

    from heartzoo import paths

    flagged, burdens = [], []
    for hea in sorted((paths.data_dir(data_dir) / "aftdb").glob("*/*.hea")):
        rec = wfdb.rdrecord(str(hea.with_suffix("")), channels=[0])
        got = reported(loaded, rec.p_signal[:, 0].astype(np.float32), float(rec.fs))
        flagged.append(bool(got.episodes))
        burdens.append(0.0 if got.burden is None else got.burden)
    return {
        "records": len(flagged),
        "flagged": float(np.mean(flagged)),
        "mean_burden": float(np.mean(burdens)),
    }


def cinc_test(loaded, data_dir=None) -> dict:
    from heartzoo.data.cinc2017 import DATABASE as CINC
    from heartzoo.data.cinc2017 import held_out_records
    from heartzoo.tasks import AF_EPISODE_S

    labels, folder = CINC.labels(data_dir), CINC.folder(data_dir)
    out: dict[str, dict] = {}
    for record in held_out_records():
        sig = CINC.read_signal(folder, record, "ECG")
        if len(sig.values) < AF_EPISODE_S * sig.fs:
            continue
        got = reported(loaded, sig.values, float(sig.fs))
        row = out.setdefault(labels[record], {"recordings": 0, "flagged": 0})
        row["recordings"] += 1
        row["flagged"] += int(bool(got.episodes))
    for row in out.values():
        row["share_flagged"] = row["flagged"] / row["recordings"]
    return dict(sorted(out.items()))


def main() -> None:
    from heartzoo.io import append_json_line
    from heartzoo.meta import check_ref
    from heartzoo.tasks import AF_EPISODE_S
    from heartzoo.zoo.hub import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="af-4-cnn3-student@v2,af-4-cnn5-ensemble@v1")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    for ref in args.models.split(","):
        loaded = load_model(*check_ref(ref), format="tflite", zoo=args.zoo)
        t0 = time.perf_counter()
        line = {
            "study": "af_burden",
            "model": ref,
            "runtime": "int8 (LiteRT reference kernels)",
            "episode_min_s": AF_EPISODE_S,
            "mitdb": mitdb(loaded),
            "icentia11k": icentia11k(loaded),
            "aftdb": aftdb(loaded),
            "cinc2017_test": cinc_test(loaded),
        }
        line["seconds"] = round(time.perf_counter() - t0, 1)
        m = line["mitdb"]
        print(
            f"{ref}: mitdb episodes Se {m['episode_se']:.3f} +P {m['episode_pp']:.3f}, duration Se "
            f"{m['duration_se']:.3f} +P {m['duration_pp']:.3f}, burden error {m['burden_abs_error_af_records']:.3f}, "
            f"false/h without AF {m['false_episodes_per_hour_without_af']:.2f}; icentia false/h "
            f"{line['icentia11k']['false_episodes_per_hour']:.2f}; aftdb {line['aftdb']['flagged']:.3f}; cinc "
            + json.dumps({k: round(v["share_flagged"], 3) for k, v in line["cinc2017_test"].items()}),
            flush=True,
        )
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
