"""What a run keeps on disk after every epoch, read without Keras: the epoch state (`state.json`), the
summary of a finished run and Keras' backup metadata. `callbacks` writes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def finished_epochs(run_dir: str | os.PathLike[str]) -> int:
    """Epochs of the run in `run_dir` whose results are safely on disk: the ones a re-run will not train
    again (what to tell a user who interrupted training; 0 when nothing was kept)."""
    run_dir = Path(run_dir)
    summary = read_state(run_dir / "train_summary.json")
    if summary is not None and (run_dir / "model.keras").exists():
        return int(summary["epochs_run"])
    state = read_state(run_dir / "state.json") or {}
    if state.get("finished") and (run_dir / "best.weights.h5").exists():
        return int(state["epochs_done"])
    backup = read_state(run_dir / "backup" / "training_metadata.json") or {}
    return int(backup.get("epoch", 0))


def interrupted_stage(run_dir: str | os.PathLike[str]) -> tuple[Path, int]:
    """(the folder of the stage that was training when a run was interrupted, its `finished_epochs`): the
    one whose epoch record was written last, the run's own or a later stage's (channel-pruned/, an
    ensemble member's), so that a user is told the epochs of the stage that resumes."""
    run_dir = Path(run_dir)
    marks = ("state.json", "train_summary.json", "history.csv", "backup/training_metadata.json")

    def written(folder: Path) -> float:
        return max(((folder / m).stat().st_mtime for m in marks if (folder / m).is_file()), default=0.0)

    folders = [run_dir, *(p.parent for p in run_dir.rglob("history.csv"))]
    folder = max(folders, key=written)
    return folder, finished_epochs(folder)


def interrupted_unsaved(run_dir: str | os.PathLike[str], planned: list[str]) -> str | None:
    """The stage of `planned` (stage names in the order they run) that was running when a run was
    interrupted, where it is one that saves no epoch (tfmot's magnitude pruning and QAT fine-tune whole,
    and start over); None where it saves its epochs (`interrupted_stage` says which)."""
    from ..zoo.manifest import MANIFEST

    path = Path(run_dir) / MANIFEST
    done = {s["stage"] for s in json.loads(path.read_text())["stages"]} if path.is_file() else set()
    running = next((name for name in planned if name not in done), None)
    return running if running in ("magnitude_prune", "qat") else None
