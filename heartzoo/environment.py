"""Where a job runs: the data and cache folders it reads, whom it tells how it goes, and the devices it
trains on. One object, made once by the caller (the CLI, a script, a test) and handed down unchanged
through training, evaluation, export and publication, instead of four loose parameters at every level."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Environment:
    """`data_dir`, `cache_dir`: None means heartzoo's defaults (`heartzoo.paths`: the environment
    variable, then the per-user folder). `progress(message)` hears each step; the library never prints.
    `strategy`: a tf.distribute strategy for the stages that train with Keras, None for one device."""

    data_dir: str | os.PathLike[str] | None = None
    cache_dir: str | os.PathLike[str] | None = None
    progress: Callable[[str], Any] | None = None
    strategy: Any = None

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    @property
    def folders(self) -> dict[str, Any]:
        """The data layer's own parameters: `load_split(config, split, **env.folders)`."""
        return {"data_dir": self.data_dir, "cache_dir": self.cache_dir}


LOCAL = Environment()
