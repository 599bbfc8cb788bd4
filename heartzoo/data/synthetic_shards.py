"""Shards of made-up frames in the real shard format, any size, for the streaming benchmark and tests:
what the stream costs as the data grows, with no database to prepare first. Row i of AAMI class c in
shard s has x[0] = c, x[1] = s and x[2] = i, so a test can tell where every drawn row came from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..io import atomic_path, write_json
from ..preprocess import InputSpec
from ..tasks import AAMI_CLASSES
from .shards import FORMAT, FORMAT_VERSION, MANIFEST, append_rows, contract_of, sha256_of

BLOCK = 8192  # rows written at a time: the writer's memory stays flat too


def write_synthetic_shards(
    folder: str | os.PathLike[str],
    spec: InputSpec,
    counts: list[dict[str, int]],
    seed: int = 0,
) -> dict:
    """One shard per entry of `counts` (AAMI class -> beats), with its summary, and a complete manifest."""
    import h5py

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng, classes = np.random.default_rng(seed), list(AAMI_CLASSES)
    t = spec.frame_size
    shards = []
    for s, per_class in enumerate(counts):
        name = f"shard-{s:05d}"
        final = folder / f"{name}.h5"
        full = {c: int(per_class.get(c, 0)) for c in classes}
        with atomic_path(final) as tmp, h5py.File(tmp, "w") as f:
            for c, cls in enumerate(classes):
                for start in range(0, full[cls], BLOCK):
                    m = min(BLOCK, full[cls] - start)
                    x = rng.standard_normal((m, t), dtype=np.float32)
                    x[:, 0], x[:, 1], x[:, 2] = c, s, np.arange(start, start + m)
                    g = f.require_group(cls)
                    append_rows(g, "x", x)
                    append_rows(g, "rr", np.tile(np.float32([0.8, 0.8, 0.8, 0.8, 0.0]), (m, 1)))
                    append_rows(g, "sample", np.arange(start, start + m, dtype=np.int64))
                    append_rows(g, "record", np.zeros(m, np.int32))
                    append_rows(g, "order", np.arange(start, start + m, dtype=np.int64))
                    if spec.template_beats:
                        append_rows(g, "template", np.zeros((m, t), np.float32))
            f.attrs["records"] = f'["synthetic{s}"]'
            f.attrs["classes"] = json.dumps(classes)
        summary = {
            "name": name,
            "file": final.name,
            "patients": [f"synthetic:{s}"],
            "records": [f"synthetic{s}"],
            "beats": sum(full.values()),
            "counts": full,
            "rows": {c: [n] for c, n in full.items()},
            "bytes": final.stat().st_size,
            "sha256": sha256_of(final),
        }
        write_json(final.with_suffix(".json"), summary)
        shards.append(summary)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sources": ["synthetic"],
        "unit": "beat",
        "classes": classes,
        "contract": contract_of(spec),
        "complete": True,
        "shards": shards,
        "beats": sum(s["beats"] for s in shards),
        "counts": {c: sum(s["counts"][c] for s in shards) for c in classes},
    }
    write_json(folder / MANIFEST, manifest)
    return manifest
