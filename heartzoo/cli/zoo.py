"""`heartzoo download`, `zoo ...` and `docs build`: the published versions, their files and cards."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..environment import Environment
from ..errors import HeartzooError
from ..tasks import TASK_NAMES
from .common import (
    AdcBits,
    AdcGain,
    CacheDir,
    CheckoutDir,
    DataDir,
    FixedPoint,
    KitPrefix,
    RecordingHz,
    ZooDir,
    ZooUrl,
    app,
    check_task,
    console,
    counting_bar,
    docs_app,
    err_console,
    kit_folder,
    kit_options,
    print_stage,
    print_whole,
    report_table,
    zoo_app,
)
from .listing import SortKey, print_listing, sorted_models


@app.command("download")
def download_cmd(
    name: Annotated[str, typer.Argument(help="NAME or NAME@VERSION")],
    base_url: ZooUrl = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Cache root: the version lands in models/TASK/NAME/VERSION under it",
            show_default="$HEARTZOO_CACHE_DIR, else the per-user cache",
        ),
    ] = None,
    sha256: Annotated[
        str | None, typer.Option(help="Pin: the version's digest, as `heartzoo zoo show` prints it")
    ] = None,
) -> None:
    """Fetch a published model into the local cache, every file checked against the index's sha256."""
    from ..zoo.hub import download

    with err_console.status(f"downloading {name}"):
        folder = download(name, base_url=base_url, cache_dir=cache_dir, sha256=sha256)
    console.print(f"[green]{name}[/]: {folder}")


@zoo_app.command("list")
def zoo_list(
    zoo: ZooDir = None,
    task: Annotated[
        str | None,
        typer.Option(callback=check_task, help=f"Only this task's models: {', '.join(TASK_NAMES)}"),
    ] = None,
    sort: Annotated[
        SortKey,
        typer.Option(
            metavar="KEY",
            help="Order within a task: int8 or float (best macro-F1 first), flash, arena or macs "
            "(smallest first), or name",
        ),
    ] = SortKey.name,
    remote: Annotated[bool, typer.Option(help="Read the published index instead of a local zoo")] = False,
    base_url: ZooUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the index as JSON (--task applies)")] = False,
    cache_dir: CacheDir = None,
) -> None:
    """Every published model version with its headline numbers, the recommended ones starred."""
    from ..zoo.index import INDEX, load_index, zoo_dir, zoo_url
    from ..zoo.recommend import WEARABLE

    index = load_index(zoo, remote=remote, base_url=base_url, cache_dir=cache_dir)
    local = not remote and (zoo_dir(zoo) / INDEX).is_file()  # else load_index read the published one
    # the index read: the local zoo's, else the one --base-url, $HEARTZOO_ZOO_URL or the default names
    where = str(zoo_dir(zoo)) if local else zoo_url(base_url)
    if not index["models"]:
        raise HeartzooError(f"{where}: the index lists no model")
    models = [m for m in index["models"] if task is None or m["task"] == task]
    if not models:
        tasks = sorted({m["task"] for m in index["models"]})
        raise HeartzooError(f"{where}: no {task} model; the index has {', '.join(tasks)}")
    if as_json:
        from ..meta import version_digest

        rec = {t: r for t, r in index.get("recommended", {}).items() if task is None or t == task}
        # each version's digest beside its files: what `download --sha256` pins
        pinned = [{**m, "digest": version_digest(m["files"])} for m in models]
        sys.stdout.write(json.dumps({**index, "models": pinned, "recommended": rec}, indent=2) + "\n")
        return
    print_listing(console, index, sorted_models(models, sort), f"zoo: {where}", WEARABLE)


