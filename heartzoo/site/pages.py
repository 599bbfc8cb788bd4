"""The generated pages of the site besides the cards: the home page's zoo part, one leaderboard per
task, the leaky twins, the published literature, and the navigation that groups the cards by task and
family. Every number is read from the zoo's files (`collect`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..meta import read_metrics
from ..tasks import TASK_NAMES, get_task
from ..zoo.published import (
    FAMILIES,
    family,
    family_label,
    published_config,
    training_label,
    training_sources,
    validation_macro_f1,
)
from ..zoo.recommend import WEARABLE, rule_text
from .cards import TARGETS


@dataclass(frozen=True)
class Version:
    """One published version, as the pages read it."""

    entry: dict[str, Any]
    vdir: Path
    m: dict[str, Any]  # metrics.json
    cfg: dict[str, Any]  # configuration.json's config, as the current schema reads it
    val: float | None  # the DS1-validation macro-F1 it was selected on
    family: str

    @property
    def ref(self) -> str:
        return f"{self.entry['name']}@{self.entry['version']}"

    @property
    def label(self) -> str:
        return f"{self.entry['name']} {self.entry['version']}"

    @property
    def page(self) -> str:
        """The card's page, relative to the docs folder."""
        return f"models/{self.entry['name']}-{self.entry['version']}.md"

    @property
    def task(self) -> str:
        return self.entry["task"]


def collect(index: dict[str, Any], root: Path) -> list[Version]:
    out = []
    for e in index["models"]:
        vdir = root / e["path"]
        m = read_metrics(vdir).model_dump(mode="json")
        cfg = published_config(vdir)
        out.append(Version(e, vdir, m, cfg, validation_macro_f1(vdir), family(cfg, m["leaky"])))
    return out


def recommended_refs(index: dict[str, Any], root: Path) -> dict[str, str]:
    """task -> NAME@vN of the recommended model: the index's, or (an index written before it carried
    them) what `heartzoo.zoo.recommend` picks from the same files."""
    if index.get("recommended"):
        return dict(index["recommended"])
    from ..zoo.recommend import recommend

    return {task: r.ref for task, r in recommend(index, root).items()}


def _f4(x: float | None) -> str:
    return "–" if x is None else f"{x:.4f}"


def per_class(v: Version, sep: str = " · ") -> str:
    """Each class's int8 F1; a class left out of macro-F1 (aami-5's Q) in parentheses."""
    macro = v.m["int8"]["macro_classes"]
    cells = [(c, q["f1"]) for c, q in v.m["int8"]["per_class"].items()]
    return sep.join(f"{c} {f:.2f}" if c in macro else f"({c} {f:.2f})" for c, f in cells)


def home_table(versions: list[Version], recommended: dict[str, str], prefix: str = "") -> str:
    by_ref = {v.ref: v for v in versions}
    rows = []
    for task in TASK_NAMES:
        v = by_ref.get(recommended.get(task, ""))
        if v is None:
            continue  # no model of this task fits the wearable (or none is published): its leaderboard says
        m = v.m
        rows.append(
            f"| [{task}]({prefix}leaderboards/{task}.md) | [{v.label}]({prefix}{v.page}) | "
            f"**{m['int8']['macro_f1']:.4f}** | {per_class(v)} | {m['tflite_bytes']:,} B | "
            f"{m['tflm_arena_bytes']:,} B | {m['macs']:,} |"
        )
    return (
        '<div class="recommended" markdown>\n\n'
        "| task | recommended for a wearable | int8 macro-F1 (test) | int8 F1 per class | flash (.tflite) "
        "| RAM (TFLM arena) | MACs |\n|---|---|---:|---|---:|---:|---:|\n" + "\n".join(rows) + "\n\n</div>"
    )


def recommendation_rule() -> str:
    return (
        f"The recommended model is {rule_text()}; [the zoo's history](history.md) discloses how the rule was "
        "set."
    )


