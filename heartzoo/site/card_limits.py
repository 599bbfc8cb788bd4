"""What a card says of its model's limits: the box at the top that puts the weakest numbers where a reader
looks first, the spread over patients (studies/patients.py), and intervals for counts of recordings."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..evaluation.per_record import MIN_RECORDS
from ..io import latest_json_lines

#: the F1 under which a class is named in the box: it misses or mislabels a large share of what it calls
WEAK_F1 = 0.6
#: the AF shares of a screening population the box gives the AF alert's PPV at (an older population's
#: prevalence is a few percent; the test split's is CinC 2017's, 9 %)
SCREENING_PREVALENCE = (0.01, 0.03)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion k/n (95 % by default); None for n = 0. Unlike k/n +- a
    normal interval it stays inside [0, 1] and holds at small n."""
    if n <= 0:
        return None
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def span(v: tuple[float, float] | list[float] | None) -> str:
    return "–" if v is None else f"{100 * v[0]:.1f}–{100 * v[1]:.1f}"


def patients_line(ref: str, results: Path) -> dict[str, Any] | None:
    """studies/patients.py's latest line for NAME@VERSION (None: not measured)."""
    path = results / "patients.jsonl"
    line = latest_json_lines(path, lambda x: x["model"]).get(ref) if path.is_file() else None
    # records that do not add up to the published numbers describe another model, or other labels
    return line if line is not None and line["int8"].get("matches_published", True) else None


def held_by_one(line: dict[str, Any], c: str) -> tuple[str, int, int] | None:
    """(record, its beats of class `c`, all of them) where one record holds most of a class's beats."""
    recs = line["int8"]["per_record"]
    names = list(line["int8"]["patients"]["average"])
    i = names.index(c)
    counts = {r: sum(cm[i]) for r, cm in recs.items()}
    total = sum(counts.values())
    top = max(counts, key=counts.get)
    return (top, counts[top], total) if total and counts[top] > total / 2 else None


def pooled(cms: list[list[list[int]]], names: list[str]) -> dict[str, dict[str, Any]]:
    """Each class's beats, Se and +P over the records `cms` (confusion matrices) pooled, as
    `metrics.report_from_confusion` scores them; Se None where the class has no beat, +P where no call."""
    import numpy as np

    from ..evaluation.metrics import report_from_confusion

    per = report_from_confusion(np.sum(np.asarray(cms), axis=0), names)["per_class"]
    return {
        c: {
            "support": q["support"],
            "se": q["sensitivity"] if q["support"] else None,
            "pp": q["positive_predictivity"] if q["predicted"] else None,
        }
        for c, q in per.items()
    }


def concentration(line: dict[str, Any], c: str, split: str) -> str:
    """ "1,382 of DS2's 1,837 S beats are one patient's (record 232): Se 37.6 % there, ...", or ""."""
    held = held_by_one(line, c)
    if held is None:
        return ""
    rec, k, total = held
    recs, names = line["int8"]["per_record"], list(line["int8"]["patients"]["average"])
    there = pooled([recs[rec]], names)[c]["se"]
    others = [cm for r, cm in recs.items() if r != rec]
    rest = pooled(others, names)[c]["se"] if others else None
    return (
        f"{k:,} of {split}'s {total:,} {c} beats are one patient's (record {rec}): Se {100 * there:.1f} % there"
        + ("" if rest is None else f", {100 * rest:.1f} % over the other records")
    )


def false_s_in_af(line: dict[str, Any]) -> str:
    """Where the false S calls fall: the share in the test's records with atrial fibrillation or flutter,
    where AAMI defines no S beat ("" where none holds AF)."""
    from ..recording.external_rhythm import AF_RECORDS

    recs = line["int8"]["per_record"]
    i = list(line["int8"]["patients"]["average"]).index("S")
    false = {r: sum(row[i] for j, row in enumerate(cm) if j != i) for r, cm in recs.items()}
    af = sorted(r for r in recs if r in AF_RECORDS)
    total = sum(false.values())
    if not af or not total:
        return ""
    top = max(false, key=false.get)  # one record of no AF may hold more than any AF record
    elsewhere = (
        f"; the most in one record, {false[top]:,}, are in {top}, which holds no AF" if top not in af else ""
    )
    return (
        f"{sum(false[r] for r in af):,} of its {total:,} false S calls fall in "
        + (f"the {len(af)} records that hold " if len(af) > 1 else "the record that holds ")
        + f"episodes of atrial fibrillation or flutter ({', '.join(af)}), inside and outside those episodes "
        f"(in AF, AAMI defines no S beat){elsewhere}"
    )


