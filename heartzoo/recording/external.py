"""External tests of a beat model on recordings from wearable devices it never saw, each through the whole
path a user takes (`heartzoo.annotate`: the default detector, the quality gate, the model's own
Preprocessor, int8 as on the microcontroller). Never used to train or select.

- `icentia11k`: the Icentia11k chest-patch segments (250 Hz), scored by EC57 (WFDB bxb's rules) from their
  first sample, with the default detector and with the reference R peaks.
- `cinc2017`: the AliveCor recordings (lead I, 300 Hz) of the CinC 2017 test split. In its AF records
  every beat called S is false, since AAMI defines no S beat in atrial fibrillation; in its normal-rhythm
  records the beats called V (and S) are a proxy for false alarms (those records may hold a few real
  ectopic beats). The leads are read as recorded (the finger lead is often inverted). With a rhythm model
  (`annotate --rhythm`), the shares are also given as the line writes them, the S calls inside its AF
  episodes relabelled N (`with_rhythm`).

A benchmark of many models passes one `scans` dict to every call: each recording's detection, quality gate
and rhythm (`scan.scan`) are then made once, keyed by record, lead and what was asked, and only the
beat model runs again (`annotation.label_beats`), with the same results as `annotate`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: CinC 2017 labels whose records the beat models are tested on
CINC_GROUPS = {"A": "atrial fibrillation", "N": "normal sinus rhythm"}


def _ec57(report, classes: tuple[str, ...]) -> dict[str, Any]:
    """Gross and per-record EC57 statistics; VEB and SVEB only for a model that tells V and S apart
    (beat-2's `ectopic` is written as Q: neither)."""
    keys = ["qrs_se", "qrs_pp"] + [
        k
        for c, ks in (("V", ("veb_se", "veb_pp")), ("S", ("sveb_se", "sveb_pp")))
        if c in classes
        for k in ks
    ]

    def stats(s: dict) -> dict:
        return {
            k: s[k] if k in keys else None
            for k in ("qrs_se", "qrs_pp", "veb_se", "veb_pp", "sveb_se", "sveb_pp")
        }

    return stats(report.gross.stats) | {"records": {r.record: stats(r.counts.stats) for r in report.records}}


def scanned(scans: dict | None, key: tuple, sig, **kwargs):
    """`scan.scan` of `sig` (a `records.Signal`), made once per `key` (record, lead, what was asked) where
    a `scans` dict is given and kept in it."""
    from .scan import scan

    if scans is None:
        return scan(sig.values, sig.fs, **kwargs)
    key = (*key, sig.lead)
    if key not in scans:
        scans[key] = scan(sig.values, sig.fs, **kwargs)
    return scans[key]


def icentia11k(loaded, data_dir=None, scans: dict | None = None) -> dict[str, Any]:
    """EC57 of the model on every Icentia11k segment present: detected (default detector and quality gate)
    and on the reference R peaks; from the first sample."""
    from ..data.databases import get_database
    from ..evaluation.ec57 import Report, compare, read_annotations
    from .annotation import label_beats

    db = get_database("icentia11k")
    folder = db.folder(data_dir)
    results: dict[str, list] = {"detected": [], "reference": []}
    kept = []
    for record in db.select("all", data_dir):
        base = db.record_dir(folder, record) / record
        sig = db.read_signal(folder, record, loaded.firmware.lead)
        ref = read_annotations(f"{base}.atr")
        for kind, peaks in (("detected", None), ("reference", db.read_beats(folder, record).samples)):
            found = scanned(scans, ("icentia11k", record, kind), sig, r_peaks=peaks)
            got = label_beats(found, loaded, record=record)
            results[kind].append(compare(ref, got.ec57(), start_s=0.0))
            if kind == "detected":
                kept.append(1.0 - got.unclassified / max(1, got.unclassified + len(got.samples)))
    classes = tuple(loaded.class_names)
    return {kind: _ec57(Report(r), classes) for kind, r in results.items()} | {"detected_beats_kept": kept}


def cinc2017(
    loaded,
    data_dir=None,
    records: tuple[str, ...] | None = None,
    rhythm: str | None = None,
    zoo=None,
    scans: dict | None = None,
) -> dict[str, Any]:
    """The share of beats called each class in the AF and normal-rhythm records of the CinC 2017 test split
    (or `records`): pooled over beats, and per record (mean, and how many records get any such call);
    with `rhythm` (an af-4 model, NAME@VERSION), also as `annotate --rhythm` writes them (`with_rhythm`)."""
    from ..data.databases import get_database
    from .annotation import label_beats
    from .rhythm_annotation import relabelled_calls

    db = get_database("cinc2017")
    folder = db.folder(data_dir)
    labels = db.labels(data_dir)
    chosen = records if records is not None else db.splits["test"]
    k = len(loaded.class_names)
    out: dict[str, Any] = {
        "split": "test" if records is None else "given",
        "classes": list(loaded.class_names),
        "rhythm": rhythm,
    }
    for label, title in CINC_GROUPS.items():
        ways = ("kept", "with_rhythm") if rhythm else ("kept",)
        counts = {w: np.zeros(k, np.int64) for w in ways}
        per_record: dict[str, list] = {w: [] for w in ways}
        unreadable = 0
        for record in (r for r in chosen if labels.get(r) == label):
            sig = db.read_signal(folder, record, loaded.firmware.lead)
            found = scanned(scans, ("cinc2017", record, rhythm), sig, rhythm=rhythm, zoo=zoo)
            got = label_beats(found, loaded, record=record, keep_s_in_af=True)
            calls = {"kept": got.probabilities.argmax(axis=1)}
            if rhythm:
                calls["with_rhythm"] = relabelled_calls(got)
            for w in ways:
                c = np.bincount(calls[w], minlength=k)
                counts[w] += c
                per_record[w].append(c / max(1, c.sum()) if c.sum() else None)
            unreadable += got.unclassified
        out[label] = {
            "rhythm": title,
            "records": len(per_record["kept"]),
            "records_with_beats": len([p for p in per_record["kept"] if p is not None]),
            "beats": int(counts["kept"].sum()),
            "beats_unclassified": int(unreadable),
            **_shares(loaded.class_names, counts["kept"], per_record["kept"]),
        }
        if rhythm:
            out[label]["with_rhythm"] = _shares(
                loaded.class_names, counts["with_rhythm"], per_record["with_rhythm"]
            )
    return out


def _shares(class_names, counts: np.ndarray, per_record: list) -> dict[str, Any]:
    rated = [p for p in per_record if p is not None]
    return {
        "share": {c: float(n / max(1, counts.sum())) for c, n in zip(class_names, counts, strict=True)},
        "record_mean_share": {
            c: float(np.mean([p[i] for p in rated])) if rated else None for i, c in enumerate(class_names)
        },
        "records_with_any": {c: int(sum(p[i] > 0 for p in rated)) for i, c in enumerate(class_names)},
    }