def overview_points(versions: list[Version], recommended: dict[str, str]) -> list[dict[str, Any]]:
    """One dot per inter-patient version for `figures.overview`."""
    chosen = set(recommended.values())
    return [
        {
            "task": v.task,
            "name": v.entry["name"],
            "arch": v.cfg["model"]["arch"],
            "family": v.family,
            "flash": v.m["tflite_bytes"],
            "f1": v.m["int8"]["macro_f1"],
            "recommended": v.ref in chosen,
        }
        for v in versions
        if v.family != "leaky"
    ]


def get_going(recommended: dict[str, str]) -> str:
    """The three steps to a prediction, naming the recommended beat-3 model (else any recommended one)."""
    ref = recommended.get("beat-3") or next(iter(recommended.values()), None)
    if ref is None:
        return "No model is recommended yet: the leaderboard lists every published one."
    # the version named: a name alone is its latest version, not always the recommended one
    return f"""```bash
pip install -e .                  # in a checkout; `pip install heartzoo` once a release is on PyPI
heartzoo download {ref}
```

```python
import heartzoo

model = heartzoo.load_model("{ref}")       # every file checked against the index
probs = heartzoo.predict(model, ecg_mv, fs=360, r_peaks=r_peaks)  # one lead in mV, its R peaks
print(model.class_names, probs.argmax(axis=1))
```

The [quickstart](quickstart.md) runs this on a synthetic recording as written."""


def _model_link(v: Version, recommended: set[str], not_again: set[str] = frozenset()) -> str:
    mark = " ★" if v.ref in recommended else " †" if v.ref in not_again else ""
    return f"[{v.label}](../{v.page}){mark}"


def task_board(
    task: str,
    versions: list[Version],
    recommended: dict[str, str],
    external: dict[str, dict] | None = None,
    not_again: set[str] = frozenset(),
) -> str:
    """The leaderboard of one task: its inter-patient versions by DS2 int8 macro-F1, the columns a
    firmware engineer reads first, the external false-alarm rates on a wearable (`external`: the lines of
    studies/external.py by NAME@VERSION), then its zoo-wide target; † marks the versions whose recipe did
    not make them again (`not_again`, the retraining checks), which the recommendation passes over."""
    from .card_external import false_call_cell, false_call_classes

    t = get_task(task)
    external = external or {}
    af, nsr = false_call_classes(list(t.class_names))
    beats = t.unit == "beat"  # the external tests are of beat models

    def calls(ref: str) -> str:
        return f" {false_call_cell(external.get(ref), list(t.class_names))} |" if beats else ""

    macro = list(t.macro_classes or t.class_names)
    here = sorted(
        (v for v in versions if v.task == task and v.family != "leaky"),
        key=lambda v: -v.m["int8"]["macro_f1"],
    )
    chosen = set(recommended.values())
    rows = []
    for v in here:
        m, q = v.m, v.m["int8"]["per_class"]
        rows.append(
            f"| {_model_link(v, chosen, not_again)} | **{m['int8']['macro_f1']:.4f}** | "
            + " | ".join(f"{q[c]['f1']:.3f}" for c in macro)
            + f" |{calls(v.ref)} {m['tflite_bytes']:,} | {m['tflm_arena_bytes']:,} | {m['macs']:,} | "
            f"{_f4(v.val)} | {training_label(v.cfg)} |"
        )
    head = " | ".join(f"{c} F1" for c in macro)
    table = (
        f"| model | int8 macro-F1 | {head} |{f' {af} in AF / {nsr} in NSR % |' if beats else ''}"
        f" flash B | arena B | MACs | validation macro-F1 | trained on |\n"
        f"|---|---:|{'---:|' * len(macro)}{'---:|' if beats else ''}---:|---:|---:|---:|---|\n"
        + "\n".join(rows)
        if rows
        else "No inter-patient model of this task is published yet."
    )
    left_out = [c for c in t.class_names if c not in macro]
    note = f" ({', '.join(left_out)} is left out of macro-F1; each card gives its F1)" if left_out else ""
    rec = recommended.get(task)
    on = "validation recordings" if t.per_recording else "validation patients"
    wearable = (
        f' "{af} in AF / {nsr} in NSR" is the external test on a wearable: the share of beats so called in the '
        "atrial fibrillation (all false) and normal-rhythm (a proxy) records of the CinC 2017 test split, "
        'AliveCor lead I, through `heartzoo annotate` (each card\'s "On other devices")'
        + (
            "; after → the S share as `annotate --rhythm` writes it with the recommended af-4 model (each card "
            "names it), which relabels the S calls inside the AF it finds (its AF episodes, and a recording it "
            "calls AF as a whole)."
            if "S" in t.class_names
            else "."
        )
        if beats
        else ""
    )
    dagger = (
        " † Its recipe did not make it again when retrained (`heartzoo zoo retrain`, the card says how far): "
        "its numbers are not reproducible by its one command, and it is not recommended."
        if any(v.ref in not_again for v in here)
        else ""
    )
    pools = (
        ' Validation numbers compare only within one "trained on": each pool draws its own validation '
        "patients (DS1's alone, or DS1's and svdb's)."
        if beats
        else ""
    )
    others = " · ".join(f"**{o}**" if o == task else f"[{o}]({o}.md)" for o in TASK_NAMES)
    return f"""---
hide: [navigation, toc]
---

# {task} leaderboard

{others} · [leaky twins](leaky.md) · [published literature](literature.md) · [targets](../leaderboard.md)

{t.description} {test_set(t)} at natural prevalence, the int8 model as published; ★ recommended for a wearable.

<div class="leaderboard" markdown>

{table}

</div>

Every model tested the same way: macro-F1 over {", ".join(macro)}{note}.{wearable} Flash is the `.tflite`, RAM
the TFLM tensor arena; "validation macro-F1" is what the model was selected on (float, on its {on}).{pools}
The recommended model ({rec or "none yet"}) is {rule_text(test_set(t, short=True))}.{dagger}

{target_section(task, versions)}

The leaky twins are on [their own page](leaky.md); what other work published is
[apart](literature.md), its protocols being different.
"""


