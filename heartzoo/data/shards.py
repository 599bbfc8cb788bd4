"""Frames for more beats than memory holds: prepared per patient into HDF5 shards, in parallel,
resumable shard by shard, described by a manifest; `shard_stream` streams them into training.

A shard holds whole patients (`patients_per_shard`, in the order the sources list them) and exactly what
the in-memory path makes: for beat-annotated databases, `prepare.record_arrays` and `Preprocessor`'s
frames, RR intervals, R-peak samples and, where the input uses them, the running templates (computed per
record before anything is split); for a database labelled per recording (CinC 2017, `Database.unit`),
`recording_windows.recording_arrays`' windows, each with its recording's label. Rows are grouped by
class (`/N/x`, `/S/x`, ... or CinC's `/A/x`, `/~/x`), record after record, so a class-balanced stream
reads one contiguous range per class and shard and needs no class index of the whole set; `order`
keeps each row's place in record order (`read_shard` puts them back), and each shard's summary counts
the rows of every record per class (`rows`), so a stream can leave some records out (validation ones)
without reading them. A worker holds one record at a time.

Why HDF5 and not TFRecord: on this machine HDF5 wrote 7x faster (TFRecord serialises one
`tf.train.Example` per beat in Python), read 1.8x faster into batches through tf.data, and allows the
per-class slices and random access above (`format` in results/shards.json).

Resuming: a shard is written to a temporary file and renamed into place, then its summary
(`shard-NNNNN.json`: counts, bytes, sha256) is written the same way. A shard with both is finished and
skipped; anything else (a killed worker's temporary file, a shard without its summary) is redone. The
manifest names the preprocessing contract: a folder prepared under another contract or plan is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArgumentError, DataError, HeartzooError
from ..io import atomic_path, read_json, sha256_of, write_json
from ..preprocess import InputSpec
from ..tasks import AAMI_CLASSES, CINC_CLASSES
from .cache import CACHE_VERSION
from .shard_manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    finished,
    read_manifest,
    sources_stamp,
    verify_shards,
)

CHUNK_ROWS = 1024  # HDF5 chunk height: one read of a class stream

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ShardJob:
    name: str  # shard-00000: the .h5 file and its .json summary
    patients: tuple[str, ...]
    records: tuple[tuple[str, str], ...]  # (database, record), in the order the sources list them


#: what a database labels -> the classes its shards group rows by
UNIT_CLASSES = {"beat": AAMI_CLASSES, "recording": CINC_CLASSES}


def contract_of(spec: InputSpec) -> dict[str, Any]:
    """What shapes the frames: the input spec, its firmware contract and the cache's code version."""
    from ..preprocess import Preprocessor

    return {
        "input": spec.key(),
        "preprocessing": Preprocessor(spec).contract(),
        "cache_version": CACHE_VERSION,
    }


def plan_shards(records: Sequence[str], patients_per_shard: int = 1) -> list[ShardJob]:
    """Whole patients, in order of first appearance, `patients_per_shard` to a shard."""
    from .databases import database_of

    if patients_per_shard < 1:
        raise ArgumentError(f"patients_per_shard must be at least 1, got {patients_per_shard}")
    by_patient: dict[str, list[tuple[str, str]]] = {}
    for r in records:
        db = database_of(r)
        by_patient.setdefault(db.patient_of(r), []).append((db.name, r))
    patients = list(by_patient)
    return [
        ShardJob(
            f"shard-{i // patients_per_shard:05d}",
            tuple(patients[i : i + patients_per_shard]),
            tuple(rec for p in patients[i : i + patients_per_shard] for rec in by_patient[p]),
        )
        for i in range(0, len(patients), patients_per_shard)
    ]


def append_rows(group, name: str, data: np.ndarray) -> None:
    if name not in group:
        group.create_dataset(
            name,
            data=data,
            maxshape=(None, *data.shape[1:]),
            # a power of two dividing CHUNK_ROWS, so a stream's aligned reads never split a chunk; no
            # bigger than the first write needs, so a shard's rare classes do not cost a whole chunk
            chunks=(min(CHUNK_ROWS, max(64, 1 << (len(data) - 1).bit_length())), *data.shape[1:]),
        )
        return
    ds = group[name]
    n = ds.shape[0]
    ds.resize(n + len(data), axis=0)
    ds[n:] = data