@zoo_app.command("show")
def zoo_show(
    name: Annotated[str, typer.Argument(help="NAME or NAME@VERSION (local zoo, else downloaded)")],
    zoo: ZooDir = None,
    base_url: ZooUrl = None,
    cache_dir: CacheDir = None,
) -> None:
    """One model version: files with sha256, and its test-set metrics float vs int8; a version whose files
    are not what the index says is refused, as load_model and c-array refuse it."""
    from ..meta import read_metrics, version_digest
    from ..zoo.hub import verified_version

    # numbers shown are the published ones: every file checked first, as load_model checks them
    vdir, entry = verified_version(name, zoo=zoo, base_url=base_url, cache_dir=cache_dir)
    root = vdir.parents[2]
    # validated first: a damaged metrics.json is one error naming its field, before anything is printed
    shown = _show_metrics(entry, root, read_metrics(vdir).model_dump(mode="json"))
    for item in shown:
        console.print(item)
    console.print(f"digest (pin with download --sha256): {version_digest(entry['files'])}")
    files = Table(title="files")
    for col in ("file", "bytes", "sha256"):
        files.add_column(col)
    for f in entry["files"]:
        files.add_row(f["path"], f"{f['bytes']:,}", f["sha256"])
    print_whole(files)


def _show_metrics(entry: dict, root: Path, m: dict) -> list:
    """What `zoo show` prints of a metrics.json, built before anything is printed."""
    out: list = [f"[bold]{entry['name']}@{entry['version']}[/] ({entry['task']}) — {root / entry['path']}"]
    out.append(report_table(f"float on {m['split']}", m["float"]))
    runtime = "LiteRT optimized" if m["verification"].get("int8_metrics_runtime") else "TFLM"
    out.append(report_table(f"int8 ({runtime}) on {m['split']}", m["int8"]))
    out.append(
        f"{m['params']:,} params · {m['macs']:,} MACs · {m['tflite_bytes']:,} B tflite · "
        f"{m['tflm_arena_bytes']:,} B TFLM arena · {m['host_latency_ms']:.2f} ms a frame (host TFLM)"
    )
    if e := m.get("ensemble"):
        out.append(
            f"{e.get('by') or 'seed'} ensemble of {e['members']} (seeds {', '.join(map(str, e['seeds']))}): "
            "each member alone, "
            f"float on {m['split']}: {' / '.join(f'{f:.4f}' for f in e['member_float_macro_f1'])} "
            f"(mean {e['member_mean']:.4f} ± {e['member_std']:.4f})"
        )
    return out


@zoo_app.command("c-array")
def zoo_c_array(
    name: Annotated[str, typer.Argument(help="NAME or NAME@VERSION (local zoo, else downloaded)")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for <name>_model.h, .cc and _golden.h (with --firmware, the kit's dozen files): "
            "required, so that they never land in the current folder unasked",
            parser=kit_folder,
        ),
    ],
    firmware: Annotated[
        bool,
        typer.Option(
            "--firmware",
            help="Write the whole firmware kit: also the C preprocessing library for the model's contract, "
            "an example TFLM main.cc and Make/CMake snippets",
        ),
    ] = False,
    fixed_point: FixedPoint = False,
    recording_hz: RecordingHz = None,
    adc_gain: AdcGain = None,
    adc_bits: AdcBits = None,
    prefix: KitPrefix = None,
    zoo: ZooDir = None,
    base_url: ZooUrl = None,
    cache_dir: CacheDir = None,
) -> None:
    """The model as a C array for TensorFlow Lite Micro, with its op list, arena size and golden vectors.

    The golden vectors, for firmware tests, are a synthetic recording, its model inputs and TFLM's
    outputs; all of it is generated from the verified model.tflite and its metadata. --firmware adds the
    preprocessing in C, proven equal to Python's (docs/deploy.md)."""
    from ..zoo.hub import verified_folder

    kit = kit_options(firmware, fixed_point, recording_hz, adc_gain, adc_bits, prefix)
    folder = verified_folder(name, zoo=zoo, base_url=base_url, cache_dir=cache_dir)
    if firmware:
        from ..export.firmware_kit import write_firmware_kit

        paths = write_firmware_kit(folder, out, **kit)
    else:
        from ..export import write_c_array

        paths = write_c_array(folder, out)
    for path in paths:
        console.print(f"[green]{path}[/]")


