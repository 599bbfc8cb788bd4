"""Beats in atrial fibrillation, without a beat label: what a beat model trains on as "not S" (issue 46).

AAMI defines no S beat in atrial fibrillation: every beat there is N (or V, or F), however early it comes.
Models trained on MIT-BIH, where two patients hold nearly all its AF, call a fifth of the beats of AF
recordings S. These beats teach them otherwise with a partial label (`losses.AllowedSetCrossentropy`:
"any class but S"), since no one annotated them beat by beat:
- `cinc2017`: the AF recordings of CinC 2017's training split (never its test split, nor the fixed draw
  `cinc_validation` that selection reads), lead I of the AliveCor, 300 Hz;
- `aftdb`: the 80 one-minute AF recordings of the AF Termination Challenge database (first lead, 128 Hz).
R peaks come from the default detector, as on a wearable; beats in windows the template-matching gate
finds unreadable are left out, and so are each recording's first and last beat (their RR half known).
Frames, RR intervals and templates come from the model's own Preprocessor. Cached per input spec.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..preprocess import InputSpec, Preprocessor

SOURCES = ("cinc2017", "aftdb")
CINC_VALIDATION = 60  # recordings of each of A and N drawn from the CinC 2017 training split


def cinc_validation(data_dir=None, per_label: int = CINC_VALIDATION, seed: int = 0) -> tuple[str, ...]:
    """A fixed draw of AF and normal-rhythm recordings of the CinC 2017 training split: the S- and V-call
    rates selection reads on wearable recordings; never trained on."""
    from ..data.databases import get_database

    db = get_database("cinc2017")
    labels = db.labels(data_dir)
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for label in ("A", "N"):
        pool = sorted(r for r in db.splits["train"] if labels.get(r) == label)
        out += sorted(rng.choice(pool, size=min(per_label, len(pool)), replace=False).tolist())
    return tuple(out)


def _recordings(source: str, lead: str, data_dir) -> list[tuple[str, np.ndarray, float]]:
    """(name, the lead standing for `lead` in mV, rate) of every AF recording of `source`."""
    from .. import paths
    from ..data.databases import get_database

    if source == "cinc2017":
        db = get_database("cinc2017")
        folder, labels = db.folder(data_dir), db.labels(data_dir)
        held = set(cinc_validation(data_dir))
        out = []
        for r in db.splits["train"]:
            if labels.get(r) == "A" and r not in held:
                sig = db.read_signal(folder, r, lead)
                out.append((f"cinc2017:{r}", sig.values, float(sig.fs)))
        return out
    import wfdb

    from ..data.records import read_signal

    out = []
    for hea in sorted((paths.data_dir(data_dir) / "aftdb").glob("*/*.hea")):
        lead = wfdb.rdheader(str(hea.with_suffix(""))).sig_name[0]
        sig = read_signal(hea.parent, hea.stem, lead)
        out.append((f"aftdb:{hea.parent.name}/{hea.stem}", sig.values, float(sig.fs)))
    return out


def _beats(values: np.ndarray, fs: float, pre: Preprocessor) -> dict[str, np.ndarray]:
    from ..detect import detect
    from ..recording.quality import sqi_windows

    peaks = detect(values, fs)
    # the index as the published recipes that read AF beats were trained with (before it took each
    # window's baseline out): `zoo retrain` of them reads the beats they read, cached or not
    keep = (
        sqi_windows(values, fs, peaks, median_baseline=False).of(peaks) if len(peaks) else np.zeros(0, bool)
    )
    keep[[0, -1] if len(keep) else []] = False
    frames = pre.frames(values, fs, peaks)
    out = {"x": frames, "rr": pre.rr_intervals(peaks, fs)}
    if pre.spec.template_beats:
        out["template"] = pre.templates(frames, np.zeros(len(frames), dtype="<U1"), out["rr"])
    return {k: v[keep] for k, v in out.items()}


def load_af_beats(
    sources: list[str], spec: InputSpec, data_dir=None, cache_dir: str | os.PathLike[str] | None = None
) -> dict[str, np.ndarray]:
    """{"x", "rr", maybe "template", "record"}: the AF beats of `sources`, prepared for `spec` (cached)."""
    from .. import paths
    from ..data.cache import cache_key
    from ..io import atomic_path

    digest, key = cache_key(af_beats=sorted(sources), input=spec.key())
    path = Path(paths.cache_dir(cache_dir)) / "af_beats" / f"{digest}.npz"
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    pre, parts = Preprocessor(spec), []
    for source in sources:
        for name, values, fs in _recordings(source, spec.lead, data_dir):
            b = _beats(values, fs, pre)
            parts.append({**b, "record": np.full(len(b["x"]), name)})
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **out)
    (path.with_suffix(".json")).write_text(json.dumps(key, sort_keys=True))
    return out


def negatives_of(config, data_dir=None, cache_dir=None):
    """The `pipeline.Negatives` of `config.data.af_beats`: its AF beats as the model takes them, allowed
    every class of the task but S."""
    from ..data.augment import s_class
    from ..data.pipeline import Negatives
    from ..tasks import get_task

    ab, pre = config.data.af_beats, Preprocessor(config.input)
    beats = load_af_beats(list(ab.sources), config.input, data_dir, cache_dir)
    task = get_task(config.task)
    allowed = np.ones(task.num_classes, np.float32)
    allowed[s_class(task)] = 0.0
    return Negatives(
        beats["x"], pre.rr(beats["rr"]) if pre.rr_features else None, beats.get("template"), ab.share, allowed
    )
