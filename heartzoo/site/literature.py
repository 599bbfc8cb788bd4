"""The literature leaderboard: other work's published numbers beside the zoo's recommended beat models,
each with what it trained and tested on, the leads it read and the beats it scored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tasks import get_task

if TYPE_CHECKING:
    from .pages import Version

#: Results other work published, with what each trained and tested on, the leads it read and the beats it
#: scored, so that a reader sees where a comparison is like for like (numbers as their authors report
#: them; a derived one says so). An unsourced number has no row.
PUBLISHED = [
    {
        "work": "de Chazal et al. 2004 (linear discriminants; IEEE TBME 51(7):1196-1206)",
        "trained": "MIT-BIH DS1",
        "tested": "DS2, inter-patient",
        "leads": "2 (MLII, V1)",
        "scored": "all five AAMI classes",
        "result": "S Se 75.9 / +P 38.5, V Se 77.7 / +P 81.9 (F1 ≈ 0.51 and 0.80, derived here from them)",
    },
    {
        "work": "Niu et al. 2020 (symbolic representation + CNN; IEEE JBHI)",
        "trained": "MIT-BIH DS1",
        "tested": "DS2, inter-patient",
        "leads": "not recorded here",
        "scored": "AAMI classes",
        "result": "S F1 0.77 · V F1 0.90",
    },
    {
        "work": "Ambiq HeartKit beat models (its model zoo table, BC-2 and BC-3)",
        "trained": "Icentia11k",
        "tested": "Icentia11k, its own patient split (not MIT-BIH)",
        "leads": "1 (a chest patch)",
        "scored": "2 classes; 3 classes",
        "result": "F1 0.977 (2 classes) · 0.920 (3 classes)",
    },
    {
        "work": "Kachuee et al. 2018 (IEEE ICHI) and other CNNs on the 187-sample MIT-BIH CSV",
        "trained": "random beats of every MIT-BIH record",
        "tested": "other beats of the same records (LEAKY: the same patients in train and test)",
        "leads": "1 (MLII)",
        "scored": "five classes",
        "result": "accuracy 93.4 % (Kachuee et al.), 93-99 % in the papers that follow",
    },
]


def literature_page(versions: list[Version] = (), recommended: dict[str, str] | None = None) -> str:
    """Other work's numbers as published, and the zoo's recommended beat models beside them (from their
    metrics.json and configuration), each with what it trained and tested on, its leads and the beats it
    scored: a comparison is like for like only where those are the same."""
    from ..zoo.published import training_sources

    by_ref = {v.ref: v for v in versions}
    ours = []
    for task, ref in (recommended or {}).items():
        if get_task(task).unit != "beat" or (v := by_ref.get(ref)) is None:
            continue
        t = get_task(task)
        left_out = t.left_out
        scored = ", ".join(t.class_names) + (
            f" ({' and '.join(left_out)} beats not scored)" if left_out else ""
        )
        result = " · ".join(
            f"{c} Se {100 * q['sensitivity']:.1f} / +P {100 * q['positive_predictivity']:.1f} (F1 {q['f1']:.2f})"
            for c, q in v.m["int8"]["per_class"].items()
            if c in v.m["int8"]["macro_classes"] and c not in ("N", "normal")
        )
        ours.append(
            f"| heartzoo `{v.label}` (recommended {task}, int8, {v.m['tflite_bytes']:,} B) | "
            f"{', '.join(training_sources(v.cfg))} | DS2, inter-patient | {leads(v.cfg)} | {scored} | {result} · "
            f"macro-F1 {v.m['int8']['macro_f1']:.4f}{macro(v)} |"
        )
    theirs = [
        f"| {p['work']} | {p['trained']} | {p['tested']} | {p['leads']} | {p['scored']} | {p['result']} |"
        for p in PUBLISHED
    ]
    return f"""# Published results of other work

Numbers as their authors report them, apart from the zoo's own: a comparison is like for like only where
what was trained on, what was tested on, the leads and the beats scored are the same. The zoo's
recommended beat models train on MIT-BIH DS1 and the MIT-BIH Supraventricular Arrhythmia Database
(svdb), read one lead, and beat-2 and beat-3 leave DS2's F and Q beats out of their scores (aami-5
scores them all, as de Chazal did: of the zoo's rows it alone scores de Chazal's beats, and still differs
in training data and leads). A random beat split puts the same patients in train and test and
inflates every number; class-balanced or filtered test sets are not natural prevalence.

| work | trained on | tested on | leads | beats scored | result |
|---|---|---|---|---|---|
{chr(10).join([*ours, *theirs])}
"""


def leads(cfg: dict) -> str:
    """The leads a beat model trained on: MLII, and svdb's first ECG lead where svdb is in its pool."""
    return "1 (MLII; svdb's ECG1)" if any(s.startswith("svdb") for s in cfg["data"]["train"]) else "1 (MLII)"


def macro(v) -> str:
    """Which classes the macro-F1 is over, where not all the task's."""
    classes, over = v.m["int8"]["classes"], v.m["int8"]["macro_classes"]
    return "" if list(classes) == list(over) else f" (over {', '.join(over)})"
