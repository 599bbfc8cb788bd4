"""A checkout of the project, named by the caller: found from a folder inside it, refused elsewhere, and
the recipe of a version read from its configs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from heartzoo.checkout import Checkout, checkout_here
from heartzoo.errors import HeartzooError

REPO = Path(__file__).resolve().parents[1]


def test_a_checkout_is_found_from_a_folder_inside_it_and_nowhere_else(tmp_path):
    assert Checkout.find(REPO / "heartzoo" / "data").root == REPO
    assert checkout_here(tmp_path) is None
    with pytest.raises(HeartzooError, match=r"not inside a heartzoo checkout.*--checkout"):
        Checkout.find(tmp_path)
    with pytest.raises(HeartzooError, match="not a heartzoo checkout"):
        Checkout.of(REPO / "docs")


def test_another_project_is_no_checkout(tmp_path):
    for folder in ("configs", "docs"):
        (tmp_path / folder).mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "heartzoo-fork"\n')
    assert checkout_here(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "heartzoo"\n')
    assert checkout_here(tmp_path / "docs") == Checkout(tmp_path)
