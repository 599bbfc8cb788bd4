"""External tests of a recording classifier (af-4) on databases it never trained on, in windows of the
model's own length (each window a recording of that length, classified by the int8 model as published):

- **MIT-BIH** (MLII): the windows inside the AF and flutter episodes of records 201, 202, 203, 210, 219,
  221 and 222 (truth A) and inside the normal-sinus episodes of every record (truth N); AF F1 over them
  (A against not A), sensitivity and positive predictivity. And the windows inside every other annotated
  rhythm but AF, flutter and paced (bigeminy, supraventricular tachyarrhythmia, sinus bradycardia, ...):
  the share called A, false alarms all, and per rhythm (`other`).
- **aftdb**: 80 one-minute AF recordings (128 Hz, first signal), every one AF: the share of windows, and of
  recordings (their windows by the model's aggregation), called A.
- **Icentia11k** segments (250 Hz, no AF): windows called A per hour of recording, false alarms all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..evaluation.aggregation import one_recording
from .rhythm_annotation import window_probabilities

#: mitdb's records with atrial fibrillation or flutter episodes
AF_RECORDS = ("201", "202", "203", "210", "219", "221", "222")
#: other rhythms whose windows are not counted as false AF: paced (the AF models were not made to read one)
OTHER_LEFT_OUT = ("P",)


def _windows_as_recordings(loaded, probs: np.ndarray) -> np.ndarray:
    """Each window's class probabilities as the model's aggregation reads a recording of that window."""
    from ..evaluation.aggregation import single_windows

    return single_windows(probs, loaded.aggregation)


def mitdb(loaded, data_dir=None) -> dict[str, Any]:
    """AF F1 on MIT-BIH's AF/flutter and normal-sinus windows."""
    from ..data.mitbih import DATABASE
    from ..data.rhythms import window_labels, window_starts
    from ..data.splits import DS1, DS2
    from ..tasks import RHYTHM_CLASSES
    from ..zoo.hub import predict

    folder, spec = DATABASE.folder(data_dir), loaded.config.input
    a = list(loaded.class_names).index("A")
    tp = fp = fn = 0
    windows = {"A": 0, "N": 0}
    others: dict[str, dict[str, int]] = {}
    for record in sorted({*DS1, *DS2, *AF_RECORDS}):
        sig = DATABASE.read_signal(folder, record, "MLII")
        rhythm = DATABASE.read_rhythms(folder, record)
        length = spec.frame_samples(sig.fs)
        starts = window_starts(len(sig.values), length)
        label = window_labels(rhythm, starts, length)
        af = (label == RHYTHM_CLASSES.index("AF")) & (record in AF_RECORDS)
        keep = af | (label == RHYTHM_CLASSES.index("NSR"))
        # a window inside one episode of another rhythm carries that episode's name (-1: in none, and
        # then not `other`)
        names = np.asarray(rhythm.label, dtype=object)[np.maximum(rhythm.episode_at(starts), 0)]
        other = (label == RHYTHM_CLASSES.index("other")) & ~np.isin(names, OTHER_LEFT_OUT)
        read = keep | other
        if not read.any():
            continue
        p = _windows_as_recordings(
            loaded, predict(loaded, sig.values, float(sig.fs), starts[read] + length // 2)
        )
        called_af = p.argmax(axis=1) == a  # over the windows read
        for name, hit in zip(names[other], called_af[other[read]], strict=True):
            row = others.setdefault(str(name), {"windows": 0, "called_af": 0})
            row["windows"] += 1
            row["called_af"] += int(hit)
        called = called_af[keep[read]]
        truth = af[keep]
        tp, fp, fn = (
            tp + int((called & truth).sum()),
            fp + int((called & ~truth).sum()),
            fn + int((~called & truth).sum()),
        )
        windows["A"] += int(truth.sum())
        windows["N"] += int((~truth).sum())
    se, pp = tp / max(1, tp + fn), tp / max(1, tp + fp)
    n_other = sum(r["windows"] for r in others.values())
    return {
        "windows": windows,
        "af_se": se,
        "af_pp": pp,
        "af_f1": 2 * tp / max(1, 2 * tp + fp + fn),
        "other": {
            "windows": n_other,
            "called_af": sum(r["called_af"] for r in others.values()) / max(1, n_other),
            "rhythms": dict(sorted(others.items())),
        },
    }


def aftdb(loaded, data_dir=None) -> dict[str, Any]:
    """The share of aftdb's AF windows and recordings called A."""
    import wfdb

    from .. import paths

    root = paths.data_dir(data_dir) / "aftdb"
    a = list(loaded.class_names).index("A")
    called_windows = n_windows = called_records = n_records = 0
    for hea in sorted(root.glob("*/*.hea")):
        rec = wfdb.rdrecord(str(hea.with_suffix("")), channels=[0])
        p = window_probabilities(loaded, rec.p_signal[:, 0].astype(np.float32), float(rec.fs))
        called_windows += int((_windows_as_recordings(loaded, p).argmax(axis=1) == a).sum())
        n_windows += len(p)
        called_records += int(one_recording(p, loaded.aggregation).argmax() == a)
        n_records += 1
    return {
        "records": n_records,
        "windows": n_windows,
        "af_se_windows": called_windows / max(1, n_windows),
        "af_se_records": called_records / max(1, n_records),
    }


def icentia11k(loaded, data_dir=None) -> dict[str, Any]:
    """Windows called A per hour in the Icentia11k segments (no AF in them)."""
    from ..data.databases import get_database

    db = get_database("icentia11k")
    folder = db.folder(data_dir)
    a = list(loaded.class_names).index("A")
    hours, alarms, per = 0.0, 0, {}
    for record in db.select("all", data_dir):
        sig = db.read_signal(folder, record, "ecg")
        p = window_probabilities(loaded, sig.values, float(sig.fs))
        h = len(sig.values) / sig.fs / 3600
        n = int((_windows_as_recordings(loaded, p).argmax(axis=1) == a).sum())
        per[record] = {"hours": h, "windows_called_af": n, "windows": len(p)}
        hours, alarms = hours + h, alarms + n
    return {
        "hours": hours,
        "false_af_windows": alarms,
        "false_af_per_hour": alarms / max(hours, 1e-9),
        "records": per,
    }
