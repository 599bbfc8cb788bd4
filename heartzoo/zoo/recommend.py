"""The model heartzoo recommends for a wearable, per task: chosen by the validation patients within a
size budget, never by DS2 (the test set).

The rule, applied to the published versions of a zoo whenever its index is written:

1. candidates: the line the zoo builds for wearables, models distilled from a teacher, then fine-tuned
   by the channel-pruning stage at the share of channels their recipe keeps (`channel_prune.keep`, 1.0
   keeping all) unless their recipe publishes its best-validating stage and that is the one before
   (`export.stage`; the size budget below holds either way). The comparison architectures are a
   benchmark protocol of a fixed short budget, not recipes for a device. Also: inter-patient (not the
   leaky twins); one model rather than a seed ensemble (an ensemble runs K models on the device); whose
   int8 `.tflite` and TFLM arena fit `WEARABLE`; whose recipe makes it
   again: where the zoo's retraining checks (`heartzoo zoo retrain`, `heartzoo.zoo.retrain_checks`) tried,
   one of them made it again; where none tried, made by one clean commit as far as its metrics.json
   records (a model trained or exported from a tree no commit holds may not come again from its recipe:
   its numbers cannot be reproduced by the one command its card gives);
2. among them, those trained on the largest patient pool (the most databases): their validation draws
   on the most patients, and validation scores are only comparable on the same pool;
3. the highest validation macro-F1 wins; a tie goes to the smaller flash.

The DS2 number of the chosen model is then reported as it is, high or low.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: What a wearable's microcontroller spares for the beat classifier (a Cortex-M4F with 256 KB flash
#: and 64 KB RAM, beside its other firmware): the model's int8 .tflite and its TFLM tensor arena.
WEARABLE = {"tflite_bytes": 32 * 1024, "tflm_arena_bytes": 24 * 1024}
#: the compression steps a model of the wearable line has been through (channel pruning is the recipe's
#: choice: `export.stage: best_validation` may publish the distilled stage before it)
WEARABLE_LINE = {"distill"}


def rule_text(test: str = "DS2") -> str:
    """The rule above in one sentence, as every page that names a recommended model states it; `test`: the
    task's test set."""
    return (
        f"chosen without looking at {test} (`heartzoo.zoo.recommend`): among the single models of the "
        "wearable line (distilled, then pruned or fine-tuned as the recipe says) that fit "
        f"{WEARABLE['tflite_bytes']:,} B of flash and {WEARABLE['tflm_arena_bytes']:,} B of TFLM arena and whose "
        "recipe makes them again (retrained where checked, else made by one clean commit), those trained on "
        "the most databases, and of these the one with the highest validation macro-F1"
    )


@dataclass(frozen=True)
class Recommendation:
    task: str
    ref: str  # NAME@VERSION
    val_macro_f1: float
    candidates: int  # how many versions met the budget and were compared


def validation_macro_f1(vdir: Path) -> float | None:
    """The validation macro-F1 a published version was selected on: the one export wrote into its
    metrics.json; for versions exported before it was recorded there, a seed ensemble's own, else the best epoch of its
    last training stage (from the history.csv published with it); None when the version has neither."""
    import csv

    from ..meta import read_metrics

    m = read_metrics(vdir)
    if m.val_macro_f1 is not None:
        return m.val_macro_f1
    if m.ensemble is not None and m.ensemble.val_macro_f1 is not None:
        return m.ensemble.val_macro_f1
    history = vdir / "history.csv"
    if not history.is_file():
        return None
    with history.open(newline="") as f:
        scores = [float(r["val_macro_f1"]) for r in csv.DictReader(f) if r.get("val_macro_f1")]
    return max(scores, default=None)


def _candidate(entry: dict[str, Any], vdir: Path, made_again: bool | None) -> tuple[int, float, int] | None:
    """(training databases, validation macro-F1, flash bytes) of a version that may be recommended;
    `made_again`: what its retraining checks say (None: never checked)."""
    from ..config import parse_config
    from ..meta import read_configuration, read_metrics

    if not (vdir / "metrics.json").is_file():
        return None
    m = read_metrics(vdir)
    if m.leaky or m.ensemble is not None or not {c.split(":")[0] for c in m.compression} >= WEARABLE_LINE:
        return None
    if m.tflite_bytes > WEARABLE["tflite_bytes"] or m.tflm_arena_bytes > WEARABLE["tflm_arena_bytes"]:
        return None
    if made_again is False or (made_again is None and not m.made_by_one_clean_commit()):
        return None
    val = validation_macro_f1(vdir)
    if val is None:
        return None
    config = parse_config(read_configuration(vdir).config, str(vdir / "configuration.json"))
    databases = {s.split(":", 1)[0] for s in config.data.train}
    return len(databases), val, m.tflite_bytes


def recommend(index: dict[str, Any], root: str | Path) -> dict[str, Recommendation]:
    """For each task with a candidate: the version the rule above picks, from a validated index."""
    from .retrain_checks import verdicts

    root = Path(root)
    checked = verdicts(root, index)
    by_task: dict[str, list[tuple[tuple[int, float, int], str]]] = {}
    for e in index["models"]:
        ref = f"{e['name']}@{e['version']}"
        c = _candidate(e, root / e["path"], checked.get(ref))
        if c is not None:
            by_task.setdefault(e["task"], []).append((c, ref))
    chosen = {}
    for task, scored in sorted(by_task.items()):
        (_, val, _), ref = max(scored, key=lambda s: (s[0][0], s[0][1], -s[0][2]))
        chosen[task] = Recommendation(task, ref, val, len(scored))
    return chosen
