"""What every `heartzoo` command shares: the typer apps, the consoles, the common options, and the
tables a report prints as."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="heartzoo",
    help="ECG heartbeat classification models for microcontrollers, evaluated inter-patient.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

data_app = typer.Typer(help="Datasets: download, prepare frames, count beats.", no_args_is_help=True)

app.add_typer(data_app, name="data")

zoo_app = typer.Typer(help="The versioned model zoo: list, show, verify.", no_args_is_help=True)

app.add_typer(zoo_app, name="zoo")

docs_app = typer.Typer(help="The documentation site with model cards.", no_args_is_help=True)

app.add_typer(docs_app, name="docs")

console = Console()

err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder holding mitdb/ and nstdb_noise/ [default: $HEARTZOO_DATA_DIR]"),
]

CacheDir = Annotated[
    Path | None, typer.Option("--cache-dir", help="Folder for prepared frames [default: $HEARTZOO_CACHE_DIR]")
]

ZooDir = Annotated[
    Path | None, typer.Option("--zoo", help="Zoo folder [default: $HEARTZOO_ZOO_DIR or ./zoo]")
]


def _check_task(value: str) -> str:
    from ..tasks import TASK_NAMES

    if value not in TASK_NAMES:
        raise typer.BadParameter(f"{value!r} is not a task; use one of {', '.join(TASK_NAMES)}")
    return value


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
