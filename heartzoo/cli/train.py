"""`heartzoo models`, `train` and `cv`: what can be trained, the whole line for one config, and
patient cross-validation."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..environment import Environment
from ..tasks import DEFAULT_TASK, TASK_NAMES, get_task
from .common import (
    CacheDir,
    DataDir,
    ZooDir,
    app,
    check_task,
    console,
    err_console,
    print_stage,
    print_whole,
    report_table,
    tested_on,
)


class Strategy(StrEnum):
    none = "none"
    mirrored = "mirrored"
    multi_worker = "multi-worker"


@app.command("models")
def models_cmd(
    task: Annotated[
        str, typer.Option(callback=check_task, help="Sets the number of outputs: " + ", ".join(TASK_NAMES))
    ] = DEFAULT_TASK,
    frame_size: Annotated[int, typer.Option(min=16, max=8192, help="Input samples")] = 512,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Every registered architecture with its parameters and MACs (counted from the built layers), at its
    default params and without RR inputs: a published version's own are in `heartzoo zoo show`."""
    from ..models import build_model, describe, get_architecture, list_architectures

    rows = []
    for name in list_architectures():
        arch = get_architecture(name)
        info = describe(build_model(name, (1, frame_size, 1), get_task(task).num_classes))
        rows.append({"name": name, "family": arch.family, **info, "description": arch.description})
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(
        title=f"architectures for {task}, {frame_size}-sample frames",
        # a published version sets its own params (a recurrent model's downsample 16 takes 3.8 times fewer
        # MACs than the default's) and adds its RR inputs: these are no version's numbers
        caption="each at its default params, without RR inputs; a published version's own: "
        "`heartzoo zoo show NAME@vN`",
    )
    for col, justify in (("name", "left"), ("family", "left"), ("params", "right"), ("MACs", "right")):
        table.add_column(col, justify=justify)
    for r in rows:
        table.add_row(r["name"], r["family"], f"{r['params']:,}", f"{r['macs']:,}")
    print_whole(table)


