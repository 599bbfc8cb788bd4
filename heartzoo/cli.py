"""The `heartzoo` command: parses arguments, calls the library, prints with rich.

Only typer and rich are imported at start-up; everything heavy is imported inside the commands, so
`heartzoo --help` answers at once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import HeartzooError

app = typer.Typer(
    name="heartzoo",
    help="ECG heartbeat classification models for microcontrollers, evaluated inter-patient.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: download, prepare frames, count beats.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder holding mitdb/ and nstdb_noise/ [default: $HEARTZOO_DATA_DIR]"),
]
CacheDir = Annotated[
    Path | None, typer.Option("--cache-dir", help="Folder for prepared frames [default: $HEARTZOO_CACHE_DIR]")
]
TASK_NAMES = ("beat-2", "beat-3", "aami-5")


def _check_task(value: str) -> str:
    if value not in TASK_NAMES:
        raise typer.BadParameter(f"{value!r} is not a task; use one of {', '.join(TASK_NAMES)}")
    return value


@data_app.command("download")
def data_download(
    dataset: Annotated[str, typer.Argument(help="mitdb (records) or nstdb (the bw, em, ma noise records)")],
    data_dir: DataDir = None,
    base_url: Annotated[str | None, typer.Option(help="Mirror to fetch from instead of PhysioNet")] = None,
    records: Annotated[str | None, typer.Option(help="Only these records, comma-separated")] = None,
) -> None:
    """Fetch a PhysioNet database, verify every file against its SHA256SUMS.txt, resume partial files."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from .data.download import download_dataset, remote_dataset

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
    from .config import HeartzooConfig, load_config

    if config is not None:
        cfg = load_config(config)
        return cfg if task is None else cfg.model_copy(update={"task": task})
    return HeartzooConfig(name=f"{task or 'beat-3'}-data", task=task or "beat-3")


@data_app.command("prepare")
def data_prepare(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Configuration file (YAML or JSON)")
    ] = None,
    task: Annotated[str | None, typer.Option(callback=lambda v: v and _check_task(v), help="Task")] = None,
    splits: Annotated[str, typer.Option(help="Comma-separated splits to prepare")] = "train,val,test",
    noise_stress: Annotated[
        bool, typer.Option(help="Also prepare DS2 + em noise at 24/18/12/6/0 dB")
    ] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Cut every beat into model frames and cache them (HDF5), as the configuration's input spec says."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .data.mitbih import default_records
    from .data.noise import STRESS_SNRS_DB
    from .data.prepare import StressNoise, load_split, split_records
    from .tasks import get_task

    cfg = _config_or_task(config, task)
    if data_dir is not None:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"dir": str(data_dir)})})
    task_obj = get_task(cfg.task)
    jobs: list[tuple[str, str, StressNoise | None]] = [(s, s, None) for s in splits.split(",") if s]
    if noise_stress:
        jobs += [(f"test+em@{snr:g}dB", "test", StressNoise("em", snr)) for snr in STRESS_SNRS_DB]
    if cfg.data.protocol == "inter-patient":
        per_split = {name: len(recs) for name, recs in split_records(cfg).items()}
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
                cfg, split, cache_dir=cache_dir, noise=noise, progress=lambda _msg, b=bar: progress.advance(b)
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
    task: Annotated[str, typer.Option(callback=_check_task, help="beat-2, beat-3 or aami-5")] = "aami-5",
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Take the validation draw from here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    data_dir: DataDir = None,
) -> None:
    """Beat counts of DS1, DS2 and the train/validation draw, per class of the task."""
    from .data.stats import split_counts

    cfg = _config_or_task(config, task) if config else None
    stats = split_counts(
        task,
        data_dir if data_dir is not None else (cfg.data.dir if cfg else None),
        cfg.data.validation if cfg else None,
    )
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return
    table = Table(title=f"MIT-BIH beats for {task} — {stats['protocol']}")
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
    console.print("validation records: " + " ".join(stats["splits"]["val"]["records"]))
    for note in stats["notes"]:
        console.print(f"[dim]{note}[/]")