def _arrays(db, record: str, spec: InputSpec, pre, data_dir: str | None, labels: dict):
    """One record's rows, as the in-memory path makes them: (arrays, running templates or None).
    `labels`: the recording labels read so far, per database (read once a shard)."""
    if db.unit == "recording":
        from .recording_windows import recording_arrays

        if db.name not in labels:
            labels[db.name] = db.labels(data_dir)
        label = UNIT_CLASSES[db.unit].index(db.label_of(record, labels[db.name], data_dir))
        return recording_arrays(db, db.folder(data_dir), record, spec, label), None
    from ..preprocess.rr_features import with_rr_context
    from .prepare import record_arrays

    a = record_arrays(db, record, spec, db.folder(data_dir))
    names = np.full(len(a["aami"]), record)
    rr = with_rr_context(a["rr"], names, 0, spec.rr_normaliser) if spec.template_on_time else None
    return a, pre.templates(a["x"], names, rr)


def write_shard(job: ShardJob, spec: InputSpec, out: Path, data_dir: str | None) -> dict[str, Any]:
    """Prepare one shard (in this process), atomically; then its summary. Returns the summary."""
    import h5py

    from ..preprocess import Preprocessor
    from .databases import get_database

    t0, cpu0 = time.perf_counter(), time.process_time()
    labels: dict = {}  # the recording labels read so far, per database: the stamp's and the rows'
    sources = sources_stamp(job.records, data_dir, labels)  # before reading: an edit meanwhile redoes it
    pre = Preprocessor(spec)
    final = Path(out) / f"{job.name}.h5"
    classes = UNIT_CLASSES[get_database(job.records[0][0]).unit]
    counts = dict.fromkeys(classes, 0)
    rows: dict[str, list[int]] = {c: [] for c in classes}  # per record, in the order of `records`
    row = 0
    with atomic_path(final) as tmp, h5py.File(tmp, "w") as f:
        for i, (dbname, record) in enumerate(job.records):
            a, template = _arrays(get_database(dbname), record, spec, pre, data_dir, labels)
            n = len(a["aami"])
            for c, name in enumerate(classes):
                hit = np.flatnonzero(a["aami"] == c)
                rows[name].append(len(hit))
                if not len(hit):
                    continue
                g = f.require_group(name)
                append_rows(g, "x", a["x"][hit])
                append_rows(g, "rr", a["rr"][hit])
                append_rows(g, "sample", a["sample"][hit])
                append_rows(g, "record", np.full(len(hit), i, dtype=np.int32))
                append_rows(g, "order", (row + hit).astype(np.int64))
                if template is not None:
                    append_rows(g, "template", template[hit])
                counts[name] += len(hit)
            row += n
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["contract"] = json.dumps(contract_of(spec), sort_keys=True)
        f.attrs["records"] = json.dumps([r for _, r in job.records])
        f.attrs["counts"] = json.dumps(counts)
        f.attrs["classes"] = json.dumps(list(classes))
    summary = {
        "name": job.name,
        "file": final.name,
        "patients": list(job.patients),
        "records": [r for _, r in job.records],
        "beats": row,
        "counts": counts,
        "rows": rows,
        "bytes": final.stat().st_size,
        "sha256": sha256_of(final),
        "sources": sources,
        "seconds": round(time.perf_counter() - t0, 3),
        "cpu_seconds": round(time.process_time() - cpu0, 3),  # the cost, whatever else the machine runs
    }
    write_json(final.with_suffix(".json"), summary)
    return summary


