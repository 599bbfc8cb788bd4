"""The versioned zoo: zoo/<task>/<name>/<version>/ folders, an index with sizes and sha256, publishing
that never overwrites, and verification that re-hashes every file and re-runs the TFLite/TFLM check.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .data.cache import write_json
from .data.download import sha256_of
from .errors import HeartzooError

ZOO_DIR_ENV = "HEARTZOO_ZOO_DIR"
INDEX = "index.json"
_VERSION = re.compile(r"^v(\d+)$")


def zoo_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ZOO_DIR_ENV) or "zoo")


def versions(root: Path, task: str, name: str) -> list[str]:
    folder = Path(root) / task / name
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda v: int(v[1:]))


def latest_version_dir(root: Path, task: str, name: str) -> Path | None:
    """The folder of NAME's latest version in the zoo at ROOT, or None when it has none."""
    have = versions(root, task, name)
    return Path(root) / task / name / have[-1] if have else None


def next_version(root: Path, task: str, name: str) -> str:
    have = versions(root, task, name)
    return f"v{int(have[-1][1:]) + 1 if have else 1}"


def build_index(root: Path) -> dict[str, Any]:
    """Every published version with its files (bytes, sha256) and headline metrics."""
    root = Path(root)
    models: list[dict[str, Any]] = []
    for task_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for model_dir in sorted(p for p in task_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for version in versions(root, task_dir.name, model_dir.name):
                vdir = model_dir / version
                files = [
                    {"path": f.name, "bytes": f.stat().st_size, "sha256": sha256_of(f)}
                    for f in sorted(vdir.iterdir())
                    if f.is_file()
                ]
                entry: dict[str, Any] = {
                    "task": task_dir.name,
                    "name": model_dir.name,
                    "version": version,
                    "path": f"{task_dir.name}/{model_dir.name}/{version}",
                    "files": files,
                }
                metrics_file = vdir / "metrics.json"
                if metrics_file.exists():
                    m = json.loads(metrics_file.read_text())
                    entry["summary"] = {
                        "split": m.get("split"),
                        "float_macro_f1": m["float"]["macro_f1"],
                        "int8_macro_f1": m["int8"]["macro_f1"],
                        "params": m.get("params"),
                        "macs": m.get("macs"),
                        "tflite_bytes": m.get("tflite_bytes"),
                        "tflm_arena_bytes": m.get("tflm_arena_bytes"),
                    }
                models.append(entry)
    return {"format": 1, "models": models}


def write_index(root: Path) -> dict[str, Any]:
    index = build_index(root)
    write_json(Path(root) / INDEX, index)
    return index


def read_index(root: Path) -> dict[str, Any]:
    p = Path(root) / INDEX
    if not p.exists():
        return {"format": 1, "models": []}
    return json.loads(p.read_text())


def load_index(zoo=None, *, remote: bool = False, base_url: str | None = None) -> dict[str, Any]:
    """The index of the local zoo, or (remote=True) the published one."""
    if remote:
        from .hub import remote_index

        return remote_index(base_url)
    return read_index(zoo_dir(zoo))


def find(index: dict[str, Any], name: str, version: str | None = None) -> dict[str, Any]:
    """The entry for NAME (latest version unless VERSION, or NAME@VERSION)."""
    if "@" in name and version is None:
        name, version = name.split("@", 1)
    hits = [m for m in index["models"] if m["name"] == name]
    if not hits:
        known = sorted({m["name"] for m in index["models"]})
        raise HeartzooError(f"no model {name!r} in the zoo; published: {', '.join(known) or 'none'}")
    if version is None:
        return max(hits, key=lambda m: int(m["version"][1:]))
    for m in hits:
        if m["version"] == version:
            return m
    raise HeartzooError(
        f"{name} has no version {version}; published: {', '.join(m['version'] for m in hits)}"
    )


def publish(run_dir, root=None, *, version: str | None = None, cache_dir=None, progress=None) -> Path:
    """Export a trained run as a new zoo version and update the index. Published versions are
    immutable: naming an existing version is an error, and a new one is made otherwise."""
    from .evaluate import load_run
    from .export import export_run

    root = zoo_dir(root)
    _, config = load_run(run_dir)
    version = version or next_version(root, config.task, config.name)
    if not _VERSION.match(version):
        raise HeartzooError(f"version must look like v1, v2, ...; got {version!r}")
    target = root / config.task / config.name / version
    if target.exists():
        raise HeartzooError(f"{target} is published already; published versions are never overwritten")
    export_run(run_dir, target, cache_dir=cache_dir, progress=progress)
    write_index(root)
    return target


def verify(root=None, *, cache_dir=None, agreement: bool = True) -> list[str]:
    """Problems found: files missing, added or changed against the index; LiteRT/TFLM disagreement."""
    root = zoo_dir(root)
    index = read_index(root)
    problems: list[str] = []
    for entry in index["models"]:
        vdir = root / entry["path"]
        listed = {f["path"]: f for f in entry["files"]}
        present = {p.name for p in vdir.iterdir() if p.is_file()} if vdir.is_dir() else set()
        found = [f"{entry['path']}/{name}: missing" for name in sorted(set(listed) - present)]
        found += [f"{entry['path']}/{name}: not in the index" for name in sorted(present - set(listed))]
        for name in sorted(set(listed) & present):
            got = sha256_of(vdir / name)
            if got != listed[name]["sha256"]:
                found.append(
                    f"{entry['path']}/{name}: sha256 {got} differs from the index {listed[name]['sha256']}"
                )
        # the runtimes are compared only on files that are what the index says
        if agreement and (vdir / "model.tflite").exists() and not found:
            found.extend(_agreement(vdir, entry, cache_dir))
        problems += found
    return problems


def _agreement(vdir: Path, entry: dict[str, Any], cache_dir) -> list[str]:
    from .config import parse_config
    from .data.pipeline import model_inputs
    from .data.prepare import test_split
    from .export import quantized_inputs, run_litert, run_tflm, runtime_mismatch, verification_frames
    from .train import load_task_split

    cfg = parse_config(json.loads((vdir / "configuration.json").read_text())["config"], str(vdir))
    buf = (vdir / "model.tflite").read_bytes()
    ws, labels = load_task_split(cfg, test_split(cfg), cache_dir=cache_dir)
    pick = verification_frames(len(labels), cfg.export.verify_frames)
    q = quantized_inputs(buf, model_inputs(ws.subset(pick), bool(cfg.model and cfg.model.rr_features)))
    bad, _ = runtime_mismatch(run_litert(buf, q), run_tflm(buf, q))
    return [f"{entry['path']}: LiteRT and TFLM disagree on {bad} of {len(pick)} frames"] if bad else []
