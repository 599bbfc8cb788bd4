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


#: What zoo v1 set out to reach on DS2 (int8, natural prevalence): macro-F1 of the task's best model.
TARGETS = {"beat-2": 0.90, "beat-3": 0.85, "aami-5": 0.70}
#: and what the model a wearable runs (a distilled, compressed student) must fit in
STUDENT_TARGETS = {"tflite_bytes": 32 * 1024, "tflm_arena_bytes": 24 * 1024, "points_below_teacher": 2.0}


def _f4(x: float | None) -> str:
    return "–" if x is None else f"{x:.4f}"


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
    runtime = m["verification"].get("int8_metrics_runtime")
    int8_where = "LiteRT optimized kernels" if runtime else "TFLM"
    if leaky:
        data = (
            "Trained and tested on **random beats of every record** (the LEAKY random-beat split: the same "
            "patients in train and test). This model exists only to show how far that split inflates results; "
            f"its numbers are not comparable with the inter-patient ones — see `{name.removesuffix('-leaky')}`."
        )
    else:
        data = (
            "Trained on MIT-BIH Arrhythmia Database DS1 (de Chazal 2004 inter-patient split), model selection "
            "on whole DS1 validation patients, tested on DS2 only."
        )
    distill = (cfg.get("compress") or {}).get("distill")
    chain = teacher_chain(vdir.parents[2], cfg)
    pupils = [*chain[1:], name] if chain else []
    reproduce = "".join(
        f"heartzoo train configs/{t}.yaml  # first: the teacher of {p}\n"
        for t, p in zip(chain, pupils, strict=True)
    )
    reproduce += f"heartzoo train configs/{name}.yaml"
    return f"""# {name} · {version}

{cfg.get("description") or ""}

| | |
|---|---|
| task | `{cfg["task"]}` — {task.description} |
| architecture | `{cfg["model"]["arch"]}`{" + RR ratios" if cfg["model"].get("rr_features") else ""}{ensemble_cell(cfg)} |
| compression | {"not recorded" if steps is None else ", ".join(steps) or "none"}; int8 post-training quantization |
| input | {fw["lead"]}, {fw["sampling_rate_hz"]} Hz, {fw["frame_size"]} samples, R-peak at {fw["r_peak_index"]}, {fw["normalization"]["name"]} |
| evaluation | {m["split"].upper()} ({len(m["records"])} records), natural prevalence, no beat rejected{" — **LEAKY random-beat split: inflated**" if leaky else ""} |

## Intended use

Research and development of beat classifiers for wearables: triage of single-lead ECG beats into
{", ".join(task.class_names)} on a microcontroller. **Not a diagnostic device and not to be used as the
sole basis of any clinical decision**; out of scope: paced rhythms, leads other than {fw["lead"]},
populations unlike the MIT-BIH Arrhythmia Database (47 patients, 1975–79 Holter recordings).

## Data and licence

{data} MIT-BIH is licensed ODC-By 1.0 (PhysioNet): cite Moody & Mark 2001 and Goldberger et al. 2000
when you use or redistribute this model.

## Target

{target_text(cfg["task"], m, leaky)}{student_text(m, vdir, distill)}{ensemble_text(m)}

## Metrics on {m["split"].upper()} — float / int8 ({int8_where})

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
{m["verification"]["frames"]:,} {m["split"].upper()} frames.{runtime_text(m)}

## Download

`heartzoo download {name}@{version}` — or in Python `heartzoo.load_model("{name}", "{version}")`.

| file | bytes | sha256 |
|---|---:|---|
{files}

## Reproduce

```bash
{reproduce}
heartzoo evaluate zoo/{entry["path"]} --split {m["split"]}
```

Exported by heartzoo {m.get("heartzoo_version")} at commit `{m.get("commit")}` on {m.get("exported_at")}.
"""