TARGET_NOTE = """Zoo v1 set targets for the beat tasks alone, on DS2; the other tasks' bars are on their cards.
"Best published here" is the highest of many DS2 numbers, so it flatters: which model is best was
seen on DS2. The last column is what someone choosing among these models without DS2 would get: the
model with the highest macro-F1 on its validation patients (float, as selected in training), scored on
DS2. It need not be the recommended one (★), whose rule also asks for the wearable's budget, one model
rather than an ensemble, and a recipe that makes it again ([the zoo's history]({up}history.md)); validation
numbers of different training pools are compared here as they are. Each model here is one training seed,
and the seed alone moves a model's DS2 macro-F1 by more than most gaps in these tables
(`studies/seed_spread.py`; the figures are in the training guide): read each number as one draw."""


def target_section(task: str, versions: list[Version]) -> str:
    """A task board's zoo v1 target, where zoo v1 set one (the beat tasks)."""
    if task not in TARGETS:
        return f"Zoo v1 set no target for {task}; its bar is on each of its cards."
    return f"## Target of zoo v1\n\n{target_table([task], versions)}\n\n{TARGET_NOTE.format(up='../')}"


def target_table(tasks: list[str], versions: list[Version]) -> str:
    """Each task's zoo v1 target, the best DS2 number published, and what validation alone picks."""
    rows = []
    for task in tasks:
        goal = TARGETS.get(task)
        honest = [v for v in versions if v.task == task and v.family != "leaky"]
        if goal is None or not honest:
            rows.append(f"| {task} | {'–' if goal is None else f'≥ {goal:.2f}'} | – | – | – |")
            continue
        best = max(honest, key=lambda v: v.m["int8"]["macro_f1"])
        got = best.m["int8"]["macro_f1"]
        verdict = "reached" if got >= goal else f"**not reached** ({100 * (goal - got):.1f} points short)"
        # a fold ensemble's validation number is one member's out of fold, not comparable with the others'
        scored = [v for v in honest if v.val is not None and (v.m.get("ensemble") or {}).get("by") != "fold"]
        chosen = "–"
        if scored:
            v = max(scored, key=lambda v: v.val)
            chosen = f"{v.m['int8']['macro_f1']:.4f} ({v.label}, validation {v.val:.4f})"
        rows.append(f"| {task} | ≥ {goal:.2f} | {got:.4f} ({best.label}) | {verdict} | {chosen} |")
    return (
        "| task | target (best model, DS2 int8 macro-F1) | best published here | | the model validation "
        "picks, on DS2 |\n|---|---:|---:|---|---:|\n" + "\n".join(rows)
    )


