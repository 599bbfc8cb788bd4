"""A run's manifest: `<run>/manifest.json` records each finished stage (its folder, the architecture it
left, the steps applied so far, its validation macro-F1, the hash of the configuration it ran) and
where the run was published. Export reads a model's steps and validation score from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import HeartzooConfig
from ..errors import ConfigError
from ..io import read_json, write_json

MANIFEST = "manifest.json"

#: The folder each stage keeps its model in, under the run folder.
STAGE_FOLDERS = {
    "train": ".",
    "distill": ".",
    "channel_prune": "channel-pruned",
    "magnitude_prune": "sparse",
    "qat": "qat",
    "ensemble": ".",
}

#: Sections that do not change what is trained: a run resumes across them and takes the new values.
AFTER_TRAINING = ("description", "logging", "export")


def config_hash(config: HeartzooConfig) -> str:
    """sha256 of what a run trains: the configuration less the sections read only after training."""
    return _dump_hash(config.model_dump(mode="json"))


def _dump_hash(dump: dict[str, Any]) -> str:
    trained = {k: v for k, v in dump.items() if k not in AFTER_TRAINING}
    return hashlib.sha256(json.dumps(trained, sort_keys=True).encode()).hexdigest()


def _same_recipe_older_schema(run_dir: Path, recorded: Any, digest: str) -> bool:
    """Whether `recorded` is the hash of the run folder's config.json as an older heartzoo wrote it, and
    that file, read by today's schema (a field added since takes its default, which trains as before),
    hashes to `digest` (today's hash of the config asked for): the same recipe, hashed before the schema
    grew a field."""
    from ..config import parse_config

    saved = run_dir / "config.json"
    try:
        raw = json.loads(saved.read_text())
        if _dump_hash(raw) != recorded:
            return False
        return config_hash(parse_config(raw, str(saved))) == digest
    except (OSError, ValueError, AttributeError):  # unreadable, not JSON, not a mapping, not a config
        return False


@dataclass
class Manifest:
    """`<run>/manifest.json`: every finished stage (in order) and where the run was published."""

    path: Path
    config_sha256: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    published: str | None = None
    published_stage: str | None = None  # the folder of the stage `published` came from

    @classmethod
    def open(cls, run_dir: Path, config: HeartzooConfig) -> Manifest:
        path = run_dir / MANIFEST
        digest = config_hash(config)
        data = read_json(path) if path.is_file() else None
        if data is None:
            # a run folder written before the manifest (heartzoo 0.1) recorded its publication apart:
            # a rerun must not publish it a second time
            legacy = run_dir / "published.json"
            return cls(path, digest, published=read_json(legacy)["path"] if legacy.is_file() else None)
        if data.get("config_sha256") != digest and not _same_recipe_older_schema(
            run_dir, data.get("config_sha256"), digest
        ):
            raise ConfigError(
                f"{path}: the run was made by a different configuration; use --restart to start it again "
                "or choose another --run-dir"
            )
        stages, published = list(data.get("stages", [])), data.get("published")
        # a run published before the stage could be chosen published its last one
        from_stage = data.get("published_stage") or (stages[-1]["dir"] if published and stages else None)
        return cls(path, digest, stages, published, from_stage)

    def get(self, stage: str) -> dict[str, Any] | None:
        return next((s for s in self.stages if s["stage"] == stage), None)

    def put(self, record: dict[str, Any]) -> None:
        self.stages = [s for s in self.stages if s["stage"] != record["stage"]] + [record]
        self.save()

    def save(self) -> None:
        write_json(
            self.path,
            {
                "config_sha256": self.config_sha256,
                "stages": self.stages,
                "published": self.published,
                "published_stage": self.published_stage,
            },
        )


def stage_rule(config: dict[str, Any]) -> str:
    """How a run of `config` (as JSON) chooses the stage it publishes: `export.stage`, but a seed
    ensemble publishes its average, its last stage (each member chose its own)."""
    return "last" if config.get("ensemble") else (config.get("export") or {}).get("stage", "last")


def selected_stage(stages: list[dict[str, Any]], how: str = "last") -> dict[str, Any]:
    """The stage record a run publishes (`export.stage`): its last, or with "best_validation" the one of
    highest validation macro-F1, the later one on a tie (more of the compression applied)."""
    if how == "last":
        return stages[-1]
    return max(enumerate(stages), key=lambda pair: (pair[1]["val_macro_f1"], pair[0]))[1]


def stage_record(folder: Path) -> dict[str, Any] | None:
    """The manifest record of the stage whose model is in `folder` (a run folder or a stage folder under
    one), or None when no manifest lists it. Export reads the steps applied from it."""
    listed = _listing(folder)
    if listed is not None:
        _, stages, i = listed
        return stages[i]
    legacy = Path(folder) / "applied.json"  # run folders written before the manifest (heartzoo 0.1)
    if legacy.is_file():
        return {"applied": read_json(legacy)}
    return None


def stage_commits(folder: Path) -> list[str] | None:
    """The commits of the code that trained the model in `folder`: those its manifest records for each
    stage up to and including its own, in order, each once (a seed ensemble's member: every stage of the
    member's own run); None where the records predate them."""
    return _stage_values(folder, "commit")


def stage_machines(folder: Path) -> list[dict[str, Any]] | None:
    """The machines that trained the model in `folder`, stage by stage as `stage_commits` reads the
    commits, each once; None where the records predate them."""
    return _stage_values(folder, "machine")


def _stage_values(folder: Path, key: str) -> list[Any] | None:
    """What the manifest records under `key` for each stage up to and including the one of `folder`, in
    order, each value once; a seed ensemble's member stands for every stage of its own run."""
    listed = _listing(folder)
    if listed is None:
        return None
    root, stages, i = listed
    values: list[Any] = []
    for rec in stages[: i + 1]:
        # a member's record is its last stage, whose own manifest lists the ones before
        found = (_stage_values(root / rec["dir"], key) or []) if "member_stage" in rec else [rec.get(key)]
        values += [v for v in found if v and v not in values]
    return values or None


def _listing(folder: Path) -> tuple[Path, list[dict[str, Any]], int] | None:
    """The manifest's folder (a run folder, or the one above a stage folder), its stages and the index
    of the record of the model in `folder`; None when no manifest lists it."""
    folder = Path(folder).resolve()
    for root in (folder, folder.parent):
        if (root / MANIFEST).is_file():
            stages = read_json(root / MANIFEST).get("stages", [])
            for i, rec in enumerate(stages):
                if (root / rec["dir"]).resolve() == folder:
                    return root, stages, i
    return None


def final_stage_dir(run_dir: Path) -> Path | None:
    """The folder of the stage a run publishes, as its manifest and config.json say (`selected_stage`),
    or None where no manifest records a stage."""
    path = Path(run_dir) / MANIFEST
    stages = read_json(path).get("stages") if path.is_file() else None
    if not stages:
        return None
    saved = read_json(Path(run_dir) / "config.json") if (Path(run_dir) / "config.json").is_file() else {}
    return Path(run_dir) / selected_stage(stages, stage_rule(saved))["dir"]


def validation_score(folder: Path) -> float | None:
    """The DS1-validation macro-F1 of the model in `folder`: its manifest record's, else what its
    train_summary.json says (the best epoch's, or a tfmot stage's or ensemble's own)."""
    rec = stage_record(folder)
    if rec is not None and rec.get("val_macro_f1") is not None:
        return float(rec["val_macro_f1"])
    summary = Path(folder) / "train_summary.json"
    if not summary.is_file():
        return None
    s = read_json(summary)
    score = s.get("val_macro_f1", s.get("best_val_macro_f1"))
    return None if score is None else float(score)
