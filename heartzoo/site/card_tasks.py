"""Parts of a model card that depend on what kind of task it is: a beat classifier, a rhythm model, the
signal-quality gate or a recording classifier (af-4): its intended use, its bar, and what its test set is
called."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_name(task, split: str) -> str:
    """What the card calls the set its numbers were measured on."""
    if task.unit != "window":
        return split.upper()
    return {"quality": "DS2 + noise, CinC 2017 test", "recording": "CinC 2017 test"}.get(
        task.window_labels, split.upper()
    )


def unseen_text(records: list[str]) -> str:
    """Whether a test set's patients were seen in training: de Chazal's DS2 holds one whose other record is
    in DS1 (202 and 201), kept as published for comparability."""
    from ..data.mitbih import SAME_PATIENT

    shared = sorted((r, q) for r, q in SAME_PATIENT.items() if r in records and q not in records)
    if not shared:
        return "none seen in training or model selection"
    pairs = ", ".join(f"record {r}'s patient also gave the training record {q}" for r, q in shared)
    return f"none seen in training or model selection, except that {pairs} (de Chazal's split, kept for comparability)"


def use_text(task, ref: str) -> str:
    """The commands that put the model to work on a recording (a card's "Use it")."""
    name, python = ref.partition("@")[0], ""
    if task.unit == "beat":
        run = f"heartzoo annotate RECORD --model {ref}   # detect, gate, classify -> WFDB, CSV, JSON"
    elif task.per_recording:
        run = f"heartzoo annotate RECORD --model BEAT_MODEL --rhythm {ref}   # beats, and the rhythm beside them"
        python = (
            f'\n```python\nheartzoo.classify_recording("{ref}", strip_mv, fs=300)  # a 9-61 s strip: '
            '{"class": "A", ...}\n```\n'
        )
    elif task.is_quality_gate:
        run = f"heartzoo annotate RECORD --model BEAT_MODEL --gate {name}   # no beat classified where it reads noise"
    else:
        run = f"heartzoo evaluate zoo/{task.name}/{name}/{ref.partition('@')[2]}   # its windows, scored"
    return (
        f"```bash\nheartzoo download {ref}   # into the cache, every file sha256-checked\n{run}\n```\n"
        + python
    )


def intended_use(task, classes: list[str], lead: str) -> str:
    if task.unit == "beat":
        what = (
            "Research and development of beat classifiers for wearables: triage of single-lead ECG beats "
            f"into {', '.join(classes)} on a microcontroller."
        )
    elif task.per_recording:
        what = (
            "Research and development of AF screening on wearables: the rhythm of a short single-lead "
            f"recording ({', '.join(classes)}) from windows a microcontroller holds."
        )
    elif task.is_quality_gate:
        what = (
            "Research and development of signal-quality gates for wearables: whether a short single-lead "
            "ECG window can be read, so that no beat of an unreadable stretch is classified."
        )
    else:
        what = (
            f"Research and development of rhythm classifiers for wearables: the rhythm ({', '.join(classes)}) "
            "of single-lead ECG windows on a microcontroller."
        )
    scope = "Out of scope: paced rhythms. " if task.unit == "beat" else ""
    if task.per_recording:  # af-4 trains on CinC 2017 alone
        population = "a held-out fifth of CinC 2017's AliveCor recordings (from the fingers, 9-61 s, 300 Hz)"
    elif task.is_quality_gate:
        population = (
            "DS2's patients with NSTDB noise, and a held-out fifth of CinC 2017's AliveCor recordings"
        )
    elif task.unit == "beat":
        population = "DS2's 22 patients of the MIT-BIH Arrhythmia Database (Holter recordings of 1975–79)"
    else:
        population = (
            "the MIT-BIH Arrhythmia Database's patients dealt to its test (Holter recordings of 1975–79)"
        )
    # CinC 2017 names its one lead "ECG": it is lead I, from the fingers
    read = "lead I (CinC 2017's `ECG`, AliveCor's finger lead)" if task.per_recording else lead
    return (
        f"{what} **Not a diagnostic device and not to be used as the sole basis of any clinical decision.** "
        f"{scope}Tested on {read}, on {population}; on other leads, devices and populations its results are "
        "the external tests on this card, each on few patients: measure on your own device and population "
        "before relying on it."
    )


def af_bar(m: dict[str, Any], teacher: bool = False) -> str:
    """af-4's bars (issue 47): the challenge's winners scored F1 0.83 on its hidden test set with models far
    too large for a microcontroller; the int8 student must reach 0.82 within 64 KB of flash and arena, the
    teacher (no size bound) 0.84."""
    f1 = m["int8"]["macro_f1"]
    head = (
        "The challenge's four winning entries scored F1 0.83 on its hidden test set (Teijeiro et al., Datta et "
        "al., Zabihi et al., Hong et al., CinC 2017), with models far too large for a microcontroller. "
        "The bars below are on this zoo's test split, a held-out fifth of the public training set: its "
        "numbers are not comparable with theirs. "
    )
    if teacher:
        ok = f1 >= 0.84
        return head + (
            f"The bar for the line's teacher, of any size: F1 >= 0.84 on the test split — "
            f"{verdict(ok)} (int8 F1 {f1:.4f}, float {m['float']['macro_f1']:.4f})."
        )
    ok = f1 >= 0.82 and m["tflite_bytes"] <= 64 * 1024 and m["tflm_arena_bytes"] <= 64 * 1024
    return head + (
        f"The bar for a wearable: int8 F1 >= 0.82 on the test split in <= 64 KB of flash and of arena — "
        f"{verdict(ok)} (F1 {f1:.4f}, {m['tflite_bytes']:,} B, {m['tflm_arena_bytes']:,} B arena)."
    )


def quality_bar(m: dict[str, Any], ref: str, results: Path) -> str:
    """The quality gate's bar (issue 45): the wearable's budget; what it does to the beats of DS2 with
    noise is measured by studies/quality_gate.py and shown beside the template-matching index."""
    from .recording_pages import gate_lines

    return (
        "A gate, not a classifier: it must keep >= 99 % of the beats of clean DS2, and with electrode motion "
        "at 6 dB keep >= 90 % of the beats with QRS +P >= 99 % on the kept ones "
        "(`python studies/quality_gate.py --gate sqi NAME@VERSION`):\n\n"
        f"{gate_verdict(ref, results)}{gate_lines(ref, results)}\n\nIts test windows are labelled by where "
        "the default detector errs, so they move when the detector changes: `heartzoo evaluate` says when a "
        "split's labels differ from those it was published on (docs/tasks.md gives how far)."
    )


def gate_verdict(ref: str, results: Path) -> str:
    """The gate's bar, met or not, from its latest lines on DS2 clean and with em at 6 dB."""
    from .recording_pages import gate_measured

    clean, em6 = gate_measured(ref, results, None), gate_measured(ref, results, 6.0)
    lines = []
    if clean is not None:
        ok = clean["beats_kept"] >= 0.99
        lines.append(f"- clean DS2: {100 * clean['beats_kept']:.2f} % of the beats kept — {verdict(ok)}")
    if em6 is not None:
        ok = em6["beats_kept"] >= 0.90 and em6["qrs_pp_kept"] >= 0.99
        lines.append(
            f"- em 6 dB: {100 * em6['beats_kept']:.2f} % kept, QRS +P {100 * em6['qrs_pp_kept']:.2f} % on the kept "
            f"— {verdict(ok)}"
        )
    return "\n".join(lines) + "\n\n" if lines else ""


def verdict(good: bool) -> str:
    """How a card says whether a model meets a bar."""
    return "met" if good else "**not met**"


def af_external_text(ref: str, results: Path) -> str:
    """af-4's "On other databases": studies/af_external.py's latest line for the model (none: empty)."""
    import json

    path = results / "af_external.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []
    line = next((x for x in reversed(lines) if x["model"] == ref), None)
    if line is None:
        return ""
    from ..recording.external_rhythm import AF_RECORDS

    m, a, i = line["mitdb"], line["aftdb"], line["icentia11k"]
    return (
        "\n## On other databases\n\nDatabases this model never trained on, in windows of its own length, the "
        "int8 model as published; never used to train or select "
        f"(`python studies/af_external.py --models {ref}`). MIT-BIH's AF windows are those inside the AF and "
        f"atrial flutter episodes (flutter counted as AF) of records {', '.join(AF_RECORDS)}, its N windows "
        "those of normal sinus rhythm in every record but the four paced ones; the Icentia11k rows are "
        f"{len(i['records'])} segments of {len({r.split('_')[0] for r in i['records']})} patients, "
        f"{i['hours']:.2f} h in all.\n\n"
        "| database | windows | measure | value |\n|---|---:|---|---:|\n"
        f"| MIT-BIH, AF/flutter episodes and normal sinus (MLII) | {m['windows']['A']:,} AF, {m['windows']['N']:,} N | "
        f"AF F1 (Se / +P) | **{m['af_f1']:.3f}** ({m['af_se']:.3f} / {m['af_pp']:.3f}) |\n"
        + (
            ""
            if "other" not in m
            else f"| MIT-BIH, every other rhythm (bigeminy, SVTA, sinus bradycardia, ...) | {m['other']['windows']:,} | "
            f"called AF, all false ({_worst_other(m['other'])}) | **{m['other']['called_af']:.3f}** |\n"
        )
        + f"| aftdb, all AF (first lead) | {a['windows']:,} | AF sensitivity, recordings (windows) | "
        f"**{a['af_se_records']:.3f}** ({a['af_se_windows']:.3f}) |\n"
        f"| Icentia11k segments, no AF | {sum(r['windows'] for r in i['records'].values()):,} | false AF windows per hour | "
        f"**{i['false_af_per_hour']:.1f}** |\n" + af_burden_rows(ref, results)
    )


def af_burden_rows(ref: str, results: Path) -> str:
    """The AF episodes of 30 s or more `annotate --rhythm` reports (studies/af_burden.py's latest line for
    the model; none: empty), as rows of the "On other databases" table."""
    from ..io import latest_json_lines

    path = results / "af_burden.jsonl"
    latest = latest_json_lines(path, lambda x: x["model"]) if path.is_file() else {}
    if (line := latest.get(ref)) is None:
        return ""
    m, t = line["mitdb"], line["mitdb"]["tallies"]
    return (
        f"| MIT-BIH, whole records: AF episodes of {line['episode_min_s']} s or more, as `annotate --rhythm` "
        f"reports them (`python studies/af_burden.py`) | {t['ref_eps']} reference, {t['eps']} reported | "
        f"episode Se / +P (burden error on AF records, points) | **{m['episode_se']:.3f}** / {m['episode_pp']:.3f} "
        f"({100 * m['burden_abs_error_af_records']:.1f}) |\n"
        f"| MIT-BIH records without AF; Icentia11k segments | {m['hours_without_af']:.1f} h; "
        f"{line['icentia11k']['hours']:.1f} h | false AF episodes of {line['episode_min_s']} s or more per hour | "
        f"**{m['false_episodes_per_hour_without_af']:.2f}**; **{line['icentia11k']['false_episodes_per_hour']:.2f}** |\n"
    )


def _worst_other(other: dict[str, Any]) -> str:
    """The other rhythm most often called AF, as "most: NAME k of n", and ventricular tachycardia's."""
    name, row = max(other["rhythms"].items(), key=lambda kv: (kv[1]["called_af"], kv[0]))
    text = f"most: {name} {row['called_af']} of {row['windows']}"
    # ventricular tachycardia called AF is the error a reader must not miss, however few its windows
    if (vt := other["rhythms"].get("VT")) and name != "VT":
        text += f"; VT {vt['called_af']} of {vt['windows']}"
    return text


def af_cv_text(cfg: dict[str, Any], results: Path) -> str:
    """af-4's cross-validation beside the test split (studies/af_cv.py's latest line for the recipe of this
    version, or of its teacher for a student, whose distillation cv cannot fold; none: empty)."""
    from ..io import latest_json_lines

    path = results / "af_cv.jsonl"
    latest = latest_json_lines(path, lambda x: (x["name"], x["aggregation"])) if path.is_file() else {}
    distill = (cfg.get("compress") or {}).get("distill")
    recipe = distill["teacher"].split("@")[0] if distill else cfg["name"]
    aggregation = (cfg.get("export") or {}).get("aggregation", "mean")
    member = f"{recipe}-seed"  # a seed ensemble's recipe, cross-validated by its first member
    line = next(
        (
            x
            for (name, agg), x in reversed(latest.items())
            if (name == recipe or name.startswith(member)) and agg == aggregation
        ),
        None,
    )
    if line is None:
        return ""
    whose = "its teacher's recipe" if distill else "this recipe"
    member = " (a seed ensemble: its first member)" if line["name"].startswith(member) else ""
    per = " · ".join(f"{c} {v:.3f}" for c, v in line["pooled_f1_per_class"].items())
    fitted = (
        " (its map cross-fitted within each fold's held-out recordings)"
        if line["aggregation"] != "mean"
        else ""
    )
    return (
        f"\n## Cross-validation\n\nThe spread of {whose}{member} over {line['folds']} folds of the "
        f"{line['recordings']:,} training recordings outside the test split, dealt by label, one model per "
        f"fold, {line['aggregation']} over the windows{fitted}: challenge F1 **{line['fold_f1_mean']:.4f} ± {line['fold_f1_std']:.4f}** per fold "
        f"({', '.join(f'{x:.3f}' for x in line['fold_f1'])}), pooled {line['pooled_f1']:.4f} ({per}). "
        "Each fold keeps its best epoch on its own held-out recordings, which flatters it a little "
        "(`heartzoo cv`, `python studies/af_cv.py`).\n"
    )


def af_screening_text(ref: str, results: Path) -> str:
    """af-4's "As an AF screen": studies/af_screening.py's latest line for the model (none: empty)."""
    from ..io import latest_json_lines

    path = results / "af_screening.jsonl"
    latest = latest_json_lines(path, lambda x: x["model"]) if path.is_file() else {}
    if (line := latest.get(ref)) is None:
        return ""
    c, o = line["at_its_call"], line["operating_point"]

    def row(name: str, x: dict) -> str:
        cells = " | ".join(
            "–" if x[k] is None else f"{100 * x[k]:.1f}" for k in ("sensitivity", "specificity", "ppv", "npv")
        )
        return f"| {name} | {cells} |"

    return (
        "\n## As an AF screen\n\nAtrial fibrillation against every other classifiable recording of CinC 2017's "
        f"test split ({c['af']} AF, {c['other']} normal or other rhythm; the {c['noisy_left_out']} labelled too noisy "
        "left out, as the wearables' own studies leave unclassifiable tracings out), the int8 model as "
        f"published (`python studies/af_screening.py`). ROC AUC of the recording's AF probability: "
        f"**{c['roc_auc']:.3f}**.\n\n| AF alert | sensitivity % | specificity % | PPV % | NPV % |\n"
        "|---|---:|---:|---:|---:|\n"
        + row("at the model's call (`annotate --rhythm`)", c)
        + "\n"
        + row(
            f"AF probability >= {o['threshold']:.3f}, the lowest with >= {100 * o['target_specificity']:.0f} % "
            f"specificity on the {o['chosen_on']}",
            o["test"],
        )
        + "\n"
    )
