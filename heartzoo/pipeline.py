"""`heartzoo train CONFIG`: train (or distil) -> channel pruning -> magnitude pruning -> export and
publish, each stage in its own folder under the run, each skipped when its result is already there,
so a crash in export does not retrain. A config with an `ensemble` section runs that line once per
member seed (under <run>/members/) and publishes the average of the members' last stages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .config import HeartzooConfig
from .data.cache import atomic_path, write_json
from .integrity import load_keras
from .tasks import get_task

#: The folder each stage after training keeps its model in, under the run folder.
STAGE_FOLDERS = {"channel_prune": "channel-pruned", "magnitude_prune": "sparse", "qat": "qat"}


def _done(stage_dir: Path) -> bool:
    return (stage_dir / "model.keras").exists() and (stage_dir / "train_summary.json").exists()


def run_pipeline(
    config: HeartzooConfig,
    run_dir: str | os.PathLike[str],
    *,
    zoo: str | os.PathLike[str] | None = None,
    publish: bool = True,
    cache_dir=None,
    restart: bool = False,
    callbacks: list | None = None,
    progress=None,
) -> dict[str, Any]:
    from .train import build_from_config, train

    say = progress or (lambda _msg: None)
    run_dir = Path(run_dir)
    if config.ensemble is not None:
        out = _run_ensemble(
            config, run_dir, cache_dir=cache_dir, restart=restart, callbacks=callbacks, say=say
        )
        if publish:
            out["published"] = _publish(run_dir, zoo, cache_dir, say)
        return out
    task = get_task(config.task)
    shape = (1, config.input.frame_size, config.input.channels)
    rr = bool(config.model and config.model.rr_features)
    if config.model is None:
        build_from_config(config)  # raises the ConfigError that names the missing section
    arch = {"arch": config.model.arch, "params": dict(config.model.params)}
    out: dict[str, Any] = {"stages": []}

    teacher = None
    dc = config.compress.distill
    if dc is not None and not _done(run_dir):
        from .compress.distill import check_compatible
        from .evaluate import load_run

        teacher, teacher_cfg = load_run(dc.teacher)
        check_compatible(config, teacher_cfg)
    say("train" if dc is None else f"distil from {dc.teacher}")
    result = train(
        config,
        run_dir,
        cache_dir=cache_dir,
        restart=restart,
        callbacks=callbacks,
        teacher=teacher,
        progress=say,
    )
    write_json(run_dir / "arch.json", arch)
    applied = ["distill" if dc else "train"]
    write_json(run_dir / "applied.json", applied)
    out["stages"].append(
        {"stage": "distill" if dc else "train", "dir": str(run_dir), "val_macro_f1": result.best_val_macro_f1}
    )
    last = run_dir

    cp = config.compress.channel_prune
    if cp is not None:
        from .compress.prune_channels import thin_model

        stage = run_dir / STAGE_FOLDERS["channel_prune"]
        say("channel pruning")
        if not _done(stage):
            parent = load_keras(last / "model.keras")
            thin, params = thin_model(
                parent, arch["arch"], arch["params"], shape, task.num_classes, rr, cp.keep, cp.criterion
            )
            arch = {"arch": arch["arch"], "params": params}
            res = train(config, stage, cache_dir=cache_dir, callbacks=callbacks, build=lambda: thin,
                        epochs=cp.finetune_epochs, learning_rate=cp.learning_rate, progress=say)  # fmt: skip
            write_json(stage / "arch.json", arch)
        else:
            arch = json.loads((stage / "arch.json").read_text())
            res = train(config, stage, cache_dir=cache_dir)
        applied.append("channel_prune")
        write_json(stage / "applied.json", applied)
        out["stages"].append(
            {"stage": "channel_prune", "dir": str(stage), "val_macro_f1": res.best_val_macro_f1, **arch}
        )
        last = stage

    # The tfmot stages: both train the tf_keras twin of the previous stage's model.
    for kind, settings, label in (
        ("magnitude_prune", config.compress.magnitude_prune, "magnitude pruning"),
        ("qat", config.compress.qat, "quantization-aware fine-tuning"),
    ):
        if settings is None:
            continue
        stage = run_dir / STAGE_FOLDERS[kind]
        say(label)
        if not _done(stage):
            _tfmot_stage(config, last, stage, arch, shape, rr, cache_dir, kind, settings)
        applied.append(kind)
        write_json(stage / "applied.json", applied)
        summary = json.loads((stage / "train_summary.json").read_text())
        out["stages"].append({**summary, "stage": kind, "dir": str(stage)})
        last = stage

    out["final"] = str(last)
    if publish:
        out["published"] = _publish(last, zoo, cache_dir, say, record=run_dir / "published.json")
    return out


def _publish(final: Path, zoo, cache_dir, say, *, record: Path | None = None) -> str:
    """Export and publish the run's final model once; a rerun reads where it went."""
    from .zoo import publish as publish_run

    record = record or final / "published.json"
    if record.exists():
        return json.loads(record.read_text())["path"]
    say("export and publish")
    target = publish_run(final, zoo, cache_dir=cache_dir, progress=say)
    write_json(record, {"path": str(target)})
    return str(target)