#: beat-3's own size bar (.tflite bytes, TFLM arena bytes), under the wearable's budget
BEAT_3_SIZE = (24 * 1024, 16 * 1024)
#: issue 16's targets: each task's zoo v1 target (`TARGETS`) and beat-3's S F1, with the size a model must
#: fit in (None: the wearable's budget)
ISSUE_16 = (
    ("beat-2", None, TARGETS["beat-2"], None),
    ("beat-3", None, TARGETS["beat-3"], BEAT_3_SIZE),
    ("beat-3", "S", 0.80, BEAT_3_SIZE),
    ("aami-5", None, TARGETS["aami-5"], None),
)


def issue16_table(versions: list[Version], recommended: dict[str, str]) -> str:
    """Where issue 16's targets stand, from the zoo: the best published model that fits each target's
    size, and the recommended model (docs/training.md)."""

    def score(v: Version, cls: str | None) -> float:
        return v.m["int8"]["per_class"][cls]["f1"] if cls else v.m["int8"]["macro_f1"]

    rows = []
    for task, cls, goal, size in ISSUE_16:
        flash, arena = size or (WEARABLE["tflite_bytes"], WEARABLE["tflm_arena_bytes"])
        small = (v for v in versions if v.m["tflite_bytes"] <= flash and v.m["tflm_arena_bytes"] <= arena)
        fits = [v for v in small if v.task == task and v.family != "leaky"]
        rec = next((v for v in versions if v.ref == recommended.get(task)), None)
        if not fits or rec is None:
            continue
        best = max(fits, key=lambda v: score(v, cls))
        met = "met" if score(best, cls) >= goal else "not met"
        what = f"{task} {cls + ' F1' if cls else 'macro-F1'} ≥ {goal:.2f}, ≤ {flash:,} B, ≤ {arena:,} B arena"
        rows.append(
            f"| {what} | `{best.entry['name']}` {best.entry['version']} ({best.m['tflite_bytes']:,} B, "
            f"{best.m['tflm_arena_bytes']:,} B arena) | **{score(best, cls):.4f}**, {met} | "
            f"`{rec.entry['name']}` {rec.entry['version']}: {score(rec, cls):.4f} |"
        )
    return (
        "| target | best published model that fits | DS2 int8 | the recommended model |\n|---|---|---:|---|\n"
        + "\n".join(rows)
    )


def test_set(t, short: bool = False) -> str:
    """What a task's leaderboard is measured on (`short`: its name alone)."""
    if t.unit == "beat":
        return "DS2"
    if t.protocol == "patient-deal":
        return "the dealt test patients" if short else "The dealt test patients (patient-deal)"
    if t.per_recording:  # CinC 2017 gives no patient: its split is by recording
        return (
            "CinC 2017's test split"
            if short
            else "CinC 2017's committed test split (a stratified fifth of the recordings; the challenge gives "
            "no patient identifiers), each recording scored as a whole"
        )
    return (
        "DS2 + noise, CinC 2017 test"
        if short
        else "DS2 windows (clean and with NSTDB noise channel 0) and CinC 2017's test split"
    )


def protocol_label(t) -> str:
    """How a task's test set is kept apart from its training, in a few words."""
    if t.unit == "beat":
        return "inter-patient"
    if t.per_recording:
        return "held-out recordings"
    return t.protocol


