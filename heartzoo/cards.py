"""The documentation site: model cards and a leaderboard generated from the zoo (configuration.json and
metrics.json of every version, never typed by hand), a CLI reference from the typer app, and
`mkdocs build --strict` over all of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .errors import HeartzooError
from .tasks import get_task

REPO = Path(__file__).resolve().parents[1]

#: Results other work published, with the protocol they used (numbers as their authors report them).
PUBLISHED = [
    {"work": "de Chazal et al. 2004 (linear discriminants)", "protocol": "inter-patient DS2",
     "result": "S F1 ≈ 0.51 · V F1 ≈ 0.80"},
    {"work": "Niu et al. 2020 (symbolic representation + CNN)", "protocol": "inter-patient DS2",
     "result": "S F1 0.77 · V F1 0.90"},
    {"work": "domain adaptation trained on unlabelled DS2", "protocol": "inter-patient DS2 (sees DS2 signals)",
     "result": "S F1 0.83 · V F1 0.95"},
    {"work": "Ambiq HeartKit beat models", "protocol": "its validation split, low-confidence beats dropped, class-balanced",
     "result": "F1 97.7 % / 92.0 %"},
    {"work": "CNNs on the 187-sample MIT-BIH CSV", "protocol": "random beat split (LEAKY: same patients in train and test)",
     "result": "accuracy 93–99 %"},
]  # fmt: skip


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def model_card(entry: dict[str, Any], vdir: Path) -> str:
    conf = json.loads((vdir / "configuration.json").read_text())
    m = json.loads((vdir / "metrics.json").read_text())
    cfg, fw = conf["config"], conf["firmware"]
    task = get_task(cfg["task"])
    name, version = entry["name"], entry["version"]
    rows = []
    for c in task.class_names:
        f, q = m["float"]["per_class"][c], m["int8"]["per_class"][c]
        rows.append(
            f"| {c} | {f['support']:,} | {_pct(f['sensitivity'])} / {_pct(q['sensitivity'])} | "
            f"{_pct(f['positive_predictivity'])} / {_pct(q['positive_predictivity'])} | "
            f"{_pct(f['specificity'])} / {_pct(q['specificity'])} | {f['f1']:.3f} / {q['f1']:.3f} |"
        )
    conf_rows = []
    for c, counts, norm in zip(
        task.class_names, m["int8"]["confusion"], m["int8"]["confusion_normalized"], strict=True
    ):
        conf_rows.append(
            f"| **{c}** | "
            + " | ".join(f"{n:,} ({100 * p:.1f} %)" for n, p in zip(counts, norm, strict=True))
            + " |"
        )
    files = "\n".join(f"| `{f['path']}` | {f['bytes']:,} | `{f['sha256']}` |" for f in entry["files"])
    leaky = m.get("leaky")
    steps = [s for s in m["compression"] if s not in ("train", "int8_ptq")] if "compression" in m else None
    return f"""# {name} · {version}

{cfg.get("description") or ""}

| | |
|---|---|
| task | `{cfg["task"]}` — {task.description} |
| architecture | `{cfg["model"]["arch"]}`{" + RR ratios" if cfg["model"].get("rr_features") else ""} |
| compression | {"not recorded" if steps is None else ", ".join(steps) or "none"}; int8 post-training quantization |
| input | {fw["lead"]}, {fw["sampling_rate_hz"]} Hz, {fw["frame_size"]} samples, R-peak at {fw["r_peak_index"]}, {fw["normalization"]["name"]} |
| evaluation | {m["split"].upper()} ({len(m["records"])} records), natural prevalence, no beat rejected{" — **LEAKY random-beat split: inflated**" if leaky else ""} |

## Intended use

Research and development of beat classifiers for wearables: triage of single-lead ECG beats into
{", ".join(task.class_names)} on a microcontroller. **Not a diagnostic device and not to be used as the
sole basis of any clinical decision**; out of scope: paced rhythms, leads other than {fw["lead"]},
populations unlike the MIT-BIH Arrhythmia Database (47 patients, 1975–79 Holter recordings).

