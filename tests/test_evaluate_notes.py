"""What `heartzoo evaluate` tells a reader beside its tables."""

from __future__ import annotations

from conftest import REPO


def test_evaluate_says_when_the_split_now_holds_other_labels_than_the_card():
    """quality-cnn3 v1's test windows are labelled by where the default detector errs, which has changed
    since it was published: its DS2 supports today are not its metrics.json's, and `evaluate` says the
    card's numbers are not the ones it prints. Measured by `heartzoo evaluate quality-cnn3` (2 minutes):
    here the published report itself, as it was and with one class's support as it is now."""
    import copy

    from heartzoo.evaluation.evaluate import published_differs, run_config
    from heartzoo.meta import read_metrics

    for name in ("quality/quality-cnn3/v1", "beat-3/beat-3-cnn3-student/v6"):
        folder = REPO / "zoo" / name
        published = read_metrics(folder).float.model_dump()
        config = run_config(folder)[1]
        assert published_differs(folder, config, "ds2", published) == []
        assert published_differs(folder, config, "val", published) == []  # the card has no val numbers
        now = copy.deepcopy(published)
        first = now["classes"][0]
        now["per_class"][first]["support"] += 315
        said = published_differs(folder, config, "ds2", now)
        assert (
            len(said) == 1
            and f"ds2 now holds other labels than {folder.parent.name}@{folder.name}" in said[0]
        )
        assert ("default detector errs" in said[0]) == name.startswith("quality")


def test_a_class_is_absent_only_where_the_split_holds_none_of_it():
    """A threshold that rejects every beat leaves no support, but the beats were there: no note then
    (it said "ds2 holds no N, S, V"); a class with neither beats nor rejected beats is absent."""
    from heartzoo.evaluation.evaluate import report_notes
    from heartzoo.meta import read_metrics

    report = read_metrics(REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6").float.model_dump()
    assert report_notes(report, "ds2") == []
    every = {c: v["support"] for c, v in report["per_class"].items()}
    for v in report["per_class"].values():
        v["support"] = 0
    assert report_notes({**report, "rejected_per_class": every}, "ds2") == []
    said = report_notes({**report, "rejected_per_class": {**every, "S": 0}}, "ds2")
    assert said == [
        "ds2 holds no S: its F1 is 0 by the model's calls of S alone, and the macro-F1 (N, S, V) counts it"
    ]
