"""The tables of docs/recordings.md, from what the recording-path benchmarks recorded: the R-peak detectors
on every database (studies/detector.py), the learned QRS detector's study (studies/learned_detector.py),
the quality gate (studies/quality_gate.py), the rhythm's relabelling of S calls (studies/af_s_gate.py) and
`annotate` on recordings of hours and days (benchmarks/annotate_long.py)."""

from __future__ import annotations

import json
from pathlib import Path

from ..io import latest_json_lines


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.2f}"


def detector_table(results: Path) -> str:
    """The R-peak detectors on every database studies/detector.py scores, from its record (the latest
    line of each detector and corpus), and the published figures for MIT-BIH where it names any."""
    path = results / "detector.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/detector.py --record ...`.*"
    latest = latest_json_lines(path, lambda line: (line.get("corpus", "mitdb"), line["detector"]))
    pct = _pct

    def order(key: tuple[str, str]) -> tuple:
        corpus, detector = key
        named = ("mitdb", "svdb", "icentia11k")
        if corpus in named:
            return (named.index(corpus), "", 0.0, detector)
        return (len(named), corpus[:6], -float(corpus[6:]), detector)  # ds2+em24 ... ds2+ma0

    rows = []
    for (corpus, d), line in sorted(latest.items(), key=lambda item: order(item[0])):
        g, worst, per_hour = line["gross"], line.get("worst_se"), line.get("seconds_per_hour")
        rows.append(
            f"| {corpus} | `{d}` | {line['records']} | {pct(g['qrs_se'])} | {pct(g['qrs_pp'])} | "
            f"{g['fn']:,} / {g['fp']:,} | {'–' if worst is None else worst['record'] + ' ' + pct(worst['se'])} | "
            f"{'–' if per_hour is None else f'{per_hour:.2f} s'} |"
        )
    published = [
        f"- `{d}`: {pct(line['published']['qrs_se'])} / {pct(line['published']['qrs_pp'])} % "
        f"({line['published']['source']})"
        for (corpus, d), line in sorted(latest.items())
        if corpus == "mitdb" and line.get("published")
    ]
    note = "\n\nPublished on MIT-BIH (Se / +P, each scored its own way):\n\n" + "\n".join(published)
    return (
        "| corpus | detector | records | QRS Se % (gross) | QRS +P % (gross) | missed / extra | worst Se % | "
        "detection time per hour of signal |\n|---|---|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + (note if published else "")
    )


def learned_detector_table(results: Path) -> str:
    """studies/learned_detector.py's rounds: every candidate against Pan-Tompkins on the development side
    (the latest line that scored it), then the carried one on the test corpora beside Pan-Tompkins'
    figures from studies/detector.py."""
    path = results / "learned_detector.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/learned_detector.py --record ...`.*"
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    # one table per development side (the fourth round moved it to noise no net trained on)
    sides: dict[str, dict[str, dict]] = {}
    for line in (x for x in lines if x.get("side") == "development"):
        dev = sides.setdefault(line.get("dev_noise", "NSTDB channel 1's last 10 minutes"), {})
        for key, s in line["conditions"].items():
            cond, det = key.split("/")
            dev.setdefault(cond, {})["learned@0.5" if det == "learned" else det] = s  # the first round's name

    def cell(s: dict | None) -> str:
        return "–" if s is None else f"{_pct(s['se'])} / {_pct(s['pp'])} ({s['fn']:,} / {s['fp']:,})"

    out: list[str] = []
    for noise, dev in sides.items():
        names = list(dict.fromkeys(d for c in dev.values() for d in c))
        out += [
            *([""] if out else []),
            f"Development side (the five validation patients; noise from {noise}), "
            "QRS Se / +P % (missed / extra):\n",
            "| condition | " + " | ".join(f"`{d}`" for d in names) + " |",
            "|---|" + "---:|" * len(names),
            *(f"| {c} | " + " | ".join(cell(dev[c].get(d)) for d in names) + " |" for c in dev),
        ]
    test = latest_json_lines(
        path, lambda x: (x["detector"], x["corpus"]) if x.get("side") == "test" else None
    )
    if test:
        # Pan-Tompkins: the study's own DS2 line, else studies/detector.py's line of the corpus
        pt_path = results / "detector.jsonl"
        pt = (
            latest_json_lines(pt_path, lambda x: (x["detector"], x.get("corpus")))
            if pt_path.is_file()
            else {}
        )
        pt |= {k: x for k, x in test.items() if k[0] == "pan-tompkins"}
        out += ["", "Test corpora, read after the rule (QRS Se / +P %, missed / extra):\n"]
        out += ["| corpus | `pan-tompkins` | learned detector | time per hour |", "|---|---:|---:|---:|"]
        for (det, corpus), x in test.items():
            if det == "pan-tompkins":
                continue
            ref = pt.get(("pan-tompkins", corpus))
            hour = x.get("seconds_per_hour")
            out.append(
                f"| {corpus} | {cell(None if ref is None else _qrs(ref.get('gross', ref)))} | "
                f"`{det}` {cell(_qrs(x.get('gross', x)))} | {'–' if hour is None else f'{hour:.2f} s'} |"
            )
    return "\n".join(out)


