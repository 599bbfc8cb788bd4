"""A checkout of the heartzoo project: what the site build, the model cards and retraining read beside
the zoo (docs/, mkdocs.yml, results/, configs/). An installed heartzoo has none of these, so
the library never guesses them from its own path: the caller names the checkout (the CLI: the folder it
runs in, or `--checkout`), and `Checkout.find` looks for one from a folder upwards."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import HeartzooError

_PROJECT = re.compile(r'^name\s*=\s*"heartzoo"\s*$', re.MULTILINE)


@dataclass(frozen=True)
class Checkout:
    root: Path

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def mkdocs(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def results(self) -> Path:
        """What benchmarks/ and studies/ recorded, which pages and cards quote."""
        return self.root / "results"

    @property
    def configs(self) -> Path:
        return self.root / "configs"

    @property
    def zoo(self) -> Path:
        """The zoo the project publishes."""
        return self.root / "zoo"

    @classmethod
    def of(cls, root: str | os.PathLike[str]) -> Checkout:
        """The checkout at `root`; an error when it is not one."""
        root = Path(root).resolve()
        if not _is_checkout(root):
            raise HeartzooError(
                f"{root}: not a heartzoo checkout (no pyproject.toml naming heartzoo beside configs/ and docs/)"
            )
        return cls(root)

    @classmethod
    def find(cls, start: str | os.PathLike[str] | None = None) -> Checkout:
        """The checkout holding `start` (default: the working folder), looking upwards."""
        found = checkout_here(start)
        if found is None:
            raise HeartzooError(
                f"{Path(start or Path.cwd()).resolve()} is not inside a heartzoo checkout: run from one "
                "(git clone the project) or name it with --checkout"
            )
        return found


def checkout_here(start: str | os.PathLike[str] | None = None) -> Checkout | None:
    """The checkout holding `start` (default: the working folder), looking upwards; None outside one."""
    here = Path(start or Path.cwd()).resolve()
    return next((Checkout(f) for f in (here, *here.parents) if _is_checkout(f)), None)


def _is_checkout(folder: Path) -> bool:
    project = folder / "pyproject.toml"
    return (
        project.is_file()
        and (folder / "configs").is_dir()
        and (folder / "docs").is_dir()
        and bool(_PROJECT.search(project.read_text(encoding="utf-8", errors="replace")))
    )
