"""A model card's external tests, never used to train or select: "On other devices" (the Icentia11k patch
and CinC 2017's AliveCor recordings, studies/external.py) and, for a model that never saw svdb, that
database (studies/cross_database.py); the leaderboards' false-call cells read the same lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..io import latest_json_lines
from ..zoo.published import uses_svdb


def external_text(name: str, version: str, cfg: dict[str, Any], results: Path) -> str:
    """The external tests: on other devices (studies/external.py), and the cross-database test of a
    model that never saw svdb (studies/cross_database.py), from the results in `results`."""
    return svdb_text(name, version, cfg, results) + devices_text(f"{name}@{version}", results)


def svdb_text(name: str, version: str, cfg: dict[str, Any], results: Path) -> str:
    """The cross-database test of a model that never saw svdb, as studies/cross_database.py recorded it."""
    results = results / "cross_database.jsonl"
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
        f"`python studies/cross_database.py {name}`.\n"
    )


def external_lines(results: Path) -> dict[str, dict[str, Any]]:
    """NAME@VERSION -> the latest line of studies/external.py's record (empty when not measured)."""
    path = results / "external.jsonl"
    if not path.is_file():
        return {}
    return {line["model"]: line for line in map(json.loads, filter(str.strip, path.read_text().splitlines()))}


def false_call_cell(line: dict[str, Any] | None, classes: list[str]) -> str:
    """ "S in AF / V in NSR" (beat-2: ectopic in both) of studies/external.py's line, in %, S in AF also as
    `annotate --rhythm` writes it where measured ("18.7 → 2.7 / 1.9"); – unmeasured."""
    if line is None:
        return "–"
    af, nsr = false_call_classes(classes)
    c = line["cinc2017"]
    alone = f"{100 * c['A']['share'][af]:.1f}"
    if c.get("rhythm") and af == "S":  # -> as `annotate --rhythm` writes them
        alone += f" → {100 * c['A']['with_rhythm']['share'][af]:.1f}"
    return f"{alone} / {100 * c['N']['share'][nsr]:.1f}"


def false_call_classes(classes: list[str]) -> tuple[str, str]:
    """The class whose calls are false in AF (S; beat-2's ectopic) and the proxy in normal rhythm (V)."""
    return ("S" if "S" in classes else "ectopic"), ("V" if "V" in classes else "ectopic")


def icentia_segments(line: dict[str, Any]) -> list[str]:
    """The Icentia11k segments an external-test line (studies/external.py) holds, read either way."""
    return sorted({r for kind in ("detected", "reference") for r in line["icentia11k"][kind]["records"]})


def devices_text(ref: str, results: Path) -> str:
    """ "On other devices": the external tests of studies/external.py (heartzoo.recording.external)."""
    line = external_lines(results).get(ref)
    if line is None:
        return ""
    c, ic = line["cinc2017"], line["icentia11k"]
    af, nsr = false_call_classes(c["classes"])

    def pct(x: float | None, digits: int = 2) -> str:
        return "–" if x is None else f"{100 * x:.{digits}f}"

    rows = []
    for kind, label in (
        ("detected", "default detector and gate (`sqi`)"),
        ("reference", "reference R peaks"),
    ):
        for record, e in ic[kind]["records"].items():
            rows.append(
                f"| {record} | {label} | {pct(e['qrs_se'])} | {pct(e['qrs_pp'])} | {pct(e['veb_se'])} | "
                f"{pct(e['veb_pp'])} |"
            )
    a, n = c["A"], c["N"]
    two = nsr != af  # beat-2 calls both kinds of false alarm "ectopic": one column

    def row(label: str, e: dict[str, Any], bold: str) -> str:
        cells = [pct(e["share"][k], 1) for k in (af, nsr)[: 1 + two]]
        cells = [f"**{x}**" if k == bold else x for x, k in zip(cells, (af, nsr), strict=False)]
        return (
            f"| {label} ({e['records']}) | {e['beats']:,} | {cells[0]} | "
            f"{e['records_with_any'][af]} of {e['records_with_beats']} |" + (f" {cells[1]} |" if two else "")
        )

    segments = icentia_segments(line)
    silent = a["records"] - a["records_with_beats"] + n["records"] - n["records_with_beats"]
    return (
        "\n## On other devices\n\nExternal tests on recordings from wearable devices this model never saw, "
        "through the whole path a user takes (`heartzoo annotate`: default detector, quality gate, int8), "
        "never used to train or select; `python studies/external.py` (`heartzoo.recording.external`).\n\n"
        f"**Icentia11k chest patch** (250 Hz, EC57 from the first sample; {len(segments)} segments of "
        f"{len({r.split('_')[0] for r in segments})} patients, so a VEB number is one patient's PVCs):\n\n"
        "| segment | R peaks | QRS Se % | QRS +P % | VEB Se % | VEB +P % |\n|---|---|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + f"\n\n**CinC 2017 AliveCor** (lead I from the fingers, 300 Hz, as recorded), the "
        f"{a['records'] + n['records']:,} AF and normal-rhythm records of the committed test split:\n\n"
        f"| records | beats | called {af} % | records with any {af} call, of those with beats classified |"
        + (f" called {nsr} % |" if two else "")
        + "\n|---|---:|---:|---:|"
        + ("---:|" if two else "")
        + f"\n{row('atrial fibrillation', a, af)}\n{row('normal sinus rhythm', n, nsr)}\n\n"
        + (
            f"{silent} of the records had no beat classified (the quality gate read none of their windows). "
            if silent
            else ""
        )
        + (
            f"AAMI defines no S beat in atrial fibrillation, so every {af} call in an AF record is false. In "
            f"normal-rhythm records the {nsr} calls are a proxy for false alarms: those records may hold a few "
            "real ectopic beats.\n"
            if two
            else f"The {af} calls are a proxy for false alarms, not all false: AAMI defines no S beat in atrial "
            f"fibrillation, but ventricular ectopic beats occur in it, and {af} holds both; normal-rhythm records "
            "may hold a few real ectopic beats too.\n"
        )
        + _with_rhythm_text(c, af)
    )


def _with_rhythm_text(c: dict[str, Any], af: str) -> str:
    """The CinC shares as `annotate --rhythm` writes them (S calls inside the AF it finds relabelled N)."""
    if not c.get("rhythm") or af != "S":
        return ""
    a, n = c["A"]["with_rhythm"], c["N"]["with_rhythm"]
    return (
        f"\nWith the rhythm model `{c['rhythm']}` (`heartzoo annotate --rhythm`, which writes no S beat inside "
        f"the atrial fibrillation it finds): **{100 * a['share']['S']:.1f} %** of the AF records' beats called "
        f"S ({a['records_with_any']['S']} records with any), {100 * n['share']['S']:.1f} % of the "
        "normal-rhythm records' beats.\n"
    )


def relabelling_cost(results: Path, ref: str, rhythm: str) -> dict[str, Any] | None:
    """What `annotate --rhythm RHYTHM` does to beat model `ref` on DS2 (studies/af_s_gate.py's latest test
    line, the whole recording's class included): {"kept": ..., "relabelled": ...}, each with its macro-F1
    and S F1; None where not measured."""
    path = results / "af_s_gate.jsonl"
    if not path.is_file():
        return None
    wanted = {"model": ref, "rhythm": rhythm, "side": "test", "whole_recording": True}
    hit = latest_json_lines(
        path, lambda x: "hit" if "ds2" in x and all(x.get(k) == v for k, v in wanted.items()) else None
    ).get("hit")
    return hit["ds2"] if hit else None
