"""Windows of recordings labelled as a whole (`af-4`: the PhysioNet/CinC Challenge 2017's N, A, O, ~).

A wearable's microcontroller holds a window, not a recording: each CinC 2017 recording (9-61 s, 300 Hz) is
cut into non-overlapping windows of the model's frame (one centred window when it is shorter, its edges
filled as every frame's are), each labelled with the recording's label. The recording's class is the one
its windows make by the model's aggregation (`evaluation.aggregation`: their mean, or mean+max): the
scores of this task are per recording, as the challenge's are. Training may cut overlapping windows
(`data.window_hop`): more crops of each recording.

Splits: the committed test split (`cinc2017.held_out_records`, never trained or selected on); validation
a seeded draw of `data.validation.fraction` of the other recordings, stratified by label; training the rest.
"""

from __future__ import annotations

import os

import numpy as np

from .. import paths
from ..errors import HeartzooError
from ..preprocess import InputSpec, Preprocessor
from ..preprocess.rr_features import RR_COLUMNS
from .cache import WindowCache, record_files, source_stamp
from .rhythms import window_starts
from .windows import WindowSet

#: bump when the windows change: it is part of the cache key
RECIPE = 1


def recording_window_starts(n_samples: int, length: int, hop: int | None = None) -> np.ndarray:
    """Starts of the windows of `length` in a recording, `hop` apart (None: `length`, non-overlapping);
    one centred window (starting before 0) when the recording is shorter than a window. Every window's
    centre lies in the recording."""
    if n_samples < length:
        return np.array([(n_samples - length) // 2], dtype=np.int64)
    if hop is None or hop == length:
        return window_starts(n_samples, length)
    return np.arange(0, n_samples - length + 1, hop, dtype=np.int64)


def recording_arrays(
    db, folder, record: str, spec: InputSpec, label: int, hop: float | None = None
) -> dict[str, np.ndarray]:
    """One recording's windows, each with the recording's label; `hop` as a share of the frame (None:
    non-overlapping)."""
    sig = db.read_signal(folder, record, spec.lead)
    length = spec.frame_samples(sig.fs)
    starts = recording_window_starts(
        len(sig.values), length, None if hop is None else max(1, round(hop * length))
    )
    centres = starts + length // 2
    pre = Preprocessor(spec.model_copy(update={"r_peak_index": None}))
    x = pre.frames(sig.values, float(sig.fs), centres)
    return {
        "x": x.astype(np.float32),
        "aami": np.full(len(starts), label, np.int8),
        "sample": centres,
        "rr": np.zeros((len(starts), RR_COLUMNS), np.float32),
    }


def split_recordings(
    labels: dict[str, str], held_out: tuple[str, ...], fraction: float, seed: int
) -> dict[str, list[str]]:
    """train / val / test recordings: the committed test split, a stratified seeded draw of the rest for
    validation, and the remainder."""
    test = set(held_out)
    rng = np.random.default_rng(seed)
    val: set[str] = set()
    for label in sorted(set(labels.values())):
        pool = sorted(r for r, lab in labels.items() if lab == label and r not in test)
        pick = rng.permutation(len(pool))[: round(len(pool) * fraction)]
        val |= {pool[i] for i in pick}
    rest = [r for r in sorted(labels) if r not in test]
    return {
        "train": [r for r in rest if r not in val],
        "val": [r for r in rest if r in val],
        "test": [r for r in sorted(labels) if r in test],
    }


def recording_folds(
    labels: dict[str, str], held_out: tuple[str, ...], folds: int, seed: int
) -> list[list[str]]:
    """The recordings outside the test split dealt into `folds` folds, each label spread evenly (seeded)."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    rng, test = np.random.default_rng(seed), set(held_out)
    out: list[list[str]] = [[] for _ in range(folds)]
    for label in sorted(set(labels.values())):
        pool = sorted(r for r, lab in labels.items() if lab == label and r not in test)
        for k, i in enumerate(rng.permutation(len(pool))):
            out[k % folds].append(pool[i])
    return [sorted(f) for f in out]


def load_recording_split(
    config,
    split: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress=None,
    hop: float | None = None,
) -> WindowSet:
    """The labelled windows of one split (train, val, test) of a recording-labelled task, via the cache;
    `hop` apart as a share of the frame where asked (a study of reading recordings in overlapping windows),
    else training's `data.window_hop` apart and the other splits' non-overlapping."""
    from ..tasks import get_task
    from .cinc2017 import DATABASE as CINC
    from .cinc2017 import held_out_records

    if [s.lower() for s in config.data.train] != ["cinc2017:train"]:
        raise HeartzooError(f"{config.where}: {config.task} trains on cinc2017:train alone (data.train)")
    split = "test" if split in ("ds2", "test") else split
    labels = CINC.labels(data_dir)
    v = config.data.validation
    sides = split_recordings(labels, held_out_records(), v.fraction, v.seed)
    if v.records is not None:  # a cross-validation fold's held-out recordings
        val = set(v.records)
        if val & set(sides["test"]) or val - set(labels):
            raise HeartzooError(
                f"{config.where}: data.validation.records must be CinC 2017 training recordings"
            )
        rest = sides["train"] + sides["val"]
        sides.update(train=sorted(r for r in rest if r not in val), val=sorted(val))
    if split not in sides:
        raise HeartzooError(f"unknown split {split!r} for {config.task}; use train, val or test")
    classes = get_task(config.task).source_classes
    folder = CINC.folder(data_dir)
    where = CINC.record_dir(folder, "")
    # overlapping windows train; validation and test keep the non-overlapping ones the aggregation reads
    if hop is None and split == "train":
        hop = config.data.window_hop
    key = {
        "dataset": CINC.name,
        "fs": CINC.fs,
        "input": config.input.key(),
        "unit": "recording",
        "recipe": RECIPE,
    }
    cache = WindowCache(paths.cache_dir(cache_dir), key if hop is None else {**key, "hop": hop})
    parts = []
    for record in sides[split]:
        named = record_files(where, record)  # the header and the signal file it names (A00001.mat)
        files = [p for k, p in named.items() if k != "atr"]
        # the label too, which the arrays hold: a relabelled recording (REFERENCE-v3.csv edited) is
        # prepared again, and only it
        stamp = f"{source_stamp(files)} label {labels[record]}"
        arrays = cache.load(record, stamp)
        if arrays is None:
            label = classes.index(labels[record])
            arrays = recording_arrays(CINC, folder, record, config.input, label, hop)
            cache.save(record, stamp, arrays)
        if progress:
            progress(record)
        parts.append(WindowSet.of_record(arrays, record))
    out = WindowSet.concat(
        parts,
        meta={
            "records": sides[split],
            "databases": [CINC.name],
            "unit": "window",
            "input": config.input.key(),
        },
    )
    out.meta.update(protocol=config.data.protocol, split=split, leaky=False)
    return out
