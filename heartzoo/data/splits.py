"""Splits: the inter-patient protocol, a validation draw by patient, and the leaky random split.

Split names used across the package:

- ``ds1`` / ``ds2``: de Chazal's training and test records;
- ``train`` / ``val`` / ``test``: for the inter-patient protocol, DS1 less the validation records, the
  validation records (whole patients drawn from DS1), and DS2;
- for the ``leaky-random-beat`` protocol, the same names are random *beats* of all records: the same
  patients appear on both sides, so results are inflated. It exists only to compare with papers that use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .databases import database_of
from .mitbih import DS1, DS2

LEAKY = "leaky-random-beat"
INTER_PATIENT = "inter-patient"
PATIENT_DEAL = "patient-deal"
#: the patient-deal protocol's test draw has one seed for every config: all models of a task are
#: tested on the same patients, and no config can choose its test
TEST_DEAL_SEED = 0


class ValidationSplit(BaseModel):
    """Validation records drawn from the training records (DS1), whole patients at a time (a config's
    `data.validation`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fraction: float = Field(0.2, gt=0, lt=0.5, description="Share of training beats to hold out.")
    seed: int = Field(0, description="Seed of the record draw.")
    records: list[str] | None = Field(
        None, description="Explicit validation records, RECORD or DATABASE:RECORD (overrides the draw)."
    )


def data_problem(data) -> str | None:
    """What is wrong with a `data` section, as "field: why" (None when nothing is): DS2 trains no
    inter-patient model, the external tests' Icentia11k patients none at all, and the leaky split is
    mitdb's alone."""
    from .databases import resolve
    from .icentia11k import EXTERNAL_TESTS, patient_of

    for source in data.train:
        db, records = resolve(source)
        if data.protocol == INTER_PATIENT and set(records) & set(DS2):
            return f"train: {source!r} holds DS2 records: DS2 is the test set and never trains"
        if db.name == "icentia11k" and (
            held := sorted({patient_of(r) for r in records} & set(EXTERNAL_TESTS))
        ):
            return (
                f"train: {source!r} holds Icentia11k patient(s) {', '.join(held)}, the external tests of the "
                "wearable path: they never train (name other patients of the release)"
            )
    if data.protocol == LEAKY and data.train != ["mitdb:DS1"]:
        return "train: the leaky-random-beat protocol draws beats of mitdb alone; leave 'train' at mitdb:DS1"
    if data.shards is not None and data.protocol != INTER_PATIENT:
        return "shards: training from shards follows the inter-patient protocol (whole patients per shard)"
    return None


def unit_problem(config) -> str | None:
    """What is wrong with a config for its task's unit, as "field: why": a window task (rhythm-3) has
    no beat to take RR intervals or templates from, and no DS1/DS2; patient-deal is for window tasks."""
    from ..tasks import get_task

    task = get_task(config.task)
    if config.export.aggregation != "mean" and not task.per_recording:
        return "export.aggregation: windows make a recording's class in tasks labelled per recording (af-4)"
    if config.data.window_hop is not None and (not task.per_recording or config.data.shards is not None):
        return "data.window_hop: overlapping training windows are for recordings prepared in memory (af-4)"
    if config.data.extra_leads and (
        task.unit != "beat" or config.data.shards is not None or config.data.protocol != INTER_PATIENT
    ):
        return (
            "data.extra_leads: other leads are extra views of the training patients' beats, prepared in memory "
            "under the inter-patient protocol (beat tasks, no shards)"
        )
    if config.input.rr_history and config.data.shards is not None:
        return (
            "input.rr_history: the RR history is read from a record's earlier beats, prepared in memory; "
            "shards hold beats without it (leave data.shards out)"
        )
    if config.input.rr_normaliser != "mean" and config.data.shards is not None:
        return (
            "input.rr_normaliser: the running median is read from a record's earlier beats, prepared in "
            "memory; shards hold the running mean (leave data.shards out)"
        )
    if task.unit != "window":
        if config.data.protocol == PATIENT_DEAL:
            return "data.protocol: patient-deal is for window tasks (rhythm-3); beat tasks test on DS2"
        return _beat_data_problem(config, task)
    if config.data.protocol != task.protocol:
        why = (
            "DS1 holds two AF patients"
            if task.protocol == PATIENT_DEAL
            else "it tests on DS2 and CinC's test split"
        )
        return f"data.protocol: {config.task} needs {task.protocol} ({why})"
    if config.input.rr_features or config.input.template_beats:
        return f"input: {config.task} classifies windows: rr_features and template_beats need beats"
    if config.data.shards is not None and not task.per_recording:
        return f"data.shards: shards hold beats or recordings' windows; {config.task} is prepared in memory"
    if config.data.validation.records is not None and task.protocol == PATIENT_DEAL:
        return "data.validation.records: patient-deal draws its validation patients itself"
    return None


def _beat_data_problem(config, task) -> str | None:
    from .augment import s_class

    c, loss = config.compress, config.train.loss
    if config.data.shards is not None and (c.magnitude_prune is not None or c.qat is not None):
        return "data.shards: magnitude pruning and QAT (tf_keras) fine-tune from memory; leave them out"
    if config.data.af_beats is not None:
        if s_class(task) is None:
            return f"data.af_beats: they are 'not S'; {config.task} has no class of S beats alone"
        if loss.name != "crossentropy" or loss.label_smoothing:
            return "train.loss: data.af_beats trains with the allowed-set cross-entropy; leave the loss plain"
    return None


def group_by_patient(records: Sequence[str]) -> dict[str, list[str]]:
    """Records by patient (keys like `mitdb:201`, unique across databases)."""
    groups: dict[str, list[str]] = {}
    for r in records:
        groups.setdefault(database_of(r).patient_of(r), []).append(r)
    return groups


def _patient_table(
    counts: Mapping[str, Mapping[str, int]], classes: Sequence[str]
) -> tuple[dict[str, list[str]], list[str], np.ndarray]:
    """Records by patient, the patients in order, and one row per patient: beats (or windows) of every
    class, then of each class in `classes`."""
    groups = group_by_patient(sorted(counts))
    names = sorted(groups)
    table = np.array(
        [
            [sum(sum(counts[r].values()) for r in groups[g])]
            + [sum(counts[r].get(c, 0) for r in groups[g]) for c in classes]
            for g in names
        ],
        dtype=np.float64,
    )
    return groups, names, table


def draw_validation_records(
    counts: Mapping[str, Mapping[str, int]],
    fraction: float = 0.2,
    seed: int = 0,
    classes: Sequence[str] = ("N", "S", "V", "F"),
    tries: int = 2000,
) -> list[str]:
    """Whole patients from `counts` (record -> AAMI counts) holding about `fraction` of the beats.

    Random patient orders are tried (seeded); the draw kept is the one whose share of each class in
    `classes` is closest to `fraction`, so the validation set holds S, V and F beats too. Only the counts of
    the pool (DS1) are looked at: nothing about the test records enters the choice.
    """
    groups, names, table = _patient_table(counts, classes)
    totals = np.maximum(table.sum(axis=0), 1.0)

    rng = np.random.default_rng(seed)
    best: tuple[float, list[int]] | None = None
    for _ in range(tries):
        order = rng.permutation(len(names))
        taken = np.cumsum(table[order], axis=0) / totals
        # the fewest patients that reach `fraction` of all beats
        k = int(np.searchsorted(taken[:, 0], fraction)) + 1
        if k >= len(names):
            continue  # never hold out every patient
        cost = float(np.abs(taken[k - 1] - fraction).sum())
        if best is None or cost < best[0]:
            best = (cost, sorted(order[:k].tolist()))
    if best is None:
        raise ValueError(f"cannot hold out {fraction:.0%} of {len(names)} patient(s) for validation")
    return sorted(r for i in best[1] for r in groups[names[i]])


def patient_folds(
    counts: Mapping[str, Mapping[str, int]],
    k: int = 5,
    seed: int = 0,
    classes: Sequence[str] = ("N", "S", "V", "F"),
    tries: int = 2000,
) -> list[list[str]]:
    """`k` folds of whole patients from `counts` (record -> AAMI counts), for cross-validation.

    Each try deals the patients, in a seeded random order, to the fold with the fewest beats so far;
    the deal kept is the one whose folds come closest to 1/k of all beats and of each class in
    `classes`. Every patient lands in exactly one fold; as with the validation draw, only the pool's
    counts (DS1) are looked at.
    """
    groups, names, table = _patient_table(counts, classes)
    if not 2 <= k <= len(names):
        raise ValueError(f"cannot make {k} folds of {len(names)} patient(s); use 2 to {len(names)} folds")
    totals = np.maximum(table.sum(axis=0), 1.0)
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(tries):
        fold = np.empty(len(names), dtype=np.int64)
        size = np.zeros(k)
        for pos, i in enumerate(rng.permutation(len(names))):
            # the first k patients open the k folds, so none stays empty
            f = pos if pos < k else int(np.argmin(size))
            fold[i] = f
            size[f] += table[i, 0]
        shares = np.stack([table[fold == f].sum(axis=0) for f in range(k)]) / totals
        cost = float(np.abs(shares - 1.0 / k).sum())
        if best is None or cost < best[0]:
            best = (cost, fold)
    assert best is not None
    return [sorted(r for i in np.flatnonzero(best[1] == f) for r in groups[names[i]]) for f in range(k)]


def inter_patient_records(validation: Sequence[str], pool: Sequence[str] = DS1) -> dict[str, list[str]]:
    """train / val / test records: the training pool (DS1, and the other databases a config adds) less
    the validation records, the validation records, and DS2."""
    val = set(validation)
    unknown = val - set(pool)
    if unknown:
        where = "DS1" if list(pool) == list(DS1) else "the training records"
        raise ValueError(
            f"validation records must come from {where}; not in {where}: {', '.join(sorted(unknown))}"
        )
    split = {r: sorted(recs) for r, recs in group_by_patient(list(pool)).items()}
    halves = {database_of(r).patient_of(r) for r in val}
    torn = [p for p in halves if not set(split[p]) <= val]
    if torn:
        raise ValueError(f"validation would split patient(s) {', '.join(sorted(torn))} between train and val")
    return {
        "train": [r for r in pool if r not in val],
        "val": [r for r in pool if r in val],
        "test": list(DS2),
        "ds1": list(DS1),
        "ds2": list(DS2),
    }


def leaky_beat_split(n: int, test_fraction: float, val_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Random beat indices for train/val/test: LEAKY, the same patients end up on every side."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = round(n * test_fraction)
    n_val = round((n - n_test) * val_fraction)
    return {
        "test": np.sort(perm[:n_test]),
        "val": np.sort(perm[n_test : n_test + n_val]),
        "train": np.sort(perm[n_test + n_val :]),
    }