@zoo_app.command("verify")
def zoo_verify(
    zoo: ZooDir = None,
    hashes_only: Annotated[
        bool,
        typer.Option(
            "--hashes-only",
            "--no-agreement",
            help="Only re-hash the files against the index: no LiteRT/TFLM run, no data needed",
        ),
    ] = False,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache",
            help="Check the download cache instead (--cache-dir): every cached version re-hashed against the "
            "index entry it was downloaded with",
        ),
    ] = False,
) -> None:
    """Re-hash every file against the index and re-run the LiteRT/TFLM agreement; exit 1 on any problem
    found, 2 when the zoo cannot be read.

    The agreement runs each version's int8 model in LiteRT and TFLM on verification frames of its test
    split (the data folder is needed); --hashes-only checks the files alone; --cache checks the
    downloaded copies instead."""

    from ..zoo.index import read_index, verify, zoo_dir

    if cache:
        from ..zoo.hub import models_cache, verify_cache

        if zoo is not None or hashes_only or data_dir is not None:
            raise typer.BadParameter(
                "the cache is checked by its hashes alone: --zoo, --hashes-only and --data-dir do not apply",
                param_hint="--cache",
            )
        checked, problems = verify_cache(cache_dir)
        for p in problems:
            err_console.print(f"[red]✗[/] {escape(p)}", soft_wrap=True)
        if problems:
            err_console.print(
                "remove a damaged version's folder (or use another --cache-dir) and download it again"
            )
            raise typer.Exit(1)
        where = escape(str(models_cache(cache_dir)))
        console.print(f"[green]✓[/] {checked} cached model version(s) verified in {where} (files hashed)")
        return

    n = len(read_index(zoo_dir(zoo))["models"])
    # piped: no progress lines, not even an empty one
    with counting_bar("verifying {task.description}", elapsed=True) as bar:
        step = bar.add_task("", total=n)
        started = 0

        def on_version(ref: str) -> None:
            nonlocal started
            bar.update(step, completed=started, description=ref)
            started += 1

        problems = verify(
            zoo,
            env=Environment(data_dir=data_dir, cache_dir=cache_dir, progress=on_version),
            agreement=not hashes_only,
        )
        bar.update(step, completed=n)
    if problems:
        for p in problems:
            err_console.print(f"[red]✗[/] {escape(p)}", soft_wrap=True)
        raise typer.Exit(1)
    what = "files hashed; agreement not run" if hashes_only else "files hashed, LiteRT and TFLM agree"
    console.print(f"[green]✓[/] {n} model version(s) verified in {zoo_dir(zoo)} ({what})")


