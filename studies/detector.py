"""QRS detection on every database here with beat annotations: each detector of `heartzoo.detect`, scored
against the reference annotations by `heartzoo.evaluation.ec57` (bxb's rules, 150 ms window).

Corpora (one JSON line per detector and corpus):
- `mitdb`: the 44 non-paced MIT-BIH records (paced 102, 104, 107, 217 left out, as EC57 and de Chazal
  2004 do), lead MLII chosen by name, scored from the 5-minute mark;
- `svdb`: the 78 records of the Supraventricular Arrhythmia Database, 128 Hz, lead ECG1 (the lead that
  stands for MLII), from the 5-minute mark;
- `icentia11k`: the Icentia11k segments present (250 Hz chest patch), from their first sample: a wearable
  recording has no 5 minutes to spare, and p01001_s00's artifact is in its first 40 s;
- `ds2+em24` ... `ds2+ma0`: DS2's 22 records with NSTDB electrode motion (`em`) or muscle artefact (`ma`)
  added to the whole record at 24, 12, 6 and 0 dB (NSTDB's SNR convention, `heartzoo.data.noise`).

Each line gives gross Se/+P (summed counts), the worst record by Se and by +P, and the detector's time per
hour of signal on this machine. The default detector is chosen on the training side of the split (mitdb
DS1 and svdb); DS2, its noisy copies and the Icentia11k segments are reported, never chosen on.

Run: `python studies/detector.py [--detectors pan-tompkins,xqrs,gqrs] [--corpora mitdb,svdb,...]
[--record FILE]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Published figures for the same detector on MIT-BIH, where we found any (not EC57-scored like ours).
PUBLISHED = {
    "pan-tompkins": {
        "source": "Pan & Tompkins (1985), IEEE TBME 32(3):230-236, Table I: all 48 records from their start, "
        "their own scoring: 116,137 beats, 507 false positives, 277 false negatives",
        "qrs_se": 0.9976,
        "qrs_pp": 0.9956,
    },
    "xqrs": {
        "source": "wfdb-python pull request 321 (B. Moody, 2021-09-09): XQRS before that change, over mitdb, "
        "gross QRS sensitivity 99.35 % (the rest of the comment is not in our copy)",
        "qrs_se": 0.9935,
        "qrs_pp": None,
    },
    "gqrs": {"source": "none found", "qrs_se": None, "qrs_pp": None},
}
CORPORA = ("mitdb", "svdb", "icentia11k", *(f"ds2+{k}{db}" for k in ("em", "ma") for db in (24, 12, 6, 0)))
FIVE_MINUTES = 300.0


def scoring_start(corpus: str) -> float:
    """Seconds into each record where scoring starts: the Icentia11k segments from their first sample (a
    wearable recording has no 5 minutes to spare), the rest from the 5-minute mark as EC57 says."""
    return 0.0 if corpus == "icentia11k" else FIVE_MINUTES


def records(
    corpus: str, data_dir: Path, *, channel: int = 0
) -> Iterator[tuple[str, np.ndarray, float, Path, float]]:
    """(record, lead in mV, rate, path of its .atr without extension, scoring start in s) per record: of
    `CORPORA`, or DS1 (`ds1`, `ds1+em6`, ...); the noise from NSTDB's `channel`."""
    from heartzoo.data.databases import get_database
    from heartzoo.data.mitbih import DS1, DS2, default_records

    if corpus == "mitdb":
        db, names = get_database("mitdb"), default_records(exclude_paced=True)
    elif corpus == "svdb":
        db, names = get_database("svdb"), get_database("svdb").records
    elif corpus == "icentia11k":
        db = get_database("icentia11k")
        names = db.select("all", data_dir)
    else:
        db, names = get_database("mitdb"), DS1 if corpus.startswith("ds1") else DS2
    folder = db.folder(data_dir)
    noise = None
    if "+" in corpus:
        from heartzoo.data.noise import NOISE_FOLDER, read_noise

        kind, snr = corpus[4:6], float(corpus[6:])
        noise = read_noise(Path(data_dir) / NOISE_FOLDER, kind, channel=channel)[0], snr
    for r in names:
        sig = db.read_signal(folder, r, "MLII")
        x = sig.values
        if noise is not None:
            from heartzoo.data.noise import add_record_noise

            x = add_record_noise(x, db.read_beats(folder, r).samples, sig.fs, *noise)
        yield r, x, sig.fs, db.record_dir(folder, r) / r, scoring_start(corpus)


