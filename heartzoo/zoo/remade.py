"""Is a version exported here from a published version's recipe that version again? `make demo`'s last
step: the two `.tflite` files byte for byte, and, when they differ, where each was trained.

Training is deterministic on one kind of processor, not across kinds: oneDNN's kernels sum in another
order on other vector instructions and caches (`studies/first_epoch.py --isa`). So different bytes
mean a broken recipe only when both versions record the same machine; a version trained elsewhere, or
before heartzoo recorded machines, is another model of the same recipe, and the comparison says so
with both versions' numbers instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import HeartzooError
from ..io import sha256_of
from ..meta import TrainingMachine, read_metrics

#: what makes one machine train another model (the thread pool is pinned, so not the core count)
MACHINE_KIND = ("processor", "isa", "onednn", "backend", "tensorflow", "keras", "numpy")


def same_kind(a: list[TrainingMachine] | None, b: list[TrainingMachine] | None) -> bool | None:
    """Whether two trainings' machines are of one kind (`MACHINE_KIND`); None when either records none."""
    if not a or not b:
        return None
    return len({frozenset(tuple(getattr(m, k) for k in MACHINE_KIND) for m in ms) for ms in (a, b)}) == 1


@dataclass(frozen=True)
class Side:
    """One version's `.tflite` digest, where it trained, and the numbers its metrics.json gives."""

    folder: Path
    sha256: str
    trained_on: list[TrainingMachine] | None
    val_macro_f1: float | None
    test_int8_macro_f1: float

    @classmethod
    def of(cls, folder: Path) -> Side:
        m = read_metrics(folder)  # names the folder when it holds no metrics.json
        if not (folder / "model.tflite").is_file():
            raise HeartzooError(f"{folder}/model.tflite: missing (not an exported version folder)")
        return cls(folder, sha256_of(folder / "model.tflite"), m.trained_on, m.val_macro_f1, m.int8.macro_f1)


@dataclass(frozen=True)
class Remade:
    made: Side
    published: Side

    @property
    def same_bytes(self) -> bool:
        return self.made.sha256 == self.published.sha256

    @property
    def same_machine(self) -> bool | None:
        """Whether both trained on one kind of machine; None when either does not record it."""
        return same_kind(self.made.trained_on, self.published.trained_on)

    @property
    def broken(self) -> bool:
        """Different bytes from one kind of machine: the recipe, or the code, no longer makes the version."""
        return not self.same_bytes and self.same_machine is True


def compare_remade(made: Path, published: Path) -> Remade:
    """`made` (a version folder exported here) against `published` (the version whose recipe it trained):
    refused where `made` trained another recipe (names aside), which no comparison could excuse."""
    from ..config import load_config
    from .manifest import config_hash

    made, published = Path(made), Path(published)
    ours, theirs = Side.of(made), Side.of(published)  # each named where it is no exported version
    mine, recipe = load_config(made / "configuration.json"), load_config(published / "configuration.json")
    if config_hash(mine.model_copy(update={"name": recipe.name})) != config_hash(recipe):
        raise HeartzooError(
            f"{made}: its configuration.json is not the recipe of {published} (names aside): it is another "
            "model, not that version made again"
        )
    return Remade(ours, theirs)


def why_another_model(same: bool | None) -> str:
    """What another model from a version's recipe says, by whether it trained on the version's machine kind."""
    if same is True:
        return "Both trained on one kind of machine: this checkout no longer makes the version."
    why = "another machine kind" if same is False else "one side records no machine"
    return (
        f"Not a broken recipe ({why}): a recipe is deterministic on one kind of processor, and another kind "
        'trains another model from it (docs/history.md, "What make demo reproduces").'
    )
