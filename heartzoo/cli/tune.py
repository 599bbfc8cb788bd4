"""`heartzoo tune`: a search over a config's settings on the validation patients, with a live table."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..environment import Environment
from .common import CacheDir, DataDir, ZooDir, app, console, err_console


def _table(study, names: list[str], running: str = "") -> Table:
    from ..training.tune_report import trial_rows

    table = Table(
        title=f"{study.study_name}: {len(study.trials)} trials" + (f" · {running}" if running else "")
    )
    for col in ("trial", "state", "val macro-F1", *names, ".tflite B", "note"):
        table.add_column(col, justify="left" if col in ("state", "note") else "right")
    best = None
    with contextlib.suppress(ValueError):
        best = study.best_trial.number
    for r in trial_rows(study)[-25:]:  # the last ones: a long search scrolls
        value = "" if r["value"] is None else f"{r['value']:.4f}" + (" ★" if r["number"] == best else "")
        table.add_row(
            str(r["number"]),
            r["state"].lower(),
            value,
            *(str(r["params"].get(n, "")) for n in names),
            "" if r["tflite_bytes"] is None else f"{r['tflite_bytes']:,}",
            r["note"],
        )
    return table


@app.command("tune")
def tune_cmd(
    config: Annotated[Path, typer.Argument(help="Base configuration (YAML or JSON)")],
    space: Annotated[Path, typer.Option(help="Search space (YAML): params, constraints, pruning, seed")],
    trials: Annotated[int, typer.Option(min=1, help="Finished trials the study should hold")] = 20,
    run_dir: Annotated[
        Path | None, typer.Option(help="Folder of the search", show_default="runs/tune/NAME")
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="RDB URL of a study shared by several processes or machines (default: RUN_DIR/study.db)"
        ),
    ] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    zoo: ZooDir = None,
) -> None:
    """Search a config's settings with Optuna (TPE, median pruning) on the validation patients.

    Every trial trains the config's whole line with the trial's values (never published); a trial over the
    space's size constraints is pruned before it trains. Interrupted, the same command resumes: finished
    trials are kept, a killed one is retried. Writes RUN_DIR/best.yaml (ready for `heartzoo train`) and
    RUN_DIR/report.md with the trial table, parameter importances and trajectory.png."""
    from rich.live import Live

    from ..config import load_config
    from ..training.search_space import load_space
    from ..training.tune import tune
    from ..training.tune_report import BEST_FILE, REPORT_FILE, write_report

    try:
        import optuna
    except ImportError:
        raise typer.BadParameter("Optuna is not installed: pip install 'heartzoo[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cfg = load_config(config)
    sp = load_space(space, cfg)
    target = run_dir or Path("runs") / "tune" / cfg.name
    names = list(sp.params)
    c = sp.constraints  # said before the first trial: a trial over them is refused, not trained
    limits = [f"{k} <= {v:,}" for k, v in (("int8 .tflite bytes", c.tflite_bytes), ("MACs", c.macs)) if v]
    err_console.print(
        f"size limits: {', '.join(limits) or 'none'} (the space's constraints)", highlight=False
    )
    from ..training.callbacks import ctrl_c_between_batches  # Keras: once the arguments are checked

    t0 = time.process_time()
    with Live(console=err_console, refresh_per_second=2, transient=False) as live:

        def show(study, _trial=None, running: str = "") -> None:
            live.update(_table(study, names, running))

        try:
            study = tune(
                cfg,
                sp,
                target,
                trials=trials,
                storage=storage,
                zoo=zoo,
                callbacks=[ctrl_c_between_batches()],
                env=Environment(
                    data_dir=data_dir,
                    cache_dir=cache_dir,
                    progress=lambda msg: live.console.print(f"[bold]▶ {msg}[/]"),
                ),
                on_trial=show,
            )
        except KeyboardInterrupt:
            live.stop()
            err_console.print(
                f"interrupted; re-run to resume ({target}): the interrupted trial runs again with its values",
                markup=False,
                highlight=False,
            )
            sys.exit(130)
        show(study)
    # this process's CPU time (all its threads); other workers of a shared study count their own
    report = write_report(study, cfg, sp, target, hours=(time.process_time() - t0) / 3600)
    console.print(f"report: {report}")
    if (target / BEST_FILE).is_file():
        console.print(f"best config: {target / BEST_FILE}  (heartzoo train {target / BEST_FILE})")
        return
    console.print(f"no trial completed; see {target / REPORT_FILE}")
    if any(t.state.name == "FAIL" for t in study.trials):  # none completed and some failed: an error
        sys.exit(1)
