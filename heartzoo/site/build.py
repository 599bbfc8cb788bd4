"""The documentation site: a home page whose table and figure come from the zoo, a leaderboard per
task, a model card per version (`cards.py`) with its figures (`figures.py`), the API, configuration and
CLI references, and `mkdocs build --strict` over all of it (its warnings in the error when it fails)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..checkout import Checkout
from ..errors import HeartzooError
from ..zoo.published import training_label, validation_macro_f1
from .cards import model_card

__all__ = ["MARKERS", "build_site", "readme_table", "training_label", "validation_macro_f1"]

#: where docs/index.md takes the parts generated from the zoo: an HTML comment, invisible if unfilled
MARKERS = ("recommended", "overview", "get-going")


def fill_markers(text: str, parts: dict[str, str], source: str) -> str:
    """`text` with every `<!-- heartzoo:NAME -->` replaced by parts[NAME]; a marker missing from the
    text, or one without a part, is an error (the page would silently lose its table or figure)."""
    for name, part in parts.items():
        marker = f"<!-- heartzoo:{name} -->"
        if marker not in text:
            raise HeartzooError(f"{source}: no {marker} to put the generated {name} in")
        text = text.replace(marker, part)
    if left := re.findall(r"<!-- heartzoo:[\w-]+ -->", text):
        raise HeartzooError(f"{source}: nothing generates {', '.join(left)}")
    return text


def readme_table(zoo_root: Path, results: Path) -> str:
    """The README's table: the recommended model of each task with its DS2 int8 numbers, size and the
    external false-call rates (studies/external.py's record in `results`), from the zoo alone."""
    from ..tasks import TASK_NAMES
    from ..zoo.index import read_index
    from .card_external import external_lines, false_call_cell, relabelling_cost
    from .pages import collect, per_class, recommended_refs

    index = read_index(zoo_root)
    by_ref = {v.ref: v for v in collect(index, zoo_root)}
    external = external_lines(results)
    rows, rhythms, costs = [], set(), []
    chosen = recommended_refs(index, zoo_root)
    for task in (t for t in TASK_NAMES if t in chosen):
        v = by_ref[chosen[task]]
        line = external.get(v.ref)
        if line and line["cinc2017"].get("rhythm"):
            rhythms.add(rhythm := line["cinc2017"]["rhythm"])
            if (ds2 := relabelling_cost(results, v.ref, rhythm)) is not None:  # what it costs, said beside
                a, b = ds2["kept"], ds2["relabelled"]
                costs.append(
                    f"{task} macro-F1 {a['macro_f1']:.4f} → {b['macro_f1']:.4f}, S F1 {a['s_f1']:.2f} → "
                    f"{b['s_f1']:.2f}"
                )
        calls = false_call_cell(line, list(v.m["int8"]["per_class"]))
        rows.append(
            f"| {task} | `{v.entry['name']}` {v.entry['version']} | **{v.m['int8']['macro_f1']:.4f}** | "
            f"{per_class(v)} | {v.m['tflite_bytes']:,} | {v.m['tflm_arena_bytes']:,} | {calls} |"
        )
    # the rhythm model whose AF the "→" figures relabel: the one each line was measured with
    with_rhythm = (
        f"\n\n→: as `heartzoo annotate --rhythm {', '.join(sorted(rhythms))}` writes them, relabelling the S "
        "calls inside the AF it finds (its AF episodes, and a recording it calls AF as a whole)."
        + (
            f" On DS2 it costs {'; '.join(costs)}: the rhythm model reads AF in irregular runs of premature "
            "beats (record 232; docs/recordings.md)."
            if costs
            else ""
        )
        if rhythms
        else ""
    )
    return (
        "| task | recommended model | int8 macro-F1 (test) | F1 per class | flash B | arena B | CinC 2017: S in AF / "
        "V in NSR % |\n|---|---|---:|---|---:|---:|---:|\n" + "\n".join(rows) + with_rhythm
    )


def write_readme_table(readme: Path, zoo_root: Path, results: Path) -> bool:
    """Rewrite the table between README's `<!-- heartzoo:readme -->` markers; True if it changed."""
    text = readme.read_text()
    start, end = "<!-- heartzoo:readme -->\n", "<!-- /heartzoo:readme -->"
    if start not in text or end not in text:
        raise HeartzooError(f"{readme}: no {start.strip()} ... {end} to put the generated table in")
    head, rest = text.split(start, 1)
    new = head + start + readme_table(zoo_root, results) + "\n" + end + rest.split(end, 1)[1]
    if new != text:
        readme.write_text(new)
    return new != text


def write_pages(index: dict[str, Any], root: Path, docs: Path, checkout: Checkout) -> list[dict[str, Any]]:
    """Every generated page and figure into `docs` (a copy of the checkout's docs/), quoting the
    checkout's benchmark results; returns the navigation to add."""
    from ..tasks import TASK_NAMES, get_task
    from ..zoo.published import family_label
    from ..zoo.recommend import WEARABLE
    from . import figures
    from .config_reference import config_reference
    from .literature import literature_page
    from .pages import (
        collect,
        get_going,
        home_table,
        issue16_table,
        leaky_board,
        nav,
        overview_board,
        overview_points,
        recommendation_rule,
        recommended_refs,
        task_board,
        test_set,
    )

    versions = collect(index, root)
    recommended = recommended_refs(index, root)
    chosen = set(recommended.values())
    tasks = [t for t in TASK_NAMES if any(v.task == t for v in versions)]
    figures.overview(
        overview_points(versions, recommended),
        [(t, test_set(get_task(t), short=True)) for t in tasks],
        WEARABLE["tflite_bytes"],
        docs / "img" / "overview.png",
    )
    home = docs / "index.md"
    home.write_text(
        fill_markers(
            home.read_text(),
            {
                "recommended": home_table(versions, recommended),
                "overview": "![int8 macro-F1 on each task's test set against flash, one dot per model, the "
                "recommended ringed]"
                "(img/overview.png){ .overview }\n\nOne dot per model (the leaky twins left out). "
                + recommendation_rule(),
                "get-going": get_going(recommended),
            },
            "docs/index.md",
        )
    )
    recordings = docs / "recordings.md"
    from .recording_pages import (
        af_aggregation_table,
        af_burden_table,
        af_s_gate_table,
        af_screen_table,
        af_student_table,
        detector_table,
        learned_detector_table,
        long_recordings_table,
        quality_table,
        vt_runs_table,
    )

    results = checkout.results
    detectors = {
        "detectors": detector_table(results),
        "learned-detector": learned_detector_table(results),
        "af-s-gate": af_s_gate_table(results),
        "quality": quality_table(results),
        "vt-runs": vt_runs_table(results),
        "af-burden": af_burden_table(results),
        "long-recordings": long_recordings_table(results),
    }
    recordings.write_text(fill_markers(recordings.read_text(), detectors, "docs/recordings.md"))
    from .lever_table import lever_table

    training = docs / "training.md"
    training.write_text(
        fill_markers(
            training.read_text(),
            {"beat-levers": lever_table(results), "issue-16": issue16_table(versions, recommended)},
            "docs/training.md",
        )
    )
    tasks_page = docs / "tasks.md"
    tasks_page.write_text(
        fill_markers(
            tasks_page.read_text(),
            {
                "af-screen": af_screen_table(results),
                "af-aggregation": af_aggregation_table(results),
                "af-student": af_student_table(results),
            },
            "docs/tasks.md",
        )
    )
    boards = docs / "leaderboards"
    boards.mkdir()
    from .card_external import external_lines

    external = external_lines(results)
    from ..zoo.retrain_checks import verdicts

    not_again = {ref for ref, made in verdicts(root, index).items() if not made}
    for task in TASK_NAMES:
        (boards / f"{task}.md").write_text(task_board(task, versions, recommended, external, not_again))
    (boards / "leaky.md").write_text(leaky_board(versions))
    (boards / "literature.md").write_text(literature_page(versions, recommended))
    (docs / "leaderboard.md").write_text(overview_board(versions))
    (docs / "config-reference.md").write_text(config_reference())
    models = docs / "models"
    img = models / "img"
    img.mkdir(parents=True, exist_ok=True)
    listing = []
    for v in versions:
        name, version = v.entry["name"], v.entry["version"]
        (docs / v.page).write_text(model_card(v.entry, v.vdir, checkout, recommended=v.ref in chosen))
        task = get_task(v.task)
        scored = list(task.macro_classes or task.class_names)
        figures.confusion(
            v.m["int8"]["confusion"],
            list(task.class_names),
            scored,
            f"int8 on {v.m['split'].upper()}",
            img / f"{name}-{version}-confusion.png",
        )
        if (v.vdir / "history.csv").is_file():
            figures.training_curve(
                v.vdir / "history.csv", f"{name} {version}", img / f"{name}-{version}-training.png"
            )
        mark = " ★ recommended" if v.ref in chosen else ""
        listing.append(
            f"| {v.task} | {family_label(v.family, v.cfg)} | [{v.label}]({v.page.split('/', 1)[1]}){mark} |"
        )
    (models / "index.md").write_text(
        "# Model cards\n\n"
        + (
            "| task | family | model |\n|---|---|---|\n" + "\n".join(listing)
            if listing
            else "No model is published yet."
        )
        + "\n"
    )
    leaderboards = [
        {"Overview and targets": "leaderboard.md"},
        *({t: f"leaderboards/{t}.md"} for t in TASK_NAMES),
        {"Leaky twins": "leaderboards/leaky.md"},
        {"Published literature": "leaderboards/literature.md"},
    ]
    return [
        {"Leaderboards": leaderboards},
        {"Model cards": nav(versions, chosen)},
        {
            "Reference": [
                {"Python API": "api.md"},
                {"Configuration reference": "config-reference.md"},
                {"CLI reference": "cli.md"},
            ]
        },
    ]


def mkdocs_failure(stderr: str) -> str:
    """What a failed mkdocs build said: every WARNING and ERROR line (strict mode fails on them), then
    the end of its output."""
    flagged = [line for line in stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    tail = stderr[-1500:]
    return "mkdocs build failed:\n" + "\n".join(flagged[:40]) + ("\n...\n" if flagged else "") + tail


def build_site(
    zoo=None,
    site_dir: str | os.PathLike[str] = "site",
    *,
    checkout: Checkout | None = None,
    strict: bool = True,
) -> Path:
    """Generate the pages from the zoo into a copy of the checkout's docs/ (default: the checkout holding
    the working folder) and run mkdocs build (strict by default)."""
    from ..zoo.index import read_index, zoo_dir

    root = zoo_dir(zoo)
    index = read_index(root)
    checkout = checkout or Checkout.find()
    site_dir = Path(site_dir).resolve()
    check_site_dir(site_dir, root, checkout)
    with tempfile.TemporaryDirectory(prefix="heartzoo-docs-") as tmp:
        work = Path(tmp)
        docs = work / "docs"
        shutil.copytree(checkout.docs, docs)
        generated = write_pages(index, root, docs, checkout)
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "typer",
                "heartzoo.cli",
                "utils",
                "docs",
                "--name",
                "heartzoo",
                "--title",
                "CLI reference",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if cli.returncode:
            raise HeartzooError(f"could not generate the CLI reference: {cli.stderr[-500:]}")
        (docs / "cli.md").write_text(cli.stdout)
        import yaml

        conf = yaml.safe_load(checkout.mkdocs.read_text())
        conf["docs_dir"] = str(docs)
        # built beside the target and swapped in whole: a failed build leaves the old site as it was
        conf["site_dir"] = str(work / "site")
        after = next((i + 1 for i, item in enumerate(conf["nav"]) if "Quickstart" in item), len(conf["nav"]))
        conf["nav"] = [*conf["nav"][:after], *generated[:2], *conf["nav"][after:], *generated[2:]]
        (work / "mkdocs.yml").write_text(yaml.safe_dump(conf, sort_keys=False, allow_unicode=True))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mkdocs",
                "build",
                *(["--strict"] if strict else []),
                "-f",
                str(work / "mkdocs.yml"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=checkout.root,
        )
        if proc.returncode:
            raise HeartzooError(mkdocs_failure(proc.stderr))
        if site_dir.exists():
            shutil.rmtree(site_dir)
        shutil.copytree(work / "site", site_dir)
    return site_dir


def check_site_dir(site_dir: Path, zoo_root: Path, checkout: Checkout) -> None:
    """Refuse a site folder whose old contents are not a site: the build replaces the folder whole."""
    docs, zoo = checkout.docs, Path(zoo_root).resolve()
    if any(p.is_relative_to(site_dir) for p in (checkout.root, docs, zoo, Path.home())) or any(
        site_dir.is_relative_to(p) for p in (docs, zoo)
    ):
        raise HeartzooError(
            f"{site_dir}: would replace the checkout, docs/, the zoo or the home folder, or a part of them; "
            "choose a folder of its own for the site"
        )
    if site_dir.is_dir() and any(site_dir.iterdir()) and not (site_dir / "sitemap.xml").is_file():
        raise HeartzooError(
            f"{site_dir}: holds files that are not a built site; choose an empty or new folder"
        )