def _qrs(g: dict) -> dict:
    """A gross line in the dev table's keys."""
    if "qrs_se" in g:
        return {"se": g["qrs_se"], "pp": g["qrs_pp"], "fn": g["fn"], "fp": g["fp"]}
    return g


def af_s_gate_table(results: Path) -> str:
    """studies/af_s_gate.py: each beat model alone and as `annotate --rhythm` writes it, on the
    validation side the rule read and the test side read after (the latest line of each)."""
    path = results / "af_s_gate.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/af_s_gate.py --record ...`.*"
    # since the fourth round a recording called AF as a whole is relabelled too: rows of their own
    latest = latest_json_lines(
        path,
        lambda x: (
            (x["rhythm"], x.get("whole_recording", False), x["model"], x["side"])
            if x.get("study") == "af_s_gate"
            else None
        ),
    )

    def arrow(a: float, b: float, pct: bool, digits: int = 3) -> str:
        return f"{_pct(a)} → {_pct(b)}" if pct else f"{a:.{digits}f} → {b:.{digits}f}"

    rows = []
    for (rhythm, whole, model, side), x in latest.items():
        c, m = x["cinc_af"], x["mitdb" if side == "validation" else "ds2"]
        normal = x.get("cinc_normal")
        rows.append(
            f"| `{rhythm}`{' and the whole recording' if whole else ''} | `{model}` | {side} | {c['records']} | {arrow(c['kept']['S'], c['relabelled']['S'], True)} | "
            + (
                "–"
                if normal is None
                else f"{arrow(normal['kept']['S'], normal['relabelled']['S'], True)} / {_pct(normal['kept']['V'])}"
            )
            + f" | {'validation patients' if side == 'validation' else 'DS2'}: "
            f"{arrow(m['kept']['s_f1'], m['relabelled']['s_f1'], False)} | "
            f"{arrow(m['kept']['macro_f1'], m['relabelled']['macro_f1'], False, 4)} |"
        )
    return (
        "Each cell the beat model alone → as `annotate --rhythm` writes it with the rhythm model of its row.\n\n"
        "| rhythm model | beat model | side | CinC AF records | CinC AF beats called S % | CinC normal-rhythm beats called "
        "S % / V % | MIT-BIH S F1 (reference R peaks) | MIT-BIH macro-F1 |\n"
        "|---|---|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows)
    )


