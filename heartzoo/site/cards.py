"""Model cards: one page per zoo version, generated from its typed configuration.json and metrics.json
(never typed by hand); `site.py` puts them beside the leaderboards and builds the documentation. A card
judges its model on the bar of its own family (`bar_text`), never on the zoo-wide targets, which belong
to the leaderboard."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from ..checkout import Checkout
from ..errors import HeartzooError
from ..integrity import contained
from ..meta import check_ref, one_clean_commit, read_configuration, read_metrics
from ..tasks import get_task
from ..zoo.published import family, published_config, training_sources
from ..zoo.recommend import WEARABLE, rule_text
from ..zoo.retrain_checks import retraining_note
from .card_external import external_text
from .card_limits import af_limits, beat_limits, patients_text
from .card_sections import (
    after_last_stage,
    arena_cell,
    arena_needed,
    confusion_rows,
    device_bill_text,
    end_to_end_text,
    ensemble_cell,
    ensemble_text,
    last_stage,
    licence_text,
    measurement_text,
    metric_rows,
    rr_cell,
    runtime_text,
    training_text,
)
from .card_tasks import (
    af_bar,
    af_cv_text,
    af_external_text,
    af_screening_text,
    intended_use,
    quality_bar,
    test_name,
    use_text,
    verdict,
)

__all__ = ["STUDENT_TARGETS", "TARGETS", "model_card", "published_config", "training_sources"]


#: What zoo v1 set out to reach on DS2 (int8, natural prevalence): macro-F1 of the task's best model.
#: A zoo-wide goal: the leaderboard states it, a card does not judge its model by it.
TARGETS = {"beat-2": 0.90, "beat-3": 0.85, "aami-5": 0.70}
#: The bar of a distilled student, the model a wearable runs: within the wearable's flash and RAM
#: (`heartzoo.zoo.recommend.WEARABLE`) and at most this many points of int8 macro-F1 below its teacher.
STUDENT_TARGETS = {**WEARABLE, "points_below_teacher": 2.0}


def model_card(entry: dict[str, Any], vdir: Path, checkout: Checkout, *, recommended: bool = False) -> str:
    """The card of one version; `recommended`: it is heartzoo's recommendation for its task. What it
    quotes of benchmarks and the recipe it names come from `checkout`. Its figures
    (img/NAME-vN-confusion.png, img/NAME-vN-training.png when it has a history.csv) are drawn by the
    site build (`heartzoo.site.figures`)."""
    conf = read_configuration(vdir)
    cfg, fw = published_config(vdir, conf), conf.firmware.model_dump(mode="json")
    m = read_metrics(vdir).model_dump(mode="json")
    task = get_task(cfg["task"])
    name, version = entry["name"], entry["version"]
    fam = family(cfg, m["leaky"])
    files = "\n".join(f"| `{f['path']}` | {f['bytes']:,} | `{f['sha256']}` |" for f in entry["files"])
    steps = [s for s in m["compression"] if s not in ("train", "int8_ptq")]
    int8_where = "LiteRT optimized kernels" if m["verification"].get("int8_metrics_runtime") else "TFLM"
    units = "beats" if task.unit == "beat" else "recordings" if task.per_recording else "windows"
    split = test_name(task, m["split"])
    if m["leaky"]:
        data = (
            "Trained and tested on **random beats of every record** (the LEAKY random-beat split: the same "
            "patients in train and test). This model exists only to show how far that split inflates results; "
            f"its numbers are not comparable with the inter-patient ones — see `{name.removesuffix('-leaky')}`."
        )
    else:
        data = training_text(cfg)
    chain = teacher_chain(vdir.parents[2], cfg)
    pupils = [*chain[1:], name] if chain else []
    zoo, in_zoo = zoo_named(vdir.parents[2], checkout)
    reproduce = "".join(
        f"heartzoo train {recipe_file(cfg['task'], t, zoo)}{in_zoo}  # first: the teacher of {p}\n"
        for t, p in zip(chain, pupils, strict=True)
    )
    reproduce += f"heartzoo train {recipe_file(cfg['task'], f'{name}@{version}', zoo)}{in_zoo}"
    banner = (
        f'!!! success "Recommended for a wearable ({cfg["task"]})"\n\n    The model heartzoo recommends for '
        f"{cfg['task']} on a wearable: {rule_text(split if task.unit == 'beat' else 'its test set')}.\n\n"
        if recommended
        else ""
    )
    history = (vdir / "history.csv").is_file()
    curve = (
        f"Validation macro-F1 and loss per epoch of its last stage ({last_stage(m, cfg)}), from the "
        f"published `history.csv`; the epoch kept is ringed.{after_last_stage(m)}\n\n"
        f"![training curve of {name} {version}](img/{name}-{version}-training.png)"
        if history
        else "No `history.csv` is published with this version"
        + (
            ": its members trained one by one, and the average was never trained."
            if m.get("ensemble")
            else "."
        )
    )
    classes = list(task.class_names)
    ref = f"{name}@{version}"
    left_out = list(task.left_out)
    limits = (
        ""
        if m["leaky"]
        else beat_limits(m, ref, checkout.results, left_out)
        if task.unit == "beat"
        else af_limits(m, ref, checkout.results)
        if task.per_recording
        else ""
    )
    evaluated = f"no {units[:-1]} rejected" + (
        f" ({' and '.join(left_out)} beats are not in the task, left out)" if left_out else ""
    )
    return f"""# {name} · {version}