def _die_with(parent: int) -> None:
    """A pool worker's start: it ends when the preparing process does (killed, it would go on holding
    the folder's lock, and every rerun would be told another preparation is writing there)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def _worker(job: ShardJob, spec_json: dict, out: str, data_dir: str | None) -> dict[str, Any]:
    """Process-pool entry: a DataError travels back as plain data (it does not pickle)."""
    try:
        return write_shard(job, InputSpec.model_validate(spec_json), Path(out), data_dir)
    except DataError as exc:
        return {"error": {"record": exc.record, "problem": exc.problem, "path": exc.path}}


def prepare_shards(
    sources: Sequence[str],
    spec: InputSpec,
    out: str | os.PathLike[str],
    *,
    patients_per_shard: int = 1,
    workers: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
    verify: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Shards of every beat of `sources` (DATABASE:SET, ...) under `out`, and their manifest (returned).

    `workers` > 1 prepares shards in that many processes; finished shards are skipped (`verify`
    re-hashes them first). A record that cannot be read raises `DataError` once the shards already
    running are done; those stay finished for the next run.
    """
    from .databases import records_of, unit_of
    from .shard_manifest import check_shards_folder

    out = Path(out)
    data_dir = str(data_dir) if data_dir is not None else None
    for name, n in (("workers", workers), ("patients_per_shard", patients_per_shard)):
        if n < 1:  # checked before any data is read (the CLI's options refuse them too)
            raise ArgumentError(f"{name} must be at least 1, got {n}")
    try:
        records, unit = records_of(sources, data_dir), unit_of(sources)  # beats or recordings, for all
    except ValueError as exc:
        raise HeartzooError(str(exc)) from None
    jobs = plan_shards(records, patients_per_shard)
    # a source that cannot be read fails here, before the manifest claims the folder for this contract
    _check_sources(jobs, spec, data_dir)
    check_shards_folder(out)  # a run's or a data folder: refused before the lock is written into it
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = "a file, not a folder" if out.exists() and not out.is_dir() else exc.strerror
        raise HeartzooError(f"{out}: cannot hold the shards ({problem}); give another folder") from None
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sources": list(sources),
        "unit": unit,
        "classes": list(UNIT_CLASSES[unit]),
        "contract": contract_of(spec),
        "patients_per_shard": patients_per_shard,
        "plan": [{"name": j.name, "patients": list(j.patients)} for j in jobs],
        "complete": False,
    }
    with _lock(out):
        _check_same(out, manifest)
        write_json(out / MANIFEST, manifest)
        for stale in out.glob(".shard-*.tmp"):  # a killed preparation's partial files
            stale.unlink()
        labels: dict = {}  # a database's recording labels, read once for every shard's check
        done = {j.name: s for j in jobs if (s := finished(out, j, data_dir, verify, labels)) is not None}
        todo = [j for j in jobs if j.name not in done]
        total = len(jobs)
        if progress:
            progress(len(done), total, "finished before")
        for summary in _run(todo, spec, out, data_dir, workers):
            done[summary["name"]] = summary
            if progress:
                progress(len(done), total, summary["name"])
        shards = [done[j.name] for j in jobs]
        manifest.update(
            complete=True,
            shards=shards,
            beats=sum(s["beats"] for s in shards),
            counts={c: sum(s["counts"][c] for s in shards) for c in manifest["classes"]},
        )
        write_json(out / MANIFEST, manifest)
    return manifest


def _check_sources(jobs: Sequence[ShardJob], spec: InputSpec, data_dir: str | None) -> None:
    """What would stop a shard at its first record, found before anything is written: each database's
    folder and lead for the input, every record's header and, where labelled per recording, its label
    (file existence and one label file: no signal is read)."""
    from .databases import get_database

    by_db: dict[str, list[str]] = {}
    for job in jobs:
        for dbname, record in job.records:
            by_db.setdefault(dbname, []).append(record)
    for dbname, records in by_db.items():
        db = get_database(dbname)
        folder = db.folder(data_dir)
        db.lead_for(spec.lead, records[0])
        for record in records:
            header = db.record_dir(folder, record) / f"{record}.hea"
            if not header.is_file():
                raise DataError(record, "header file missing", path=str(header))
        if db.unit == "recording":
            labels = db.labels(data_dir)
            for record in records:
                db.label_of(record, labels, data_dir)


def _run(todo: list[ShardJob], spec: InputSpec, out: Path, data_dir: str | None, workers: int):
    """Summaries of the shards as they finish; the first error is raised once the pool has stopped."""
    if workers <= 1 or len(todo) <= 1:
        for job in todo:
            yield write_shard(job, spec, out, data_dir)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # fork shares what is imported already (a spawned worker imports scipy, wfdb, h5py anew: seconds
    # each); but a process running TensorFlow's threads does not survive a fork: spawn there
    ctx = multiprocessing.get_context("spawn" if "tensorflow" in sys.modules else "fork")
    spec_json = spec.model_dump(mode="json")
    error = None
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_die_with, initargs=(os.getpid(),)
    )
    with pool:
        futures = [pool.submit(_worker, job, spec_json, str(out), data_dir) for job in todo]
        for fut in as_completed(futures):
            try:
                summary = fut.result()
            except BrokenProcessPool:
                raise HeartzooError(
                    f"a worker preparing shards into {out} died (killed: out of memory?); the shards finished "
                    "are kept: run the same command again to go on from them"
                ) from None
            if "error" in summary:
                error = error or summary["error"]
                for f in futures:
                    f.cancel()
                continue
            yield summary
    if error is not None:
        raise DataError(error["record"], error["problem"], path=error["path"])


def check_cache_version(folder: Path, contract: dict[str, Any]) -> None:
    """Shards made by another frame-cache version hold frames this code no longer makes (version 3
    added the RR irregularity column): say so, rather than that the input differs."""
    found = contract.get("cache_version")
    if found != CACHE_VERSION:
        raise HeartzooError(
            f"{folder}: shards prepared by frame-cache version {found}, this heartzoo makes version "
            f"{CACHE_VERSION}; prepare them again into a new folder (or delete this one)"
        )


