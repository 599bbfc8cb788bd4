"""Where data and caches live: a flag, then an environment variable, then a per-user default."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "HEARTZOO_DATA_DIR"
CACHE_DIR_ENV = "HEARTZOO_CACHE_DIR"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding dataset folders (`mitdb/`, `nstdb_noise/`, ...).

    Order: the argument, then `$HEARTZOO_DATA_DIR`, then the per-user data folder.
    """
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("heartzoo")) / "data"


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder for prepared arrays: argument, `$HEARTZOO_CACHE_DIR`, then the per-user cache."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("heartzoo"))