{cfg.get("description") or ""}

{banner}{limits}| | |
|---|---|
| task | `{cfg["task"]}` — {task.description} |
| family | {fam} |
| architecture | `{cfg["model"]["arch"]}`{rr_cell(cfg["input"])}{ensemble_cell(cfg)} |
| trained on | {", ".join(training_sources(cfg))} |
| compression | {", ".join(steps) or "none"}; int8 post-training quantization |
| input | {fw["lead"]}, {fw["sampling_rate_hz"]} Hz, {fw["frame_size"]} samples, {input_anchor(task, fw)}, {fw["normalization"]["name"]} |
| evaluation | {split} ({records_text(m["records"])}), {"DS2 with NSTDB noise at chosen SNRs, CinC 2017 as recorded" if task.is_quality_gate else "natural prevalence"}, {evaluated}{" — **LEAKY random-beat split: inflated**" if m["leaky"] else ""} |
{"" if m["leaky"] else chr(10) + "## Use it" + chr(10) * 2 + use_text(task, f"{name}@{version}")}
## Its bar

{bar_text(fam, m, vdir, cfg, name, checkout.results)}

## Metrics on {split} — float / int8 ({int8_where})

Macro-F1 over {", ".join(m["float"]["macro_classes"])}: **{m["float"]["macro_f1"]:.4f}** float ·
**{m["int8"]["macro_f1"]:.4f}** int8 · accuracy {m["float"]["accuracy"]:.4f} / {m["int8"]["accuracy"]:.4f}
· {m["float"]["n"]:,} {units}.

<div class="metrics-table" markdown>

| class | support | Se % | +P % | Sp % | F1 |
|---|---:|---:|---:|---:|---:|
{chr(10).join(metric_rows(m, classes))}

</div>
{patients_text(ref, checkout.results, split) if task.unit == "beat" else ""}

## Confusion matrix (int8, rows true, columns predicted)

![confusion matrix of {name} {version}](img/{name}-{version}-confusion.png)

| | {" | ".join(classes)} |
|---|{"---:|" * len(classes)}
{chr(10).join(confusion_rows(m, classes))}

## Training curve

{curve}

## Size and speed

| parameters | MACs | .tflite | .tflite gzip | TFLM arena | latency |
|---:|---:|---:|---:|---:|---:|
| {m["params"]:,} | {m["macs"]:,} | {m["tflite_bytes"]:,} B | {m.get("tflite_gzip_bytes", 0):,} B | {arena_cell(m, f"{name}@{version}", checkout.results)} | {m["host_latency_ms"]:.2f} ms (host TFLM, x86-64) |

Ops: {", ".join(f"`{o}`" for o in m["ops"])}. LiteRT (reference kernels) and TFLM agree bit for bit on
{m["verification"]["frames"]:,} {m["split"].upper()} frames.{runtime_text(m)}

## How it was measured

{measurement_text(m, fw, cfg, int8_where)}{end_to_end_text(f"{name}@{version}", checkout.results)}

