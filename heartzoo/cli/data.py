"""`heartzoo data ...`: download, prepare frames, count beats."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..tasks import DEFAULT_TASK
from .common import (
    CacheDir,
    DataDir,
    TaskOrConfig,
    console,
    counting_bar,
    data_app,
    err_console,
    print_whole,
)


@data_app.command("download")
def data_download(
    dataset: Annotated[
        str, typer.Argument(help="mitdb or svdb (records), or nstdb (the bw, em, ma noise records)")
    ],
    data_dir: DataDir = None,
    base_url: Annotated[str | None, typer.Option(help="Mirror to fetch from instead of PhysioNet")] = None,
    records: Annotated[str | None, typer.Option(help="Only these records, comma-separated")] = None,
) -> None:
    """Fetch a PhysioNet database, verify every file against its SHA256SUMS.txt, resume partial files."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from ..data.download import download_dataset, remote_dataset

    remote_dataset(dataset)  # an unknown name is refused before the progress display starts
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
    ) as progress:
        tasks: dict[str, int] = {}

        def on_progress(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        report = download_dataset(
            dataset,
            data_dir,
            base_url=base_url,
            records=records.split(",") if records else None,
            on_progress=on_progress,
        )
    console.print(
        f"[green]{dataset}[/]: {len(report.downloaded)} downloaded, {len(report.already_present)} already "
        f"present and verified, in {report.folder}"
    )


def _config_or_task(config: Path | None, task: str | None):
    """The configuration named (its task replaced by --task when given), else the defaults for --task,
    else for DEFAULT_TASK; a task whose data the defaults do not describe (a window task's) asks for a
    configuration instead."""
    from pydantic import ValidationError

    from ..config import HeartzooConfig, load_config
    from ..errors import ArgumentError

    if config is not None:
        cfg = load_config(config)
        return cfg if task is None else cfg.model_copy(update={"task": task})
    name = task or DEFAULT_TASK
    try:
        return HeartzooConfig(name=f"{name}-data", task=name)
    except ValidationError:  # the defaults are the beat tasks' (MIT-BIH beats, inter-patient)
        raise ArgumentError(
            f"--task {name}: its data is not the beat tasks' default; give its configuration instead, "
            f"e.g. --config configs/{name}-cnn3.yaml (a checkout's), or a published {name} version's "
            "configuration.json"
        ) from None


@data_app.command("prepare")
def data_prepare(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Configuration file (YAML or JSON)")
    ] = None,
    task: TaskOrConfig = None,
    splits: Annotated[str, typer.Option(help="Comma-separated splits to prepare")] = "train,val,test",
    noise_stress: Annotated[
        bool, typer.Option(help="Also prepare DS2 + em noise at 24/18/12/6/0 dB")
    ] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Cut every beat into model frames and cache them (HDF5), as the configuration's input spec says."""

    from ..data.mitbih import default_records
    from ..data.noise import STRESS_SNRS_DB
    from ..data.prepare import StressNoise, load_split, split_records
    from ..tasks import get_task

    cfg = _config_or_task(config, task)
    task_obj = get_task(cfg.task)
    jobs: list[tuple[str, str, StressNoise | None]] = [(s, s, None) for s in splits.split(",") if s]
    if noise_stress:
        jobs += [(f"test+em@{snr:g}dB", "test", StressNoise("em", snr)) for snr in STRESS_SNRS_DB]
    per_split: dict[str, int] = {}  # records each split reads, for the bar; a window task's: unknown here
    if task_obj.unit == "beat" and cfg.data.protocol == "inter-patient":
        per_split = {name: len(recs) for name, recs in split_records(cfg, data_dir).items()}
    elif task_obj.unit == "beat":  # the leaky protocol reads every record, then draws beats
        per_split = dict.fromkeys(("train", "val", "test"), len(default_records(cfg.data.exclude_paced)))
    table = Table(title=f"{cfg.name}: frames for {cfg.task} ({cfg.data.protocol})")
    table.add_column("split")
    for name in task_obj.class_names:
        table.add_column(name, justify="right")
    table.add_column("frames", justify="right")
    table.add_column("seconds", justify="right")
    with counting_bar() as progress:
        for label, split, noise in jobs:
            bar = progress.add_task(label, total=per_split.get(split))
            t0 = time.perf_counter()
            ws = load_split(
                cfg,
                split,
                data_dir=data_dir,
                cache_dir=cache_dir,
                noise=noise,
                progress=lambda _msg, b=bar: progress.advance(b),
            )
            seconds = time.perf_counter() - t0
            kept, labels = ws.for_task(task_obj)
            counts = [int((labels == i).sum()) for i in range(task_obj.num_classes)]
            table.add_row(
                label, *(f"{n:,}" for n in counts), f"{kept.x.shape[0]:,}×{kept.x.shape[1]}", f"{seconds:.1f}"
            )
    print_whole(table)
    if ws.meta.get("cache"):  # a window task's splits say nothing of one
        console.print(f"cache: {ws.meta['cache']}")
    if cfg.data.protocol == "leaky-random-beat":
        console.print("[yellow]leaky random-beat split: the same patients are in train and test[/]")


@data_app.command("stats")
def data_stats(
    task: TaskOrConfig = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Count for this configuration: its task, training records and validation draw",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    data_dir: DataDir = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="Count what this database's folder holds instead (patients, hours, beats per AAMI class, "
            "whatever --task; rhythms; recordings per label where the labels are per recording, as CinC "
            "2017's), e.g. icentia11k: whatever part of it is present",
        ),
    ] = None,
    select: Annotated[
        str, typer.Option("--select", help="With --dataset: a record set, patient or record")
    ] = "all",
) -> None:
    """Beat counts of DS1, DS2 and the train/validation draw, per class of the task (or, with
    --dataset, of one database folder, per AAMI class)."""
    from ..data.stats import split_counts
    from ..errors import ArgumentError
    from ..tasks import get_task

    if dataset is not None:
        if task is not None or config is not None:
            raise ArgumentError(
                "--dataset counts a database's beats per AAMI class, whatever the task: give it without "
                "--task or --config"
            )
        _dataset_stats(dataset, select, data_dir, as_json)
        return
    if select != "all":
        raise ArgumentError("--select chooses within a database: give it with --dataset")
    # a window task is sent where its windows are counted, before the defaults ask for its configuration
    if task is not None and get_task(task).unit != "beat":
        raise _counted_per_window(task, str(config) if config else f"configs/{task}-cnn3.yaml")
    cfg = _config_or_task(config, task)
    if get_task(cfg.task).unit != "beat":
        raise _counted_per_window(cfg.task, str(config))
    stats = split_counts(cfg.task, data_dir, cfg.data.validation, cfg.data.train)
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return
    source = f"{cfg.name}: " if config else ""
    table = Table(title=f"{source}beats for {cfg.task}, training records {', '.join(cfg.data.train)}")
    table.add_column("split")
    table.add_column("records", justify="right")
    for name in stats["classes"]:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right")
    table.add_column("left out", justify="right")
    for name, s in stats["splits"].items():
        table.add_row(
            name,
            str(len(s["records"])),
            *(f"{s['counts'][c]:,}" for c in stats["classes"]),
            f"{s['total']:,}",
            f"{s['left_out']:,}",
        )
    print_whole(table)
    console.print(stats["protocol"])
    console.print("validation records: " + " ".join(stats["splits"]["val"]["records"]))
    for note in stats["notes"]:
        console.print(f"[dim]{note}[/]")