@zoo_app.command("retrain")
def zoo_retrain(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION of a published version")],
    zoo: ZooDir = None,
    run: Annotated[
        Path | None,
        typer.Option(help="A finished run of the recipe (e.g. trained in a worktree at another commit)"),
    ] = None,
    record: Annotated[
        bool, typer.Option(help="Add the check to the zoo's checks.json and write its index again")
    ] = True,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Train a published version's recipe (its configuration.json) again and check that it makes the same model: history.csv row
    for row, validation and test macro-F1 to the digit. Exit 1 when it does not.

    The check is recorded in the zoo's checks.json (its version folders stay as published); the
    recommendation passes over a version whose every check failed. Training runs here, at this
    checkout, which must be one clean commit (or pass --run)."""
    from ..progress import rich_training_callback
    from ..training.retrain import retrain, why_not_made_again
    from ..zoo.index import zoo_dir

    c = retrain(
        ref,
        zoo_dir(zoo),
        run=run,
        env=Environment(data_dir=data_dir, cache_dir=cache_dir, progress=print_stage),
        record=record,
        callbacks=[rich_training_callback(err_console)],
    )
    val = "n/a" if c.published.val_macro_f1 is None else f"{c.published.val_macro_f1:.4f}"
    history = {True: "equal", False: "differs", None: "not published"}[c.same_history]
    console.print(
        f"{'[green]✓[/] made again' if c.made_again else '[red]✗[/] NOT made again'}: {c.ref} from "
        f"{c.recipe} at {c.retrained_at[:7]}: validation {c.now.val_macro_f1:.4f} "
        f"(published {val}), test float macro-F1 {c.now.test_float_macro_f1:.4f} (published "
        f"{c.published.test_float_macro_f1:.4f}), history.csv {history}"
        + (f"; recorded in {zoo_dir(zoo)}/checks.json" if record else ""),
        soft_wrap=True,
    )
    if not c.made_again:
        console.print(f"  {why_not_made_again(c.ref, zoo_dir(zoo), c.retrained_on)}", soft_wrap=True)
        raise typer.Exit(1)


@zoo_app.command("remade")
def zoo_remade(
    made: Annotated[Path, typer.Argument(help="A version folder exported here from the published recipe")],
    ref: Annotated[str, typer.Argument(help="NAME@VERSION of the published version whose recipe it trained")],
    zoo: ZooDir = None,
) -> None:
    """Is MADE the published version again: its .tflite byte for byte, else where each trained and their numbers.

    Exit 1 only when the bytes differ and both trained on one kind of machine (the recipe or the code no
    longer makes the version); a recipe trained on another processor kind makes another model."""
    from ..integrity import require_intact
    from ..meta import check_ref
    from ..zoo.index import find, read_index, version_dir, zoo_dir
    from ..zoo.remade import compare_remade, why_another_model
    from ..zoo.retrain_checks import machines_text

    root = zoo_dir(zoo)
    name, version = check_ref(ref)
    entry = find(read_index(root), name, version)
    published = version_dir(root, entry)
    require_intact(published, entry["files"])  # compared with the version as published
    r = compare_remade(made, published)
    if r.same_bytes:
        console.print(
            f"[green]✓[/] {made}/model.tflite is byte for byte the published {ref}'s (sha256 {r.made.sha256[:16]}…)"
        )
        return

    def side(s) -> str:
        on = machines_text(s.trained_on) if s.trained_on else "a machine it does not record"
        val = "–" if s.val_macro_f1 is None else f"{s.val_macro_f1:.4f}"
        return f"trained on {on}: validation macro-F1 {val}, test int8 macro-F1 {s.test_int8_macro_f1:.4f}"

    mark = "[red]✗[/]" if r.broken else "[yellow]![/]"
    console.print(
        f"{mark} {made}/model.tflite differs from the published {ref}'s ({r.made.sha256[:16]}… against "
        f"{r.published.sha256[:16]}…).\n  made: {side(r.made)}\n  published: {side(r.published)}",
        soft_wrap=True,
    )
    console.print(f"  {why_another_model(r.same_machine)}", soft_wrap=True)
    if r.broken:
        raise typer.Exit(1)


@docs_app.command("build")
def docs_build(
    zoo: ZooDir = None,
    site_dir: Annotated[Path, typer.Option(help="Where the site goes")] = Path("site"),
    checkout: CheckoutDir = None,
) -> None:
    """Model cards and leaderboard from the zoo, CLI and API reference, then `mkdocs build --strict`."""
    from ..checkout import Checkout
    from ..site.build import build_site

    with err_console.status("building the site"):
        site = build_site(zoo, site_dir, checkout=Checkout.of(checkout) if checkout else None)
    console.print(f"[green]site[/]: {site}/index.html")


@zoo_app.command("mirror")
def zoo_mirror(
    dest: Annotated[Path, typer.Argument(help="Folder to write the static zoo into (created if needed)")],
    zoo: ZooDir = None,
    model: Annotated[
        list[str] | None, typer.Option(help="NAME (every version) or NAME@VERSION; repeat. All if omitted")
    ] = None,
) -> None:
    """Write the zoo as a static folder any HTTP host can serve, the layout `heartzoo download` reads.

    Serve the folder (GitHub Pages, S3, nginx, `python -m http.server`) and point users at it with
    `--base-url` or `$HEARTZOO_ZOO_URL`. Versions already mirrored are kept; one that differs is refused.
    The retraining checks (checks.json) of the versions it holds go with them.
    """
    from ..zoo.mirror import mirror

    with err_console.status(f"mirroring into {dest}"):
        rep = mirror(dest, zoo, models=model)
    console.print(
        f"[green]✓[/] {dest}: {len(rep.copied)} version(s) written ({rep.bytes_copied:,} bytes), "
        f"{len(rep.kept)} already there",
        soft_wrap=True,
    )