## Intended use

{intended_use(task, classes, fw["lead"])}

## Data and licence

{data} {licence_text(cfg)} Cite them when you use or redistribute this model.
{af_cv_text(cfg, checkout.results) + af_screening_text(f"{name}@{version}", checkout.results) + af_external_text(f"{name}@{version}", checkout.results) if task.per_recording else external_text(name, version, cfg, checkout.results)}
## Download

`heartzoo download {name}@{version}{in_zoo}` — or in Python `heartzoo.load_model("{name}", "{version}"{f", zoo={zoo!r}" if in_zoo else ""}, format="tflite")` (the int8 model of the numbers above; `format="keras"`, the float one).

| file | bytes | sha256 |
|---|---:|---|
{files}

## Reproduce

```bash
{reproduce}
heartzoo evaluate {shlex.quote(f"{zoo}/{entry['path']}")} --split {m["split"]}
```

Exported by heartzoo {m.get("heartzoo_version")} at commit `{m.get("commit")}` on {m.get("exported_at")}.
{provenance_note(m)}{retraining_note(f"{name}@{version}", vdir.parents[2], read_metrics(vdir).trained_on)}"""


def provenance_note(m: dict[str, Any]) -> str:
    """What a card says of the code that trained the model: the commits its run recorded, and a warning
    where that code is not one commit (a "-dirty" tree, or a run resumed across commits): the recipe
    may then train another model at any commit."""
    trained, clean = m.get("trained_at"), one_clean_commit(m.get("commit"), m.get("trained_at"))
    if not trained:
        if not clean:
            return (
                "**Exported from a working tree that differed from that commit**, by a heartzoo that did not "
                "yet record which code trained a model: the recipe at that commit may train another "
                "model.\n"
            )
        return "The run that trained it predates the record of its commits.\n"
    named = ", ".join(f"`{c}`" for c in trained)
    line = f"Trained at commit{'s' if len(trained) > 1 else ''} {named}"
    if m.get("trained_on"):  # a recipe makes one model on one kind of processor (training.machine)
        from ..zoo.retrain_checks import machines_text

        line += f", on {machines_text(m['trained_on'])}"
    line += "."
    # runs at one commit repeat; a later commit may change what a recipe trains (CHANGELOG says which)
    return line + (
        f" To train it with that code: `git checkout {trained[0]}`, then the commands above.\n"
        if clean
        else " **Not trained by one clean commit**: the recipe at any one commit may train another model.\n"
    )


def input_anchor(task, fw: dict[str, Any]) -> str:
    """Where the frame sits: around a beat's R peak, or a whole window."""
    if task.unit == "beat":
        return f"R-peak at {fw['r_peak_index']}"
    return f"a {fw['frame_size'] / fw['sampling_rate_hz']:g} s window"


def bar_text(fam: str, m: dict[str, Any], vdir: Path, cfg: dict[str, Any], name: str, results: Path) -> str:
    """What this model was built to reach, by its family (`published.family`), and whether it does."""
    task = get_task(cfg["task"])
    if task.per_recording:
        # af-4's teachers are cnn5 models and their ensembles: whatever no teacher distilled
        return af_bar(m, teacher=not (cfg.get("compress") or {}).get("distill"))
    if task.is_quality_gate:
        return quality_bar(m, f"{name}@{vdir.name}", results)
    if task.unit == "window":
        return (
            "The zoo's first rhythm model: no bar of its own yet, only the wearable's budget. mitdb's rhythm "
            "labels hold few patients with atrial fibrillation or flutter, so its test rests on a handful of "
            f"them (the support of AF below). Retired for AF on a wearable: `af-4` (CinC 2017's 8,528 AliveCor "
            "recordings, 758 of them AF) is the zoo's AF line; rhythm-3 stays as published, not retrained.\n\n"
            f"{wearable_lines(m)}"
        )
    if fam == "leaky":
        return (
            "None: a model on the leaky split is a measurement of the split, not a candidate; "
            "[the leaky twins](../leaderboards/leaky.md) set it beside its inter-patient twin."
        )
    if fam == "students":
        return student_text(m, vdir, cfg) + device_bill_text(
            vdir, arena_needed(m, f"{name}@{vdir.name}", results)
        )
    if fam == "teachers":
        return teacher_text(m, vdir, name)
    fits = wearable_lines(m)
    if fam == "ensembles":
        e = m["ensemble"]
        beats = m["float"]["macro_f1"] > e["member_mean"]
        return (
            f"A {'fold' if e.get('by') == 'fold' else 'seed'} ensemble chooses nothing on any data, so its bar "
            "is to beat what one member of its recipe "
            f"delivers: the mean {m['split'].upper()} float macro-F1 of its members alone, {e['member_mean']:.4f}. "
            f"The average: {m['float']['macro_f1']:.4f} — {verdict(beats)}. It runs {e['members']} models on the "
            f"device, so it is not meant for the wearable's budget:\n\n{fits}{ensemble_text(m)}"
        )
    return (
        "One architecture, neither distilled nor pruned (its recipe above; in heartzoo's own zoo, its task's "
        "common recipe, so that architectures can be compared), int8 by post-training quantization only: it "
        f"is not compressed for a device. Against the wearable's budget:\n\n{fits}"
    )