def _run_ensemble(
    config: HeartzooConfig, run_dir: Path, *, cache_dir, restart, callbacks, say
) -> dict[str, Any]:
    """Every member's whole line in <run>/members/seed<k>, then their average in the run folder itself
    (model.keras, config.json, train_summary.json), where a teacher path or `heartzoo evaluate` finds it."""
    from .ensemble import member_config
    from .train import prepare_run_dir

    prepare_run_dir(config, run_dir, restart=restart)
    seeds = config.ensemble.seeds(config.train.seed)
    finals: dict[int, Path] = {}
    out: dict[str, Any] = {"stages": [], "final": str(run_dir)}
    for i, seed in enumerate(seeds):
        tell = lambda msg, i=i, seed=seed: say(f"member {i + 1}/{len(seeds)} (seed {seed}): {msg}")  # noqa: E731
        res = run_pipeline(member_config(config, seed), run_dir / "members" / f"seed{seed}", publish=False,
                           cache_dir=cache_dir, callbacks=callbacks, progress=tell)  # fmt: skip
        finals[seed] = Path(res["final"])
        last = res["stages"][-1]
        out["stages"].append({**last, "stage": f"member seed{seed} ({last['stage']})", "dir": res["final"]})
    if not _done(run_dir):
        say(f"average of {len(seeds)} members")
        _average_members(config, run_dir, finals, [st["val_macro_f1"] for st in out["stages"]], cache_dir)
    summary = json.loads((run_dir / "train_summary.json").read_text())
    out["stages"].append({"stage": "ensemble", "dir": str(run_dir), "val_macro_f1": summary["val_macro_f1"]})
    return out


def _average_members(
    config: HeartzooConfig, run_dir: Path, finals: dict[int, Path], member_val, cache_dir
) -> None:

    from .ensemble import average_logits
    from .evaluate import split_probabilities
    from .metrics import classification_report
    from .models import describe

    members = {s: load_keras(d / "model.keras") for s, d in finals.items()}
    model = average_logits(members, config)
    task = get_task(config.task)
    probs, labels, _ = split_probabilities(model, config, "val", cache_dir=cache_dir)
    val = classification_report(labels, probs.argmax(axis=1), task.class_names, task.macro_classes)
    first = next(iter(finals.values()))
    write_json(run_dir / "arch.json", json.loads((first / "arch.json").read_text()))
    write_json(run_dir / "applied.json", [*json.loads((first / "applied.json").read_text()), "ensemble"])
    with atomic_path(run_dir / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    # written last: with model.keras it marks the average as done
    summary = {"stage": "ensemble", "name": config.name, "task": config.task, "arch": config.model.arch,
               "seeds": list(finals), "members": [str(d) for d in finals.values()],
               "member_val_macro_f1": member_val, "val_macro_f1": val["macro_f1"],
               "val_frames": len(labels), **describe(model)}  # fmt: skip
    write_json(run_dir / "train_summary.json", summary)


def _tfmot_stage(
    config, parent_dir: Path, stage: Path, arch, shape, rr, cache_dir, kind: str, settings
) -> None:
    """Magnitude pruning or quantization-aware fine-tuning of the parent stage's model (both train the
    tf_keras twin with tfmot on the same batch stream), its validation macro-F1, and the stage folder."""
    import shutil

    import numpy as np

    from .compress.prune_magnitude import magnitude_prune, sparsity_of
    from .compress.qat import quantization_aware_finetune
    from .data.pipeline import model_inputs
    from .metrics import classification_report
    from .train import load_task_split, predict_logits, prepare_run_dir, softmax, training_stream

    task = get_task(config.task)
    tc = config.train
    train_ws, train_y = load_task_split(config, "train", cache_dir=cache_dir)
    val_ws, val_y = load_task_split(config, "val", cache_dir=cache_dir)
    ds, steps = training_stream(config, train_ws, train_y, seed=tc.seed)
    parent = load_keras(parent_dir / "model.keras")
    common = (parent, arch["arch"], arch["params"], shape, task.num_classes, rr, ds, steps)
    if kind == "magnitude_prune":
        model = magnitude_prune(*common, settings.epochs, settings.sparsity, settings.learning_rate)
    else:
        model = quantization_aware_finetune(*common, settings.epochs, settings.learning_rate)
    probs = softmax(predict_logits(model, model_inputs(val_ws, rr)))
    macro = task.macro_classes
    val = classification_report(val_y, probs.argmax(axis=1), task.class_names, macro)
    prepare_run_dir(config, stage)
    with atomic_path(stage / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    if (parent_dir / "history.csv").exists():
        shutil.copy2(parent_dir / "history.csv", stage / "history.csv")
    write_json(stage / "arch.json", arch)
    summary = {"stage": kind, **settings.model_dump(), "val_macro_f1": val["macro_f1"], "parent": str(parent_dir),
               "val_frames": len(val_y), "params": int(model.count_params()),
               "nonzero_params": int(sum(int(np.count_nonzero(np.asarray(w))) for w in model.weights)),
               "sparsity_of_kernels": round(sparsity_of(model), 4)}  # fmt: skip
    write_json(stage / "train_summary.json", summary)