## Data and licence

Trained on MIT-BIH Arrhythmia Database DS1 (de Chazal 2004 inter-patient split), model selection on
whole DS1 validation patients, tested on DS2 only. MIT-BIH is licensed ODC-By 1.0 (PhysioNet): cite
Moody & Mark 2001 and Goldberger et al. 2000 when you use or redistribute this model.

## Metrics on {m["split"].upper()} — float / int8 (TFLM)

Macro-F1 over {", ".join(m["float"]["macro_classes"])}: **{m["float"]["macro_f1"]:.4f}** float ·
**{m["int8"]["macro_f1"]:.4f}** int8 · accuracy {m["float"]["accuracy"]:.4f} / {m["int8"]["accuracy"]:.4f}
· {m["float"]["n"]:,} beats.

<div class="metrics-table" markdown>

| class | support | Se % | +P % | Sp % | F1 |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

</div>

## Confusion matrix (int8, rows true, columns predicted)

![confusion matrix of {name} {version}](img/{name}-{version}-confusion.png)

| | {" | ".join(task.class_names)} |
|---|{"---:|" * len(task.class_names)}
{chr(10).join(conf_rows)}

## Size and speed

| parameters | MACs | .tflite | .tflite gzip | TFLM arena | latency |
|---:|---:|---:|---:|---:|---:|
| {m["params"]:,} | {m["macs"]:,} | {m["tflite_bytes"]:,} B | {m.get("tflite_gzip_bytes", 0):,} B | {m["tflm_arena_bytes"]:,} B | {m["host_latency_ms"]:.2f} ms (host TFLM, x86-64) |

Ops: {", ".join(f"`{o}`" for o in m["ops"])}. LiteRT (reference kernels) and TFLM agree bit for bit on
{m["verification"]["frames"]:,} {m["split"].upper()} frames.

## Download

`heartzoo download {name}@{version}` — or in Python `heartzoo.load_model("{name}", "{version}")`.

| file | bytes | sha256 |
|---|---:|---|
{files}

## Reproduce

```bash
heartzoo train configs/{name}.yaml
```

Exported by heartzoo {m.get("heartzoo_version")} at commit `{m.get("commit")}` on {m.get("exported_at")}.
"""


def leaderboard(index: dict[str, Any], root: Path) -> str:
    rows = []
    for e in sorted(
        index["models"], key=lambda e: (e["task"], -e.get("summary", {}).get("int8_macro_f1", 0))
    ):
        s = e.get("summary", {})
        m = json.loads((root / e["path"] / "metrics.json").read_text())
        per = " · ".join(f"{c} {v['f1']:.2f}" for c, v in m["int8"]["per_class"].items())
        rows.append(
            f"| {e['task']} | [{e['name']} {e['version']}](models/{e['name']}-{e['version']}.md) | "
            f"{'LEAKY random beats' if m.get('leaky') else 'inter-patient DS2'} | {s.get('int8_macro_f1', 0):.4f} | "
            f"{per} | {s.get('params', 0):,} | {s.get('macs', 0):,} | {s.get('tflite_bytes', 0):,} |"
        )
    others = "\n".join(f"| {p['work']} | {p['protocol']} | {p['result']} |" for p in PUBLISHED)
    ours = "\n".join(rows) or "| – | no model published yet | | | | | | |"
    return f"""# Leaderboard

Every zoo model on one protocol: trained on DS1, selected on DS1 validation patients, tested on DS2 at
natural prevalence, int8 model as published (macro-F1 for aami-5 over N, S, V, F).

| task | model | protocol | int8 macro-F1 | int8 F1 per class | params | MACs | .tflite B |
|---|---|---|---:|---|---:|---:|---:|
{ours}

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