def wearable_lines(m: dict[str, Any]) -> str:
    flash, arena = WEARABLE["tflite_bytes"], WEARABLE["tflm_arena_bytes"]
    return (
        f"- flash: {m['tflite_bytes']:,} B .tflite (wearable ≤ {flash:,} B) — {verdict(m['tflite_bytes'] <= flash)}\n"
        f"- RAM: {m['tflm_arena_bytes']:,} B TFLM arena (wearable ≤ {arena:,} B) — {verdict(m['tflm_arena_bytes'] <= arena)}"
    )


def student_text(m: dict[str, Any], vdir: Path, cfg: dict[str, Any]) -> str:
    """A distilled student's bar: the wearable's flash and RAM, and at most 2 points below its teacher
    (the teacher's latest version in the same zoo)."""
    from ..zoo.index import latest_version_dir

    lines = [wearable_lines(m)]
    given = cfg["compress"]["distill"]["teacher"]
    teacher = teacher_name(given)
    version = given.partition("@")[2] if "@" in given else ("v1" if given.startswith("runs/") else None)
    tdir = (
        vdir.parents[2] / m["task"] / teacher / version
        if version
        else latest_version_dir(vdir.parents[2], m["task"], teacher)
    )
    tdir = tdir if tdir is not None and (tdir / "metrics.json").is_file() else None
    most = STUDENT_TARGETS["points_below_teacher"]
    if tdir is not None:
        tm = read_metrics(tdir).int8.macro_f1
        gap = 100 * (tm - m["int8"]["macro_f1"])
        lines.append(
            f"- against its teacher [`{teacher}` {tdir.name}]({teacher}-{tdir.name}.md) (int8 macro-F1 "
            f"{tm:.4f}): {abs(gap):.1f} points {'below' if gap > 0 else 'above'} (at most {most:.0f} below) "
            f"— {verdict(gap <= most)}"
        )
    else:
        lines.append(f"- its teacher `{teacher}` is not in this zoo: the comparison with it is not made here")
    return (
        "A distilled student is the model a wearable runs: it must fit the wearable's flash and RAM "
        f"(`heartzoo.zoo.recommend.WEARABLE`) and stay within {most:.0f} points of int8 macro-F1 of its "
        "teacher.\n\n" + "\n".join(lines)
    )


def teacher_text(m: dict[str, Any], vdir: Path, name: str) -> str:
    """A teacher's bar: to teach. Its students (every version in the zoo distilled from it) and how
    close they come to it."""
    most = STUDENT_TARGETS["points_below_teacher"]
    rows = []
    for sdir in students_of(vdir.parents[2], m["task"], name):
        sm = read_metrics(sdir)
        gap = 100 * (m["int8"]["macro_f1"] - sm.int8.macro_f1)
        who = f"{sdir.parent.name}-{sdir.name}"
        rows.append(
            f"| [{sdir.parent.name} {sdir.name}]({who}.md) | {sm.int8.macro_f1:.4f} | {-gap:+.1f} | "
            f"{sm.tflite_bytes:,} | {verdict(gap <= most)} |"
        )
    students = (
        "| student | int8 macro-F1 | points vs teacher | .tflite B | within "
        f"{most:.0f} points |\n|---|---:|---:|---:|---|\n" + "\n".join(rows)
        if rows
        else "No version in this zoo is distilled from it."
    )
    return (
        f"A teacher is not built for the device (its .tflite is {m['tflite_bytes']:,} B, the wearable's budget "
        f"{WEARABLE['tflite_bytes']:,} B): its bar is to teach, the students distilled from it coming within "
        f"{most:.0f} points of its int8 macro-F1 ({m['int8']['macro_f1']:.4f}) at a fraction of its size.\n\n"
        + students
    )


