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
    data_app,
    err_console,
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
    else for DEFAULT_TASK."""
    from ..config import HeartzooConfig, load_config

    if config is not None:
        cfg = load_config(config)
        return cfg if task is None else cfg.model_copy(update={"task": task})
    return HeartzooConfig(name=f"{task or DEFAULT_TASK}-data", task=task or DEFAULT_TASK)


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..data.mitbih import default_records
    from ..data.noise import STRESS_SNRS_DB
    from ..data.prepare import StressNoise, load_split, split_records
    from ..tasks import get_task

    cfg = _config_or_task(config, task)
    task_obj = get_task(cfg.task)
    jobs: list[tuple[str, str, StressNoise | None]] = [(s, s, None) for s in splits.split(",") if s]
    if noise_stress:
        jobs += [(f"test+em@{snr:g}dB", "test", StressNoise("em", snr)) for snr in STRESS_SNRS_DB]
    if cfg.data.protocol == "inter-patient":
        per_split = {name: len(recs) for name, recs in split_records(cfg, data_dir).items()}
    else:  # the leaky protocol reads every record, then draws beats
        per_split = dict.fromkeys(("train", "val", "test"), len(default_records(cfg.data.exclude_paced)))
    table = Table(title=f"{cfg.name}: frames for {cfg.task} ({cfg.data.protocol})")
    table.add_column("split")
    for name in task_obj.class_names:
        table.add_column(name, justify="right")
    table.add_column("frames", justify="right")
    table.add_column("seconds", justify="right")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
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
            table.add_row(label, *map(str, counts), f"{kept.x.shape[0]}×{kept.x.shape[1]}", f"{seconds:.1f}")
    console.print(table)
    console.print(f"cache: {ws.meta.get('cache')}")
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
) -> None:
    """Beat counts of DS1, DS2 and the train/validation draw, per class of the task."""
    from ..data.stats import split_counts

    cfg = _config_or_task(config, task)
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
    console.print(table)
    console.print(stats["protocol"])
    console.print("validation records: " + " ".join(stats["splits"]["val"]["records"]))
    for note in stats["notes"]:
        console.print(f"[dim]{note}[/]")