def vt_runs_table(results: Path) -> str:
    """studies/vt_runs.py: the runs of possible VT `annotate` reports, against MIT-BIH's reference and on
    CinC's test split (the latest line of each model)."""
    path = results / "vt_runs.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/vt_runs.py --record ...`.*"
    latest = latest_json_lines(path, lambda x: x["model"] if x.get("study") == "vt_runs" else None)
    rows = []
    for model, x in latest.items():
        m, c = x["mitdb"], x["cinc2017"]
        rows.append(
            f"| `{model}` | {_pct(m['run_se'])} ({m['reference_vt_runs']}) | {_pct(m['run_pp'])} "
            f"({m['reported_vt_runs']}) | {m['false_per_hour']:.2f} | {m['vt_episodes_found']} of "
            f"{m['vt_episodes']} | {c['A']['per_hour']:.2f} | {c['N']['per_hour']:.2f} |"
        )
    return (
        "| beat model | MIT-BIH VT runs found % (reference runs) | reported runs that are VT % (reported) | "
        "false VT runs per hour | MIT-BIH `(VT` episodes found | CinC AF records: VT runs per hour | "
        "CinC normal-rhythm records: VT runs per hour |\n|---|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
    )


def af_burden_table(results: Path) -> str:
    """studies/af_burden.py: the AF burden and the AF episodes of 30 s or more `annotate --rhythm` reports,
    against MIT-BIH's annotated AF and where there is none (the latest line of each model)."""
    path = results / "af_burden.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/af_burden.py --record ...`.*"
    latest = latest_json_lines(path, lambda x: x["model"] if x.get("study") == "af_burden" else None)
    rows = []
    for model, x in latest.items():
        m, c, t = x["mitdb"], x["cinc2017_test"], x["mitdb"]["tallies"]
        cinc = " / ".join(f"{_pct(c[k]['share_flagged'])}" for k in ("A", "N", "O") if k in c)
        rows.append(
            f"| `{model}` | {_pct(m['episode_se'])} ({t['ref_eps']}) | {_pct(m['episode_pp'])} ({t['eps']}) | "
            f"{_pct(m['duration_se'])} | {_pct(m['duration_pp'])} | {100 * m['burden_abs_error_af_records']:.1f} | "
            f"{m['false_episodes_per_hour_without_af']:.2f} | {x['icentia11k']['false_episodes_per_hour']:.2f} | "
            f"{_pct(x['aftdb']['flagged'])} | {cinc} |"
        )
    return (
        "| rhythm model | MIT-BIH AF episodes found % (reference episodes of 30 s or more) | reported episodes "
        "in AF % (reported) | AF time inside reported episodes % | reported episode time in AF % | burden "
        "error, AF records (points) | false episodes per hour, MIT-BIH records without AF | Icentia11k: "
        "false episodes per hour | aftdb records with an episode % | CinC test split, recordings of 30 s or "
        "more with an episode %: A / N / O |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
    )


def _gate_latest(results: Path) -> dict:
    """The latest line of each (records, gate, threshold, noise) of studies/quality_gate.py's record
    (lines before the learned gate have no "gate": the template-matching index)."""
    path = results / "quality_gate.jsonl"
    if not path.is_file():
        return {}
    return latest_json_lines(
        path,
        lambda line: (
            (line["set"], line.get("gate", "sqi"), line.get("min_correlation"), json.dumps(line.get("noise")))
            # not the bounds, nor --icentia's or --indices' diagnoses
            if "oracle_window_s" not in line and "segment" not in line and "indices" not in line
            else None
        ),
    )


def gate_measured(ref: str, results: Path, snr_db: float | None) -> dict | None:
    """The gate `ref`'s latest line on DS2, clean (`snr_db` None) or with electrode motion at `snr_db`."""
    for line in reversed(list(_gate_latest(results).values())):
        n = line.get("noise")
        if line["set"] != "DS2" or line.get("gate") != ref or isinstance(n, str):
            continue
        if (n is None and snr_db is None) or (n is not None and n["kind"] == "em" and n["snr_db"] == snr_db):
            return line
    return None