def beat_limits(m: dict[str, Any], ref: str, results: Path, left_out: list[str]) -> str:
    """The box at the top of a beat model's card: its weak classes with their counts and their spread over
    patients, where one patient holds a class, the test population, and the beats outside its classes."""
    q = m["int8"]["per_class"]
    line = patients_line(ref, results)
    items = []
    split = m["split"].upper()
    for c in m["int8"]["macro_classes"]:
        pc = q[c]
        if pc["f1"] >= WEAK_F1:
            continue
        text = (
            f"**{c}** (F1 {pc['f1']:.2f}): finds {100 * pc['sensitivity']:.1f} % of the {c} beats "
            f"({pc['tp']:,} of {pc['support']:,}), and {100 * pc['positive_predictivity']:.1f} % of its {c} calls "
            f"are right ({pc['tp']:,} of {pc['predicted']:,})"
        )
        if line is not None:
            p = line["int8"]["patients"]
            if (se := p["interval"][c]["se"]) is not None:
                text += f"; its Se's 95 % interval, resampling the {p['records']} records, is {span(se)} %"
            if held := concentration(line, c, split):
                text += f". {held}"
            if c == "S" and (in_af := false_s_in_af(line)):
                text += f". {in_af}"
        items.append(text + ".")
    items.append(
        f"Tested on {split}: {len(m['records'])} records of MIT-BIH's Holter patients (1975–79, MLII), at "
        f"{split}'s own prevalence, that of a database rich in arrhythmias (most of its records were chosen "
        "for them), not a wearable's population: +P and the false alarms per day on yours will differ."
    )
    if left_out:
        names = " and ".join(left_out)
        items.append(
            f"{names} beats are not in the task: the model gives every beat one of its own classes, a fusion "
            f"or an unclassifiable beat included, and {split}'s {names} beats are left out of the numbers below."
        )
    items.append(_wearables(ref, results))
    return _box(items)


def _wearables(ref: str, results: Path) -> str:
    """What the card holds of wearables: its external tests (studies/external.py), or that it has none."""
    from .card_external import external_lines, icentia_segments

    line = external_lines(results).get(ref)
    if line is None:
        return (
            "It was not tested on recordings from wearable devices: on yours, measure before relying on it."
        )
    return (
        f"On wearables its numbers are external tests on few patients ({len(icentia_segments(line))} Icentia11k patch "
        'segments, CinC 2017\'s AliveCor test split: "On other devices" below); on your own device, measure '
        "before relying on it."
    )


def af_limits(m: dict[str, Any], ref: str, results: Path) -> str:
    """The box at the top of an af-4 card: what its test is and is not, its AF alert's intervals and PPV
    at a screening population's prevalence, and the recordings it calls too noisy."""
    n = m["int8"]["n"]
    items = [
        f"Tested on a held-out fifth of CinC 2017's **public training set** ({n:,} recordings), dealt by "
        "recording: CinC 2017 names no patients, so one patient's recordings may lie on both sides. Not the "
        "challenge's hidden test set, on which its winners' F1 of 0.83 was scored."
    ]
    classes = m["int8"]["classes"]
    if "~" in classes:
        i = classes.index("~")
        noisy = sum(row[i] for row in m["int8"]["confusion"])
        items.append(
            f"It calls {noisy:,} of the {n:,} recordings ({100 * noisy / n:.1f} %) too noisy to classify: "
            "no rhythm is reported for them."
        )
    path = results / "af_screening.jsonl"
    line = latest_json_lines(path, lambda x: x["model"]).get(ref) if path.is_file() else None
    if line is not None:
        c = line["at_its_call"]
        tp, tn = round(c["sensitivity"] * c["af"]), round(c["specificity"] * c["other"])
        fp = c["other"] - tn
        share = c["af"] / (c["af"] + c["other"])
        at = {p: ppv(c["sensitivity"], c["specificity"], p) for p in SCREENING_PREVALENCE}
        said = " and ".join(f"{100 * v:.0f} % at {100 * p:g} %" for p, v in at.items())
        false = [f"{100 * p:g} %" for p, v in at.items() if v < 0.5]
        items.append(
            f"As an AF alert: sensitivity {100 * c['sensitivity']:.1f} % ({tp} of {c['af']}, 95 % "
            f"{span(wilson(tp, c['af']))}), specificity {100 * c['specificity']:.1f} % ({span(wilson(tn, c['other']))}), "
            f"PPV {100 * c['ppv']:.1f} % ({span(wilson(tp, tp + fp))}) at this split's AF share of "
            f"{100 * share:.1f} %. In a screening population the same sensitivity and specificity give a PPV of "
            f"{said} AF" + (f": at {' and '.join(false)}, most alerts would be false." if false else ".")
        )
    items.append(
        "Made for recordings of 9–61 s; a longer one is read in episodes (`heartzoo annotate --rhythm`), whose "
        'false AF episodes per hour on other databases are under "On other databases" below.'
    )
    return _box(items)


