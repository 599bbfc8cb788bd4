"""`heartzoo train CONFIG`: a run is a list of stages run by one loop, recorded in one manifest.

The stages a config asks for, in order: train (or distil from a teacher), channel pruning, magnitude
pruning, quantization-aware fine-tuning; then export and publication. Each stage keeps its model in its
own folder under the run (train: the run folder itself) and is recorded in `<run>/manifest.json` once
done: its folder, the architecture it left (channel pruning thins it), the steps applied so far, its
validation macro-F1 and the hash of the configuration it ran. A rerun skips the recorded stages, so a
crash in export does not retrain; an interrupted training stage resumes at its last finished epoch
(`train.py` keeps the epoch state). A config with an `ensemble` section runs that line once per member
seed (under <run>/members/) and publishes the average of the members' last stages.
"""

from __future__ import annotations

import os
import shutil
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import HeartzooConfig
from ..environment import LOCAL, Environment
from ..errors import ConfigError
from ..integrity import load_keras
from ..io import atomic_path, check_outside_zoo, write_json
from ..tasks import get_task
from ..zoo.manifest import MANIFEST, STAGE_FOLDERS, Manifest, config_hash, selected_stage, stage_rule

LABELS = {
    "channel_prune": "channel pruning",
    "magnitude_prune": "magnitude pruning",
    "qat": "quantization-aware fine-tuning",
}


@dataclass
class Context:
    """What every stage of one run needs besides its parent: where things are, and whom to tell."""

    config: HeartzooConfig
    run_dir: Path
    env: Environment = LOCAL
    zoo: Any = None
    callbacks: list | None = None

    def say(self, message: str) -> None:
        self.env.say(message)

    def folder(self, stage: str) -> Path:
        return self.run_dir / STAGE_FOLDERS[stage]


def _done(folder: Path) -> bool:
    return (folder / "model.keras").exists() and (folder / "train_summary.json").exists()


def _record(ctx: Context, stage: str, arch: dict, applied: list[str], val_macro_f1: float, **extra) -> dict:
    from ..version import git_commit
    from .machine import this_machine

    rel = STAGE_FOLDERS[stage]
    # the code that trained the stage: a card names it beside the code that exported the model
    return {
        "stage": stage,
        "dir": rel,
        "arch": arch,
        "applied": applied,
        "val_macro_f1": val_macro_f1,
        "config_sha256": config_hash(ctx.config),
        "commit": git_commit(),
        "machine": this_machine(),  # a recipe is deterministic on one kind of processor
        "state": "done",
        **extra,
    }


