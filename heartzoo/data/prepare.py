"""Records -> beats -> frames, through the HDF5 cache; and the splits a configuration asks for."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import paths
from ..errors import ConfigError, DataError, HeartzooError
from ..preprocess import InputSpec, Preprocessor
from ..preprocess.rr_features import RR_COLUMNS, rr_intervals
from . import mitbih
from .cache import WindowCache, record_files, source_stamp
from .database import Database
from .databases import database_of, get_database, records_of, resolve
from .noise import NOISE_FOLDER, add_record_noise, read_noise
from .splits import (
    INTER_PATIENT,
    LEAKY,
    PATIENT_DEAL,
    TEST_DEAL_SEED,
    draw_validation_records,
    inter_patient_records,
    leaky_beat_split,
)
from .windows import WindowSet

if TYPE_CHECKING:  # a config's type alone: the config module imports this package
    from ..config import HeartzooConfig

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StressNoise:
    """Noise added to whole records before framing, for noise-stress test sets."""

    kind: str = "em"
    snr_db: float = 12.0
    channel: int = 0  # NSTDB adds noise channel 1 to ECG channel 1; MLII is the first lead


def record_arrays(
    db: Database,
    record: str,
    spec: InputSpec,
    folder: Path,
    noise: StressNoise | None = None,
    noise_values=None,
    lead: str | None = None,
) -> dict[str, np.ndarray]:
    """Frames, AAMI labels, R-peak samples and RR intervals of one record (the cache's arrays; the
    shards hold the same); `lead` reads that lead of the record (its header's name) instead of the one
    standing for `spec.lead`."""
    beats = db.read_beats(folder, record)
    sig = db.read_signal(folder, record, spec.lead) if lead is None else db.read_lead(folder, record, lead)
    values = sig.values
    if noise is not None and noise_values is not None:
        values = add_record_noise(values, beats.samples, sig.fs, noise_values, noise.snr_db)
    return {
        "x": Preprocessor(spec).frames(values, sig.fs, beats.samples),
        "aami": beats.aami,
        "sample": beats.samples,
        # in seconds, whether or not this input uses them: the cache serves both
        "rr": rr_intervals(beats.samples, beats.fs),
    }


def window_length(db: Database, spec: InputSpec) -> int:
    """A window (one frame of a window task) in the record's own samples."""
    return spec.frame_samples(db.fs)


def labelled_windows(
    db: Database, rhythms, n_samples: int, spec: InputSpec
) -> tuple[np.ndarray, np.ndarray, int]:
    """The start and label of each non-overlapping window of one frame over `n_samples` (label -1: not
    inside one rhythm episode), and the window length in the record's samples."""
    from .rhythms import window_labels, window_starts

    length = window_length(db, spec)
    starts = window_starts(n_samples, length)
    return starts, window_labels(rhythms, starts, length), length


def window_arrays(db: Database, record: str, spec: InputSpec, folder: Path) -> dict[str, np.ndarray]:
    """The cache's arrays for a window task: the record cut into non-overlapping windows of one frame,
    those inside one rhythm episode kept (label: `rhythms.RHYTHM_CLASSES` index in "aami"), each framed
    by the same Preprocessor around its centre; "sample" is the centre, "rr" zeros (no beat)."""
    sig = db.read_signal(folder, record, spec.lead)
    starts, labels, length = labelled_windows(db, db.read_rhythms(folder, record), len(sig.values), spec)
    keep = labels >= 0
    centres = starts[keep] + length // 2
    x = Preprocessor(spec.model_copy(update={"r_peak_index": None})).frames(sig.values, sig.fs, centres)
    return {
        "x": x,
        "aami": labels[keep],
        "sample": centres,
        "rr": np.zeros((len(centres), RR_COLUMNS), np.float32),
    }


def window_counts(records: Sequence[str], spec: InputSpec, data_dir=None) -> dict[str, dict[str, int]]:
    """Labelled windows per rhythm class and record, from headers and annotation files alone."""
    from ..tasks import RHYTHM_CLASSES

    out = {}
    for r in records:
        db = database_of(r, data_dir)
        rhythms = db.read_rhythms(db.folder(data_dir), r)
        _, labels, _ = labelled_windows(db, rhythms, rhythms.sig_len, spec)
        n = np.bincount(labels[labels >= 0], minlength=len(RHYTHM_CLASSES))
        out[r] = {c: int(k) for c, k in zip(RHYTHM_CLASSES, n, strict=True)}
    return out


def load_windows(
    records: Sequence[str],
    spec: InputSpec,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    noise: StressNoise | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    database: str | None = None,
    unit: str = "beat",
    lead: str | None = None,
) -> WindowSet:
    """Frames of every beat of `records` (of any database), in record order, from the cache where it
    is fresh. Each record is read from its database's folder, its lead standing for `spec.lead`, and
    resampled to `spec.fs` by the same Preprocessor. `database` reads every record from that database's
    folder, by its rules, whether or not the database lists it (WFDB records of your own). With
    `unit="window"`, the frames are a window task's labelled windows (`window_arrays`) instead. `lead`
    reads that lead of each record (by its header's name) instead of the one standing for `spec.lead`.

    A record that cannot be read raises `DataError` before anything for it is written.
    """
    if unit == "window" and noise is not None:
        raise HeartzooError("noise stress tests are defined on beats (SNR over the QRS), not on windows")
    if lead is not None and (unit != "beat" or noise is not None):
        raise HeartzooError("another lead's view is read for training beats alone, without noise stress")
    try:
        dbs = {r: get_database(database, data_dir) if database else database_of(r, data_dir) for r in records}
    except ValueError as exc:
        raise HeartzooError(str(exc)) from None
    folders = {db.name: db.folder(data_dir) for db in set(dbs.values())}
    noise_values = None
    noise_files: list[Path] = []
    if noise is not None:
        noise_dir = paths.data_dir(data_dir) / NOISE_FOLDER
        noise_values, noise_fs = read_noise(noise_dir, noise.kind, channel=noise.channel)
        for db in set(dbs.values()):
            if noise_fs != db.fs:
                raise ValueError(
                    f"noise record {noise.kind} is at {noise_fs} Hz, {db.name} records at {db.fs}"
                )
        noise_files = [noise_dir / f"{noise.kind}.hea", noise_dir / f"{noise.kind}.dat"]
    caches = {}
    if use_cache:
        for db in set(dbs.values()):
            key: dict = {
                "dataset": db.name,
                "fs": db.fs,  # a database module's rate shapes its frames as much as its name
                # the running template, the RR history and median are computed after the cache, from what it holds
                "input": spec.model_dump(
                    exclude={
                        "template_beats",
                        "template_on_time",
                        "rr_features",
                        "rr_irregularity",
                        "rr_history",
                        "rr_normaliser",
                    }
                ),
                "noise": None if noise is None else noise.__dict__,
            }
            if (lead or db.lead_for(spec.lead)) != spec.lead:
                key["lead"] = lead or db.lead_for(spec.lead)
            if unit != "beat":
                key["unit"] = unit
            caches[db.name] = WindowCache(paths.cache_dir(cache_dir), key)

    def one(record: str) -> WindowSet:
        db = dbs[record]
        folder = folders[db.name]
        cache = caches.get(db.name)
        files = record_files(db.record_dir(folder, record), record)
        missing = [p for p in files.values() if not p.is_file()]
        if missing:
            raise DataError(record, "file missing", path=str(missing[0]))
        stamp = source_stamp([*files.values(), *noise_files])
        arrays = cache.load(record, stamp) if cache else None
        hit = arrays is not None
        if arrays is None and unit == "window":
            arrays = window_arrays(db, record, spec, folder)
        elif arrays is None:
            arrays = record_arrays(db, record, spec, folder, noise, noise_values, lead)
            if cache:
                cache.save(record, stamp, arrays)
        if progress:
            progress(f"{record} ({'cache' if hit else 'prepared'})")
        return WindowSet.of_record(arrays, record)

    if workers > 1 and len(records) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(one, records))
    else:
        parts = [one(r) for r in records]
    return WindowSet.concat(
        parts,
        meta={
            "records": list(records),
            "databases": sorted({db.name for db in dbs.values()}),
            "input": spec.model_dump(),
            "cache": str(paths.cache_dir(cache_dir)) if caches else None,
            "unit": unit,
        },
    )


