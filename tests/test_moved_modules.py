"""The module paths of 0.1 still import after the package was grouped by job: each gives the new module's
names, with a DeprecationWarning naming the new path, and the top-level API is what it was."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import heartzoo
from heartzoo.legacy import MOVED_MODULES


def test_every_moved_path_names_a_module_that_exists():
    for old, new in MOVED_MODULES.items():
        assert importlib.util.find_spec(new) is not None, new
        assert not (importlib.util.find_spec(old).origin or "").endswith(".py"), f"{old} is a file again"


@pytest.mark.parametrize("old", ["heartzoo.hub", "heartzoo.annotation", "heartzoo.train", "heartzoo.cards"])
def test_an_old_path_warns_and_gives_the_new_modules_names(old):
    """In a fresh interpreter: the warning comes once, at the import that names the old path."""
    new = MOVED_MODULES[old]
    name = {
        "heartzoo.hub": "load_model",
        "heartzoo.annotation": "annotate",
        "heartzoo.train": "train",
        "heartzoo.cards": "model_card",
    }[old]
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        f"try:\n    import {old}\nexcept DeprecationWarning as w:\n    print('warned:', w)\n"
        "warnings.simplefilter('ignore')\n"
        f"import importlib; old = importlib.import_module('{old}'); new = importlib.import_module('{new}')\n"
        f"print(old.{name} is new.{name})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"warned: {old} moved to {new}" in out.stdout and out.stdout.strip().endswith("True"), out.stdout


def test_the_old_zoo_and_recording_modules_names_come_from_their_packages():
    with pytest.warns(DeprecationWarning, match=r"heartzoo\.zoo\.read_index moved to heartzoo\.zoo\.index"):
        from heartzoo.zoo import read_index
    from heartzoo.zoo.index import read_index as new

    assert read_index is new
    with pytest.raises(AttributeError):
        heartzoo.zoo.no_such_name  # noqa: B018


def test_the_top_level_api_is_what_the_api_page_lists():
    assert heartzoo.__all__ == [
        "Preprocessor",
        "RecordingWarning",
        "__version__",
        "annotate",
        "calibrate",
        "classify_recording",
        "detect",
        "download",
        "list_models",
        "load_model",
        "predict",
        "read_recording",
    ]
    page = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    for name in heartzoo.__all__:
        assert getattr(heartzoo, name) is not None
        assert name == "__version__" or f"[`heartzoo.{name}`]" in page, name
    assert heartzoo.detect.detect is importlib.import_module("heartzoo.detect").detect


def test_calibrate_from_the_hub_still_imports_with_a_warning():
    """`calibrate` moved from heartzoo.zoo.hub to heartzoo.zoo.patient_calibration."""
    from heartzoo.zoo import hub, patient_calibration

    with pytest.warns(DeprecationWarning, match="hub.calibrate moved to heartzoo.zoo.patient_calibration"):
        assert hub.calibrate is patient_calibration.calibrate
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        hub.nothing  # noqa: B018