@app.command("train")
def train_cmd(
    config: Annotated[Path, typer.Argument(help="Configuration file (YAML or JSON)")],
    run_dir: Annotated[
        Path | None, typer.Option(help="Run folder", show_default="runs/NAME, NAME from the config")
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Discard an existing run of this config and start again")
    ] = False,
    publish: Annotated[bool, typer.Option(help="Export and publish the result as a new zoo version")] = True,
    zoo: ZooDir = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Train on N worker processes on this machine (multi-worker, on 127.0.0.1)"),
    ] = 1,
    strategy: Annotated[
        Strategy,
        typer.Option(
            help="tf.distribute: mirrored = every GPU here; multi-worker = this process is one worker of "
            "the cluster in TF_CONFIG (run the same command on each)",
        ),
    ] = Strategy.none,
) -> None:
    """The whole line for one config: train (or distil), the compression steps it lists, export, publish.

    Every stage resumes: an interrupted training picks up at its last finished epoch, and a finished
    stage is not run again. With --workers or --strategy, the stages that train with Keras run on every
    replica, each on its slice of the same global batch (docs: Scale)."""
    from ..config import load_config
    from ..meta import read_metrics
    from ..progress import rich_training_callback
    from ..training.runs import run_pipeline

    cfg = load_config(config, model=True)
    target = run_dir or Path("runs") / cfg.name
    if workers > 1 or strategy == "multi-worker":
        from ..training.distribute import check_distributable

        check_distributable(cfg)  # before a worker starts, or the strategy waits for the others
    if workers > 1:
        sys.exit(
            _launch_workers(
                cfg, config, target, workers, strategy, restart, publish, zoo, data_dir, cache_dir
            )
        )
    if strategy == "multi-worker" and restart:
        raise typer.BadParameter("delete the run folder before starting the workers", param_hint="--restart")
    from ..training.distribute import make_strategy, worker_of

    if strategy == "none" and os.environ.get("TF_CONFIG"):
        # a cluster launcher (Kubeflow...) sets it for every worker: each would train alone into one folder
        err_console.print(
            "warning: TF_CONFIG is set, but --strategy is none: this process trains alone; give --strategy "
            "multi-worker to train as one worker of that cluster",
            style="yellow",
        )
    # first: a multi-worker strategy must exist before TensorFlow runs anything
    dist = make_strategy(strategy.value)
    chief = worker_of(dist).is_chief
    if strategy == "mirrored" and dist.num_replicas_in_sync == 1:
        err_console.print(
            "warning: --strategy mirrored found one device here (no GPU): one replica", style="yellow"
        )
    from ..training.callbacks import ctrl_c_between_batches  # Keras: once the arguments are checked

    try:
        out = run_pipeline(
            cfg,
            target,
            zoo=zoo,
            publish=publish,
            env=Environment(
                data_dir=data_dir, cache_dir=cache_dir, progress=print_stage if chief else None, strategy=dist
            ),
            restart=restart,
            callbacks=[rich_training_callback(err_console), ctrl_c_between_batches()] if chief else [],
        )
    except KeyboardInterrupt:
        from ..training.checkpoints import interrupted_stage, interrupted_unsaved
        from ..training.runs import LABELS, plan

        if unsaved := interrupted_unsaved(target, [s.name for s in plan(cfg)]):
            err_console.print(
                f"interrupted during {LABELS[unsaved]}, which saves no epoch: a re-run starts it over "
                "(the stages before it are kept)",
                markup=False,
            )
            sys.exit(130)
        folder, epochs = interrupted_stage(target)
        stage = "" if folder == target else f" of {folder.relative_to(target)}"
        err_console.print(f"interrupted after epoch {epochs}{stage}; re-run to resume", markup=False)
        sys.exit(130)
    if not chief:
        return
    summary = json.loads((target / "train_summary.json").read_text())
    if summary.get("resumed_at_epoch"):
        console.print(f"resumed at epoch {summary['resumed_at_epoch'] + 1}")
    for st in out["stages"]:
        f1 = st.get("val_macro_f1")
        chosen = (
            (" · the stage published" if publish else " · the stage export.stage selects")
            if len(out["stages"]) > 1 and st["dir"] == out.get("final")
            else ""
        )
        console.print(
            f"{st['stage']}: {st['dir']}"
            + (f" · validation macro-F1 {f1:.4f}" if f1 is not None else "")
            + chosen
        )
    if out.get("published"):
        m = read_metrics(Path(out["published"])).model_dump(mode="json")
        console.print(
            f"[green]published {out['published']}[/]: {tested_on(m)} macro-F1 float {m['float']['macro_f1']:.4f} · "
            f"int8 {m['int8']['macro_f1']:.4f} · {m['tflite_bytes']:,} B tflite · {m['tflm_arena_bytes']:,} B arena"
        )


def _launch_workers(
    cfg, config, target, workers, strategy, restart, publish, zoo, data_dir, cache_dir
) -> int:
    """`train --workers N`: this command again in N processes on 127.0.0.1, each given its TF_CONFIG."""
    from ..io import check_outside_zoo
    from ..training.distribute import launch_local
    from ..training.train import remove_run_folder

    if strategy not in ("none", "multi-worker"):
        raise typer.BadParameter("--workers runs a multi-worker strategy", param_hint="--strategy")
    check_outside_zoo(target, what="a run", option="--run-dir")  # before its workers' logs are
    if restart:
        remove_run_folder(target)
    argv = [
        "train",
        str(config),
        "--run-dir",
        str(target),
        "--strategy",
        "multi-worker",
        "--publish" if publish else "--no-publish",
    ]
    for flag, value in (("--zoo", zoo), ("--data-dir", data_dir), ("--cache-dir", cache_dir)):
        if value is not None:
            argv += [flag, str(value)]
    err_console.print(
        f"[bold]▶ {cfg.name}: {workers} workers on 127.0.0.1 (logs of workers 1+ in {target / '.workers'})[/]"
    )
    try:
        return launch_local(argv, workers, log_dir=target / ".workers")
    except KeyboardInterrupt:  # the workers were stopped on the way out; their backup is the chief's
        err_console.print("interrupted; re-run the same command to resume every worker")
        return 130


