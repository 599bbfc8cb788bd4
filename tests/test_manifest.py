"""A run's manifest and the configuration it was made by: a field added to the schema since (at its
default, which trains as before) does not orphan the run; any other difference does."""

from __future__ import annotations

import hashlib
import json

import pytest

from heartzoo.config import parse_config
from heartzoo.errors import ConfigError
from heartzoo.zoo.manifest import AFTER_TRAINING, Manifest, config_hash

CONFIG = {"name": "tiny", "task": "beat-3", "model": {"arch": "cnn1"}, "train": {"epochs": 2}}
STAGE = {"stage": "train", "dir": ".", "commit": "a" * 40}


def _older_heartzoo_run(tmp_path, edit=None):
    """A run folder as a heartzoo without `train.balance.patient_power` wrote it: its config.json lacks
    the field and its manifest records the hash of that file (the sections after training left out)."""
    dump = parse_config(CONFIG).model_dump(mode="json")
    del dump["train"]["balance"]["patient_power"]
    trained = {k: v for k, v in dump.items() if k not in AFTER_TRAINING}
    digest = hashlib.sha256(json.dumps(trained, sort_keys=True).encode()).hexdigest()
    if edit is not None:
        edit(dump)  # the file changed after the manifest hashed it
    (tmp_path / "config.json").write_text(json.dumps(dump))
    (tmp_path / "manifest.json").write_text(json.dumps({"config_sha256": digest, "stages": [STAGE]}))
    return tmp_path


def test_a_run_hashed_before_a_field_was_added_is_the_same_recipe(tmp_path):
    config = parse_config(CONFIG)
    run = _older_heartzoo_run(tmp_path)
    assert json.loads((run / "manifest.json").read_text())["config_sha256"] != config_hash(config)
    manifest = Manifest.open(run, config)
    assert manifest.stages == [STAGE]
    manifest.save()  # from then on it carries today's hash
    assert json.loads((run / "manifest.json").read_text())["config_sha256"] == config_hash(config)


def test_another_recipe_in_an_older_run_is_still_refused(tmp_path):
    run = _older_heartzoo_run(tmp_path)
    other = parse_config({**CONFIG, "train": {"epochs": 3}})
    with pytest.raises(ConfigError, match="made by a different configuration"):
        Manifest.open(run, other)


def test_a_config_json_that_is_not_what_the_manifest_hashed_proves_nothing(tmp_path):
    # the file now says what the caller asks for, but the manifest hashed another file
    run = _older_heartzoo_run(tmp_path, lambda dump: dump["train"].update(epochs=5))
    asked = json.loads((run / "config.json").read_text())
    with pytest.raises(ConfigError, match="made by a different configuration"):
        Manifest.open(run, parse_config(asked))


def test_a_section_read_after_training_changes_without_losing_an_older_runs_stages(tmp_path):
    from heartzoo.training.train import prepare_run_dir

    run = _older_heartzoo_run(tmp_path)
    config = parse_config({**CONFIG, "description": "another description"})
    prepare_run_dir(config, run)  # rewrites config.json: the manifest must not lose what proved its hash
    assert json.loads((run / "config.json").read_text())["description"] == "another description"
    assert Manifest.open(run, config).stages == [STAGE]
