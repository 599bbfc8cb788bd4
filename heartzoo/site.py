"""The documentation site: the leaderboard over every version of the zoo, a model card per version
(`cards.py`), a CLI reference from the typer app, and `mkdocs build --strict` over all of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .cards import PUBLISHED, REPO, TARGETS, _f4, model_card, published_config, training_sources
from .errors import HeartzooError
from .meta import read_configuration, read_metrics


def validation_macro_f1(vdir: Path) -> float | None:
    """The DS1-validation macro-F1 this model was selected on: the one export wrote into its
    metrics.json; for versions exported before 0.2, a seed ensemble's own, else the best epoch of its
    last training stage (from the history.csv published with it); None when the version has neither."""
    import csv

    m = read_metrics(vdir)
    if m.val_macro_f1 is not None:
        return m.val_macro_f1
    if m.ensemble is not None and m.ensemble.val_macro_f1 is not None:
        return m.ensemble.val_macro_f1
    history = vdir / "history.csv"
    if not history.is_file():
        return None
    with history.open(newline="") as f:
        scores = [float(r["val_macro_f1"]) for r in csv.DictReader(f) if r.get("val_macro_f1")]
    return max(scores, default=None)


def training_label(cfg: dict[str, Any]) -> str:
    """DS1, or DS1 + svdb: the databases a published config trained on, in a few characters."""
    names = {"mitdb:DS1": "DS1", "svdb:all": "svdb"}
    return " + ".join(names.get(s, s) for s in training_sources(cfg))


def leaderboard(index: dict[str, Any], root: Path) -> str:
    from .zoo import find

    metrics = {(e["name"], e["version"]): read_metrics(root / e["path"]).model_dump(mode="json") for e in index["models"]}  # fmt: skip
    honest = [e for e in index["models"] if not metrics[e["name"], e["version"]].get("leaky")]
    val = {(e["name"], e["version"]): validation_macro_f1(root / e["path"]) for e in honest}
    trained = {(e["name"], e["version"]): training_label(published_config(root / e["path"])) for e in honest}  # fmt: skip
    rows = []
    for e in sorted(honest, key=lambda e: (e["task"], -metrics[e["name"], e["version"]]["int8"]["macro_f1"])):
        m = metrics[e["name"], e["version"]]
        per = " · ".join(f"{c} {v['f1']:.2f}" for c, v in m["int8"]["per_class"].items())
        rows.append(
            f"| {e['task']} | [{e['name']} {e['version']}](models/{e['name']}-{e['version']}.md) | "
            f"{trained[e['name'], e['version']]} | {m['int8']['macro_f1']:.4f} | {m['float']['macro_f1']:.4f} | {_f4(val[e['name'], e['version']])} | "
            f"{per} | {m['params']:,} | "
            f"{m['macs']:,} | {m['tflite_bytes']:,} | {m['tflm_arena_bytes']:,} |"
        )
    targets = []
    for task, goal in TARGETS.items():
        got = [(metrics[e["name"], e["version"]]["int8"]["macro_f1"], f"{e['name']} {e['version']}") for e in honest if e["task"] == task]  # fmt: skip
        if not got:
            targets.append(f"| {task} | ≥ {goal:.2f} | – | – | – |")
            continue
        best, who = max(got)
        verdict = "reached" if best >= goal else f"**not reached** ({100 * (goal - best):.1f} points short)"
        scored = [
            (v, e) for e in honest if e["task"] == task and (v := val[e["name"], e["version"]]) is not None
        ]
        chosen = "–"
        if scored:
            v, e = max(scored, key=lambda ve: ve[0])
            chosen = f"{metrics[e['name'], e['version']]['int8']['macro_f1']:.4f} ({e['name']} {e['version']}, validation {v:.4f})"
        targets.append(f"| {task} | ≥ {goal:.2f} | {best:.4f} ({who}) | {verdict} | {chosen} |")
    latest = {name: find(index, name) for name in {e["name"] for e in index["models"]}}
    inflation = []
    for name, e in sorted(latest.items()):
        m = metrics[name, e["version"]]
        fair = latest.get(name.removesuffix("-leaky"))
        if not m.get("leaky") or fair is None:
            continue
        f = metrics[fair["name"], fair["version"]]
        arch = read_configuration(root / e["path"]).config["model"]["arch"]
        inflation.append(
            f"| {e['task']} | `{arch}` | {f['int8']['macro_f1']:.4f} | {m['int8']['macro_f1']:.4f} | "
            f"+{100 * (m['int8']['macro_f1'] - f['int8']['macro_f1']):.1f} | {m['int8']['accuracy']:.4f} |"
        )
    others = "\n".join(f"| {p['work']} | {p['protocol']} | {p['result']} |" for p in PUBLISHED)
    ours = "\n".join(rows) or "| – | no model published yet | | | | | | | | |"
    leaky_rows = "\n".join(inflation) or "| – | no leaky-split model published yet | | | | |"
    return f"""# Leaderboard