def ppv(se: float, sp: float, prevalence: float) -> float:
    """The positive predictive value of a test of sensitivity `se` and specificity `sp` at `prevalence`."""
    hit, false = se * prevalence, (1 - sp) * (1 - prevalence)
    return hit / (hit + false) if hit + false else 0.0


def _box(items: list[str]) -> str:
    return '!!! warning "Limitations"\n\n' + "\n".join(f"    - {x}" for x in items) + "\n\n"


def patients_text(ref: str, results: Path, split: str) -> str:
    """ "By patient": EC57's average statistics, 95 % intervals over patients and each record's numbers
    (studies/patients.py's latest line for the model; none: empty)."""
    line = patients_line(ref, results)
    if line is None:
        return ""
    rep = line["int8"]
    p, recs = rep["patients"], rep["per_record"]
    ci, names = p["interval"], list(p["average"])

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}"

    gross = pooled(list(recs.values()), names)
    rows = [
        f"| {c} | {pct(gross[c]['se'])} | {span(ci[c]['se'])} | {pct(a['se'])} ({a['se_records']}) | "
        f"{pct(gross[c]['pp'])} | {span(ci[c]['pp'])} | {pct(a['pp'])} ({a['pp_records']}) |"
        for c, a in p["average"].items()
    ]
    per = []
    for r, cm in recs.items():
        one = pooled([cm], names)
        cells = [f"{one[c]['support']:,} | {pct(one[c]['se'])} / {pct(one[c]['pp'])}" for c in names]
        per.append(f"    | {r} | " + " | ".join(cells) + " |")
    held = [x for c in names if (x := concentration(line, c, split))]
    macro = "–" if ci["macro_f1"] is None else f"{ci['macro_f1'][0]:.4f}–{ci['macro_f1'][1]:.4f}"
    return (
        f"\n### By patient\n\n{split}'s beats are not independent draws: each record is one patient"
        + (f", and one patient can hold most of a class: {'; '.join(held)}" if held else "")
        + ". The int8 model by record (`python studies/patients.py`): 95 % intervals of the pooled numbers "
        f"with the {p['records']} records resampled with replacement {ci['draws']:,} times (wide where few "
        f"records hold a class; none where fewer than {MIN_RECORDS} do), and EC57's average statistics, the "
        "mean over the records with beats of the class (Se) or calls of it (+P), their number in brackets. "
        f"Macro-F1 {rep['macro_f1']:.4f}, 95 % interval **{macro}**.\n\n"
        "| class | Se % | 95 % interval | mean over records | +P % | 95 % interval | mean over records |\n"
        "|---|---:|---|---:|---:|---|---:|\n"
        + "\n".join(rows)
        + '\n\n??? note "Each record (int8): beats of each class, Se % / +P %"\n\n    | record | '
        + " | ".join(f"{c} beats | {c} Se / +P" for c in names)
        + " |\n    |---|"
        + "---:|---:|" * len(names)
        + "\n"
        + "\n".join(per)
        + "\n"
    )
