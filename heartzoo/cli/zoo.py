"""`heartzoo download`, `zoo ...` and `docs build`: the published versions, their files and cards."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import HeartzooError
from .common import (
    CacheDir,
    DataDir,
    ZooDir,
    _report_table,
    app,
    console,
    docs_app,
    err_console,
    zoo_app,
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
    from ..hub import download

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
    from ..zoo import load_index, zoo_dir

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
    from ..meta import read_metrics, version_digest
    from ..zoo import find, read_index, version_dir, zoo_dir

    root = zoo_dir(zoo)
    entry = find(read_index(root), name)
    # validated first: a damaged metrics.json is one error naming its field, before anything is printed
    shown = _show_metrics(entry, root, read_metrics(version_dir(root, entry)).model_dump(mode="json"))
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
    out: Annotated[Path, typer.Option("--out", help="Folder for <name>_model.h, .cc and _golden.h")] = Path(
        "."
    ),
    zoo: ZooDir = None,
    base_url: Annotated[str | None, typer.Option(help="Zoo URL [default: $HEARTZOO_ZOO_URL]")] = None,
    cache_dir: CacheDir = None,
) -> None:
    """The model as a C array for TensorFlow Lite Micro, with its op list, arena size and golden vectors
    for firmware tests (a synthetic recording, its model inputs and TFLM's outputs), generated from
    the verified model.tflite and its metadata."""
    from ..export import write_c_array
    from ..hub import verified_folder

    folder = verified_folder(name, zoo=zoo, base_url=base_url, cache_dir=cache_dir)
    for path in write_c_array(folder, out):
        console.print(f"[green]{path}[/]")


@zoo_app.command("verify")
def zoo_verify(
    zoo: ZooDir = None,
    agreement: Annotated[bool, typer.Option(help="Also re-run LiteRT vs TFLM on DS2 frames")] = True,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Re-hash every file against the index and re-run the TFLite/TFLM agreement; exit 1 on any problem."""
    from ..zoo import read_index, verify, zoo_dir

    problems = verify(zoo, data_dir=data_dir, cache_dir=cache_dir, agreement=agreement)
    if problems:
        for p in problems:
            err_console.print(f"[red]✗[/] {escape(p)}", soft_wrap=True)
        raise typer.Exit(1)
    n = len(read_index(zoo_dir(zoo))["models"])
    console.print(f"[green]✓[/] {n} model version(s) verified in {zoo_dir(zoo)}")


@docs_app.command("build")
def docs_build(
    zoo: ZooDir = None,
    site_dir: Annotated[Path, typer.Option(help="Where the site goes")] = Path("site"),
) -> None:
    """Model cards and leaderboard from the zoo, CLI and API reference, then `mkdocs build --strict`."""
    from ..site import build_site

    with err_console.status("building the site"):
        site = build_site(zoo, site_dir)
    console.print(f"[green]site[/]: {site}/index.html")