@app.command("models")
def models_cmd(
    task: Annotated[str, typer.Option(callback=_check_task, help="Sets the number of outputs")] = "beat-3",
    frame_size: Annotated[int, typer.Option(min=16, max=8192, help="Input samples")] = 512,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Every registered architecture with its parameters and MACs (counted from the built layers)."""
    from .models import build_model, describe, get_architecture, list_architectures
    from .tasks import get_task

    rows = []
    for name in list_architectures():
        arch = get_architecture(name)
        info = describe(build_model(name, (1, frame_size, 1), get_task(task).num_classes))
        rows.append({"name": name, "family": arch.family, **info, "description": arch.description})
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"architectures for {task}, {frame_size}-sample frames")
    for col, justify in (("name", "left"), ("family", "left"), ("params", "right"), ("MACs", "right")):
        table.add_column(col, justify=justify)
    for r in rows:
        table.add_row(r["name"], r["family"], f"{r['params']:,}", f"{r['macs']:,}")
    console.print(table)


@app.command("train")
def train_cmd(
    config: Annotated[Path, typer.Argument(help="Configuration file (YAML or JSON)")],
    run_dir: Annotated[Path | None, typer.Option(help="Run folder [default: runs/<name>]")] = None,
    restart: Annotated[
        bool, typer.Option(help="Discard an existing run of this config and start again")
    ] = False,
    publish: Annotated[bool, typer.Option(help="Export and publish the result as a new zoo version")] = True,
    zoo: Annotated[
        Path | None, typer.Option("--zoo", help="Zoo folder [default: $HEARTZOO_ZOO_DIR or ./zoo]")
    ] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """The whole line for one config: train (or distil), the compression steps it lists, export, publish.

    Every stage resumes: an interrupted training picks up at its last finished epoch, and a finished
    stage is not run again."""
    from .config import load_config
    from .pipeline import run_pipeline
    from .progress import rich_training_callback

    cfg = load_config(config)
    if data_dir is not None:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"dir": str(data_dir)})})
    target = run_dir or Path("runs") / cfg.name
    try:
        out = run_pipeline(
            cfg,
            target,
            zoo=zoo,
            publish=publish,
            cache_dir=cache_dir,
            restart=restart,
            callbacks=[rich_training_callback(err_console)],
            progress=lambda msg: err_console.print(f"[bold]▶ {escape(msg)}[/]"),
        )
    except KeyboardInterrupt:
        from .train import finished_epochs

        err_console.print(f"interrupted after epoch {finished_epochs(target)}; re-run to resume")
        sys.exit(130)
    summary = json.loads((target / "train_summary.json").read_text())
    if summary.get("resumed_at_epoch"):
        console.print(f"resumed at epoch {summary['resumed_at_epoch'] + 1}")
    for st in out["stages"]:
        f1 = st.get("val_macro_f1")
        console.print(
            f"{st['stage']}: {st['dir']}" + (f" · validation macro-F1 {f1:.4f}" if f1 is not None else "")
        )
    if out.get("published"):
        m = json.loads((Path(out["published"]) / "metrics.json").read_text())
        console.print(
            f"[green]published {out['published']}[/]: {_tested_on(m)} macro-F1 float {m['float']['macro_f1']:.4f} · "
            f"int8 {m['int8']['macro_f1']:.4f} · {m['tflite_bytes']:,} B tflite · {m['tflm_arena_bytes']:,} B arena"
        )


def _tested_on(m: dict) -> str:
    """What a metrics.json was measured on: DS2, or a leaky split's test beats (never to pass for DS2)."""
    return "LEAKY beats" if m.get("leaky") else m["split"].upper()


def _report_table(title: str, report: dict) -> Table:
    table = Table(title=title)
    for col in ("class", "support", "Se", "+P", "Sp", "F1"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for name in report["classes"]:
        c = report["per_class"][name]
        table.add_row(
            name,
            f"{c['support']:,}",
            f"{c['sensitivity']:.3f}",
            f"{c['positive_predictivity']:.3f}",
            f"{c['specificity']:.3f}",
            f"{c['f1']:.3f}",
        )
    table.caption = (
        f"macro-F1 ({', '.join(report['macro_classes'])}) {report['macro_f1']:.4f} · accuracy "
        f"{report['accuracy']:.4f} · n {report['n']:,}"
        + (f" · rejected {report['rejected_fraction']:.1%}" if report.get("threshold") is not None else "")
    )
    return table


def _confusion_table(report: dict) -> Table:
    table = Table(title="confusion (rows: true, columns: predicted; counts and row %)")
    table.add_column("")
    for name in report["classes"]:
        table.add_column(name, justify="right")
    for name, counts, norm in zip(
        report["classes"], report["confusion"], report["confusion_normalized"], strict=True
    ):
        table.add_row(name, *(f"{c:,} ({p:.1%})" for c, p in zip(counts, norm, strict=True)))
    return table


@app.command("evaluate")
def evaluate_cmd(
    model: Annotated[Path, typer.Argument(help="Run or zoo folder (model.keras + its configuration)")],
    split: Annotated[str, typer.Option(help="ds2 (test records), val, train, ds1")] = "ds2",
    noise: Annotated[
        bool, typer.Option(help="Also evaluate under NSTDB em noise at 24/18/12/6/0 dB")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Reject beats whose top probability is below this (reported)"),
    ] = None,
    calibrate_minutes: Annotated[
        float | None,
        typer.Option(
            help="Calibrate to each test patient on the beats of its first MINUTES, without labels "
            "(batch-norm statistics); later beats are scored by the calibrated model. A protocol of "
            "its own, reported as such"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    output: Annotated[Path | None, typer.Option(help="Also write the JSON report here")] = None,
    cache_dir: CacheDir = None,
) -> None:
    """Per-class Se, +P, specificity, F1, macro-F1, accuracy and the confusion matrix."""
    from .evaluate import evaluate

    result = evaluate(
        model,
        split,
        noise_stress=noise,
        cache_dir=cache_dir,
        threshold=threshold,
        calibrate_minutes=calibrate_minutes,
    )
    text = json.dumps(result, indent=2)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n")
    if as_json:
        sys.stdout.write(text + "\n")
        return
    clean = result["clean"]
    note = " — LEAKY random-beat split, inflated" if clean.get("leaky") else ""
    if clean.get("calibration"):
        note += (
            f" — calibrated to each patient on its first {clean['calibration']['minutes']:g} min "
            "of unlabelled beats"
        )
    console.print(_report_table(f"{result['model']} on {result['split']}{note}", clean))
    console.print(_confusion_table(clean))
    for label, rep in result.get("noise", {}).items():
        console.print(
            f"{label}: macro-F1 {rep['macro_f1']:.4f}  accuracy {rep['accuracy']:.4f}  "
            + "  ".join(f"F1[{c}] {rep['per_class'][c]['f1']:.3f}" for c in rep["classes"])
        )


@app.command("cv")
def cv_cmd(
    config: Annotated[Path, typer.Argument(help="Configuration file (YAML or JSON)")],
    folds: Annotated[int, typer.Option(min=2, help="Folds of whole DS1 patients")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the patient deal")] = 0,
    run_dir: Annotated[Path | None, typer.Option(help="Folder [default: runs/cv/<name>]")] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Cross-validate a config on DS1 by patient folds: a selection signal from all 22 DS1 patients.

    Trains once per fold (resumable, like train) and reports the pooled out-of-fold macro-F1. DS2 is
    never loaded."""
    from .config import load_config
    from .crossval import cross_validate
    from .progress import rich_training_callback

    cfg = load_config(config)
    if data_dir is not None:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"dir": str(data_dir)})})
    target = run_dir or Path("runs") / "cv" / cfg.name
    rep = cross_validate(
        cfg,
        target,
        folds=folds,
        seed=seed,
        cache_dir=cache_dir,
        callbacks=[rich_training_callback(err_console)],
        progress=lambda msg: err_console.print(f"[bold]▶ {escape(msg)}[/]"),
    )
    table = Table(title=f"{cfg.name}: {folds}-fold patient cross-validation on DS1")
    for col in ("fold", "held-out records", "best epoch", "macro-F1"):
        table.add_column(col, justify="left" if col == "held-out records" else "right")
    for r in rep["per_fold"]:
        table.add_row(str(r["fold"]), " ".join(r["records"]), str(r["best_epoch"]), f"{r['macro_f1']:.4f}")
    console.print(table)
    console.print(_report_table("pooled out-of-fold (all DS1 patients)", rep["pooled"]))
    console.print(
        f"out-of-fold macro-F1 {rep['pooled']['macro_f1']:.4f} · per fold "
        f"{rep['fold_macro_f1_mean']:.4f} ± {rep['fold_macro_f1_std']:.4f} · {target / 'cv.json'}"
    )


zoo_app = typer.Typer(help="The versioned model zoo: list, show, verify.", no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")
ZooDir = Annotated[
    Path | None, typer.Option("--zoo", help="Zoo folder [default: $HEARTZOO_ZOO_DIR or ./zoo]")
]


@app.command("export")
def export_cmd(
    run: Annotated[Path, typer.Argument(help="Trained run folder (model.keras + config.json)")],
    zoo: ZooDir = None,
    version: Annotated[
        str | None, typer.Option(help="Version to publish [default: the next free vN]")
    ] = None,
    c_array: Annotated[
        Path | None, typer.Option("--c-array", help="Also write the C header/source pair into this folder")
    ] = None,
    cache_dir: CacheDir = None,
) -> None:
    """Export a run as a new zoo version: int8 TFLite verified in LiteRT and TFLM, metrics (and the C
    array with --c-array)."""
    from .evaluate import run_config
    from .meta import check_version
    from .zoo import publish

    if version is not None:
        check_version(version)
    run_config(run)  # a missing model or a bad config is named before TensorFlow loads

    with err_console.status("exporting") as status:
        target = publish(run, zoo, version=version, cache_dir=cache_dir, progress=status.update)
    if c_array is not None:
        from .export import write_c_array

        for path in write_c_array(target, c_array):
            console.print(f"C array: {path}")
    from .data.cache import read_json

    m = read_json(target / "metrics.json")
    console.print(
        f"[green]{target}[/]: {_tested_on(m)} macro-F1 float {m['float']['macro_f1']:.4f} · int8 {m['int8']['macro_f1']:.4f} · "
        f"{m['params']:,} params · {m['macs']:,} MACs · {m['tflite_bytes']:,} B tflite · "
        f"{m['tflm_arena_bytes']:,} B arena · {m['host_latency_ms']:.2f} ms/inference (host TFLM)"
    )


@app.command("download")
def download_cmd(
    name: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    base_url: Annotated[str | None, typer.Option(help="Zoo URL [default: $HEARTZOO_ZOO_URL]")] = None,
    cache_dir: CacheDir = None,
    sha256: Annotated[
        str | None, typer.Option(help="Pin: the version's digest, as `heartzoo zoo show` prints it")
    ] = None,
) -> None:
    """Fetch a published model into the local cache, every file checked against the index's sha256."""
    from .hub import download

    with err_console.status(f"downloading {name}"):
        folder = download(name, base_url=base_url, cache_dir=cache_dir, sha256=sha256)
    console.print(f"[green]{name}[/]: {folder}")


@zoo_app.command("list")
def zoo_list(
    zoo: ZooDir = None,
    remote: Annotated[bool, typer.Option(help="Read the published index instead of a local zoo")] = False,
    base_url: Annotated[
        str | None, typer.Option(help="Zoo URL for --remote [default: $HEARTZOO_ZOO_URL]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every published model version with its headline numbers."""
    from .zoo import load_index, zoo_dir

    index = load_index(zoo, remote=remote, base_url=base_url)
    if not index["models"]:
        raise HeartzooError(
            f"{base_url or 'the remote zoo' if remote else zoo_dir(zoo)}: the index lists no model"
        )
    if as_json:
        sys.stdout.write(json.dumps(index, indent=2) + "\n")
        return
    table = Table(title=f"zoo: {base_url or 'remote' if remote else zoo_dir(zoo)}")
    for col in (
        "task",
        "name",
        "version",
        "test",
        "float F1",
        "int8 F1",
        "params",
        "MACs",
        "tflite B",
        "arena B",
    ):
        table.add_column(col, justify="left" if col in ("task", "name", "version", "test") else "right")
    for m in index["models"]:
        s = m.get("summary", {})
        table.add_row(
            m["task"],
            m["name"],
            m["version"],
            # the leaky protocol's held-out beats are called "test"; say what they are
            "LEAKY beats" if s.get("split") == "test" else str(s.get("split")),
            f"{s.get('float_macro_f1', 0):.4f}",
            f"{s.get('int8_macro_f1', 0):.4f}",
            f"{s.get('params') or 0:,}",
            f"{s.get('macs') or 0:,}",
            f"{s.get('tflite_bytes') or 0:,}",
            f"{s.get('tflm_arena_bytes') or 0:,}",
        )
    console.print(table)


@zoo_app.command("show")
def zoo_show(
    name: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    zoo: ZooDir = None,
) -> None:
    """One model version: files with sha256, and its DS2 metrics float vs int8."""
    from .data.cache import read_json
    from .meta import version_digest
    from .zoo import find, read_index, version_dir, zoo_dir

    root = zoo_dir(zoo)
    entry = find(read_index(root), name)
    metrics = version_dir(root, entry) / "metrics.json"
    try:
        shown = _show_metrics(entry, root, read_json(metrics))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise HeartzooError(
            f"{metrics}: not a heartzoo metrics file (field {exc} missing or malformed)"
        ) from None
    for item in shown:
        console.print(item)
    console.print(f"digest (pin with download --sha256): {version_digest(entry['files'])}")
    files = Table(title="files")
    for col in ("file", "bytes", "sha256"):
        files.add_column(col)
    for f in entry["files"]:
        files.add_row(f["path"], f"{f['bytes']:,}", f["sha256"])
    console.print(files)


def _show_metrics(entry: dict, root: Path, m: dict) -> list:
    """What `zoo show` prints of a metrics.json, built before anything is printed."""
    out: list = [f"[bold]{entry['name']}@{entry['version']}[/] ({entry['task']}) — {root / entry['path']}"]
    out.append(_report_table(f"float on {m['split']}", m["float"]))
    runtime = "LiteRT optimized" if m["verification"].get("int8_metrics_runtime") else "TFLM"
    out.append(_report_table(f"int8 ({runtime}) on {m['split']}", m["int8"]))
    out.append(
        f"{m['params']:,} params · {m['macs']:,} MACs · {m['tflite_bytes']:,} B tflite · "
        f"{m['tflm_arena_bytes']:,} B TFLM arena · {m['host_latency_ms']:.2f} ms a frame (host TFLM)"
    )
    if e := m.get("ensemble"):
        out.append(
            f"seed ensemble of {e['members']} (seeds {', '.join(map(str, e['seeds']))}): each member alone, "
            f"float on {m['split']}: {' / '.join(f'{f:.4f}' for f in e['member_float_macro_f1'])} "
            f"(mean {e['member_mean']:.4f} ± {e['member_std']:.4f})"
        )
    return out


@zoo_app.command("c-array")
def zoo_c_array(
    name: Annotated[str, typer.Argument(help="NAME or NAME@VERSION (local zoo, else downloaded)")],
    out: Annotated[Path, typer.Option("--out", help="Folder for <name>_model.h and .cc")] = Path("."),
    zoo: ZooDir = None,
    base_url: Annotated[str | None, typer.Option(help="Zoo URL [default: $HEARTZOO_ZOO_URL]")] = None,
    cache_dir: CacheDir = None,
) -> None:
    """The model as a C array for TensorFlow Lite Micro, with its op list and arena size, generated from
    the verified model.tflite and its metadata."""
    from .export import write_c_array
    from .hub import verified_folder

    folder = verified_folder(name, zoo=zoo, base_url=base_url, cache_dir=cache_dir)
    for path in write_c_array(folder, out):
        console.print(f"[green]{path}[/]")


@zoo_app.command("verify")
def zoo_verify(
    zoo: ZooDir = None,
    agreement: Annotated[bool, typer.Option(help="Also re-run LiteRT vs TFLM on DS2 frames")] = True,
    cache_dir: CacheDir = None,
) -> None:
    """Re-hash every file against the index and re-run the TFLite/TFLM agreement; exit 1 on any problem."""
    from .zoo import read_index, verify, zoo_dir

    problems = verify(zoo, cache_dir=cache_dir, agreement=agreement)
    if problems:
        for p in problems:
            err_console.print(f"[red]✗[/] {escape(p)}", soft_wrap=True)
        raise typer.Exit(1)
    n = len(read_index(zoo_dir(zoo))["models"])
    console.print(f"[green]✓[/] {n} model version(s) verified in {zoo_dir(zoo)}")


docs_app = typer.Typer(help="The documentation site with model cards.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("build")
def docs_build(
    zoo: ZooDir = None,
    site_dir: Annotated[Path, typer.Option(help="Where the site goes")] = Path("site"),
) -> None:
    """Model cards and leaderboard from the zoo, CLI and API reference, then `mkdocs build --strict`."""
    from .cards import build_site

    with err_console.status("building the site"):
        site = build_site(zoo, site_dir)
    console.print(f"[green]site[/]: {site}/index.html")


def main() -> None:
    """Run the app; a user's mistake ends in one `error:` line and exit code 2, never a traceback."""
    from typer._click import exceptions as click_exc  # typer vendors click: its usage errors live here

    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) says nothing a user can act on
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        code = app(standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(2)
    except click_exc.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        _error(f"{where}{exc.format_message()} (see --help)")
    except click_exc.ClickException as exc:
        _error(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    except HeartzooError as exc:
        _error(str(exc))
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    # soft_wrap: a message is one line, so a long path never breaks across lines
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(2)
