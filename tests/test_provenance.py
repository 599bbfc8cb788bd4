"""Which code trained a published model: the commits a run's manifest records per stage, and what a card
says of them (zoo v2's beat-3 student was exported from a tree that held more than its commit, and no
commit trains it again: docs/training.md)."""

from __future__ import annotations

import json

import pytest

from heartzoo.site.cards import provenance_note
from heartzoo.zoo.manifest import stage_commits

A, B = "a" * 40, "b" * 40


def _run(tmp_path, stages):
    (tmp_path / "manifest.json").write_text(json.dumps({"config_sha256": "x", "stages": stages}))
    for st in stages:
        (tmp_path / st["dir"]).mkdir(exist_ok=True)
    return tmp_path


def test_a_run_resumed_across_commits_names_both_in_order(tmp_path):
    run = _run(
        tmp_path,
        [
            {"stage": "distill", "dir": ".", "commit": A},
            {"stage": "channel_prune", "dir": "channel-pruned", "commit": B},
            {"stage": "qat", "dir": "qat", "commit": A},
        ],
    )
    assert stage_commits(run / "qat") == [A, B]
    # a stage's model owes nothing to the stages after it
    assert stage_commits(run) == [A]
    assert stage_commits(run / "channel-pruned") == [A, B]


def test_an_ensemble_names_every_stage_of_every_member(tmp_path):
    C = "c" * 40
    member = tmp_path / "members" / "seed0"
    member.mkdir(parents=True)
    _run(
        member,
        [
            {"stage": "distill", "dir": ".", "commit": A},
            {"stage": "channel_prune", "dir": "channel-pruned", "commit": B},
        ],
    )
    # the ensemble's record of a member is a copy of its last stage's, moved to the ensemble's manifest
    run = _run(
        tmp_path,
        [
            {
                "stage": "member-seed0",
                "member_stage": "channel_prune",
                "dir": "members/seed0/channel-pruned",
                "commit": B,
            },
            {"stage": "ensemble", "dir": ".", "commit": C},
        ],
    )
    assert stage_commits(run) == [A, B, C]


def test_records_from_before_the_commits_were_kept_give_none(tmp_path):
    run = _run(tmp_path, [{"stage": "train", "dir": "."}])
    assert stage_commits(run) is None
    assert stage_commits(tmp_path / "elsewhere") is None


def test_the_card_warns_where_no_one_clean_commit_trained_the_model():
    clean = provenance_note({"trained_at": [A]})
    assert f"`{A}`" in clean and "Not trained by one clean commit" not in clean
    assert f"`git checkout {A}`" in clean
    for trained in ([f"{A}-dirty"], [A, B]):
        assert "Not trained by one clean commit" in provenance_note({"trained_at": trained})
    assert "predates" in provenance_note({"trained_at": None, "commit": A}) and "predates" in provenance_note(
        {}
    )
    # zoo v2's beat-3 student: exported from a tree that held more than its commit
    assert "Exported from a working tree that differed" in provenance_note({"commit": f"{A}-dirty"})


def test_the_machines_that_trained_a_model_are_named_once_each_in_order(tmp_path):
    """A recipe makes one model on one kind of processor (heartzoo.training.machine): each stage's machine
    is recorded beside its commit, and the card names them."""
    from heartzoo.meta import TrainingMachine
    from heartzoo.training.machine import this_machine
    from heartzoo.zoo.manifest import stage_machines

    here = this_machine()
    TrainingMachine.model_validate(here)  # what publication will write, typed
    assert here["isa"] in ("AVX-512", "AVX2", "AVX", "SSE4.2", "unknown") and here["cores"] >= 1
    other = {**here, "processor": "Another CPU", "isa": "AVX2"}
    run = _run(
        tmp_path,
        [
            {"stage": "distill", "dir": ".", "commit": A, "machine": here},
            {"stage": "channel_prune", "dir": "channel-pruned", "commit": A, "machine": other},
            {"stage": "qat", "dir": "qat", "commit": A, "machine": here},
        ],
    )
    assert stage_machines(run / "qat") == [here, other] and stage_machines(run) == [here]
    (tmp_path / "old").mkdir()
    assert stage_machines(_run(tmp_path / "old", [{"stage": "train", "dir": "."}])) is None
    note = provenance_note({"trained_at": [A], "trained_on": [here, other]})
    assert f"on {here['processor']} ({here['isa']}, {here['cores']} cores;" in note
    assert "Another CPU (AVX2" in note and f"`git checkout {A}`" in note


def test_an_installed_heartzoo_inside_another_repository_records_no_commit(tmp_path):
    """A wheel installed into a project's own virtual environment sits inside that project's git
    repository: its commit says nothing of heartzoo's code, so none is recorded; the checkout gives its own."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import heartzoo.version

    git_exe = shutil.which("git")
    if git_exe is None or not (Path(heartzoo.version.__file__).parents[1] / ".git").exists():
        pytest.skip("needs git and heartzoo's own checkout")
    assert heartzoo.version.git_commit() is not None  # the checkout's own commit: git runs here
    project = tmp_path / "project"
    site = project / ".venv" / "lib" / "site-packages"
    (site / "heartzoo").mkdir(parents=True)
    shutil.copy(Path(heartzoo.version.__file__), site / "heartzoo" / "version.py")
    (site / "heartzoo" / "__init__.py").write_text("")
    git = ["git", "-C", str(project), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], check=True)
    (project / "README").write_text("someone else's project\n")
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-qm", "theirs"], check=True)
    out = subprocess.run(
        [sys.executable, "-c", "from heartzoo.version import git_commit; print(git_commit())"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": str(Path(git_exe).parent)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "None"
