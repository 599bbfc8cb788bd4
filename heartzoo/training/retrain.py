"""`heartzoo zoo retrain NAME@vN`: train a published version's recipe again and check that it makes the
same model (`heartzoo.zoo.retrain_checks` holds the record and its rules).

The recipe is the version's own configuration.json (the config that made it, as published), trained
into a run folder without publishing, by the code of this checkout, which must be one clean commit. A
finished run made elsewhere (e.g. `heartzoo train CONFIG --no-publish` in a worktree at an older commit)
can stand in for the training: its config must be the recipe's, names aside, and its stages trained at
one clean commit, which the check then names.
"""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from pathlib import Path

from ..environment import LOCAL, Environment
from ..errors import HeartzooError
from ..meta import TrainingMachine
from ..zoo.retrain_checks import CLEAN_COMMIT_PATTERN, RetrainingCheck, Scores, add_check, made_again


def history_rows(path: Path) -> list[dict[str, str]]:
    """history.csv without its wall-clock column, the one column that differs between identical runs."""
    with Path(path).open(newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _clean_commit_of(commits: list[str] | None, what: str) -> str:
    """The one clean commit a check may name (unlike `meta.one_clean_commit`, which judges a published
    record, this refuses anything else)."""
    import re

    if not commits or len(commits) != 1 or not re.match(CLEAN_COMMIT_PATTERN, commits[0]):
        raise HeartzooError(
            f"{what} at {commits or 'no recorded commit'}: a check needs one clean commit (commit or stash "
            "the changes, or train in a clean worktree), else it says nothing about any commit's recipe"
        )
    return commits[0]


def check_recipe_places(config, recipe: str) -> None:
    """A published recipe is data from the zoo: where it runs, it may name zoo models and folders under
    the current one (the zoo's own teachers are `NAME@vN` or `runs/...`), never an absolute path or a
    tracking store that the run would read from or send its parameters to."""
    distill = config.compress.distill
    places = {
        "compress.distill.teacher": distill.teacher if distill is not None else None,
        "data.shards": config.data.shards,
    }
    for field, value in places.items():
        if value is not None and (Path(value).is_absolute() or value.startswith("~")):
            raise HeartzooError(
                f"{recipe}: field {field!r} is {value!r:.120}, outside the current folder; a published recipe "
                "is run only where it names zoo models and folders under the current one"
            )
    if config.logging.mlflow_tracking_uri is not None:
        raise HeartzooError(
            f"{recipe}: field 'logging.mlflow_tracking_uri' names a tracking store "
            f"({config.logging.mlflow_tracking_uri!r:.120}); a published recipe is run only with the run "
            "folder's own (mlruns)"
        )


def retrain(
    ref: str,
    zoo: str | os.PathLike[str],
    *,
    run: str | os.PathLike[str] | None = None,
    env: Environment = LOCAL,
    record: bool = True,
    callbacks: list | None = None,
) -> RetrainingCheck:
    """Train (or take `run`) the recipe of the published version `ref`, compare, and with `record`
    append the check to the zoo's checks.json and write its index again (the recommendation reads it).
    `env` and `callbacks` go to the training, as `heartzoo train` passes them."""
    from ..config import load_config
    from ..evaluation.evaluate import load_run
    from ..integrity import require_intact
    from ..meta import read_metrics
    from ..version import git_commit
    from ..zoo.index import add_to_index, find, read_index, require_as_listed, version_dir
    from ..zoo.manifest import config_hash, stage_commits, stage_machines
    from .runs import finished_run, run_pipeline

    root = Path(zoo)
    entry = find(read_index(root), ref)
    ref = f"{entry['name']}@{entry['version']}"
    vdir = version_dir(root, entry)
    require_intact(vdir, entry["files"])  # its recipe and numbers as published, not as edited since
    if record:
        require_as_listed(root)  # the index is written again after the check: refuse before the work
    recipe = f"{entry['path']}/configuration.json"
    config = load_config(vdir / "configuration.json")
    check_recipe_places(config, recipe)
    if run is None:
        _clean_commit_of([c] if (c := git_commit()) else None, "this checkout is")
        out = run_pipeline(
            config,
            Path("runs") / "retrain" / f"{entry['name']}-{entry['version']}",
            publish=False,
            env=env,
            callbacks=callbacks,
        )
    else:
        made = load_config(Path(run) / "config.json")
        if config_hash(made.model_copy(update={"name": config.name})) != config_hash(config):
            raise HeartzooError(f"{run}: its config is not {recipe} (names aside); it cannot stand for {ref}")
        config = config.model_copy(update={"name": made.name})
        out = finished_run(config, run)
    last = Path(out["final"])  # the stage the recipe publishes
    commit = _clean_commit_of(stage_commits(last), f"{last} was trained")

    model, cfg = load_run(last)
    val, test = export_scores(model, cfg, out["selected"]["val_macro_f1"], replace(env, progress=None))
    m = read_metrics(vdir)
    published_history = vdir / "history.csv"
    same = (
        history_rows(published_history) == history_rows(last / "history.csv")
        if published_history.is_file()
        else None
    )
    published = Scores(val_macro_f1=m.val_macro_f1, test_float_macro_f1=m.float.macro_f1)
    now = Scores(val_macro_f1=val, test_float_macro_f1=test)
    check = RetrainingCheck(
        ref=ref,
        recipe=recipe,
        retrained_at=commit,
        published=published,
        now=now,
        same_history=same,
        made_again=made_again(published, now, same),
        retrained_on=stage_machines(last),
    )
    if record:
        add_check(root, check)
        add_to_index(root)
    return check


def export_scores(model, config, stage_val: float, env: Environment = LOCAL) -> tuple[float, float]:
    """(validation, test float macro-F1) of a trained model as `heartzoo export` scores a version: a
    per-recording task's windows made one by its aggregation fitted on validation, whose cross-fitted
    macro-F1 is then the validation score (`zoo.publish`); else `stage_val`, the training's own."""
    from ..evaluation.evaluate import evaluate_model, fitted_aggregation
    from ..tasks import get_task

    aggregation, cross_fitted = (
        fitted_aggregation(model, config, env) if get_task(config.task).per_recording else (None, None)
    )
    report = evaluate_model(model, config, "test", env=env, aggregation=aggregation)
    return (stage_val if cross_fitted is None else cross_fitted), report["macro_f1"]


def why_not_made_again(ref: str, root: Path, retrained_on: list[TrainingMachine] | None) -> str:
    """`why_another_model` for a retraining check of `ref` (in the zoo at `root`) that did not make it again."""
    from ..meta import read_metrics
    from ..zoo.index import find, read_index
    from ..zoo.remade import same_kind, why_another_model

    trained_on = read_metrics(Path(root) / find(read_index(root), ref)["path"]).trained_on
    same = same_kind(retrained_on, trained_on)
    if same is None:  # as `retrain_checks.verdicts` weighs it: nothing excuses the difference
        return (
            "One side records no machine, so no machine kind excuses the difference: the check counts against "
            "the recipe, and the recommendation passes over the version."
        )
    return why_another_model(same)
