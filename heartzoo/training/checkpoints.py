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
