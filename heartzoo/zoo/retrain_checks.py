"""The zoo's retraining checks (`checks.json` beside `index.json`): did a published version's recipe,
trained again at one clean commit, make that version again?

A card's numbers are worth the one command it gives only if that command makes the model again.
Training here is deterministic on one CPU kind, so a check is exact: the same history.csv row for row
(every column but the wall clock), the same validation and test macro-F1 to the last digit. Version
folders are immutable, so the checks live in one zoo-level file, written by `heartzoo zoo retrain`
(`heartzoo.training.retrain`) and validated like the index before anything reads it: typed fields, each ref a
version the index lists, its published scores those of that version's metrics.json, and a verdict that
follows from its numbers. The recommendation passes over a version whose every check failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..errors import HeartzooError
from ..io import decode_json, read_capped
from ..meta import NAME_PATTERN, VERSION_PATTERN, StrictModel, TrainingMachine, error_place, read_metrics

CHECKS = "checks.json"
#: a check is recorded only from one clean commit: a "-dirty" tree proves nothing about any commit
CLEAN_COMMIT_PATTERN = r"^[0-9a-f]{40}$"
REF_PATTERN = NAME_PATTERN.rstrip("$") + "@" + VERSION_PATTERN.lstrip("^")
#: a version's configuration.json in the zoo (TASK/NAME/vN/), or, in checks made before recipes were
#: read from there, a config file of the checkout at the commit retrained
RECIPE_PATTERN = (
    r"^(configs/(v[0-9]{1,6}/)?[a-z0-9][a-z0-9-]{0,63}\.yaml"
    r"|[a-z0-9][a-z0-9-]{0,31}/[a-z0-9][a-z0-9-]{0,63}/v[0-9]{1,6}/configuration\.json)$"
)
MAX_CHECKS_BYTES = 8 << 20


class Scores(StrictModel):
    """Validation macro-F1 (None for versions exported before it was recorded) and float macro-F1 on
    the version's test split (DS2 for the inter-patient beat tasks)."""

    val_macro_f1: float | None = None
    test_float_macro_f1: float


class RetrainingCheck(StrictModel):
    ref: str = Field(..., pattern=REF_PATTERN)
    recipe: str = Field(..., pattern=RECIPE_PATTERN)
    retrained_at: str = Field(..., pattern=CLEAN_COMMIT_PATTERN)
    published: Scores
    now: Scores
    #: history.csv equal row for row but `seconds`; None when the version publishes no history.csv
    same_history: bool | None
    made_again: bool
    #: the machines of the retraining run (a recipe is deterministic on one kind of processor); absent in
    #: checks made before heartzoo recorded them
    retrained_on: list[TrainingMachine] | None = None

    @model_validator(mode="after")
    def _verdict_follows(self) -> RetrainingCheck:
        if self.made_again != made_again(self.published, self.now, self.same_history):
            raise ValueError(f"made_again: {self.made_again} does not follow from the scores and history")
        return self


def made_again(published: Scores, now: Scores, same_history: bool | None) -> bool:
    """To the digit: one run is one model, and the same code trains the same model."""
    val_same = published.val_macro_f1 is None or published.val_macro_f1 == now.val_macro_f1
    return same_history is not False and val_same and published.test_float_macro_f1 == now.test_float_macro_f1


class RetrainingChecks(StrictModel):
    format: Literal[1] = 1
    checks: list[RetrainingCheck] = Field(default_factory=list, max_length=10_000)


def parse_checks(raw: Any, source: str) -> RetrainingChecks:
    try:
        return RetrainingChecks.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {error_place(raw, tuple(e['loc']), 'checks', 'check', lambda c: c.get('ref'))}: {e['msg']}"
            for e in exc.errors()[:10]
        )
        raise HeartzooError(f"{source}: refused, not valid retraining checks:\n{problems}") from None


def read_checks(root: Path, index: dict[str, Any] | None = None) -> list[RetrainingCheck]:
    """The zoo's checks, validated ([] when it has none); with a validated `index`, also against it:
    each ref a version it lists, with that version's published scores."""
    path = Path(root) / CHECKS
    try:
        data = read_capped(path, "retraining checks file", MAX_CHECKS_BYTES)
    except FileNotFoundError:
        return []
    raw = decode_json(data, str(path), "retraining checks file", MAX_CHECKS_BYTES)
    checks = parse_checks(raw, str(path)).checks
    if index is not None:
        for i, c in enumerate(checks):
            check_against_version(c, index, Path(root), f"{path}: check {i} ({c.ref})")
    return checks