class Stage:
    """One step of the line: `run` trains it from its parent's record and returns its own."""

    name: str
    distributed = True  # trains on every worker of a multi-worker strategy

    def run(self, ctx: Context, parent: dict[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError


class Train(Stage):
    """Train from scratch, or distil from the teacher the config names (a zoo NAME@vN or a run)."""

    def __init__(self, distill: bool) -> None:
        self.name = "distill" if distill else "train"

    def run(self, ctx: Context, parent: dict[str, Any] | None) -> dict[str, Any]:
        from .train import train

        config, teacher = ctx.config, None
        dc = config.compress.distill
        if dc is not None and not _done(ctx.run_dir):
            from .teacher import load_teacher

            teacher = load_teacher(config, zoo=ctx.zoo, cache_dir=ctx.env.cache_dir)
        ctx.say("train" if dc is None else f"distil from {dc.teacher}")
        res = train(config, ctx.run_dir, env=ctx.env, callbacks=ctx.callbacks, teacher=teacher)
        arch = {"arch": config.model.arch, "params": dict(config.model.params)}
        return _record(ctx, self.name, arch, [self.name], res.best_val_macro_f1)


class ChannelPrune(Stage):
    name = "channel_prune"

    def run(self, ctx: Context, parent: dict[str, Any] | None) -> dict[str, Any]:
        import keras

        from ..compress.prune_channels import thin_model
        from ..preprocess import Preprocessor
        from .train import train

        config, cp = ctx.config, ctx.config.compress.channel_prune
        folder = ctx.folder(self.name)
        ctx.say(LABELS[self.name])
        source = load_keras(ctx.run_dir / parent["dir"] / "model.keras")
        arch, pre = parent["arch"], Preprocessor.of(config)
        # A new model's dropout layers draw their seeds from the global RNG (set_weights copies none):
        # seeded here, as the first stage is before it builds, the fine-tune depends on the parent
        # model and the config alone, not on what ran before it in this process, so a run grafted
        # from a distilled model (studies/prune_keep.py) trains the model a whole run trains.
        keras.utils.set_random_seed(config.train.seed)
        thin, params = thin_model(
            source,
            arch["arch"],
            arch["params"],
            pre.ecg_shape,
            get_task(config.task).num_classes,
            pre.rr_inputs,
            cp.keep,
            cp.criterion,
        )
        res = train(
            config,
            folder,
            env=ctx.env,
            callbacks=ctx.callbacks,
            build=lambda: thin,
            epochs=cp.finetune_epochs,
            learning_rate=cp.learning_rate,
            select=cp.select,
        )
        arch = {"arch": arch["arch"], "params": params}
        return _record(ctx, self.name, arch, [*parent["applied"], self.name], res.best_val_macro_f1)


class Tfmot(Stage):
    """Magnitude pruning or quantization-aware fine-tuning of the parent's model (both train the
    tf_keras twin with tfmot on the same batch stream). tf_keras and tfmot take no strategy here: under
    one, these short fine-tunes of a small model run on the chief alone."""

    distributed = False

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, ctx: Context, parent: dict[str, Any] | None) -> dict[str, Any]:
        import shutil

        import keras
        import numpy as np

        from ..compress.legacy import tfmot_and_tf_keras
        from ..compress.prune_magnitude import magnitude_prune, sparsity_of
        from ..compress.qat import quantization_aware_finetune
        from ..data.prepare import load_task_split
        from ..evaluation.metrics import classification_report
        from ..inference import predict_probs
        from ..preprocess import Preprocessor
        from .losses import loss_of
        from .train import prepare_run_dir, training_input_of

        config, folder = ctx.config, ctx.folder(self.name)
        settings = getattr(config.compress, self.name)
        ctx.say(LABELS[self.name])
        # tf_keras's dropout draws from TensorFlow's global seed and op counter: seeded here, as
        # ChannelPrune is, the stage does not depend on what ran before it in this process.
        keras.utils.set_random_seed(config.train.seed)
        task, pre = get_task(config.task), Preprocessor.of(config)
        val_ws, val_y = load_task_split(config, "val", **ctx.env.folders)
        # what the first stage trained on: the shards streamed, or max_train_frames with the AF negatives
        ds, steps, epochs, counts = training_input_of(config, val_ws.meta["records"], **ctx.env.folders)
        epochs.start_at(0, None)  # from the seed: this stage fine-tunes whole, with no place to resume
        parent_dir = (ctx.run_dir / parent["dir"]).resolve()
        source = load_keras(parent_dir / "model.keras")
        arch = parent["arch"]
        common = (
            source,
            arch["arch"],
            arch["params"],
            pre.ecg_shape,
            task.num_classes,
            pre.rr_inputs,
            ds,
            steps,
        )
        # the first stage's loss (focal, label smoothing, AF beats' allowed sets), built in tf_keras
        loss = loss_of(config, tfmot_and_tf_keras()[1])
        if self.name == "magnitude_prune":
            model = magnitude_prune(*common, settings.epochs, settings.sparsity, settings.learning_rate, loss)
        else:
            pruned = "magnitude_prune" in parent["applied"]  # its zeros stay zeros
            model = quantization_aware_finetune(
                *common, settings.epochs, settings.learning_rate, pruned, loss
            )
        probs = predict_probs(model, val_ws.model_inputs(pre))
        val = classification_report(val_y, probs.argmax(axis=1), task.class_names, task.macro_classes)
        prepare_run_dir(config, folder)
        with atomic_path(folder / "model.keras", suffix=".keras") as tmp:
            model.save(tmp)
        if (parent_dir / "history.csv").exists():
            shutil.copy2(parent_dir / "history.csv", folder / "history.csv")
        summary = {
            "stage": self.name,
            **settings.model_dump(),
            "val_macro_f1": val["macro_f1"],
            "parent": parent["dir"],
            "val_frames": len(val_y),
            "train_frames": int(counts.sum()),
            "params": int(model.count_params()),
            "nonzero_params": int(sum(int(np.count_nonzero(np.asarray(w))) for w in model.weights)),
            "sparsity_of_kernels": round(sparsity_of(model), 4),
        }
        write_json(folder / "train_summary.json", summary)
        extra = {k: summary[k] for k in ("params", "nonzero_params", "sparsity_of_kernels")}
        return _record(ctx, self.name, arch, [*parent["applied"], self.name], val["macro_f1"], **extra)


def plan(config: HeartzooConfig) -> list[Stage]:
    """The stages `config` asks for, in the order they run."""
    c = config.compress
    stages: list[Stage] = [Train(c.distill is not None)]
    if c.channel_prune is not None:
        stages.append(ChannelPrune())
    stages += [Tfmot(kind) for kind in ("magnitude_prune", "qat") if getattr(c, kind) is not None]
    return stages


def run_pipeline(
    config: HeartzooConfig,
    run_dir: str | os.PathLike[str],
    *,
    zoo: str | os.PathLike[str] | None = None,
    publish: bool = True,
    env: Environment = LOCAL,
    restart: bool = False,
    callbacks: list | None = None,
) -> dict[str, Any]:
    """Run every stage of `config` into `run_dir` (skipping those the manifest records), then export
    and publish the one `export.stage` selects into the zoo, once per stage selected (the answer's
    "selected" is its record, "final" its folder). With a tf.distribute `env.strategy`, the stages that train
    with Keras run on all its replicas (`distribute.py`); under a multi-worker one, call this on every
    worker: the chief runs the rest and writes the run, the others return after its last such stage."""
    from ..compress.checks import check_compressible
    from .distribute import check_distributable, worker_of
    from .teacher import teacher_folder, validation_seen
    from .threads import pin_threads
    from .tracking import check_trackers
    from .train import build_from_config, prepare_run_dir, removed_if_refused

    if config.model is None:
        build_from_config(config)  # raises the ConfigError that names the missing section, before TF starts
    check_trackers(config)  # no TensorFlow either
    if publish:
        from ..zoo.index import check_publishable

        check_publishable(zoo, config)  # before hours of training, not after
    pin_threads()  # before a teacher or anything else starts TensorFlow
    build_from_config(config)  # a value Keras refuses (kernel 0) is the config's error, before any stage
    check_compressible(config)  # and a compression step that cannot apply to the model
    run_dir = Path(run_dir)
    check_outside_zoo(run_dir, what="a run", option="--run-dir")  # before a teacher is fetched
    ctx = Context(config, run_dir, env, zoo, callbacks)
    worker = worker_of(env.strategy)
    if worker.count > 1:  # every worker, the chief too, before any stage
        check_distributable(config)
    if not worker.is_chief:
        return _run_worker(ctx, restart)
    if config.compress.distill is not None and (restart or not _done(run_dir)):
        teacher = teacher_folder(config, zoo=zoo, cache_dir=env.cache_dir)  # a wrong one leaves no run folder
        if note := validation_seen(config, teacher, env.data_dir):
            ctx.say(f"note: {note}")
            warnings.warn(note, stacklevel=2)
    fresh = restart or not run_dir.exists()
    prepare_run_dir(config, run_dir, restart=restart)
    with removed_if_refused(run_dir, fresh):
        manifest = Manifest.open(run_dir, config)
        final = _run_ensemble(ctx, manifest) if config.ensemble is not None else _run_stages(ctx, manifest)
    out: dict[str, Any] = {"stages": _located(run_dir, manifest.stages), **_selection(run_dir, final)}
    if publish:
        # a rerun whose export.stage now selects another stage publishes that one as a new version, and
        # one given another zoo (or whose version was removed) publishes into the zoo it is given
        if (
            manifest.published is None
            or manifest.published_stage != final["dir"]
            or not _published_in(Path(manifest.published), zoo)
        ):
            from ..zoo.index import publish as publish_run

            ctx.say("export and publish")
            target = publish_run(run_dir / final["dir"], zoo, env=env)
            manifest.published, manifest.published_stage = str(target.resolve()), final["dir"]
            manifest.save()
        out["published"] = manifest.published
    return out


def finished_run(config: HeartzooConfig, run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """`run_pipeline`'s answer (but "published") for a run of `config` whose every stage is done, read
    without running or writing anything (a run finished at another commit stays that commit's); an error
    otherwise."""
    run_dir = Path(run_dir)
    if not (run_dir / MANIFEST).is_file():
        raise ConfigError(f"{run_dir / MANIFEST}: missing; not a heartzoo run folder")
    manifest = Manifest.open(run_dir, config)
    if config.ensemble is not None:
        wanted = [f"member-seed{s}" for s in config.ensemble.seeds(config.train.seed)] + ["ensemble"]
    else:
        wanted = [stage.name for stage in plan(config)]
    stages = [manifest.get(name) for name in wanted]
    missing = [n for n, r in zip(wanted, stages, strict=True) if r is None or not _done(run_dir / r["dir"])]
    if missing:
        raise ConfigError(f"{run_dir}: stages {', '.join(missing)} are not finished; finish the run first")
    final = selected_stage(stages, stage_rule(config.model_dump(mode="json")))
    return {"stages": _located(run_dir, stages), **_selection(run_dir, final)}


def _published_in(version: Path, zoo) -> bool:
    """Whether the version a run published is still there, in the zoo `zoo` names."""
    from ..zoo.index import zoo_dir

    root = zoo_dir(zoo).resolve()
    return (version / "metrics.json").is_file() and version.resolve().is_relative_to(root)


def stage_to_export(folder: str | os.PathLike[str]) -> Path:
    """The folder `heartzoo export RUN` exports: for the folder of a run with later stages than its first
    (compression, an ensemble's members), the stage `export.stage` selects, as `heartzoo train` publishes
    it, once every stage is finished (an error names those that are not); any other folder as it is. The
    run's folder holds its first stage, which exported alone was published under a configuration that
    says it was compressed."""
    from ..config import load_config

    folder = Path(folder)
    if not (folder / MANIFEST).is_file() or not (folder / "config.json").is_file():
        return folder
    config = load_config(folder / "config.json")
    if config.ensemble is None and len(plan(config)) == 1:
        return folder
    return Path(finished_run(config, folder)["final"])


#: what the first stage leaves in its run folder (the run's root)
FIRST_STAGE_FILES = ("model.keras", "train_summary.json", "history.csv", "state.json")


def graft(source: Path, first: dict[str, Any], run: Path, config: HeartzooConfig) -> None:
    """Start `run` as a run of `config` whose first stage is `source`'s (its manifest record `first`;
    copied, not trained again): the later stages then train what a whole run of `config` trains."""
    from .train import prepare_run_dir

    if (run / MANIFEST).is_file():
        return  # grafted before: the run resumes where it stopped
    prepare_run_dir(config, run)
    for name in FIRST_STAGE_FILES:
        shutil.copy2(source / name, run / name)
    digest = config_hash(config)
    Manifest(run / MANIFEST, digest, [{**first, "config_sha256": digest, "grafted_from": str(source)}]).save()


def _selection(run_dir: Path, rec: dict[str, Any]) -> dict[str, Any]:
    """The published stage's record ("selected") and folder ("final"), both located."""
    selected = _located(run_dir, [rec])[0]
    return {"selected": selected, "final": selected["dir"]}


def _located(run_dir: Path, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stage records as `run_pipeline` answers them: each `dir` resolved from the run folder."""
    return [{**s, "dir": str((run_dir / s["dir"]).resolve())} for s in stages]


def _run_worker(ctx: Context, restart: bool) -> dict[str, Any]:
    """A non-chief worker's share of the line: each distributed stage the chief will run, in the same
    order (the manifest, read only, says which are done; with `restart`, none), writing nothing of the
    run."""
    _run_stages(ctx, None if restart else Manifest.open(ctx.run_dir, ctx.config), worker=True)
    return {"stages": [], "final": None, "worker": True}


def _run_stages(ctx: Context, manifest: Manifest | None, *, worker: bool = False) -> dict[str, Any] | None:
    """The line's stages in order, each skipped where `manifest` records it done; the chief records
    each one it runs, and returns the record of the stage to publish (`export.stage`). A non-chief
    `worker` runs only the distributed stages, up to the first that is not (the chief runs that one
    alone), and records nothing."""
    done: list[dict[str, Any]] = []
    for stage in plan(ctx.config):
        if worker and not stage.distributed:
            break
        rec = manifest.get(stage.name) if manifest is not None else None
        if rec is None or not _done(ctx.run_dir / rec["dir"]):
            rec = stage.run(ctx, done[-1] if done else None)
            if not worker:
                manifest.put(rec)
        done.append(rec)
    return selected_stage(done, stage_rule(ctx.config.model_dump(mode="json"))) if done else None


def _run_ensemble(ctx: Context, manifest: Manifest) -> dict[str, Any]:
    """Every member's whole line in <run>/members/seed<k>, then their average in the run folder itself
    (model.keras, config.json, train_summary.json), where a teacher path or `heartzoo evaluate` finds it."""
    from ..models.ensemble import member_configs

    config = ctx.config
    finals: list[dict[str, Any]] = []
    members = member_configs(config, ctx.env.data_dir)
    seeds = list(members)
    for i, seed in enumerate(seeds):
        tell = lambda msg, i=i, seed=seed: ctx.say(f"member {i + 1}/{len(seeds)} (seed {seed}): {msg}")  # noqa: E731
        where = Path("members") / f"seed{seed}"
        res = run_pipeline(
            members[seed],
            ctx.run_dir / where,
            publish=False,
            zoo=ctx.zoo,
            # the members train one after another, each on one device
            env=replace(ctx.env, progress=tell, strategy=None),
            callbacks=ctx.callbacks,
        )
        last = dict(res["selected"])  # the member's stage its export.stage selects
        last.update(
            stage=f"member-seed{seed}",
            member_stage=last["stage"],
            dir=str(where / Path(res["final"]).relative_to((ctx.run_dir / where).resolve())),
        )
        manifest.put(last)
        finals.append(last)
    rec = manifest.get("ensemble")
    if rec is None or not _done(ctx.run_dir):
        ctx.say(f"average of {len(seeds)} members")
        rec = _average_members(ctx, seeds, finals)
        manifest.put(rec)
    return rec


def _average_members(ctx: Context, seeds: list[int], finals: list[dict[str, Any]]) -> dict[str, Any]:
    from ..evaluation.evaluate import split_probabilities
    from ..evaluation.metrics import classification_report
    from ..models import describe
    from ..models.ensemble import average_logits

    config, run_dir = ctx.config, ctx.run_dir
    members = {s: load_keras(run_dir / f["dir"] / "model.keras") for s, f in zip(seeds, finals, strict=True)}
    model = average_logits(members, config)
    task = get_task(config.task)
    probs, labels, _ = split_probabilities(model, config, "val", env=ctx.env)
    val = classification_report(labels, probs.argmax(axis=1), task.class_names, task.macro_classes)
    member_val = [f["val_macro_f1"] for f in finals]
    with atomic_path(run_dir / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    # written last: with model.keras it marks the average as done
    summary = {
        "stage": "ensemble",
        "name": config.name,
        "task": config.task,
        "arch": config.model.arch,
        "seeds": seeds,
        "members": [f["dir"] for f in finals],
        "member_val_macro_f1": member_val,
        "val_macro_f1": val["macro_f1"],
        "val_frames": len(labels),
        **describe(model),
    }
    write_json(run_dir / "train_summary.json", summary)
    return _record(
        ctx,
        "ensemble",
        finals[0]["arch"],
        [*finals[0]["applied"], "ensemble"],
        val["macro_f1"],
        member_val_macro_f1=member_val,
    )
