"""The beat-lever screen's table (studies/beat_levers.py's record) for docs/training.md, and its rule.

Each lever: its overrides, the seeds it ran, then the mean and s.d. over them of what selection may read
(validation macro-F1 and S F1; on CinC 2017 training-split recordings, the share of AF beats called S and
of normal-rhythm beats called V) and of what only measures (DS2 macro-F1 and S F1), and whether the rule
adopts it. The rule, fixed before any run: mean validation macro-F1 above the baseline's, and the mean AF
S share not above the baseline's; a lever stacked on the adopted combination (`template-af-beats-...`)
passes it against that combination too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SIGNALS = {
    "val": lambda r: r["val"]["macro_f1"],
    "val_S": lambda r: r["val"]["f1"].get("S", np.nan),
    "af_S": lambda r: r["cinc_validation"]["af_share_s"],
    "normal_V": lambda r: r["cinc_validation"]["normal_share_v"],
    "ds2": lambda r: r["ds2"]["macro_f1"],
    "ds2_S": lambda r: r["ds2"]["f1"].get("S", np.nan),
}


def read_rows(path: Path, config: str | None = None) -> list[dict]:
    """The record's runs (the latest of each config, lever and seed), of `config` alone when given."""
    from ..io import latest_json_lines

    mine = latest_json_lines(
        path,
        lambda r: (r["config"], r["lever"], r["seed"]) if config is None or r["config"] == config else None,
    )
    return list(mine.values())


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Per lever: its overrides, seeds, and [mean, s.d.] over the seeds of every signal."""
    out: dict[str, dict] = {}
    for lever in dict.fromkeys(r["lever"] for r in rows):
        mine = [r for r in rows if r["lever"] == lever]
        out[lever] = {"overrides": mine[0]["overrides"], "seeds": sorted(r["seed"] for r in mine)}
        for k, get in SIGNALS.items():
            a = np.array([get(r) for r in mine], dtype=float)
            out[lever][k] = [float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0]
    return out


#: the combination the wearable recipe adopted: a lever stacked on it must beat it too
COMBINATION = "template-af-beats"
#: the recipes a lever may be stacked on: "<recipe>-<lever>" must pass the rule against the recipe too
RECIPES = (COMBINATION, "template-on-time")


def adopted(summary: dict[str, dict]) -> dict[str, bool]:
    """The rule: mean validation macro-F1 above the baseline's, mean AF S share not above it (and above
    and not above those of the recipe it is stacked on: `RECIPES`)."""

    def beats(s: dict, ref: dict) -> bool:
        return s["val"][0] > ref["val"][0] and s["af_S"][0] <= ref["af_S"][0]

    out = {}
    for lever, s in summary.items():
        if lever == "baseline":
            continue
        refs = [summary["baseline"]]
        refs += [summary[r] for r in RECIPES if lever.startswith(r + "-") and r in summary]
        out[lever] = all(beats(s, ref) for ref in refs)
    return out


def lever_table(results: Path) -> str:
    path = results / "beat_levers.jsonl"
    if not path.is_file():
        return "*Not measured in this checkout: run `python studies/beat_levers.py ... --record ...`.*"
    rows = read_rows(path)
    out = []
    for config in dict.fromkeys(r["config"] for r in rows):
        summary = summarise([r for r in rows if r["config"] == config])
        rule = adopted(summary) if "baseline" in summary else {}
        out.append(
            f"**{config}**\n\n| lever | overrides | seeds | validation macro-F1 | validation S F1 | "
            "CinC AF beats called S | CinC normal beats called V | DS2 macro-F1 | DS2 S F1 | adopted |\n"
            "|---|---|---|---:|---:|---:|---:|---:|---:|---|"
        )
        for lever, s in summary.items():
            cells = [_cell(s[k]) for k in ("val", "val_S")]
            cells += [f"{100 * s[k][0]:.1f} % ± {100 * s[k][1]:.1f}" for k in ("af_S", "normal_V")]
            cells += [_cell(s[k]) for k in ("ds2", "ds2_S")]
            verdict = "(the reference)" if lever == "baseline" else ("yes" if rule.get(lever) else "no")
            out[-1] += (
                f"\n| {lever} | `{json.dumps(s['overrides'])}` | {', '.join(map(str, s['seeds']))} | "
                + " | ".join(cells)
                + f" | {verdict} |"
            )
        if len(summary) > 2:
            out.append(ranking_lines(summary))
    return "\n\n".join(out)


def _cell(v: list[float]) -> str:
    """mean ± s.d.; a dash where the task has no such class (beat-2 has no S)."""
    return "–" if np.isnan(v[0]) else f"{v[0]:.4f} ± {v[1]:.4f}"


def ranking_lines(summary: dict[str, dict]) -> str:
    """How each selection signal ranks the levers against DS2: Spearman's rho over the levers' means
    (a low share of AF beats called S is good, so its sign is as measured: + means the two agree that
    more S calls go with more DS2 S F1)."""
    from scipy.stats import spearmanr

    names = list(summary)
    rows = []
    for sig, title in (
        ("val", "validation macro-F1"),
        ("val_S", "validation S F1"),
        ("af_S", "CinC AF beats called S"),
        ("normal_V", "CinC normal beats called V"),
    ):
        cells = [
            spearmanr([summary[n][sig][0] for n in names], [summary[n][t][0] for n in names]).statistic
            for t in ("ds2", "ds2_S")
        ]
        rows.append(f"| {title} | {cells[0]:+.2f} | {cells[1]:+.2f} |")
    return (
        f"How each signal ranks the {len(names)} levers against DS2 (Spearman's rho over their means):\n\n"
        "| signal | with DS2 macro-F1 | with DS2 S F1 |\n|---|---:|---:|\n" + "\n".join(rows)
    )