def students_of(zoo_root: Path, task: str, teacher: str) -> list[Path]:
    """Every version in the zoo whose config distils from `teacher` (by name, any version)."""
    found = []
    for conf in sorted((zoo_root / task).glob("*/v*/configuration.json")):
        distill = (read_configuration(conf.parent).config.get("compress") or {}).get("distill")
        if distill and teacher_name(distill["teacher"]) == teacher:
            found.append(conf.parent)
    return found


def teacher_name(path: str) -> str:
    """The model a distillation teacher names: NAME@vN, runs/NAME, runs/NAME/<stage> or zoo/TASK/NAME/vN."""
    from ..zoo.index import VERSION_RE
    from ..zoo.manifest import STAGE_FOLDERS

    if "@" in path:
        return path.partition("@")[0]
    parts = Path(path).parts
    i = len(parts) - 1
    while i > 0 and (parts[i] in STAGE_FOLDERS.values() or VERSION_RE.match(parts[i])):
        i -= 1
    return parts[i]


def recipe_file(task: str, ref: str, zoo: str = "zoo") -> str:
    """The recipe of NAME@vN in a checkout: the version's own configuration.json in the zoo `zoo` (a bare
    NAME: its current recipe in configs/)."""
    name, _, version = ref.partition("@")
    return (
        shlex.quote(f"{zoo}/{task}/{name}/{version}/configuration.json")
        if version
        else f"configs/{name}.yaml"
    )


def zoo_named(root: Path, checkout: Checkout) -> tuple[str, str]:
    """How a card names the zoo its commands read, and the `--zoo` option they need: the checkout's zoo
    as `zoo` (the default), another by its path from the checkout, or its absolute path outside it."""
    root = root.resolve()
    if root == checkout.zoo.resolve():
        return "zoo", ""
    shown = root.relative_to(checkout.root).as_posix() if root.is_relative_to(checkout.root) else str(root)
    return shown, f" --zoo {shlex.quote(shown)}"


def teacher_chain(zoo_root: Path, cfg: dict[str, Any]) -> list[str]:
    """The teachers to train before this model, the first first: its teacher, that teacher's teacher
    (read from the teacher's configuration.json in the zoo: the version it names as NAME@vN, else the
    latest), and so on, each as NAME@vN. Zoo v1 named teachers by run folder (runs/NAME[/stage]): the
    run that published NAME@v1."""
    from ..zoo.index import latest_version_dir

    chain: list[str] = []
    while (distill := (cfg.get("compress") or {}).get("distill")) and len(chain) < 10:
        given = distill["teacher"]
        version = given.partition("@")[2] if "@" in given else ("v1" if given.startswith("runs/") else None)
        try:  # read from a published file: a name or version that is not one ends the chain here
            name, version = check_ref(teacher_name(given), version)
            tdir = (
                contained(zoo_root, f"{cfg['task']}/{name}/{version}", given)
                if version
                else latest_version_dir(zoo_root, cfg["task"], name)
            )
        except HeartzooError:
            break
        version = version or (tdir.name if tdir is not None else None)
        chain.insert(0, f"{name}@{version}" if version else name)
        if tdir is None or not (tdir / "configuration.json").is_file():
            break
        cfg = read_configuration(tdir).config
    return chain


def records_text(records: list[str]) -> str:
    """How many records a test holds, by database where it mixes them (the quality gate's DS2 records and
    CinC 2017 recordings)."""
    cinc = sum(r.startswith("A") for r in records)
    if not cinc or cinc == len(records):
        return f"{len(records):,} records"
    return f"{len(records) - cinc:,} DS2 records and {cinc:,} CinC 2017 recordings"
