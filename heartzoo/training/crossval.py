"""Patient-fold cross-validation over the training pool: a selection signal from every training patient.

The validation draw holds out a fifth of the pool's patients (five on DS1 alone, and five patients rank
models poorly: the leaderboard shows it). `cross_validate` trains a config once per fold of whole
training patients (DS1's 22, or DS1 + svdb's 100), each fold held out once, and pools the held-out
(out-of-fold) predictions of all folds into one report over every training patient. DS2 is never loaded.

Only the training stage is cross-validated: a distilled config's teacher has seen every training
patient, so its out-of-fold numbers would leak; such configs are refused. Each fold keeps its best
epoch on its own held-out patients (as `heartzoo train` does), which flatters every config alike: good
for ranking configs, not an estimate of DS2.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import HeartzooConfig
from ..data.folds import FOLD_FILE, fold_config, fold_records
from ..environment import LOCAL, Environment
from ..errors import ConfigError, HeartzooError
from ..io import atomic_path, write_json
from ..tasks import get_task

CV_FILE = "cv.json"


def _check(config: HeartzooConfig) -> None:
    if refused := config.out_of_fold_refusal():
        hint = (
            "; cross-validate the teacher's config or an undistilled one"
            if refused[0] == "compress.distill"
            else ""
        )
        raise ConfigError(f"{config.where}: field '{refused[0]}' {refused[1]}{hint}")
    if config.model is None:
        raise ConfigError(f"{config.where}: field 'model' is required to cross-validate")
    if config.ensemble is not None:
        raise ConfigError(
            f"{config.where}: field 'ensemble' asks for several seeds, and cv trains one model per fold; "
            "cross-validate its first member (`heartzoo cv --first-member`) or the recipe without it"
        )


def _out_of_fold(cfg: HeartzooConfig, fold_dir: Path, env: Environment) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of the fold's best-epoch model on its held-out patients, and their labels (also
    kept in the fold's oof.npz). Recomputed each time, as cheap as it is, so they never outlive a model."""

    from ..evaluation.evaluate import split_probabilities
    from ..evaluation.metrics import scored_units
    from ..integrity import load_keras

    model = load_keras(fold_dir / "model.keras")
    probs, labels, ws = split_probabilities(model, cfg, "val", env=replace(env, progress=None))
    if cfg.export.aggregation == "mean":
        probs, labels = scored_units(
            get_task(cfg.task), probs, labels, ws.record
        )  # per recording, as its test
    else:
        from ..evaluation.aggregation import cross_fitted

        # fitted as export fits it on validation recordings, here on four fifths of the fold's held-out
        # recordings for each fifth: no recording is scored by a map fitted on it
        probs, labels = cross_fitted(probs, labels, ws.record, cfg.export.aggregation)
    with atomic_path(fold_dir / "oof.npz", suffix=".npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, probs=probs, labels=labels)
    return probs, labels


def cross_validate(
    config: HeartzooConfig,
    run_dir: str | os.PathLike[str],
    *,
    folds: int = 5,
    seed: int = 0,
    env: Environment = LOCAL,
    callbacks: list | None = None,
    first_member: bool = False,
    restart: bool = False,
) -> dict[str, Any]:
    """Train `config` on each fold into `run_dir/fold-<i>` (with `restart`, each from scratch) and write
    `run_dir/cv.json`. With
    `first_member`, a seed ensemble's recipe is cross-validated by its first member (seed `train.seed`,
    named `<name>-seed<seed>`): one model per fold, as for any recipe.

    A fold already trained is not trained again, and a killed fold resumes at its last epoch, so the
    command can simply be run again. Returns the report written to cv.json: the pooled out-of-fold
    report (`pooled`), each fold's records, best epoch and macro-F1, and their mean and spread.
    """
    from .train import train

    if first_member:
        from ..models.ensemble import member_config

        if config.ensemble is None:
            raise ConfigError(f"{config.where}: first_member needs a seed ensemble (field 'ensemble')")
        config = member_config(config, config.train.seed)
    _check(config)
    run_dir = Path(run_dir)
    try:
        parts = fold_records(config, folds, seed, env.data_dir)
    except ValueError as exc:
        raise HeartzooError(f"{config.name}: folds={folds}: {exc}") from None
    held_out = []
    for i, records in enumerate(parts):
        cfg = fold_config(config, records)
        fold_dir = run_dir / f"fold-{i}"
        held = ", ".join(records) if len(records) <= 30 else f"{len(records)} recordings"
        env.say(f"fold {i} ({i + 1} of {folds}, folder fold-{i}): holding out {held}")
        # each fold's own steps stay quiet: the fold is the unit a reader follows
        result = train(cfg, fold_dir, env=replace(env, progress=None), callbacks=callbacks, restart=restart)
        write_json(fold_dir / FOLD_FILE, {"fold": i, "folds": folds, "seed": seed, "records": list(records)})
        held_out.append((records, result.best_epoch, result.epochs_run, *_out_of_fold(cfg, fold_dir, env)))
    return _written(config, run_dir, seed, held_out)


def _written(config: HeartzooConfig, run_dir: Path, seed: int, held_out: list[tuple]) -> dict[str, Any]:
    """The cross-validation's report, written to cv.json, from each fold's (records, best epoch, epochs
    run, out-of-fold probabilities, labels)."""
    from ..evaluation.metrics import report_from_probabilities

    task = get_task(config.task)
    rows = []
    for i, (records, best_epoch, epochs_run, probs, labels) in enumerate(held_out):
        rep = report_from_probabilities(probs, labels, task.class_names, task.macro_classes)
        rows.append(
            {
                "fold": i,
                "records": list(records),
                "best_epoch": best_epoch,
                "epochs_run": epochs_run,
                "beats": len(labels),
                "support": {c: rep["per_class"][c]["support"] for c in task.class_names},
                "macro_f1": rep["macro_f1"],
            }
        )
    pooled = report_from_probabilities(
        np.concatenate([h[3] for h in held_out]),
        np.concatenate([h[4] for h in held_out]),
        task.class_names,
        task.macro_classes,
    )
    per_fold = np.array([r["macro_f1"] for r in rows])
    report = {
        "name": config.name,
        "task": config.task,
        "folds": len(rows),
        "seed": seed,
        "records": sorted(r for row in rows for r in row["records"]),
        "pooled": pooled,
        "fold_macro_f1_mean": float(per_fold.mean()),
        "fold_macro_f1_std": float(per_fold.std(ddof=1)) if len(rows) > 1 else 0.0,
        "per_fold": rows,
        "config": config.model_dump(mode="json"),
    }
    write_json(run_dir / CV_FILE, report)
    return report


def members_cross_validation(
    config: HeartzooConfig, run_dir: str | os.PathLike[str], *, env: Environment = LOCAL
) -> dict[str, Any]:
    """A fold ensemble's members are a cross-validation of its recipe (member k trained without fold k
    and chose its epoch on it): the report `cross_validate` writes, read from a finished run's members
    without training anything, and written to `run_dir/cv.json`."""
    from ..io import read_json
    from ..models.ensemble import check_folds, member_configs
    from ..zoo.manifest import MANIFEST, Manifest

    if not config.fold_ensemble:
        raise ConfigError(
            f"{config.where}: field 'ensemble.by' is not 'fold': its members are no cross-validation"
        )
    run_dir = Path(run_dir)
    if not (run_dir / MANIFEST).is_file():
        raise HeartzooError(f"{run_dir}: not a run of {config.name} (no {MANIFEST}): train it first")
    try:
        manifest = Manifest.open(run_dir, config)
    except ConfigError:
        raise ConfigError(
            f"{run_dir}: the run was made by another configuration than {config.name}'s: its members are that "
            "configuration's cross-validation, not this one's"
        ) from None
    stages = {s["stage"]: s for s in manifest.stages}
    members = member_configs(config, env.data_dir)
    if unfinished := [s for s in members if f"member-seed{s}" not in stages]:
        raise HeartzooError(f"{run_dir}: member seed {unfinished[0]} has not finished ({MANIFEST})")
    check_folds(config, run_dir, env.data_dir)
    held_out = []
    for seed, cfg in members.items():
        trained = read_json(run_dir / "members" / f"seed{seed}" / "train_summary.json")
        oof = _out_of_fold(cfg, run_dir / stages[f"member-seed{seed}"]["dir"], env)
        held_out.append((cfg.data.validation.records, trained["best_epoch"], trained["epochs_run"], *oof))
    return _written(config, run_dir, config.data.validation.seed, held_out)
