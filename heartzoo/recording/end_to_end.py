"""End to end on a database's records (MIT-BIH's, or any other's): a model classifying the beats its R-peak
detector found, scored beat by beat against the reference annotations (EC57, `heartzoo.evaluation.ec57`),
beside the same model given the reference R peaks. The difference between the two is what detection costs
the classifier.

Reported per model, over the records (mitdb's DS2 by default), from EC57's 5-minute start:
- `ec57`: gross QRS Se/+P, VEB Se/+P/FPR and SVEB Se/+P (the task's classes written as WFDB codes, as
  `heartzoo annotate` writes them; beat-2's `ectopic` is neither a VEB nor an SVEB, so its VEB and SVEB
  statistics are left out);
- `classes`: per-class Se/+P/F1 and macro-F1 of the task over matched beats (a reference beat of a class
  the task keeps, and the detected beat EC57 paired it with); reference beats the detector missed are
  counted apart (`missed`), as are detected beats matching no reference beat (`extra`).
With reference peaks, `all_beats` also scores every beat of the records from their first sample, as
`heartzoo evaluate` does (the same frames, so the same numbers as the model's published int8 metrics
when the model is int8).

`gated` is `detected` with `heartzoo annotate`'s quality gate (`heartzoo.recording.quality`): beats in unreadable
windows are not classified, so EC57 counts their reference beats as missed; `beats_kept` is the share of
reference beats (from the start) in the windows it keeps, and `classes` scores the kept beats.

With `noise=(kind, snr_db)`, NSTDB noise is added to each whole record first (as `heartzoo evaluate
--noise` does), so the detector and the classifier both meet it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..detect import DEFAULT
from ..evaluation.ec57 import STANDARD_START_S, Report, Unscorable, compare, read_annotations, scored_span

_VEB_SVEB = ("veb_se", "veb_pp", "veb_fpr", "sveb_se", "sveb_pp")


def _matched(result, ref_labels: np.ndarray, probs: np.ndarray, lut: dict[str, int]):
    """Task labels of the matched reference beats and the class the model gave their detected beats."""
    true, pred, missed = [], [], 0
    for ri, ti in result.pairs:
        if ri < 0 or ref_labels[ri] not in lut:
            continue
        if ti < 0:
            missed += 1
            continue
        true.append(lut[ref_labels[ri]])
        pred.append(int(probs[ti].argmax()))
    return true, pred, missed


def _summary(results, true, pred, missed: int, task, start_s: float) -> dict[str, Any]:
    from ..evaluation.metrics import classification_report

    rep = Report(results, start_s=start_s)
    gross = {k: v for k, v in rep.gross.to_dict().items() if k != "matrix"}
    if task.name == "beat-2":
        for k in _VEB_SVEB:
            gross[k] = None
    classes = classification_report(
        np.array(true, np.int64), np.array(pred, np.int64), task.class_names, task.macro_classes
    )
    keep = ("support", "sensitivity", "positive_predictivity", "f1")
    return {
        "ec57": gross,
        "classes": {
            "macro_f1": classes["macro_f1"],
            "per_class": {c: {k: v[k] for k in keep} for c, v in classes["per_class"].items()},
            "matched": len(true),
            "missed": missed,
            "extra": gross["qrs_fp"],
        },
    }


def end_to_end(
    model,
    records: Sequence[str] | None = None,
    *,
    detector: str = DEFAULT,
    zoo=None,
    float_model: bool = False,
    data_dir=None,
    start_s: float = STANDARD_START_S,
    noise: tuple[str, float] | None = None,
    progress: Callable[[str], None] | None = None,
    gate: str | None = None,
    database: str = "mitdb",
) -> dict[str, Any]:
    """`model` (a `LoadedModel` or NAME[@VERSION]) on `records` of `database` (mitdb's DS2, or all of
    another's, by default; a database of your own too, docs/data.md), with the R peaks of `detector` and
    with the reference ones; see the module docstring for what is reported."""
    from ..data.databases import get_database
    from ..data.mitbih import DS2
    from ..evaluation.metrics import classification_report
    from ..tasks import AAMI_CLASSES, get_task
    from ..zoo.hub import resolve_model
    from .annotation import annotate

    loaded = resolve_model(model, zoo=zoo, float_model=float_model)
    task = get_task(loaded.config.task)
    lut = {a: task.class_names.index(c) for a, c in task.aami_map.items()}
    db = get_database(database, data_dir)
    folder = db.folder(data_dir)
    records = list(records or (DS2 if db.name == "mitdb" else db.select("all", data_dir)))
    if noise is not None:
        from .. import paths
        from ..data.noise import NOISE_FOLDER, add_record_noise, read_noise

        noise_values, noise_fs = read_noise(paths.data_dir(data_dir) / NOISE_FOLDER, noise[0], channel=0)
        if noise_fs != db.fs:
            raise ValueError(f"NSTDB noise at {noise_fs} Hz cannot be added to {db.fs} Hz records")
    runs: dict[str, dict[str, list]] = {
        k: {"results": [], "true": [], "pred": [], "missed": [0]} for k in ("detected", "gated", "reference")
    }
    every_true, every_pred, per_record, skipped = [], [], [], []
    kept = np.zeros(2, np.int64)  # reference beats from the start, and those in windows the gate keeps
    for r in records:
        if progress:
            progress(r)
        sig = db.read_signal(folder, r, loaded.firmware.lead)
        beats = db.read_beats(folder, r)
        ref = read_annotations(db.record_dir(folder, r) / f"{r}.atr")
        try:  # before annotating: EC57 scores nothing of a record that ends, or its beats do, before the start
            scored_span(ref, start_s=start_s)
        except Unscorable:
            skipped.append(r)
            continue
        line: dict[str, Any] = {"record": r}
        values = sig.values
        if noise is not None:
            values = add_record_noise(values, beats.samples, sig.fs, noise_values, noise[1])
        for kind, peaks in (("detected", None), ("gated", None), ("reference", beats.samples)):
            got = annotate(
                values,
                sig.fs,
                loaded,
                r_peaks=peaks,
                detector=detector,
                record=r,
                quality=kind == "gated",
                **({} if gate is None else {"gate": gate}),
            )
            result = compare(ref, got.ec57(), start_s=start_s)
            if kind == "gated":
                scored = ref.samples[ref.samples >= start_s * sig.fs]
                kept += (len(scored), int(got.windows.of(scored).sum()))
            t, p, missed = _matched(result, ref.labels, got.probabilities, lut)
            run = runs[kind]
            run["results"].append(result)
            run["true"] += t
            run["pred"] += p
            run["missed"][0] += missed
            line[kind] = result.counts.stats
            if kind == "reference":  # every beat of the record, as `heartzoo evaluate` scores it
                labels = task.labels(beats.aami)
                keep = labels >= 0
                every_true += labels[keep].tolist()
                every_pred += got.probabilities[keep].argmax(axis=1).tolist()
        per_record.append(line)
    if not per_record:
        raise ValueError(
            f"records {', '.join(skipped)}: no reference beat from {start_s:g} s, where EC57 scores"
        )
    out: dict[str, Any] = {
        "model": f"{loaded.config.name}@{loaded.folder.name}",
        "task": task.name,
        "runtime": "float" if loaded.format == "keras" else "int8 (LiteRT reference kernels)",
        "detector": detector,
        "records": records,
        "start_s": start_s,
        "noise": None if noise is None else {"kind": noise[0], "snr_db": noise[1]},
        "aami_classes": list(AAMI_CLASSES),
    }
    for kind, run in runs.items():
        out[kind] = _summary(run["results"], run["true"], run["pred"], run["missed"][0], task, start_s)
    every = classification_report(
        np.array(every_true, np.int64), np.array(every_pred, np.int64), task.class_names, task.macro_classes
    )
    out["reference"]["all_beats"] = {
        "macro_f1": every["macro_f1"],
        "f1": {c: v["f1"] for c, v in every["per_class"].items()},
        "n": every["n"],
    }
    out["gated"]["beats_kept"] = float(kept[1] / max(1, kept[0]))
    if gate is not None:  # the template index otherwise, as in lines written before the learned gate
        out["gated"]["gate"] = gate
    out["per_record"] = per_record
    out["skipped"] = skipped  # records whose beats all lie before `start_s`
    return out
