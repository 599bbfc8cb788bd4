"""What every `heartzoo` command shares: the typer apps, the consoles, the common options, and the
tables a report prints as."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..tasks import DEFAULT_TASK, TASK_NAMES

app = typer.Typer(
    name="heartzoo",
    help="ECG heartbeat classification models for microcontrollers, evaluated inter-patient.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

data_app = typer.Typer(help="Datasets: download, prepare frames, count beats.", no_args_is_help=True)

app.add_typer(data_app, name="data")

zoo_app = typer.Typer(
    help="The versioned model zoo: list, show, verify, c-array, retrain, remade, mirror.",
    no_args_is_help=True,
)

app.add_typer(zoo_app, name="zoo")

docs_app = typer.Typer(help="The documentation site with model cards.", no_args_is_help=True)

app.add_typer(docs_app, name="docs")

console = Console()

err_console = Console(stderr=True)


def print_whole(table: Table) -> None:
    """`table` on stdout at its full width, however narrow the terminal (80 columns when piped to a log):
    rich would otherwise cut its numbers to "100.…" to fit. A terminal too narrow wraps the lines."""
    from rich.measure import Measurement

    width = console.width
    console.width = max(width, Measurement.get(console, console.options.update_width(10_000), table).maximum)
    try:
        console.print(table)
    finally:
        console.width = width


def kit_folder(value: str) -> Path:
    """A folder for a kit or C files, as typed: an empty name (an unset shell variable, `--out "$KIT"`)
    would write a dozen files into the current folder, so it is refused; `.` says so on purpose."""
    if not value.strip():
        raise typer.BadParameter("an empty folder name: give the folder to write into (`.` for this one)")
    return Path(value)


def print_stage(msg: str) -> None:
    """A pipeline stage starting (the `progress` callback of training, cross-validation, retraining)."""
    err_console.print(f"[bold]▶ {escape(msg)}[/]")


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding the databases (mitdb/, svdb/, cinc2017/, aftdb/, nstdb_noise/, ..., and yours)",
        show_default="$HEARTZOO_DATA_DIR, else the per-user data folder",
    ),
]

CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache root: prepared frames, and downloaded models in its models/ folder",
        show_default="$HEARTZOO_CACHE_DIR, else the per-user cache",
    ),
]

ZooDir = Annotated[
    Path | None,
    typer.Option(
        "--zoo",
        help="Zoo folder; a model it lacks is not looked for elsewhere (but at a --base-url given with it)",
        show_default="$HEARTZOO_ZOO_DIR, else ./zoo",
    ),
]
CheckoutDir = Annotated[
    Path | None,
    typer.Option(
        "--checkout",
        help="A clone of the heartzoo project (its docs/, configs/, results/)",
        show_default="the one holding the working folder",
    ),
]

#: `export --firmware DIR` and `zoo c-array --firmware` share it
FixedPoint = Annotated[
    bool, typer.Option(help="With --firmware: integer-only preprocessing, for a core without an FPU")
]
RecordingHz = Annotated[
    int | None,
    typer.Option(
        "--recording-hz",
        min=1,
        help="With --firmware: the rate of the device's ADC stream the kit resamples from (300 for "
        "AliveCor, 250 for a chest patch)",
        show_default="360, MIT-BIH's",
    ),
]
AdcGain = Annotated[
    float | None,
    typer.Option(
        "--adc-gain",
        min=1e-6,
        help="With --firmware --fixed-point: the ADC's counts per mV (1000 for CinC 2017's AliveCor files)",
        show_default="200, MIT-BIH's",
    ),
]
AdcBits = Annotated[
    int | None,
    typer.Option(
        "--adc-bits",
        min=2,
        max=16,
        help="With --firmware --fixed-point: the signed bits the ADC's samples (less the baseline) fit in",
        show_default="12, MIT-BIH's",
    ),
]
KitPrefix = Annotated[
    str | None,
    typer.Option(
        "--prefix",
        help="With --firmware: name the kit's C symbols and files with this prefix (beat_pre_init, "
        "BEAT_FRAME_SIZE, beat_preprocess.c, beat.mk) instead of hz_/HZ_/heartzoo_, so that two kits, a "
        "beat model and the quality gate say, link into one firmware",
        show_default="hz",
    ),
]


def kit_options(
    firmware: bool, fixed_point: bool, recording_hz, adc_gain, adc_bits, prefix: str | None = None
) -> dict:
    """The firmware kit's keyword arguments from the command line (the library's defaults where none is
    given); an error naming what is missing when they come without --firmware, or the ADC's without
    --fixed-point, and a prefix that cannot name C symbols."""
    from ..errors import HeartzooError
    from ..export.kit_names import check_prefix

    if (fixed_point or recording_hz or prefix is not None) and not firmware:
        raise HeartzooError(
            "--fixed-point, --recording-hz and --prefix are options of the firmware kit: add --firmware"
        )
    if prefix is not None:
        check_prefix(prefix)
    if (adc_gain or adc_bits) and not fixed_point:
        raise HeartzooError(
            "--adc-gain and --adc-bits are options of the fixed-point kit: add --firmware --fixed-point"
        )
    given = {"recording_hz": recording_hz, "adc_gain": adc_gain, "adc_bits": adc_bits, "prefix": prefix}
    return {"fixed_point": fixed_point, **{k: v for k, v in given.items() if v is not None}}


ZooUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="Zoo URL to download from",
        show_default="$HEARTZOO_ZOO_URL, else $HEARTZOO_ZOO_DIR's zoo, a checkout's zoo/, the published zoo",
    ),
]


def check_task(value: str | None) -> str | None:
    if value is not None and value not in TASK_NAMES:
        raise typer.BadParameter(f"{value!r} is not a task; use one of {', '.join(TASK_NAMES)}")
    return value


#: --task where a configuration may name the task instead: the configuration's, else DEFAULT_TASK.
TaskOrConfig = Annotated[
    str | None,
    typer.Option(
        callback=check_task,
        help=f"{', '.join(TASK_NAMES)}",
        show_default=f"the configuration's task, else {DEFAULT_TASK}",
    ),
]


def tested_on(m: dict) -> str:
    """What a metrics.json was measured on: DS2, or a leaky split's test beats (never to pass for DS2)."""
    return "LEAKY beats" if m.get("leaky") else m["split"].upper()


