"""Configurations written by older heartzoo versions (zoo v1's configuration.json, old run folders),
read as they meant: a published config never changes, so the reader follows the schema instead."""

from __future__ import annotations

from typing import Any


def from_schema_1(data: Any) -> Any:
    """Read configurations written before 0.2 (the published zoo v1 holds them): `data.dir` (a
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