@app.command("cv")
def cv_cmd(
    config: Annotated[Path, typer.Argument(help="Configuration file (YAML or JSON)")],
    folds: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="Folds of whole training patients (every database the config trains on)",
            show_default="5",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the patient deal", show_default="0")] = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="Folder", show_default="runs/cv/NAME, NAME from the config")
    ] = None,
    first_member: Annotated[
        bool,
        typer.Option(help="A seed ensemble's recipe: cross-validate its first member (seed train.seed)"),
    ] = False,
    members: Annotated[
        Path | None,
        typer.Option(
            help="A finished run of a fold ensemble (ensemble.by: fold): its members are the cross-validation, "
            "read without training (--folds and --seed are the config's)"
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Train every fold from scratch (its folder emptied first)")
    ] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Cross-validate a config by patient folds of its training pool: a selection signal from all of them.

    Trains once per fold (resumable, like train) and reports the pooled out-of-fold macro-F1. DS2 is
    never loaded."""
    from ..config import load_config
    from ..progress import rich_training_callback
    from ..training.crossval import cross_validate

    cfg = load_config(config, model=True)
    if first_member and cfg.ensemble is not None:
        from ..models.ensemble import member_config

        name = member_config(cfg, cfg.train.seed).name  # the recipe cross-validated: runs/cv/<its name>
    else:
        name = cfg.name
    env = Environment(data_dir=data_dir, cache_dir=cache_dir, progress=print_stage)
    given = folds is not None or seed is not None  # even at their defaults: they do not apply to --members
    if members is not None and (given or run_dir is not None or first_member or restart):
        raise typer.BadParameter(
            "a fold ensemble's run has its folds, seeds and folder, and is read, not trained: --folds, --seed, "
            "--run-dir, --first-member and --restart do not apply",
            param_hint="--members",
        )
    if members is not None:
        from ..training.crossval import members_cross_validation

        target = members
        rep = members_cross_validation(cfg, members, env=env)
    else:
        target = run_dir or Path("runs") / "cv" / name
        try:
            rep = cross_validate(
                cfg,
                target,
                folds=5 if folds is None else folds,
                seed=0 if seed is None else seed,
                first_member=first_member,
                restart=restart,
                env=env,
                callbacks=[rich_training_callback(err_console)],
            )
        except KeyboardInterrupt:  # each fold is a run that resumes; the finished ones are kept
            err_console.print(f"interrupted; re-run to resume ({target})", markup=False, highlight=False)
            sys.exit(130)
    unit = "recording" if get_task(cfg.task).per_recording else "patient"
    table = Table(
        title=f"{rep['name']}: {rep['folds']}-fold {unit} cross-validation on {' + '.join(cfg.data.train)}"
    )
    for col in ("fold", "held-out records", "best epoch", "macro-F1"):
        table.add_column(col, justify="left" if col == "held-out records" else "right")
    for r in rep["per_fold"]:
        held = " ".join(r["records"]) if len(r["records"]) <= 30 else f"{len(r['records']):,} records"
        # epochs counted from 1, as the training log counts them (cv.json keeps Keras's count from 0)
        best = "–" if r.get("best_epoch") is None else str(r["best_epoch"] + 1)
        table.add_row(str(r["fold"]), held, best, f"{r['macro_f1']:.4f}")
    print_whole(table)
    print_whole(report_table(f"pooled out-of-fold (every training {unit})", rep["pooled"]))
    console.print(
        f"out-of-fold macro-F1 {rep['pooled']['macro_f1']:.4f} · per fold "
        f"{rep['fold_macro_f1_mean']:.4f} ± {rep['fold_macro_f1_std']:.4f} · {target / 'cv.json'}"
    )
    console.print(  # what the numbers are worth: each fold chose its epoch on the patients it scores
        f"each fold's best epoch was chosen on its held-out {unit}s: these numbers flatter a little (a ranking "
        "signal, not a test)",
        highlight=False,
    )