Every zoo model tested the same way: on DS2 at natural prevalence, int8 model as published (macro-F1 for
aami-5 over N, S, V, F), selected on validation patients drawn from its own training records ("trained
on": MIT-BIH DS1, or DS1 and the Supraventricular Arrhythmia Database).

| task | model | trained on | int8 macro-F1 | float macro-F1 | validation macro-F1 | int8 F1 per class | params | MACs | .tflite B | TFLM arena B |
|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|
{ours}

## Targets of zoo v1

| task | target (best model, DS2 int8 macro-F1) | best published here | | the model DS1 validation picks, on DS2 |
|---|---:|---:|---|---:|
{chr(10).join(targets)}

"Best published here" is the highest of many DS2 numbers, so it flatters: which model is best was seen
on DS2. The last column is what someone choosing among these models without DS2 would get: the model
with the highest macro-F1 on the DS1 validation patients (float, as selected in training), scored on DS2.
The two disagree where the few validation patients rank models differently from DS2's 22. Each model
here is one training seed, and the seed alone moves a model's DS2 macro-F1 by more than most gaps in
these tables (`benchmarks/seed_spread.py`; the figures are in the training guide): read each number as
one draw. The exceptions are the seed ensembles (`-ensemble`): one recipe trained with several seeds,
all averaged; their cards give each member's own number beside the average's.

## How far the leaky random-beat split inflates results

The same architecture, configuration and training budget, once on the inter-patient split (DS2) and
once on random beats of every record (the same patients in train and test).

| task | architecture | inter-patient DS2 macro-F1 | LEAKY split macro-F1 | inflation (points) | LEAKY accuracy |
|---|---|---:|---:|---:|---:|
{leaky_rows}

## Published results of other work

Side by side only where the protocol is the same; a random beat split puts the same patients in train
and test and inflates every number.

| work | protocol | result |
|---|---|---|
{others}
"""


def build_site(zoo=None, site_dir: str | os.PathLike[str] = "site", *, strict: bool = True) -> Path:
    """Generate the pages from the zoo into a copy of docs/ and run mkdocs build (strict by default)."""
    from .zoo import read_index, zoo_dir

    root = zoo_dir(zoo)
    index = read_index(root)
    site_dir = Path(site_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="heartzoo-docs-") as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "docs", work / "docs")
        models = work / "docs" / "models"
        (models / "img").mkdir(parents=True, exist_ok=True)
        nav_models = []
        for e in index["models"]:
            vdir = root / e["path"]
            page = f"{e['name']}-{e['version']}.md"
            (models / page).write_text(model_card(e, vdir))
            shutil.copy2(vdir / "confusion.png", models / "img" / f"{e['name']}-{e['version']}-confusion.png")
            nav_models.append({f"{e['name']} {e['version']}": f"models/{page}"})
        (models / "index.md").write_text(
            "# Model cards\n\n" + ("\n".join(f"- [{k}]({v.split('/', 1)[1]})" for d in nav_models for k, v in d.items()) or "No model is published yet.") + "\n"
        )  # fmt: skip
        (work / "docs" / "leaderboard.md").write_text(leaderboard(index, root))
        cli = subprocess.run(
            [sys.executable, "-m", "typer", "heartzoo.cli", "utils", "docs", "--name", "heartzoo", "--title", "CLI reference"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if cli.returncode:
            raise HeartzooError(f"could not generate the CLI reference: {cli.stderr[-500:]}")
        (work / "docs" / "cli.md").write_text(cli.stdout)
        import yaml

        conf = yaml.safe_load((REPO / "mkdocs.yml").read_text())
        conf["docs_dir"] = str(work / "docs")
        conf["site_dir"] = str(site_dir)
        conf["nav"] = [*conf["nav"], {"Leaderboard": "leaderboard.md"},
                       {"Model cards": [{"All models": "models/index.md"}, *nav_models]}, {"CLI reference": "cli.md"}]  # fmt: skip
        (work / "mkdocs.yml").write_text(yaml.safe_dump(conf, sort_keys=False, allow_unicode=True))
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", *(["--strict"] if strict else []), "-f", str(work / "mkdocs.yml")],
            capture_output=True, text=True, timeout=600, cwd=REPO,
        )  # fmt: skip
        if proc.returncode:
            raise HeartzooError(f"mkdocs build failed:\n{proc.stderr[-3000:]}")
    return site_dir