def target_text(task: str, m: dict[str, Any], leaky: bool) -> str:
    """The zoo v1 target of the task and where this model stands, in words (a miss is said plainly)."""
    if leaky:
        return "None: a model on the leaky split is a measurement of the split, not a candidate."
    goal, got = TARGETS[task], m["int8"]["macro_f1"]
    verdict = "reached" if got >= goal else f"**not reached** ({100 * (goal - got):.1f} points short)"
    return (
        f"The {task} target of zoo v1 is DS2 int8 macro-F1 ≥ {goal:.2f} for the task's best model. This "
        f"model: {got:.4f} — {verdict}. Inter-patient beat classification is hard: see the leaderboard for "
        "what other work reached on the same protocol."
    )


def teacher_name(path: str) -> str:
    """The model a distillation teacher names: NAME@vN, runs/NAME, runs/NAME/<stage> or zoo/TASK/NAME/vN."""
    from .manifest import STAGE_FOLDERS
    from .zoo import _VERSION

    if "@" in path:
        return path.partition("@")[0]
    parts = Path(path).parts
    i = len(parts) - 1
    while i > 0 and (parts[i] in STAGE_FOLDERS.values() or _VERSION.match(parts[i])):
        i -= 1
    return parts[i]


def teacher_chain(zoo_root: Path, cfg: dict[str, Any]) -> list[str]:
    """The teachers to train before this model, the first first: its teacher, that teacher's teacher
    (read from the teacher's latest configuration.json in the zoo), and so on."""
    from .zoo import latest_version_dir

    chain: list[str] = []
    while (distill := (cfg.get("compress") or {}).get("distill")) and len(chain) < 10:
        name = teacher_name(distill["teacher"])
        chain.insert(0, name)
        tdir = latest_version_dir(zoo_root, cfg["task"], name)
        if tdir is None:
            break
        cfg = json.loads((tdir / "configuration.json").read_text())["config"]
    return chain


def student_text(m: dict[str, Any], vdir: Path, distill: dict[str, Any] | None) -> str:
    """For a distilled model: the size targets of a wearable model, and how it compares with its teacher
    (the teacher's latest version in the same zoo)."""
    from .zoo import latest_version_dir

    if not distill:
        return ""
    t = STUDENT_TARGETS
    ok = lambda good: "met" if good else "**not met**"  # noqa: E731
    lines = [
        f"- flash: {m['tflite_bytes']:,} B .tflite (target ≤ {t['tflite_bytes']:,} B) — {ok(m['tflite_bytes'] <= t['tflite_bytes'])}",
        f"- RAM: {m['tflm_arena_bytes']:,} B TFLM arena (target ≤ {t['tflm_arena_bytes']:,} B) — {ok(m['tflm_arena_bytes'] <= t['tflm_arena_bytes'])}",
    ]
    teacher = teacher_name(distill["teacher"])
    tdir = latest_version_dir(vdir.parents[2], m["task"], teacher)
    if tdir is not None:
        tm = json.loads((tdir / "metrics.json").read_text())["int8"]["macro_f1"]
        gap = 100 * (tm - m["int8"]["macro_f1"])
        lines.append(
            f"- against its teacher `{teacher}` {tdir.name} (int8 macro-F1 {tm:.4f}): "
            f"{abs(gap):.1f} points {'below' if gap > 0 else 'above'} (target: at most {t['points_below_teacher']:.0f} "
            f"below) — {ok(gap <= t['points_below_teacher'])}"
        )
    return "\n\nAs the model a wearable runs:\n\n" + "\n".join(lines)


def ensemble_cell(cfg: dict[str, Any]) -> str:
    e = cfg.get("ensemble")
    if not e:
        return ""
    first = cfg["train"]["seed"]
    return f" · seed ensemble: {e['members']} members (seeds {first}–{first + e['members'] - 1}), logits averaged"


def ensemble_text(m: dict[str, Any]) -> str:
    """For a seed ensemble: where its members land alone, on the same split and on DS1 validation."""
    e = m.get("ensemble")
    if not e:
        return ""
    split = m["split"].upper()
    each = " · ".join(
        f"seed {s}: {f:.4f}" for s, f in zip(e["seeds"], e["member_float_macro_f1"], strict=True)
    )
    lines = [
        f"- {split} float macro-F1 of each member alone: {each}; mean {e['member_mean']:.4f} ± "
        f"{e['member_std']:.4f} (s.d.). The ensemble: **{m['float']['macro_f1']:.4f}**.",
    ]
    if e.get("member_val_macro_f1"):
        vals = " · ".join(f"{v:.4f}" for v in e["member_val_macro_f1"])
        lines.append(
            f"- DS1 validation macro-F1 of the members: {vals}; of the ensemble: {e['val_macro_f1']:.4f}."
        )
    lines.append(
        "- Every member is in the average, none chosen or weighted on any data; the members differ "
        "only in their training seed."
    )
    return "\n\nAs a seed ensemble (how far one seed of this recipe lands):\n\n" + "\n".join(lines)


