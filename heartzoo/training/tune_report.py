"""What a search leaves: the best trial's config as YAML ready for `heartzoo train`, and a report (every
trial, parameter importances, the objective's trajectory as a PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import HeartzooConfig
from ..io import atomic_path
from .search_space import SearchSpace, with_values

BEST_FILE = "best.yaml"
REPORT_FILE = "report.md"
TRAJECTORY_FILE = "trajectory.png"


def trial_rows(study) -> list[dict[str, Any]]:
    """One row per trial, in order: number, state, value, values, size, why it stopped early."""
    rows = []
    for t in study.trials:
        size = t.user_attrs.get("size") or {}
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value,
                "params": dict(t.params),
                "tflite_bytes": size.get("tflite_bytes"),
                "macs": size.get("macs"),
                "epochs": len(t.intermediate_values),
                "note": t.user_attrs.get("rejected") or t.user_attrs.get("note", ""),
            }
        )
    return rows


def best_config(study, config: HeartzooConfig, space: SearchSpace, name: str | None = None) -> HeartzooConfig:
    """The base config with the best complete trial's values, named `name` (default NAME-tuned)."""
    return with_values(config, space, dict(study.best_trial.params), name or f"{config.name}-tuned")


def write_best(study, config: HeartzooConfig, space: SearchSpace, out: Path, name: str | None = None) -> Path:
    import yaml

    best = best_config(study, config, space, name)
    t = study.best_trial
    header = (
        f"# Found by `heartzoo tune` (study {study.study_name}): trial {t.number} of {len(study.trials)}, "
        f"validation macro-F1 {t.value:.4f}.\n# Values: {dict(t.params)}\n"
    )
    body = yaml.safe_dump(best.model_dump(mode="json", exclude_none=True), sort_keys=False)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(header + body)
    return out


def importances(study) -> dict[str, float]:
    """Optuna's fANOVA parameter importances over the complete trials ({} with fewer than two)."""
    import optuna
    from optuna.trial import TrialState

    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if len(complete) < 2 or len({t.value for t in complete}) < 2:
        return {}
    return dict(optuna.importance.get_param_importances(study))


def trajectory(study, out: Path) -> Path:
    """Each complete trial's validation macro-F1 and the best so far, by trial number."""
    from matplotlib.figure import Figure
    from optuna.trial import TrialState

    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    fig = Figure(figsize=(6.4, 3.4), dpi=120)
    ax = fig.add_subplot()
    xs = [t.number for t in done]
    ys = [t.value for t in done]
    best, run = [], float("-inf")
    for y in ys:
        run = max(run, y)
        best.append(run)
    last = max((t.number for t in study.trials), default=0)
    ax.plot(xs, ys, "o", label="trial", color="tab:blue")
    if best:  # none when every trial was refused or pruned: the picture shows those alone
        ax.step([*xs, last], [*best, *best[-1:]], where="post", label="best so far", color="tab:orange")
    # a pruned trial at its last reported score; one refused for its size has none
    stopped = [
        (t.number, t.intermediate_values[max(t.intermediate_values)])
        for t in study.trials
        if t.state == TrialState.PRUNED and t.intermediate_values
    ]
    if stopped:
        ax.plot(*zip(*stopped, strict=True), "x", color="grey", label="pruned (score when stopped)")
    refused = [t.number for t in study.trials if "rejected" in t.user_attrs]
    for n in refused:
        ax.axvline(n, color="lightgrey", lw=6, zorder=0)
    if refused:
        ax.plot([], [], color="lightgrey", lw=6, label="refused: over the size limits")
    ax.set_xlabel("trial")
    ax.set_ylabel("validation macro-F1")
    ax.set_title(f"{study.study_name}: objective by trial")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return out


def write_report(
    study, config: HeartzooConfig, space: SearchSpace, run_dir: Path, *, hours: float | None = None
) -> Path:
    """report.md, trajectory.png and best.yaml in `run_dir`."""
    run_dir = Path(run_dir)
    trajectory(study, run_dir / TRAJECTORY_FILE)
    names = list(space.params)
    lines = [
        f"# Search: {study.study_name}",
        "",
        f"Base config `{config.name}`, {len(study.trials)} trials; objective: validation macro-F1 of the "
        "stage export.stage selects, on whole held-out patients (the test set is never loaded). "
        f"Constraints, checked before training: {space.constraints.model_dump()}.",
        "",
    ]
    if hours is not None:
        lines += [f"Process time of this search: {hours:.2f} CPU-hours.", ""]
    lines += [
        "| trial | state | validation macro-F1 | epochs | "
        + " | ".join(names)
        + " | .tflite B | MACs | note |",
        "|---:|---|---:|---:|" + "---|" * len(names) + "---:|---:|---|",
    ]
    for r in trial_rows(study):
        value = "" if r["value"] is None else f"{r['value']:.4f}"
        vals = " | ".join(_fmt(r["params"].get(n)) for n in names)
        size = "" if r["tflite_bytes"] is None else f"{r['tflite_bytes']:,}"
        macs = "" if r["macs"] is None else f"{r['macs']:,}"
        lines.append(
            f"| {r['number']} | {r['state']} | {value} | {r['epochs']} | {vals} | {size} | {macs} | {r['note']} |"
        )
    imp = importances(study)
    lines += ["", "## Parameter importances (fANOVA)", ""]
    lines += [f"- `{k}`: {v:.3f}" for k, v in imp.items()] or ["Fewer than two complete trials that differ."]
    lines += ["", "## Objective by trial", "", f"![objective by trial]({TRAJECTORY_FILE})", ""]
    try:
        write_best(study, config, space, run_dir / BEST_FILE)
        t = study.best_trial
        lines += [f"Best: trial {t.number}, validation macro-F1 {t.value:.4f}, written to `{BEST_FILE}`."]
    except ValueError:  # no complete trial: a best config another search left here is not this one's
        (run_dir / BEST_FILE).unlink(missing_ok=True)
        lines += ["No trial completed: no best config."]
    out = run_dir / REPORT_FILE
    with atomic_path(out) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)