def report_table(title: str, report: dict) -> Table:
    """Per-class scores; with a rejection threshold, also how many beats of each class were rejected
    (left out of the scores: `support` counts the accepted ones)."""
    rejecting = report.get("threshold") is not None
    table = Table(title=title)
    cols = ("class", "support", *(("rejected",) if rejecting else ()), "Se", "+P", "Sp", "F1")
    for col in cols:
        table.add_column(col, justify="left" if col == "class" else "right")
    for name in report["classes"]:
        c = report["per_class"][name]
        table.add_row(
            name,
            f"{c['support']:,}",
            *((f"{report['rejected_per_class'][name]:,}",) if rejecting else ()),
            f"{c['sensitivity']:.3f}",
            f"{c['positive_predictivity']:.3f}",
            f"{c['specificity']:.3f}",
            f"{c['f1']:.3f}",
        )
    table.caption = (
        f"macro-F1 ({', '.join(report['macro_classes'])}) {report['macro_f1']:.4f} · accuracy "
        f"{report['accuracy']:.4f} · n {report['n']:,}"
        + (
            f" · rejected {report['rejected']:,} ({report['rejected_fraction']:.1%}) below p "
            f"{report['threshold']:g}"
            if rejecting
            else ""
        )
    )
    return table


def confusion_table(report: dict, model: str = "") -> Table:
    table = Table(
        title=f"{model + ' ' if model else ''}confusion (rows: true, columns: predicted; counts and row %)"
    )
    table.add_column("")
    for name in report["classes"]:
        table.add_column(name, justify="right")
    for name, counts, norm in zip(
        report["classes"], report["confusion"], report["confusion_normalized"], strict=True
    ):
        table.add_row(name, *(f"{c:,} ({p:.1%})" for c, p in zip(counts, norm, strict=True)))
    return table


def counting_bar(label: str = "{task.description}", *, elapsed: bool = False):
    """A rich progress bar on stderr counting steps (N/M, then the time left or, `elapsed`, the time
    taken), gone once done; none at all when stderr is piped (rich would leave a blank line in the log)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn() if elapsed else TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