def _counted_per_window(task: str, config: str):
    from ..errors import ArgumentError

    return ArgumentError(
        f"data stats counts beats per split, and {task} is labelled per window or recording: `heartzoo data "
        f"prepare --config {config}` counts its windows per split, `heartzoo data stats --dataset DATABASE` "
        "what a database holds"
    )


def _dataset_stats(name: str, select: str, data_dir, as_json: bool) -> None:
    from ..data.census import database_census
    from ..errors import ArgumentError

    try:
        stats = database_census(name, data_dir, what=select)
    except ValueError as exc:  # an unknown database or selection
        raise ArgumentError(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return
    # a database labelled per recording is counted in recordings per label, the others in beats per class
    counted = "labels" if stats["labels"] is not None else "beats"
    classes = [c for c, n in stats[counted].items() if n] or list(stats[counted])
    table = Table(title=f"{stats['title']} ({stats['dataset']}:{select}) in {stats['folder']}")
    table.add_column("patient")
    table.add_column("records", justify="right")
    table.add_column("hours", justify="right")
    for c in classes:
        table.add_column(c, justify="right", no_wrap=True)
    # the rhythms get a table of their own: one column each per patient (mitdb has 23) would not fit
    # a terminal, and rich would cut the counts to "2…"; per patient they are in --json
    rhythms = sorted(stats["rhythms"] or {})
    shown = list(stats["per_patient"].items())
    for patient, p in shown[:30]:
        table.add_row(
            patient,
            str(len(p["records"])),
            f"{p['seconds'] / 3600:.2f}",
            *(f"{p[counted].get(c, 0):,}" for c in classes),
        )
    if len(shown) > 30:
        table.add_row(f"... {len(shown) - 30} more", *[""] * (2 + len(classes)))
    table.add_row(
        "total",
        str(stats["records"]),
        f"{stats['hours']:.2f}",
        *(f"{stats[counted][c]:,}" for c in classes),
        style="bold",
    )
    print_whole(table)
    if rhythms:
        by_rhythm = Table(title="rhythms (per patient: --json)")
        for c in ("rhythm", "episodes", "hours", "patients"):
            by_rhythm.add_column(c, justify="left" if c == "rhythm" else "right", no_wrap=True)
        for r in rhythms:
            held = sum(r in p["rhythms"] for p in stats["per_patient"].values())
            # annotation aux strings open with "(" (e.g. "(AFIB"): printed without it
            total = stats["rhythms"][r]
            by_rhythm.add_row(
                r.lstrip("("), f"{total['episodes']:,}", f"{total['seconds'] / 3600:.2f}", str(held)
            )
        print_whole(by_rhythm)
    if counted == "labels":
        console.print(
            f"{stats['records']} recording(s), one label each: "
            + ", ".join(f"{c} {n:,}" for c, n in stats["labels"].items())
        )
    else:
        console.print(f"{stats['patients']} patient(s), {stats['records']} record(s)")
    use = "" if stats["commercial_use"] else " — non-commercial: models trained on it inherit the licence"
    cite = f"; cite {stats['citation']}" if stats["citation"] else ""
    console.print(f"licence: {stats['licence']}{use}{cite}")


@data_app.command("shard")
def data_shard(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Records to prepare, as DATABASE:SET (icentia11k:all, mitdb:DS1, cinc2017:train, ...)"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the shards and their manifest")],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Configuration whose input spec makes the frames")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes preparing shards in parallel")] = 1,
    patients_per_shard: Annotated[int, typer.Option(min=1, help="Whole patients in each shard")] = 1,
    verify: Annotated[bool, typer.Option(help="Re-hash finished shards before skipping them")] = False,
    data_dir: DataDir = None,
) -> None:
    """Prepare frames into HDF5 shards, patient by patient, in parallel; run again to resume."""

    from ..data.shards import MANIFEST, prepare_shards

    cfg = _config_or_task(config, None)
    t0 = time.perf_counter()
    with counting_bar() as progress:
        bar = progress.add_task("shards", total=None)

        def on_progress(done: int, total: int, _name: str) -> None:
            progress.update(bar, completed=done, total=total)

        manifest = prepare_shards(
            sources,
            cfg.input,
            out,
            patients_per_shard=patients_per_shard,
            workers=workers,
            data_dir=data_dir,
            verify=verify,
            progress=on_progress,
        )
    seconds = time.perf_counter() - t0
    counts = ", ".join(f"{c} {n:,}" for c, n in manifest["counts"].items())
    console.print(
        f"{len(manifest['shards'])} shard(s), {manifest['beats']:,} {'windows' if manifest['unit'] == 'recording' else 'beats'} "
        f"({counts}) in {out / MANIFEST}; "
        f"{seconds:.1f} s this run"
    )
