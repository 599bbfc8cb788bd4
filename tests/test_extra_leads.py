"""`data.extra_leads`: a training record's other leads as extra views of its beats (issue 46), on real
mitdb and svdb records; validation and tests keep the input's lead."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.errors import ConfigError, HeartzooError


def _config(**data):
    return parse_config(
        {
            "name": "views",
            "task": "beat-3",
            "model": {"arch": "cnn1"},
            "input": {"rr_features": True, "template_beats": 8},
            "data": {
                "train": ["mitdb:114", "mitdb:119", "mitdb:209", "svdb:851"],
                "validation": {"records": ["mitdb:209"]},
                **data,
            },
        },
        "views.yaml",
    )


def test_other_leads_are_read_from_the_header(data_root):
    from heartzoo.data import mitbih, svdb

    mitdb, sv = mitbih.DATABASE, svdb.DATABASE
    # 114 stores V5 first and MLII second: the other lead is V5 whatever the order
    assert mitdb.other_leads(mitdb.folder(data_root), "114", "MLII") == ["V5"]
    assert mitdb.other_leads(mitdb.folder(data_root), "119", "MLII") == ["V1"]
    assert sv.other_leads(sv.folder(data_root), "851", "MLII") == ["ECG2"]


def test_training_reads_each_records_other_lead_as_more_beats(data_root, shared_cache):
    from heartzoo.data.prepare import load_split

    plain = load_split(_config(), "train", data_dir=data_root, cache_dir=shared_cache)
    views = load_split(_config(extra_leads=True), "train", data_dir=data_root, cache_dir=shared_cache)
    n = len(plain)
    assert views.meta["extra_leads"] == {
        "mitdb:V1": int((plain.record == "119").sum()),
        "mitdb:V5": int((plain.record == "114").sum()),
        "svdb:ECG2": int((plain.record == "851").sum()),
    }
    assert len(views) == 2 * n
    # the input's lead comes first and is unchanged
    np.testing.assert_array_equal(views.x[:n], plain.x)
    np.testing.assert_array_equal(views.template[:n], plain.template)
    # each view holds the same beats: labels, R peaks and RR intervals, under the same record (patient)
    order = np.lexsort((views.sample[n:], views.record[n:]))
    ref = np.lexsort((plain.sample, plain.record))
    for field in ("aami", "record", "sample", "rr"):
        np.testing.assert_array_equal(getattr(views, field)[n:][order], getattr(plain, field)[ref])
    # but as another lead shows them, with that lead's own running templates
    assert not np.allclose(views.x[n:][order], plain.x[ref])
    assert views.template.shape == views.x.shape
    assert not np.allclose(views.template[n:][order], plain.template[ref])


def test_validation_keeps_the_inputs_lead(data_root, shared_cache):
    from heartzoo.data.prepare import load_split

    plain = load_split(_config(), "val", data_dir=data_root, cache_dir=shared_cache)
    views = load_split(_config(extra_leads=True), "val", data_dir=data_root, cache_dir=shared_cache)
    np.testing.assert_array_equal(views.x, plain.x)
    assert "extra_leads" not in views.meta


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"task": "af-4", "data": {"train": ["cinc2017:train"], "extra_leads": True}}, "extra_leads"),
        ({"data": {"extra_leads": True, "shards": "shards"}}, "extra_leads"),
        ({"data": {"extra_leads": True, "protocol": "leaky-random-beat"}}, "extra_leads"),
        ({"data": {"extra_leads": "both"}}, "extra_leads"),
    ],
)
def test_extra_leads_are_refused_where_they_mean_nothing(raw, field):
    base = {"name": "x", "task": "beat-3", "model": {"arch": "cnn1"}}
    with pytest.raises(ConfigError, match=field):
        parse_config({**base, **raw, "data": {**raw.get("data", {})}}, "x.yaml")


def test_a_views_lead_is_read_for_training_beats_alone(data_root):
    from heartzoo.data.prepare import StressNoise, load_windows

    spec = _config().input
    with pytest.raises(HeartzooError, match="another lead"):
        load_windows(["119"], spec, data_dir=data_root, lead="V1", noise=StressNoise())
    with pytest.raises(HeartzooError, match="another lead"):
        load_windows(["119"], spec, data_dir=data_root, lead="V1", unit="window")


def test_a_lever_stacked_on_the_adopted_combination_must_beat_it_too():
    from heartzoo.site.lever_table import adopted

    def s(val, af):
        return {"val": [val, 0.0], "af_S": [af, 0.0]}

    summary = {
        "baseline": s(0.76, 0.22),
        "template-af-beats": s(0.81, 0.02),
        "template-af-beats-more": s(0.80, 0.02),  # above the baseline, below the combination
        "template-af-beats-best": s(0.82, 0.01),
        "other": s(0.80, 0.10),  # not stacked: against the baseline alone
    }
    assert adopted(summary) == {
        "template-af-beats": True,
        "template-af-beats-more": False,
        "template-af-beats-best": True,
        "other": True,
    }


def test_a_card_says_its_model_trained_on_other_leads():
    from heartzoo.site.card_sections import training_text

    with_views = training_text(_config(extra_leads=True).model_dump(mode="json"))
    assert "data.extra_leads" in with_views and "read MLII alone" in with_views
    assert "extra_leads" not in training_text(_config().model_dump(mode="json"))
