"""What a published version's own files say beyond its headline metrics: its config as the current
schema reads it, the databases it trained on, the validation macro-F1 it was selected on
(`recommend.validation_macro_f1`), and the family it belongs to. It reads one version folder and knows
nothing of the zoo around it; the cards and the site pages build on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..meta import read_configuration
from .recommend import validation_macro_f1

__all__ = [
    "FAMILIES",
    "family",
    "family_label",
    "published_config",
    "training_label",
    "training_sources",
    "uses_svdb",
    "validation_macro_f1",
]

#: The families a version belongs to, in the order the site lists them (see `family`).
FAMILIES = ("students", "comparison architectures", "teachers", "ensembles", "leaky")


def published_config(vdir: Path, conf=None) -> dict[str, Any]:
    """A version's config as the current schema reads it (`conf`: its configuration.json, if read
    already): older ones migrated (`legacy`), defaults filled in, so a card needs no knowledge of how
    the schema changed."""
    from ..config import parse_config

    conf = conf or read_configuration(vdir)
    return parse_config(conf.config, str(vdir / "configuration.json")).model_dump(mode="json")


def training_sources(cfg: dict[str, Any]) -> list[str]:
    return list(cfg["data"]["train"])


def uses_svdb(cfg: dict[str, Any]) -> bool:
    return any(s.startswith("svdb:") for s in training_sources(cfg))


def training_label(cfg: dict[str, Any]) -> str:
    """DS1, or DS1 + svdb: the databases a published config trained on, in a few characters."""
    names = {"mitdb:DS1": "DS1", "svdb:all": "svdb"}
    return " + ".join(names.get(s, s) for s in training_sources(cfg))


def family(cfg: dict[str, Any], leaky: bool) -> str:
    """Where a version sits in the zoo, from its config: a leaky-split twin; a seed ensemble; a
    distilled student (and its born-again generations); an EfficientNetV2 teacher, unless its config
    says `model.comparison`; else one of the architectures trained on the common recipe for comparison.
    One of `FAMILIES`."""
    if leaky or cfg["data"]["protocol"] == "leaky-random-beat":
        return "leaky"
    if cfg.get("ensemble"):
        return "ensembles"
    if (cfg.get("compress") or {}).get("distill"):
        return "students"
    if cfg["model"]["arch"].startswith("efficientnetv2") and not cfg["model"].get("comparison"):
        return "teachers"
    return "comparison architectures"


def family_label(fam: str, cfg: dict[str, Any]) -> str:
    """The family as a navigation group says it: "cnn3 students" names the students' architecture."""
    return f"{cfg['model']['arch']} students" if fam == "students" else fam