def _check_same(out: Path, manifest: dict[str, Any]) -> None:
    path = out / MANIFEST
    if not path.is_file():  # gone, or never written: the shards there say what they hold
        _check_shard_files(out, manifest)
        return
    try:
        old = read_json(path)
    except HeartzooError as exc:
        raise HeartzooError(
            f"{exc}; delete it and run again: each shard's own file says what it holds, and a folder of "
            "another contract's shards is refused"
        ) from None
    if old.get("format") == FORMAT and not _any_finished(out):
        return  # a run that failed before finishing a shard leaves nothing of its contract to keep
    if old.get("format_version") == manifest["format_version"]:
        check_cache_version(out, old.get("contract", {}))
    for key in ("format_version", "contract", "plan"):
        new = json.loads(json.dumps(manifest[key]))
        if old.get(key) != new:
            raise HeartzooError(
                f"{out} holds shards prepared with another {key.replace('_', ' ')} "
                f"({'; '.join(_differences(old.get(key), new, key))}"
                f"{': another --patients-per-shard, or other sources' if key == 'plan' else ''}); prepare into "
                "a new folder (or delete this one)"
            )


def _differences(old: Any, new: Any, where: str) -> list[str]:
    """Where two manifests' values part, as `where.field: OLD there, NEW now` (the first three)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [
            d
            for k in sorted(set(old) | set(new))
            for d in _differences(old.get(k), new.get(k), f"{where}.{k}")
        ]
        return out[:3]
    if isinstance(old, list) and isinstance(new, list):  # the plan: its shards
        if len(old) != len(new):
            return [f"{where}: {len(old)} shards there, {len(new)} now"]
        return next(
            (
                [f"{where}[{i}]: {a} there, {b} now"]
                for i, (a, b) in enumerate(zip(old, new, strict=True))
                if a != b
            ),
            [],
        )
    return [] if old == new else [f"{where}: {old} there, {new} now"]


def _check_shard_files(out: Path, manifest: dict[str, Any]) -> None:
    """A folder without a manifest whose shards were made for another contract (their own attributes say
    which) is refused: prepared again over them, the folder would mix two inputs, and train on both."""
    import h5py

    want = (manifest["format_version"], json.loads(json.dumps(manifest["contract"])))
    for h5 in sorted(out.glob("shard-*.h5")):
        try:
            with h5py.File(h5, "r") as f:
                held = (f.attrs.get("format_version"), json.loads(f.attrs.get("contract", "null")))
        except (OSError, ValueError):
            continue  # damaged: `finished` finds it and it is prepared again
        if held != want:
            raise HeartzooError(
                f"{h5}: a shard prepared with another contract or format, in a folder without its manifest; "
                "prepare into a new folder (or delete this one)"
            )


def _any_finished(out: Path) -> bool:
    """Whether any shard of `out` has both its file and its summary (what `finished` would skip)."""
    return any(js.with_suffix(".h5").is_file() for js in out.glob("shard-*.json"))


@contextlib.contextmanager
def _lock(out: Path):
    """An exclusive lock on the folder: two preparations never write the same shards."""
    import fcntl

    try:
        f = open(out / ".lock", "w")  # noqa: SIM115 (closed below, after the lock's block)
    except OSError as exc:
        raise HeartzooError(f"{out}: cannot write the shards there ({exc.strerror})") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HeartzooError(f"another preparation is writing shards into {out}") from None
        yield


def read_shard(path: str | os.PathLike[str]):
    """One shard as a `WindowSet` in record order (templates included where the input has them)."""
    import h5py

    from .windows import WindowSet

    with h5py.File(path, "r") as f:
        records = np.asarray(json.loads(f.attrs["records"]))
        classes = json.loads(f.attrs["classes"])
        groups = [(classes.index(name), f[name]) for name in classes if name in f]
        if not groups:
            raise HeartzooError(f"{path}: a shard without rows")
        parts = {
            k: np.concatenate([g[k][()] for _, g in groups]) for k in ("x", "rr", "sample", "record", "order")
        }
        with_template = all("template" in g for _, g in groups)
        template = np.concatenate([g["template"][()] for _, g in groups]) if with_template else None
        aami = np.concatenate([np.full(len(g["order"]), c, dtype=np.int8) for c, g in groups])
    back = np.argsort(parts["order"], kind="stable")
    ws = WindowSet(
        parts["x"][back],
        aami[back],
        records[parts["record"][back]],
        parts["sample"][back],
        parts["rr"][back],
        {"shard": str(path)},
        None if template is None else template[back],
    )
    return ws


__all__ = [
    "MANIFEST",
    "ShardJob",
    "plan_shards",
    "prepare_shards",
    "read_manifest",
    "read_shard",
    "verify_shards",
    "write_shard",
]