def _gate_row(line: dict) -> str:
    n = line["noise"]
    level = "clean" if n is None else f"{n['kind']} {n['snr_db']:g} dB"
    return (
        f"| {line['set']} | {_gate_name(line)} | {level} | **{_pct(line['beats_kept'])}** | "
        f"{_pct(line['qrs_se_kept'])} | **{_pct(line['qrs_pp_kept'])}** | {_pct(line['qrs_pp_ungated'])} |"
    )


def _gate_name(line: dict) -> str:
    gate = line.get("gate", "sqi")
    return f"sqi {line['min_correlation']:g}" if gate == "sqi" else f"`{gate}`"


GATE_HEADER = (
    "| records | gate | noise | beats kept % | QRS Se % (kept) | QRS +P % (kept) | QRS +P % (no gate) |\n"
    "|---|---|---|---:|---:|---:|---:|\n"
)


def quality_table(results: Path) -> str:
    """The quality gates on DS2, clean and with NSTDB electrode motion, and on pure noise (the latest line
    of each condition of studies/quality_gate.py's record)."""
    latest = _gate_latest(results)
    if not latest:
        return "*Not measured in this checkout: run `python studies/quality_gate.py --record ...`.*"
    rows = [_gate_row(line) for line in latest.values() if not isinstance(line.get("noise"), str)]
    # one row a noise and gate (a run on other records measures the same Gaussian noise again)
    noisy = {(x["noise"], _gate_name(x)): x for x in latest.values() if isinstance(x.get("noise"), str)}
    noise = [
        f"| {name} | {gate} | {x['detected']:,} | **{x['kept']:,}** | {_pct(x.get('readable_share'))} |"
        for (name, gate), x in noisy.items()
    ]
    if not noise:
        return GATE_HEADER + "\n".join(rows)
    return (
        GATE_HEADER
        + "\n".join(rows)
        + "\n\nPure noise, no ECG in it (what `annotate` classifies is the beats kept):\n\n"
        + "| noise | gate | beats detected | beats kept | windows readable % |\n|---|---|---:|---:|---:|\n"
        + "\n".join(noise)
    )


def gate_lines(ref: str, results: Path) -> str:
    """A quality model's rows of the gate table, beside the template-matching index on the same records."""
    latest = [v for v in _gate_latest(results).values() if not isinstance(v.get("noise"), str)]
    mine = [v for v in latest if v.get("gate") == ref]
    if not mine:
        return f"*Not measured yet: `python studies/quality_gate.py --gate sqi {ref} --record ...`.*"
    sets = {v["set"] for v in mine}
    rows = [_gate_row(v) for v in latest if v["set"] in sets and v.get("gate", "sqi") in ("sqi", ref)]
    return GATE_HEADER + "\n".join(rows)


def af_screen_table(results: Path) -> str:
    """studies/af_screen.py's record: each af-4 variant's validation F1 per recording, by seed, and the
    mean of the seeds it ran with."""
    path = results / "af_screen.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/af_screen.py --record ...`.*"
    latest = latest_json_lines(path, lambda line: (line["variant"], line["seed"]))
    variants: dict[str, list[dict]] = {}
    for (name, _), line in latest.items():
        variants.setdefault(name, []).append(line)
    rows = []
    for name, lines in variants.items():
        f1 = [x["val_challenge_f1"] for x in lines]
        per = lines[0]["val_f1"]
        rows.append(
            f"| {name} | `{json.dumps(lines[0]['changes'])}` | {lines[0]['params']:,} | "
            f"{', '.join(f'{x:.4f}' for x in f1)} | **{sum(f1) / len(f1):.4f}** | "
            + " · ".join(f"{c} {v:.3f}" for c, v in per.items())
            + " |"
        )
    return (
        "| variant | changes to configs/af-4-cnn3.yaml | params | validation F1 by seed | mean | F1 per class (first seed) |\n"
        "|---|---|---:|---|---:|---|\n" + "\n".join(rows)
    )