def runtime_text(m: dict[str, Any]) -> str:
    v = m["verification"]
    if not v.get("int8_metrics_runtime"):
        return " The int8 metrics come from TFLM itself, on every frame."
    o = v["litert_optimized_vs_tflm"]
    return (
        f" Its config (`export.int8_runtime: litert`) takes the int8 metrics over the whole split from "
        f"LiteRT's optimized kernels, which are much faster than TFLM's host build; on the {v['frames']:,} frames above they give the same class as TFLM "
        f"for {100 * o['same_class']:.1f} % of frames ({o['frames_differing']:,} differ by at most "
        f"{o['largest_difference_int8_steps']} int8 steps)."
    )


def validation_macro_f1(vdir: Path) -> float | None:
    """The DS1-validation macro-F1 this model was selected on (the best epoch of its last training stage,
    from the history.csv published with it; a seed ensemble's own, from its metrics.json); None when the
    version has neither."""
    import csv

    ensemble = json.loads((vdir / "metrics.json").read_text()).get("ensemble") or {}
    if ensemble.get("val_macro_f1") is not None:
        return ensemble["val_macro_f1"]
    history = vdir / "history.csv"
    if not history.is_file():
        return None
    with history.open(newline="") as f:
        scores = [float(r["val_macro_f1"]) for r in csv.DictReader(f) if r.get("val_macro_f1")]
    return max(scores, default=None)


def leaderboard(index: dict[str, Any], root: Path) -> str:
    from .zoo import find

    metrics = {(e["name"], e["version"]): json.loads((root / e["path"] / "metrics.json").read_text()) for e in index["models"]}  # fmt: skip
    honest = [e for e in index["models"] if not metrics[e["name"], e["version"]].get("leaky")]
    val = {(e["name"], e["version"]): validation_macro_f1(root / e["path"]) for e in honest}
    rows = []
    for e in sorted(honest, key=lambda e: (e["task"], -metrics[e["name"], e["version"]]["int8"]["macro_f1"])):
        m = metrics[e["name"], e["version"]]
        per = " · ".join(f"{c} {v['f1']:.2f}" for c, v in m["int8"]["per_class"].items())
        rows.append(
            f"| {e['task']} | [{e['name']} {e['version']}](models/{e['name']}-{e['version']}.md) | "
            f"{m['int8']['macro_f1']:.4f} | {m['float']['macro_f1']:.4f} | {_f4(val[e['name'], e['version']])} | "
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
        arch = json.loads((root / e["path"] / "configuration.json").read_text())["config"]["model"]["arch"]
        inflation.append(
            f"| {e['task']} | `{arch}` | {f['int8']['macro_f1']:.4f} | {m['int8']['macro_f1']:.4f} | "
            f"+{100 * (m['int8']['macro_f1'] - f['int8']['macro_f1']):.1f} | {m['int8']['accuracy']:.4f} |"
        )
    others = "\n".join(f"| {p['work']} | {p['protocol']} | {p['result']} |" for p in PUBLISHED)
    ours = "\n".join(rows) or "| – | no model published yet | | | | | | | | |"
    leaky_rows = "\n".join(inflation) or "| – | no leaky-split model published yet | | | | |"
    return f"""# Leaderboard

Every zoo model on one protocol: trained on DS1, selected on DS1 validation patients, tested on DS2 at
natural prevalence, int8 model as published (macro-F1 for aami-5 over N, S, V, F).

| task | model | int8 macro-F1 | float macro-F1 | DS1 validation macro-F1 | int8 F1 per class | params | MACs | .tflite B | TFLM arena B |
|---|---|---:|---:|---:|---|---:|---:|---:|---:|
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