def scored(detector: str, items) -> tuple[list, float, float]:
    """EC57 results of `detector` on each (record, lead, rate, .atr base, start) of `items`, with the
    seconds it took and the hours of signal."""
    from heartzoo.detect import detect
    from heartzoo.evaluation.ec57 import Annotations, compare, read_annotations

    results, seconds, hours = [], 0.0, 0.0
    for record, x, fs, base, start in items:
        t0 = time.perf_counter()
        peaks = detect(x, fs, detector)
        seconds += time.perf_counter() - t0
        hours += len(x) / fs / 3600
        ref = read_annotations(f"{base}.atr")
        got = Annotations.of(peaks, ["N"] * len(peaks), fs, record=record, length=ref.length)
        results.append(compare(ref, got, start_s=start))
    return results, seconds, hours


def gross_counts(results, seconds: float) -> dict:
    """Gross QRS Se, +P and counts of EC57 `results` (`scored`), with the detector's seconds: the line the
    detector studies (detector_noise, detector_twave) record per candidate and corpus."""
    from heartzoo.evaluation.ec57 import Report

    rep = Report(results)
    t = rep.gross.tallies
    return {
        "se": rep.gross.stats["qrs_se"],
        "pp": rep.gross.stats["qrs_pp"],
        "fn": t["qrs_fn"],
        "fp": t["qrs_fp"],
        "detect_seconds": round(seconds, 2),
    }


def run(detector: str, corpus: str, data_dir: Path) -> dict:
    from heartzoo.evaluation.ec57 import Report

    results, seconds, hours = scored(detector, records(corpus, data_dir))
    rep = Report(results)
    g, t = rep.gross.stats, rep.gross.tallies
    per_record = {
        r.record: {
            "se": r.counts.stats["qrs_se"],
            "pp": r.counts.stats["qrs_pp"],
            "fn": r.counts.tallies["qrs_fn"],
            "fp": r.counts.tallies["qrs_fp"],
        }
        for r in results
    }

    def worst(key: str) -> dict:
        r = min(per_record, key=lambda k: 1.0 if per_record[k][key] is None else per_record[k][key])
        return {"record": r, key: per_record[r][key]}

    return {
        "detector": detector,
        "corpus": corpus,
        "records": len(results),
        "hours": round(hours, 2),
        "scoring": f"EC57 / bxb rules: 150 ms window, from {scoring_start(corpus) / 60:g} min to the end of "
        "each record",
        "gross": {
            "qrs_se": g["qrs_se"],
            "qrs_pp": g["qrs_pp"],
            "tp": t["qrs_tp"],
            "fn": t["qrs_fn"],
            "fp": t["qrs_fp"],
        },
        "average": {"qrs_se": rep.average["qrs_se"], "qrs_pp": rep.average["qrs_pp"]},
        "worst_se": worst("se"),
        "worst_pp": worst("pp"),
        "detect_seconds": round(seconds, 2),
        "seconds_per_hour": round(seconds / hours, 3),
        "per_record": per_record,
        "published": PUBLISHED.get(detector) if corpus == "mitdb" else None,
    }


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detectors", default="pan-tompkins,xqrs,gqrs")
    ap.add_argument("--corpora", default=",".join(CORPORA), help=f"any of {', '.join(CORPORA)}")
    ap.add_argument("--data-dir", help="folder holding mitdb/, svdb/, ... [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    for corpus in args.corpora.split(","):
        if corpus not in CORPORA:
            ap.error(f"unknown corpus {corpus!r}; known: {', '.join(CORPORA)}")
        for name in args.detectors.split(","):
            line = run(name, corpus, data_dir)
            g = line["gross"]
            print(
                f"{corpus:12s} {name:13s} Se {100 * g['qrs_se']:.2f} % +P {100 * g['qrs_pp']:.2f} % "
                f"(FN {g['fn']}, FP {g['fp']}) worst Se {line['worst_se']['record']} "
                f"{100 * line['worst_se']['se']:.1f} %, {line['seconds_per_hour']} s/h",
                flush=True,
            )
            append_json_line(args.record, line)


if __name__ == "__main__":
    main()