def overview_board(versions: list[Version]) -> str:
    """leaderboard.md: where the task boards, the targets, the leaky twins and the literature are."""

    def count(t: str) -> str:
        n = sum(v.task == t and v.family != "leaky" for v in versions)
        return f"{n} version{'' if n == 1 else 's'}, {protocol_label(get_task(t))}"

    links = "\n".join(
        f"- [{t}](leaderboards/{t}.md): {count(t)} — {get_task(t).description}" for t in TASK_NAMES
    )
    return f"""# Leaderboards

One page per task, every zoo version of a beat task on the inter-patient protocol (DS1 → DS2), of a
rhythm task on its dealt test patients, of af-4 on CinC 2017's held-out test recordings, of the quality
gate on DS2's windows and CinC 2017's test split, at natural prevalence:

{links}
- [the leaky twins](leaderboards/leaky.md): the same architectures on the LEAKY random-beat split
- [published literature](leaderboards/literature.md): other work's numbers, with their protocols

## Targets of zoo v1

{target_table([t for t in TASK_NAMES if t in TARGETS], versions)}

{TARGET_NOTE.format(up="")}
"""


def leaky_board(versions: list[Version]) -> str:
    """The leaky twins beside their inter-patient twins: how far the random-beat split inflates. A twin is
    the latest inter-patient version of the same name trained on the same databases (a later version on
    a larger pool is another experiment: zoo v2's comparison architectures train on DS1 + svdb)."""

    def databases(v: Version) -> set[str]:
        return {s.split(":")[0] for s in training_sources(v.cfg)}

    def newest(vs: list[Version]) -> Version | None:
        return max(vs, key=lambda v: int(v.entry["version"][1:]), default=None)

    rows = []
    for v in sorted((v for v in versions if v.family == "leaky"), key=lambda v: v.entry["name"]):
        if v is not newest([w for w in versions if w.entry["name"] == v.entry["name"]]):
            continue
        name = v.entry["name"].removesuffix("-leaky")
        fair = newest(
            [
                w
                for w in versions
                if w.entry["name"] == name and w.family != "leaky" and databases(w) == databases(v)
            ]
        )
        if fair is None:
            continue
        f, q = fair.m["int8"], v.m["int8"]
        arch = v.cfg["model"]["arch"]
        rows.append(
            f"| {v.task} | `{arch}` | [{fair.label}](../{fair.page}) {f['macro_f1']:.4f} | "
            f"[{v.label}](../{v.page}) {q['macro_f1']:.4f} | +{100 * (q['macro_f1'] - f['macro_f1']):.1f} | "
            f"{q['accuracy']:.4f} |"
        )
    table = "\n".join(rows) or "| – | no leaky-split model published yet | | | | |"
    return f"""# The leaky twins

The same architecture, configuration and training budget, once on the inter-patient split (DS2) and
once on random beats of every record (the LEAKY split: the same patients in train and test). These
models are measurements of the split, not candidates: they stay out of the task leaderboards.

| task | architecture | inter-patient DS2 int8 macro-F1 | LEAKY split int8 macro-F1 | inflation (points) | LEAKY accuracy |
|---|---|---:|---:|---:|---:|
{table}
"""


def nav(versions: list[Version], recommended: set[str] = frozenset()) -> list[dict[str, Any]]:
    """Model cards grouped by task, then family ("cnn3 students", "comparison architectures", ...); the
    recommended ones (`recommended`, NAME@VERSION) marked ★."""
    out: list[dict[str, Any]] = [{"All models": "models/index.md"}]
    for task in TASK_NAMES:
        here = [v for v in versions if v.task == task]
        groups = []
        for fam in FAMILIES:
            labels = sorted({family_label(fam, v.cfg) for v in here if v.family == fam})
            for label in labels:
                pages = [
                    {v.label + (" ★" if v.ref in recommended else ""): v.page}
                    for v in here
                    if v.family == fam and family_label(fam, v.cfg) == label
                ]
                groups.append({label: pages})
        if groups:
            out.append({task: groups})
    return out