def _question(line: dict) -> str:
    """What a line of studies/af_aggregation.py asked of its run. Rounds one to three score the aggregation
    candidates, always the windows' mean among them: a later line of a run replaces the earlier (they
    re-scored and regrouped their runs). The later rounds ask other questions of the same runs (the
    views, the map's eps), told by their candidates."""
    names = set(line["scores"])
    return "candidates" if "mean" in names else " ".join(sorted(names))


def af_aggregation_table(results: Path) -> str:
    """studies/af_aggregation.py's record: each aggregation's validation F1 per recording on each run
    (learned ones cross-fitted), by group, with each group's mean over its runs."""
    path = results / "af_aggregation.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/af_aggregation.py --record ...`.*"
    latest = latest_json_lines(path, lambda line: (_question(line), line["run"]))
    names = list(dict.fromkeys(n for line in latest.values() for n in line["scores"]))
    groups: dict[str, list[dict]] = {}
    for line in latest.values():
        groups.setdefault(line.get("group", "screen"), []).append(line)

    def cell(line, n):
        return f"{line['scores'][n]['challenge_f1']:.4f}" if n in line["scores"] else ""

    rows = []
    for group, lines in groups.items():
        rows += [
            f"| {group} | `{line['run']}` | " + " | ".join(cell(line, n) for n in names) + " |"
            for line in lines
        ]
        if len(lines) > 1:
            means = []
            for n in names:
                got = [line["scores"][n]["challenge_f1"] for line in lines if n in line["scores"]]
                means.append(f"**{sum(got) / len(got):.4f}**" if len(got) == len(lines) else "")
            rows.append(f"| {group} | mean | " + " | ".join(means) + " |")
    head = "| group | run | " + " | ".join(names) + " |\n|---|---|" + "---:|" * len(names)
    return head + "\n" + "\n".join(rows)


def af_student_table(results: Path) -> str:
    """studies/af_student.py's record: each student lever's validation F1 against the version it would
    follow, and whether its rule adopted it."""
    path = results / "af_student.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/af_student.py --record ...`.*"
    latest = latest_json_lines(path, lambda line: line["variant"])

    def f1(x: dict, key: str) -> str:  # lines written before the study scored int8 have no int8 score
        return "–" if x.get(key) is None else f"{x[key]:.4f}"

    rows = [
        f"| {name} | `{json.dumps(x['changes'])}` | {x['stage']} | {x['val_f1']:.4f} | {f1(x, 'val_f1_int8')} | "
        f"`{x['against']}`: {x['against_val_f1']:.4f} / {f1(x, 'against_val_f1_int8')} | "
        f"{'yes' if x['adopted'] else 'no'} |"
        for name, x in latest.items()
    ]
    return (
        "| lever | changes to configs/af-4-cnn3-student.yaml | stage published | validation F1 | int8 | "
        "the version it would follow (float / int8) | adopted |\n|---|---|---|---:|---:|---|---|\n"
        + "\n".join(rows)
    )


def long_recordings_table(results: Path) -> str:
    """`heartzoo annotate` by hours of signal (benchmarks/annotate_long.py's record: the latest line of
    each code measured and length)."""
    path = results / "annotate_long.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python benchmarks/annotate_long.py --record ...`.*"
    latest = latest_json_lines(path, lambda line: (line.get("note", ""), line["format"], line["hours"]))
    rows = [
        f"| {x.get('note', '')} | {x['format'].split(',')[0]} | {x['hours']:g} | {x['beats']:,} | "
        f"{x['wall_s']:g} | {x['s_per_hour']:g} | {x['peak_rss_mb']:,} |"
        for x in latest.values()
    ]
    return (
        "| code | file | hours | beats | wall s | s per hour of signal | peak memory, MB |\n"
        "|---|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows)
    )
