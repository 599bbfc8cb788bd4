"""Configuration files: every typo or wrong type is an error naming the file, the field, what is allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heartzoo.config import HeartzooConfig, load_config, parse_config
from heartzoo.errors import ConfigError
from heartzoo.io import read_mapping

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "path",
    # search spaces (*.space.yaml) are validated against their base config in test_tune
    sorted(p for p in (REPO / "configs").rglob("*.y*ml") if not p.name.endswith(".space.yaml")),
    ids=lambda p: str(p.relative_to(REPO / "configs")),
)
def test_shipped_configs_validate(path):
    cfg = load_config(path)
    assert isinstance(cfg, HeartzooConfig)


def test_defaults():
    cfg = parse_config({"name": "x", "task": "beat-3"})
    assert cfg.input.fs == 100 and cfg.input.frame_size == 512 and cfg.input.r_peak == 256
    assert cfg.data.protocol == "inter-patient" and cfg.data.exclude_paced


def test_typo_names_file_field_and_allowed(tmp_path):
    p = tmp_path / "typo.yaml"
    p.write_text("name: x\ntask: beat-3\ninput:\n  frme_size: 256\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "unknown field 'input.frme_size'" in msg
    assert "did you mean 'frame_size'?" in msg
    assert "allowed here: eps, frame_size, fs, lead, normalization, r_peak_index" in msg


def test_top_level_typo(tmp_path):
    p = tmp_path / "top.json"
    p.write_text(json.dumps({"name": "x", "task": "beat-3", "augmnet": {}}))
    with pytest.raises(ConfigError, match=r"unknown field 'augmnet' \(did you mean 'augment'\?\)"):
        load_config(p)


def test_wrong_type_and_value(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\ntask: beat-4\ninput:\n  fs: fast\n  frame_size: 128\n  r_peak_index: 300\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert (
        "field 'task'" in msg
        and "'beat-2', 'beat-3', 'aami-5', 'rhythm-3', 'quality' or 'af-4'" in msg
        and "(got 'beat-4')" in msg
    )
    assert "field 'input.fs'" in msg and "(got 'fast')" in msg


def test_r_peak_outside_frame():
    with pytest.raises(ConfigError, match=r"r_peak_index \(300\) must be < frame_size \(128\)"):
        parse_config({"name": "x", "task": "beat-3", "input": {"frame_size": 128, "r_peak_index": 300}})


def test_nested_augment_typo():
    with pytest.raises(ConfigError, match=r"unknown field 'augment.noise.snr' \(did you mean 'snr_db'\?\)"):
        parse_config({"name": "x", "task": "beat-3", "augment": {"noise": {"snr": [0, 6]}}})


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"{bad}: not valid YAML"):
        load_config(bad)
    lst = tmp_path / "list.json"
    lst.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(lst)
    txt = tmp_path / "cfg.txt"
    txt.write_text("name: x")
    with pytest.raises(ConfigError, match="unknown configuration format"):
        load_config(txt)


def test_a_published_configuration_is_its_versions_recipe(tmp_path):
    published = REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v3" / "configuration.json"
    config = load_config(published)
    assert config == parse_config(json.loads(published.read_text())["config"])
    bad = json.loads(published.read_text())
    bad["config"]["train"]["epocs"] = 3
    (tmp_path / "configuration.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match=r"(?s)configuration\.json: config.*train\.epocs"):
        load_config(tmp_path / "configuration.json")
    (tmp_path / "configuration.json").write_text(json.dumps({"config": [1], "firmware": {}}))
    with pytest.raises(ConfigError, match=r"configuration\.json: config: a mapping"):
        load_config(tmp_path / "configuration.json")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "twice.yaml",
            "name: x\ntask: beat-3\ntrain:\n  epochs: 3\n  seed: 1\ntrain:\n  epochs: 2\n",
            r"line 6: duplicate key 'train' \(first at line 3\)",
        ),
        (
            "seed.yaml",
            "name: x\ntask: beat-3\ntrain:\n  seed: 1\n  seed: 2\n",
            r"line 5: duplicate key 'seed'",
        ),
        ("twice.json", '{"name": "x", "task": "beat-3", "name": "y"}', "duplicate key 'name'"),
    ],
)
def test_a_key_given_twice_is_refused_not_overwritten(tmp_path, name, text, message):
    """YAML and JSON readers keep the last of two equal keys: a second `train:` section appended to a
    config would silently drop the first's every field."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"{path}: {message}"):
        load_config(path)