def check_against_version(check: RetrainingCheck, index: dict[str, Any], root: Path, where: str) -> None:
    """Refuse a check of a version the index does not list, or of other numbers than it published."""
    entry = next((e for e in index["models"] if f"{e['name']}@{e['version']}" == check.ref), None)
    if entry is None:
        raise HeartzooError(f"{where}: the zoo's index lists no {check.ref}")
    m = read_metrics(Path(root) / entry["path"])
    mine = Scores(val_macro_f1=m.val_macro_f1, test_float_macro_f1=m.float.macro_f1)
    if check.published != mine:
        raise HeartzooError(
            f"{where}: field 'published' is {check.published.model_dump()}, but {entry['path']}/metrics.json "
            f"records {mine.model_dump()}: the check is of other numbers than the version's"
        )


def verdicts(root: Path, index: dict[str, Any]) -> dict[str, bool]:
    """ref -> whether its recipe made it again: True if any check did (that commit makes it), False if
    every check that says something failed; versions never checked are absent. A failed check from
    another kind of machine than the version's own says nothing (a recipe is deterministic on one kind
    only) and is left out; one where either side records no machine still counts against it."""
    paths = {f"{e['name']}@{e['version']}": e["path"] for e in index["models"]}
    out: dict[str, bool] = {}
    for c in read_checks(root, index):
        if c.made_again or not other_machine_kind(c, read_metrics(Path(root) / paths[c.ref]).trained_on):
            out[c.ref] = out.get(c.ref, False) or c.made_again
    return out


def other_machine_kind(check: RetrainingCheck, trained_on: list[TrainingMachine] | None) -> bool:
    """Whether the check's run and the version's training (`trained_on`) both record their machines, and
    these are of other kinds."""
    from .remade import same_kind

    return same_kind(check.retrained_on, trained_on) is False


def add_check(root: Path, check: RetrainingCheck) -> None:
    """Append one check to the zoo's checks.json (atomically; the file is validated first)."""
    write_checks(root, [*read_checks(root), check])


def write_checks(root: Path, checks: list[RetrainingCheck]) -> None:
    """Write the zoo's checks.json whole (atomically)."""
    from ..io import write_json

    write_json(Path(root) / CHECKS, RetrainingChecks(checks=checks).model_dump(mode="json"))


def retraining_note(ref: str, root: Path, trained_on: list[TrainingMachine] | None = None) -> str:
    """What a card says of the checks of its version (from the zoo's checks.json); `trained_on`: the
    machines the version recorded."""
    mine = [c for c in read_checks(root) if c.ref == ref]
    if not mine:
        return f"Not yet checked by retraining (`heartzoo zoo retrain {ref}`).\n"
    lines = []
    for c in mine:
        how = (
            "history.csv equal row for row"
            if c.same_history
            else "history.csv differs"
            if c.same_history is False
            else "no history.csv published"
        )
        val = "–" if c.now.val_macro_f1 is None else f"{c.now.val_macro_f1:.4f}"
        verdict = "**made again**" if c.made_again else "**not made again**"
        on = f" on {machines_text(c.retrained_on)}" if c.retrained_on else ""
        lines.append(
            f"Retrained from `{c.recipe}` at commit `{c.retrained_at[:7]}`{on} (`heartzoo zoo retrain {ref}`): "
            f"{verdict}: {how}, validation {val}, test float macro-F1 {c.now.test_float_macro_f1:.4f} "
            f"(published {c.published.test_float_macro_f1:.4f})."
        )
    if not any(c.made_again for c in mine):
        if all(other_machine_kind(c, trained_on) for c in mine):
            lines.append(
                "Every check ran on another kind of machine than the version's, where a recipe trains another "
                "model: they say nothing of the recipe, and the recommendation does not read them."
            )
        else:
            lines.append("Its recipe does not make it again, so heartzoo does not recommend it.")
    return "\n".join(lines) + "\n"


def machines_text(machines) -> str:
    """ "AMD EPYC (AVX-512, 2 cores; TensorFlow 2.21.0, Keras 3.15.1, oneDNN on)", one per machine."""

    def one(m) -> str:
        m = m if isinstance(m, dict) else m.model_dump()
        libs = ", ".join(
            f"{name} {m[key]}"
            for key, name in (("tensorflow", "TensorFlow"), ("keras", "Keras"))
            if m.get(key)
        )
        return f"{m['processor']} ({m['isa']}, {m['cores']} cores; {libs}, oneDNN {m['onednn']})"

    return " and ".join(one(m) for m in machines)
