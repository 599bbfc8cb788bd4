"""What older heartzoo versions wrote or named, read as they meant: configurations (zoo v1's
configuration.json, old run folders; a published config never changes, so the reader follows the schema
instead), and the module paths of 0.1, which moved into subpackages (importing one still works, with a
DeprecationWarning naming the new path)."""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from typing import Any

#: module paths of heartzoo 0.1 -> where they live now (heartzoo.zoo and heartzoo.recording are
#: packages now: their old contents are heartzoo.zoo.index and heartzoo.recording.read)
MOVED_MODULES = {
    **{
        f"heartzoo.{m}": f"heartzoo.site.{m}"
        for m in (
            "cards",
            "card_sections",
            "card_tasks",
            "figures",
            "config_reference",
            "recording_pages",
            "lever_table",
            "docstring_placeholders",
        )
    },
    "heartzoo.site_pages": "heartzoo.site.pages",
    **{
        f"heartzoo.{m}": f"heartzoo.zoo.{m}"
        for m in ("hub", "mirror", "recommend", "published", "retrain_checks", "manifest")
    },
    "heartzoo.export.publication": "heartzoo.zoo.publish",
    **{f"heartzoo.{m}": f"heartzoo.evaluation.{m}" for m in ("evaluate", "metrics", "ec57")},
    **{
        f"heartzoo.{m}": f"heartzoo.recording.{m}"
        for m in ("quality", "annotation", "rhythm_annotation", "end_to_end", "external", "external_rhythm")
    },
    **{
        f"heartzoo.{m}": f"heartzoo.training.{m}"
        for m in (
            "train",
            "checkpoints",
            "runs",
            "crossval",
            "distribute",
            "tune",
            "tune_report",
            "search_space",
            "losses",
            "tracking",
            "retrain",
        )
    },
    "heartzoo.data.af_beats": "heartzoo.training.af_beats",
    "heartzoo.signal_checks": "heartzoo.preprocess",  # its check_recording
    "heartzoo.capped_json": "heartzoo.io",
    "heartzoo.ensemble": "heartzoo.models.ensemble",
    "heartzoo.adapt": "heartzoo.models.adapt",
}


class _MovedModule(types.ModuleType):
    """Stands for a moved module: every attribute is the new module's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(MOVED_MODULES[self.__name__]), name)


class MovedModules(MetaPathFinder, Loader):
    """Finds the old path of a moved module (`MOVED_MODULES`) and gives a stand-in for the new one."""

    def find_spec(self, fullname, path=None, target=None):
        return ModuleSpec(fullname, self) if fullname in MOVED_MODULES else None

    def create_module(self, spec):
        return _MovedModule(spec.name)

    def exec_module(self, module) -> None:
        new = MOVED_MODULES[module.__name__]
        warnings.warn(
            f"{module.__name__} moved to {new}; import it from there", DeprecationWarning, stacklevel=2
        )
        module.__doc__ = f"Moved to {new}."


def names_moved_to(package: str, module: str):
    """The `__getattr__` of a package that took the place of a 0.1 module of its name: the old module's
    names, now in `package.module`, with a DeprecationWarning the first time each is read."""

    def __getattr__(name: str) -> Any:
        import pkgutil

        pkg = sys.modules[package]
        # a submodule not imported yet is the import system's to find, not an old name
        if name.startswith("_") or name in {m.name for m in pkgutil.iter_modules(pkg.__path__)}:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        new = importlib.import_module(f"{package}.{module}")
        if not hasattr(new, name):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        warnings.warn(
            f"{package}.{name} moved to {package}.{module}.{name}", DeprecationWarning, stacklevel=2
        )
        value = getattr(new, name)
        setattr(pkg, name, value)  # warned once
        return value

    return __getattr__


def install_moved_modules() -> None:
    """Let the module paths of 0.1 import (once per process)."""
    if not any(isinstance(f, MovedModules) for f in sys.meta_path):
        sys.meta_path.append(MovedModules())


def from_schema_1(data: Any) -> Any:
    """Read configurations written by the first heartzoo (the published zoo v1 holds them): `data.dir` (a
    machine path, now `--data-dir` / $HEARTZOO_DATA_DIR) must be empty and is dropped,
    `data.dataset: mitdb` is `data.train: [mitdb:DS1]` (the default), and `model.rr_features` moves
    to `input.rr_features`, where the rest of the input is described."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    section = data.get("data")
    if isinstance(section, dict) and "dir" in section:
        if section["dir"] is not None:
            raise ValueError(
                "'data.dir' is no longer part of a configuration: pass --data-dir or set "
                "HEARTZOO_DATA_DIR (a machine's folder does not belong in a published model)"
            )
        data["data"] = section = {k: v for k, v in section.items() if k != "dir"}
    if isinstance(section, dict) and section.get("dataset") == "mitdb" and "train" not in section:
        # `dataset: mitdb` trained on DS1, which `train` says now
        data["data"] = {k: v for k, v in section.items() if k != "dataset"}
    model = data.get("model")
    if isinstance(model, dict) and "rr_features" in model:
        spec = dict(data.get("input") or {})
        if "rr_features" in spec and spec["rr_features"] != model["rr_features"]:
            raise ValueError("'model.rr_features' and 'input.rr_features' disagree; keep 'input.rr_features'")
        spec["rr_features"] = model["rr_features"]
        data["model"] = {k: v for k, v in model.items() if k != "rr_features"}
        data["input"] = spec
    return data
