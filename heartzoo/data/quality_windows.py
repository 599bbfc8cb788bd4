"""Labelled windows of the signal-quality task (`quality`): can the default detector read this window?

A window is one frame of the model's input (a few seconds), cut from a record without overlap. Its label:

- **records with beat annotations** (mitdb, svdb): the record as recorded is *readable* (cardiologists
  annotated every beat); each window is also taken once more from the record with NSTDB noise (`em`, `ma`
  or `bw`, drawn per window, at one of `SNRS_DB`) added to the whole record, and that copy is readable
  when the default detector's beats in it match the reference beats one to one (150 ms), else
  *unreadable*: the gate learns where detection fails, which is what a wearable's classifier needs.
  Training and validation add channel 1 of the noise records, the test channel 0 (the noise the
  stress benchmarks add), so no test noise was seen in training.
- **CinC 2017** (AliveCor): every window of a record the challenge labels `~` (too noisy to classify) is
  unreadable; those of normal, AF and other-rhythm records readable (a per-recording label: some windows
  of a `~` record are clean, some of the others noisy; the metrics carry that label noise).
- **made-up electrode failures**, on clean windows of the training and validation records: flat (lead
  off), clipped (the amplifier's range narrower than the QRS) and saturated (the input stuck at a rail
  for part of the window): unreadable.

Splits follow the inter-patient protocol: training records less the validation patients, validation
patients (mitdb/svdb drawn as for the beat tasks, CinC records drawn by `CINC_VAL_SHARE`), and the test:
DS2 and CinC 2017's committed test split.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import paths
from ..errors import HeartzooError
from ..preprocess import InputSpec, Preprocessor, resample
from ..preprocess.rr_features import RR_COLUMNS
from .cache import WindowCache, source_stamp
from .databases import database_of, get_database
from .rhythms import window_starts
from .windows import WindowSet

#: NSTDB noise levels of the noisy copies (dB): from a light stress to beyond the NSTDB's lowest.
SNRS_DB: tuple[float, ...] = (12.0, 6.0, 0.0, -6.0)
NOISE_KINDS: tuple[str, ...] = ("em", "ma", "bw")
#: noise channel per side: the stress benchmarks add channel 0, so training never sees it
TRAIN_NOISE_CHANNEL, TEST_NOISE_CHANNEL = 1, 0
#: a detected beat is true within this of a reference beat (EC57's 150 ms)
MATCH_S = 0.15
#: share of clean windows of the training and validation records also made into an electrode failure
FAILURE_SHARE = 0.1
FAILURES: tuple[str, ...] = ("flat", "clipped", "saturated")
#: CinC 2017 training records drawn for validation, and how many of each label a side reads at most
#: (every `~` record: they are few; the test split is read whole)
CINC_VAL_SHARE, CINC_SEED = 0.2, 17
CINC_PER_LABEL = {"~": None, "N": 400, "A": 300, "O": 300}
#: bump when the labelling changes: it is part of the cache key
RECIPE = 1


def near(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Whether each sample of `a` lies within `tol` samples of one of `b` (both sorted)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    if not len(b):
        return np.zeros(len(a), bool)
    j = np.clip(np.searchsorted(b, a), 1, max(len(b) - 1, 1))
    return np.minimum(np.abs(b[j] - a), np.abs(b[j - 1] - a)) <= tol


def detection_readable(
    reference: np.ndarray, detected: np.ndarray, starts: np.ndarray, length: int, fs: float
) -> np.ndarray:
    """Per window: every reference beat in it found, and every detected beat in it true (within 150 ms)."""
    tol = MATCH_S * fs
    ref, det = np.asarray(reference, np.int64), np.asarray(detected, np.int64)
    bad = np.zeros(len(starts) + 1, bool)  # the last slot takes beats after the last whole window
    for miss in (ref[~near(ref, det, tol)], det[~near(det, ref, tol)]):
        np.logical_or.at(bad, np.minimum(miss // length, len(starts)), True)
    return ~bad[: len(starts)]


def electrode_failure(segment: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """`segment` (mV) as a failing electrode or amplifier would give it."""
    n, mid = len(segment), float(np.median(segment))
    if kind == "flat":
        return (mid + rng.normal(0.0, 0.005, n)).astype(np.float32)
    if kind == "clipped":
        lo, hi = np.percentile(segment, [30, 70])
        return np.clip(segment, lo, hi).astype(np.float32)
    if kind == "saturated":
        out = segment.astype(np.float32).copy()
        start = int(rng.integers(0, n // 2))
        rail = float(rng.choice([-1.0, 1.0]) * rng.uniform(2.0, 5.0))
        out[start:] = rail + rng.normal(0.0, 0.002, n - start)
        return out
    raise ValueError(f"unknown electrode failure {kind!r}; use one of {', '.join(FAILURES)}")


def _frames(pre: Preprocessor, values: np.ndarray, fs: float, starts: np.ndarray, length: int) -> np.ndarray:
    return pre.frames(values, fs, starts + length // 2)


def beat_record_arrays(
    db, folder: Path, record: str, spec: InputSpec, noise: dict, *, failures: bool, seed: int
) -> dict[str, np.ndarray]:
    """The windows of one beat-annotated record: clean (readable), once noisy (labelled by the
    detector), and with `failures` a share made into electrode failures (unreadable)."""
    from ..detect import detect
    from .noise import add_record_noise

    rng = np.random.default_rng([seed, int.from_bytes(record.encode(), "little") % 2**32])
    sig = db.read_signal(folder, record, spec.lead)
    fs, values = float(sig.fs), sig.values.astype(np.float32)
    ref = db.read_beats(folder, record).samples
    length = spec.frame_samples(fs)
    starts = window_starts(len(values), length)
    pre = Preprocessor(spec.model_copy(update={"r_peak_index": None}))
    xs, labels, centres = (
        [_frames(pre, values, fs, starts, length)],
        [np.zeros(len(starts), np.int8)],
        [starts],
    )
    pick = rng.integers(0, len(NOISE_KINDS) * len(SNRS_DB), len(starts))
    noisy_x = np.zeros_like(xs[0])
    noisy_y = np.zeros(len(starts), np.int8)
    for i, (kind, snr) in enumerate((k, s) for k in NOISE_KINDS for s in SNRS_DB):
        chosen = pick == i
        if not chosen.any():
            continue
        noisy = add_record_noise(
            values, ref, fs, noise[kind], snr, offset=int(rng.integers(0, len(noise[kind])))
        )
        readable = detection_readable(ref, detect(noisy, fs), starts, length, fs)
        noisy_x[chosen] = _frames(pre, noisy, fs, starts[chosen], length)
        noisy_y[chosen] = np.where(readable[chosen], 0, 1)
    xs.append(noisy_x), labels.append(noisy_y), centres.append(starts)
    if failures:
        which = np.flatnonzero(rng.random(len(starts)) < FAILURE_SHARE)
        broken = values.copy()
        for w in which:
            a = int(starts[w])
            broken[a : a + length] = electrode_failure(
                values[a : a + length], FAILURES[w % len(FAILURES)], rng
            )
        xs.append(_frames(pre, broken, fs, starts[which], length))
        labels.append(np.ones(len(which), np.int8)), centres.append(starts[which])
    return _arrays(np.concatenate(xs), np.concatenate(labels), np.concatenate(centres) + length // 2)


def cinc_record_arrays(
    db, folder: Path, record: str, spec: InputSpec, unreadable: bool
) -> dict[str, np.ndarray]:
    """Every window of one CinC 2017 recording, labelled by the recording's label."""
    sig = db.read_signal(folder, record, spec.lead)
    length = spec.frame_samples(sig.fs)
    starts = window_starts(len(sig.values), length)
    pre = Preprocessor(spec.model_copy(update={"r_peak_index": None}))
    x = _frames(pre, sig.values, float(sig.fs), starts, length)
    return _arrays(x, np.full(len(starts), int(unreadable), np.int8), starts + length // 2)


def _arrays(x: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "x": x.astype(np.float32),
        "aami": labels,
        "sample": centres.astype(np.int64),
        "rr": np.zeros((len(labels), RR_COLUMNS), np.float32),
    }


def cinc_records(labels: dict[str, str], side: str, held_out: tuple[str, ...]) -> list[str]:
    """The CinC 2017 records a side reads: the committed test split whole for the test; for training
    and validation, the other records dealt by `CINC_VAL_SHARE` and capped per label (seeded)."""
    if side == "test":
        return [r for r in labels if r in set(held_out)]
    rng = np.random.default_rng(CINC_SEED)
    out = []
    for label, cap in CINC_PER_LABEL.items():
        pool = [r for r in labels if labels[r] == label and r not in set(held_out)]
        pool = [pool[i] for i in rng.permutation(len(pool))]
        n_val = round(len(pool) * CINC_VAL_SHARE)
        mine = pool[:n_val] if side == "val" else pool[n_val:]
        cap = None if cap is None else (cap if side == "train" else round(cap * CINC_VAL_SHARE))
        out += sorted(mine[:cap] if cap is not None else mine)
    return out


def beat_config(config):
    """`config` with only its beat-annotated training sources (CinC 2017 is dealt apart): the config whose
    inter-patient split (`prepare.split_records`) gives the beat records of each side."""
    beats = [s for s in config.data.train if not s.lower().startswith("cinc2017")]
    return config.model_copy(update={"data": config.data.model_copy(update={"train": beats})})


def split_sources(
    config, split: str, beat_split: dict[str, list[str]], data_dir=None
) -> list[tuple[str, str]]:
    """(database, record) of every record a split reads; `beat_split`: the beat records of each side
    (`prepare.split_records(beat_config(config))`)."""
    from .splits import DS2

    side = {"ds2": "test", "test": "test"}.get(split, split)
    if side not in ("train", "val", "test"):
        raise HeartzooError(f"unknown split {split!r} for the quality task; use train, val or test (ds2)")
    beats = list(DS2) if side == "test" else beat_split[side]
    out = [(database_of(r).name, r) for r in beats]
    if len(beat_config(config).data.train) < len(config.data.train) or side == "test":
        from .cinc2017 import DATABASE as CINC
        from .cinc2017 import held_out_records

        out += [("cinc2017", r) for r in cinc_records(CINC.labels(data_dir), side, held_out_records())]
    return out


def load_quality_split(
    config,
    split: str,
    beat_split: dict[str, list[str]],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress=None,
) -> WindowSet:
    """The labelled windows of one split of a `quality` config, through the cache (`beat_split`: as
    `split_sources` takes it)."""
    from .cinc2017 import DATABASE as CINC
    from .noise import NOISE_FOLDER, read_noise

    spec, side = config.input, ("test" if split in ("ds2", "test") else split)
    sources = split_sources(config, split, beat_split, data_dir)
    channel = TEST_NOISE_CHANNEL if side == "test" else TRAIN_NOISE_CHANNEL
    noise_dir = paths.data_dir(data_dir) / NOISE_FOLDER
    noise_360 = {k: read_noise(noise_dir, k, channel=channel)[0] for k in NOISE_KINDS}
    noise_files = [noise_dir / f"{k}.{ext}" for k in NOISE_KINDS for ext in ("hea", "dat")]
    cinc_labels = CINC.labels(data_dir) if any(d == "cinc2017" for d, _ in sources) else {}
    parts = []
    for name, record in sources:
        db = get_database(name)
        folder = db.folder(data_dir)
        key = {
            "dataset": name,
            "fs": db.fs,
            "input": spec.key(),
            "unit": "quality",
            "recipe": RECIPE,
            "side": "test" if side == "test" else "fit",
            "seed": config.train.seed,
        }
        cache = WindowCache(paths.cache_dir(cache_dir), key)
        where = db.record_dir(folder, record)
        files = [where / f"{record}.{ext}" for ext in ("hea", "dat", "mat", "atr")]
        files = [f for f in files if f.is_file()]
        stamp = source_stamp([*files, *(noise_files if name != "cinc2017" else [])])
        arrays = cache.load(record, stamp)
        if arrays is None:
            if name == "cinc2017":
                arrays = cinc_record_arrays(db, folder, record, spec, cinc_labels[record] == "~")
            else:
                noise = {k: resample(v, 360.0, db.fs) if db.fs != 360 else v for k, v in noise_360.items()}
                arrays = beat_record_arrays(
                    db, folder, record, spec, noise, failures=side != "test", seed=config.train.seed
                )
            cache.save(record, stamp, arrays)
        if progress:
            progress(record)
        parts.append(WindowSet.of_record(arrays, record))
    out = WindowSet.concat(
        parts,
        meta={
            "records": [r for _, r in sources],
            "unit": "window",
            "databases": sorted({d for d, _ in sources}),
            "input": spec.key(),
        },
    )
    out.meta.update(protocol=config.data.protocol, split=split, leaky=False)
    return out