def extra_lead_views(
    records: Sequence[str],
    spec: InputSpec,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> list[WindowSet]:
    """The beats of `records` as each record's other leads show them (`data.extra_leads`), one set per
    database lead (mitdb's V1, V5, ...; svdb's ECG2), each with its own running templates. Records keep
    their names: a view is the same patient's beats."""
    by_lead: dict[tuple[str, str], list[str]] = {}
    for r in records:
        db = database_of(r, data_dir)
        for name in db.other_leads(db.folder(data_dir), r, spec.lead):
            by_lead.setdefault((db.name, name), []).append(r)
    views = []
    for (database, lead), rs in sorted(by_lead.items()):
        view = load_windows(
            rs, spec, data_dir=data_dir, cache_dir=cache_dir, progress=progress, lead=lead
        ).with_context(spec)
        view.meta["lead"] = f"{database}:{lead}"
        views.append(view)
    return views


def record_counts(
    records: Sequence[str], data_dir: str | os.PathLike[str] | None = None
) -> dict[str, dict[str, int]]:
    """AAMI beat counts per record, from the annotation files alone (kept in this process while the
    files are unchanged: every training run draws its validation patients from them)."""
    out = {}
    for r in records:
        db = database_of(r, data_dir)
        folder = db.folder(data_dir)
        files = [p for p in record_files(db.record_dir(folder, r), r).values() if p.is_file()]
        out[r] = dict(_record_counts(db.name, folder, r, source_stamp(files)))
    return out


@functools.lru_cache(maxsize=1024)
def _record_counts(database: str, folder: Path, record: str, stamp: str) -> dict[str, int]:
    return get_database(database, Path(folder).parent).read_beats(folder, record).counts()


def training_records(config: HeartzooConfig) -> list[str]:
    """The records `data.train` names (DS1 by default; other databases added), in order, once each."""
    return records_of(config.data.train)


def validation_records(config: HeartzooConfig, data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Whole patients drawn from every training database (seeded, class-stratified), or the config's."""
    v = config.data.validation
    if v.records is not None:  # RECORD or DATABASE:RECORD
        try:
            return [r for entry in v.records for r in (resolve(entry)[1] if ":" in entry else (entry,))]
        except ValueError as exc:
            raise ConfigError(f"{config.where}: field 'data.validation.records': {exc}") from None
    return draw_validation_records(record_counts(training_records(config), data_dir), v.fraction, v.seed)


def split_records(
    config: HeartzooConfig, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, list[str]]:
    """Records of train / val / test (and ds1 / ds2) for the inter-patient protocol."""
    if config.data.protocol != INTER_PATIENT:
        raise ValueError(f"protocol {config.data.protocol!r} splits beats, not records")
    try:
        return inter_patient_records(validation_records(config, data_dir), training_records(config))
    except ValueError as exc:
        raise ConfigError(f"{config.where}: field 'data.validation.records': {exc}") from None


def dealt_records(
    config: HeartzooConfig, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, list[str]]:
    """train / val / test of the patient-deal protocol: whole patients of `data.train` drawn for the
    test (seed TEST_DEAL_SEED, the same for every config), then for validation from the rest (the
    config's seed), each draw stratified by the windows of every rhythm class. Records without the
    input's lead, and with `data.exclude_paced` mitdb's paced records, are left out."""
    from ..tasks import RHYTHM_CLASSES
    from .records import read_header

    pool = []
    for r in training_records(config):
        db = database_of(r, data_dir)
        if config.data.exclude_paced and db is mitbih.DATABASE and r in mitbih.PACED_RECORDS:
            continue
        # mitdb 102 and 104 have no MLII: a record without the input's lead has no window to give
        lead = db.lead_for(config.input.lead, r)
        if lead in read_header(db.record_dir(db.folder(data_dir), r), r).sig_name:
            pool.append(r)
    counts = window_counts(pool, config.input, data_dir)
    try:
        test = draw_validation_records(counts, config.data.test_fraction, TEST_DEAL_SEED, RHYTHM_CLASSES)
        rest = {r: c for r, c in counts.items() if r not in test}
        v = config.data.validation
        val = draw_validation_records(rest, v.fraction, v.seed, RHYTHM_CLASSES)
    except ValueError as exc:
        raise ConfigError(f"{config.where}: field 'data.train': {exc}") from None
    return {
        "train": [r for r in pool if r not in test and r not in val],
        "val": [r for r in pool if r in val],
        "test": [r for r in pool if r in test],
    }


def external_records(config: HeartzooConfig, source: str, data_dir=None) -> list[str]:
    """The records of DATABASE:SET for an external test, refused where the model trained on that
    database (a database it learnt from is no test of it) or where they are not a test at all."""
    try:
        db, records = resolve(source, data_dir)
    except ValueError as exc:
        raise HeartzooError(str(exc)) from None
    from ..tasks import get_task

    if get_task(config.task).unit == "beat" and db.unit != "beat":
        raise HeartzooError(
            f"{db.name} has no beat annotations (its labels are per {db.unit}): {config.name}'s beats have "
            "nothing to be scored against there; a beat model's test on it is the share of beats called S in "
            'its AF recordings and V in its normal ones (a card\'s "On other devices"; studies/external.py)'
        )
    trained_on = {database_of(r).name for r in training_records(config)}
    if db.name in trained_on:
        raise HeartzooError(
            f"{config.name} trained on {db.name} (data.train: {', '.join(config.data.train)}): "
            f"evaluating it on {source} would not be an external test"
        )
    return list(records)


def test_split(config: HeartzooConfig) -> str:
    """The held-out split of the configuration's protocol: DS2, the leaky protocol's test beats, or a
    recording task's committed test split."""
    from ..tasks import get_task

    if get_task(config.task).per_recording:
        return "test"
    return "ds2" if config.data.protocol == INTER_PATIENT else "test"


def load_split(
    config: HeartzooConfig,
    split: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    noise: StressNoise | None = None,
    progress: Progress | None = None,
) -> WindowSet:
    """The windows of `split` (train, val, test, ds1, ds2) under the configuration's protocol; records
    are read from `data_dir` (default: $HEARTZOO_DATA_DIR, then the per-user data folder)."""
    kw = {"data_dir": data_dir, "cache_dir": cache_dir, "noise": noise, "progress": progress}
    from ..tasks import get_task

    task = get_task(config.task)
    if task.per_recording and ":" not in split:
        from .recording_windows import load_recording_split

        if noise is not None:
            raise HeartzooError(f"{config.task} is scored on recordings as they are: no noise stress")
        return load_recording_split(config, split, data_dir=data_dir, cache_dir=cache_dir, progress=progress)
    if task.is_quality_gate and ":" not in split:
        from .quality_windows import beat_config, load_quality_split

        if noise is not None:
            raise HeartzooError("the quality task's splits hold their own noise: no noise stress on top")
        beats = split_records(beat_config(config), data_dir)
        return load_quality_split(
            config, split, beats, data_dir=data_dir, cache_dir=cache_dir, progress=progress
        )
    if config.data.protocol == LEAKY:
        if split not in ("train", "val", "test"):
            raise HeartzooError(f"the {LEAKY} protocol has splits train, val, test; not {split!r}")
        every = load_windows(mitbih.default_records(config.data.exclude_paced), config.input, **kw)
        every.with_context(config.input)
        idx = leaky_beat_split(
            len(every),
            config.data.leaky_test_fraction,
            config.data.validation.fraction,
            config.data.validation.seed,
        )[split]
        out = every.subset(idx)
        out.meta.update(every.meta, protocol=LEAKY, split=split, leaky=True)
        return out
    unit = task.unit
    if ":" in split:  # an external test: a database the model did not train on
        records = external_records(config, split, data_dir)
        out = load_windows(records, config.input, unit=unit, **kw).with_context(config.input)
        out.meta.update(protocol="external", split=split, leaky=False)
        return out
    recs = (
        dealt_records(config, data_dir)
        if config.data.protocol == PATIENT_DEAL
        else split_records(config, data_dir)
    )
    if split not in recs:
        raise HeartzooError(f"unknown split {split!r}; use one of {', '.join(recs)} or DATABASE:SET")
    out = load_windows(recs[split], config.input, unit=unit, **kw).with_context(config.input)
    out.meta.update(protocol=config.data.protocol, split=split, leaky=False)
    if split == "train" and config.data.extra_leads:
        views = extra_lead_views(
            recs[split], config.input, data_dir=data_dir, cache_dir=cache_dir, progress=progress
        )
        out = WindowSet.concat(
            [out, *views],
            meta={**out.meta, "extra_leads": {v.meta["lead"]: len(v) for v in views}},
        )
    return out


def load_task_split(
    config: HeartzooConfig, split: str, *, data_dir=None, cache_dir=None, noise=None, progress=None
):
    """Frames and task labels of one split (the beats the task keeps)."""
    from ..tasks import get_task

    ws = load_split(config, split, data_dir=data_dir, cache_dir=cache_dir, noise=noise, progress=progress)
    kept, labels = ws.for_task(get_task(config.task))
    kept.meta.update(ws.meta)
    return kept, labels