def test_a_folder_or_a_file_not_utf8_is_named_not_a_traceback(tmp_path):
    (tmp_path / "adir.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"adir.yaml: a folder, not a configuration file"):
        load_config(tmp_path / "adir.yaml")
    utf16 = tmp_path / "notepad.yaml"
    utf16.write_text("name: x\ntask: beat-3\n", encoding="utf-16")
    with pytest.raises(ConfigError, match=r"notepad.yaml: not UTF-8 text"):
        load_config(utf16)


def test_a_lead_no_training_database_has_is_refused_when_read(tmp_path):
    """`lead: ML2` used to pass the check and fail after TensorFlow started, naming neither the file nor
    the field; pydantic's own "Value error, " prefix is not shown either."""
    path = tmp_path / "lead.yaml"
    path.write_text("name: x\ntask: beat-3\ninput: {lead: ML2}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}: invalid configuration" in str(info.value)
    assert "field 'input.lead': mitdb (in data.train) has no lead standing for 'ML2'; it maps 'MLII'" in str(
        info.value
    )
    with pytest.raises(ConfigError) as info:
        parse_config({"name": "x", "task": "beat-3", "model": {"arch": "cnn33"}})
    assert "Value error" not in str(info.value) and "field 'model.arch': unknown architecture" in str(
        info.value
    )


def test_yaml_merge_keys_still_read_and_may_be_overridden(tmp_path):
    """The duplicate-key check reads the keys written in a mapping, not those a merge (`<<:`) brings."""
    path = tmp_path / "merge.yaml"
    path.write_text(
        "name: x\ntask: beat-3\n_base: &base {epochs: 3, seed: 1}\n_more: &more {batch_size: 64}\n"
        "train:\n  <<: [*base, *more]\n  seed: 2\n"
    )
    data = read_mapping(path)
    assert data["train"] == {"epochs": 3, "seed": 2, "batch_size": 64}
    bad = tmp_path / "listkey.yaml"
    bad.write_text("name: x\n? [a, b]\n: 1\n")
    with pytest.raises(
        ConfigError, match=r"(?s)listkey.yaml: not valid YAML: .*found unhashable key.*line 2"
    ):
        read_mapping(bad)


@pytest.mark.parametrize("shards", ["../../../../etc", "shards/../..", "C:\\x", "./shards"])
def test_a_shards_folder_may_not_climb_out(shards):
    """A config is data: `data.shards`, as `compress.distill.teacher`, names a folder without '..'."""
    with pytest.raises(ConfigError, match=r"data.shards.*must be a folder of shards .*without '\.\.'"):
        parse_config({"name": "x", "task": "beat-3", "data": {"shards": shards}})
    assert parse_config({"name": "x", "task": "beat-3", "data": {"shards": "shards/beat-3"}}).data.shards


def test_a_checkout_recipe_asked_for_outside_a_checkout_says_where_recipes_are(tmp_path, monkeypatch):
    """The docs train `configs/NAME.yaml`, a checkout's file: an installed heartzoo is told that a
    published version's configuration.json is its recipe."""
    from heartzoo.config import load_config
    from heartzoo.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"configs/beat-3-cnn3\.yaml: no such configuration file \(configs/ comes"
    ):
        load_config("configs/beat-3-cnn3.yaml")
    (tmp_path / "configs").mkdir()  # a folder of the user's own: a typo there is only a typo
    with pytest.raises(ConfigError, match=r"configs/beat-3-cnn3\.yaml: no such configuration file$"):
        load_config("configs/beat-3-cnn3.yaml")
