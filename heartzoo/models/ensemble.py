"""Seed ensembles: one recipe trained K times, differing only in `train.seed` (or also in the fold of the
training data each holds out, `ensemble.by: fold`), published as one model that averages the members'
logits.

Why: on DS2 the seed alone moves one model's macro-F1 by 4 to 13 points (studies/seed_spread.py),
more than most gaps between recipes, so a single draw is as much luck as recipe. The average needs no
choice on any data, and its export is one int8 graph (the members side by side, then ADD and MUL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the config's type alone: the config module imports the models
    from ..config import HeartzooConfig

#: The layer that averages the members' logits; the members are the nested models named `seed<k>`.
MEAN_LAYER = "mean_logits"


def member_config(config: HeartzooConfig, seed: int) -> HeartzooConfig:
    """The recipe of one member: the same config with `train.seed` = `seed`, named `<name>-seed<seed>`."""
    train = config.train.model_copy(update={"seed": seed})
    return config.model_copy(update={"name": f"{config.name}-seed{seed}", "train": train, "ensemble": None})


def member_configs(config: HeartzooConfig, data_dir=None) -> dict[int, HeartzooConfig]:
    """Each member's recipe by seed: `member_config`, and for a fold ensemble (`ensemble.by: fold`) its
    fold of the training data (`heartzoo.data.folds`) as its validation side."""
    seeds = config.ensemble.seeds(config.train.seed)
    members = {s: member_config(config, s) for s in seeds}
    if config.fold_ensemble:
        from ..data.folds import fold_config, fold_records

        folds = fold_records(config, len(seeds), config.data.validation.seed, data_dir)
        members = {s: fold_config(members[s], f) for s, f in zip(seeds, folds, strict=True)}
    return members


def check_folds(config: HeartzooConfig, folder, data_dir=None) -> bool:
    """A fold ensemble's out-of-fold numbers deal the folds again from the data here: refused unless each
    member held out, as it trained, the fold dealt now (other labels or records, or another
    `data.validation.seed`, would score recordings with a member that trained on them). A run's members
    say what they held out; a published version, the digests of its folds (metrics.json
    `ensemble.folds`). False for a version published before it recorded them: nothing to check against."""
    from pathlib import Path

    from ..data.folds import fold_digest
    from ..errors import HeartzooError
    from ..io import read_json

    folder = Path(folder)
    if not (folder / "members").is_dir() and (folder / "metrics.json").is_file():
        from ..meta import read_metrics

        ensemble = read_metrics(folder).ensemble
        if ensemble is None or ensemble.folds is None:
            return False
        if len(ensemble.folds) != len(ensemble.seeds):
            raise HeartzooError(
                f"{folder / 'metrics.json'}: field 'ensemble.folds': {len(ensemble.folds)} folds recorded for "
                f"{len(ensemble.seeds)} members"
            )
        recorded = dict(zip(ensemble.seeds, ensemble.folds, strict=True))
        for seed, cfg in member_configs(config, data_dir).items():
            if recorded.get(seed) != fold_digest(cfg.data.validation.records):
                raise HeartzooError(
                    f"{folder / 'metrics.json'}: field 'ensemble.folds': member seed {seed} held out another "
                    "fold than the one dealt from the data here; its out-of-fold numbers would score what "
                    "it trained on"
                )
        return True
    for seed, cfg in member_configs(config, data_dir).items():
        saved = folder / "members" / f"seed{seed}" / "config.json"
        trained = read_json(saved)["data"]["validation"]["records"]
        if sorted(trained) != sorted(cfg.data.validation.records):
            raise HeartzooError(
                f"{saved}: field 'data.validation.records': member seed {seed} held out other records than the "
                f"fold dealt from the data here ({len(trained)} against {len(cfg.data.validation.records)}); "
                "its out-of-fold numbers would score what it trained on"
            )
    return True


def average_logits(members: dict[int, object], config: HeartzooConfig):
    """One Keras model: every member on the same inputs, their logits averaged.

    `members` maps each seed to its trained model; a member keeps its weights and becomes the nested
    model `seed<k>`, which `member_models` finds again in a saved ensemble."""
    import keras

    from ..preprocess import Preprocessor

    named = {k: keras.Input(shape, name=k) for k, shape in Preprocessor.of(config).input_shapes.items()}
    inputs = named if "rr" in named else named["ecg"]
    logits = []
    for seed, model in members.items():
        model.name = f"seed{seed}"
        logits.append(model(inputs))
    mean = keras.layers.Average(name=MEAN_LAYER)(logits)
    return keras.Model(inputs, mean, name=config.name.replace("-", "_"))


def member_models(model, config: HeartzooConfig) -> dict[int, object]:
    """The members inside an ensemble built by `average_logits`, by seed."""
    return {s: model.get_layer(f"seed{s}") for s in config.ensemble.seeds(config.train.seed)}
