"""`heartzoo zoo list` as text that stays readable: one block per task, compact units, and the least
needed columns left out when the width does not hold them all (never a cell cut or wrapped).

On a terminal the width is the terminal's; piped, it is $COLUMNS when set, else unbounded (every column,
plain aligned text a file or `grep` reads as well as a person)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.text import Text

STAR = "★"


class SortKey(StrEnum):
    int8 = "int8"
    float = "float"
    flash = "flash"
    arena = "arena"
    macs = "macs"
    name = "name"


def _summary_value(m: dict[str, Any], key: SortKey) -> Any:
    s = m.get("summary", {})
    return {
        SortKey.int8: -(s.get("int8_macro_f1") or 0.0),  # best first
        SortKey.float: -(s.get("float_macro_f1") or 0.0),
        SortKey.flash: s.get("tflite_bytes") or 0,  # smallest first
        SortKey.arena: s.get("tflm_arena_bytes") or 0,
        SortKey.macs: s.get("macs") or 0,
        SortKey.name: 0,
    }[key]


def sorted_models(models: list[dict[str, Any]], key: SortKey) -> list[dict[str, Any]]:
    """Grouped by task (scores of different tasks do not compare), sorted by `key` within a task, then
    by name and version number."""
    return sorted(
        models,
        key=lambda m: (m["task"], _summary_value(m, key), m["name"], int(m["version"].lstrip("v") or 0)),
    )


def _count(n: int | None) -> str:
    if not n:
        return "-"
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1e3:.1f}k" if n < 10_000 else f"{n / 1e3:.0f}k"
    return f"{n / 1e6:.1f}M"


def _kib(n: int | None) -> str:
    return f"{n / 1024:.1f}" if n else "-"


def _f1(x: float | None) -> str:
    return f"{x:.4f}" if x is not None else "-"


@dataclass(frozen=True)
class Column:
    header: str
    left: bool
    priority: int  # lower is kept longer


# in the order they print; `priority` decides which go first when the width is short
COLUMNS = {
    "model": Column("  model", True, 0),
    "test": Column("test", True, 4),
    "float": Column("float F1", False, 5),
    "int8": Column("int8 F1", False, 1),
    "params": Column("params", False, 7),
    "macs": Column("MACs", False, 6),
    "flash": Column("flash", False, 2),
    "arena": Column("arena", False, 3),
}
GAP = 2


def _per_beat(m: dict[str, Any]) -> bool:
    from ..tasks import TASKS

    task = TASKS.get(m.get("task", ""))
    return task is None or task.unit == "beat"


def _cells(m: dict[str, Any], recommended: set[str]) -> dict[str, str]:
    s = m.get("summary", {})
    ref = f"{m['name']}@{m['version']}"
    return {
        "model": f"{STAR if ref in recommended else ' '} {ref}",
        # a beat model's "test" is the leaky protocol's held-out beats (beat tasks test on DS2 otherwise):
        # say what they are; a window task's "test" is its own test split (CinC 2017's)
        "test": "LEAKY" if s.get("split") == "test" and _per_beat(m) else str(s.get("split", "-")).upper(),
        "float": _f1(s.get("float_macro_f1")),
        "int8": _f1(s.get("int8_macro_f1")),
        "params": _count(s.get("params")),
        "macs": _count(s.get("macs")),
        "flash": _kib(s.get("tflite_bytes")),
        "arena": _kib(s.get("tflm_arena_bytes")),
    }


def fit_columns(rows: list[dict[str, str]], width: int | None) -> tuple[list[str], dict[str, int]]:
    """The columns that fit in `width` (all when None), dropping the least needed first, and their widths."""
    widths = {k: max([len(c.header), *(len(r[k]) for r in rows)]) for k, c in COLUMNS.items()}
    keep = list(COLUMNS)
    while (
        width is not None and len(keep) > 1 and sum(widths[k] for k in keep) + GAP * (len(keep) - 1) > width
    ):
        keep.remove(max(keep, key=lambda k: COLUMNS[k].priority))
    return keep, widths


def _line(values: dict[str, str], keep: list[str], widths: dict[str, int]) -> str:
    parts = [values[k].ljust(widths[k]) if COLUMNS[k].left else values[k].rjust(widths[k]) for k in keep]
    return (" " * GAP).join(parts).rstrip()


def output_width(console: Console) -> int | None:
    if console.is_terminal:
        return console.width
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def print_listing(
    console: Console,
    index: dict[str, Any],
    models: list[dict[str, Any]],
    title: str,
    wearable: dict[str, int],
) -> None:
    """The listing of `models` (already filtered and sorted), with the recommended versions starred."""
    recommended = set(index.get("recommended", {}).values())
    rows = [_cells(m, recommended) for m in models]
    width = output_width(console)
    keep, widths = fit_columns(rows, width)
    say = console.print
    say(Text(title, style="bold"), soft_wrap=width is None)
    header = _line({k: c.header for k, c in COLUMNS.items()}, keep, widths)
    task = None
    for m, row in zip(models, rows, strict=True):
        if m["task"] != task:
            task = m["task"]
            say()
            say(Text(task, style="bold cyan"), soft_wrap=True)
            say(Text(header, style="bold"), soft_wrap=True)
        line = Text(_line(row, keep, widths))
        if row["model"].startswith(STAR):
            line.stylize("yellow", 0, 1)
        say(line, soft_wrap=True)
    say()
    notes = [
        f"{STAR} recommended for a wearable (chosen on validation patients within "
        f"{wearable['tflite_bytes'] // 1024} KiB flash / {wearable['tflm_arena_bytes'] // 1024} KiB arena)"
        if recommended
        else "no recommended model in this index",
        "F1: macro-F1 on the test split · flash: int8 .tflite KiB · arena: TFLM arena KiB",
    ]
    if left_out := [COLUMNS[k].header for k in COLUMNS if k not in keep]:
        notes.append(f"not shown at this width: {', '.join(left_out)} (--json has everything)")
    for note in notes:
        say(Text(note, style="dim"), soft_wrap=width is None)
