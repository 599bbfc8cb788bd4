"""The zoo's retraining checks (zoo/checks.json): typed and validated like the index, and read by the
recommendation, which passes over a version its recipe did not make again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from heartzoo.errors import HeartzooError

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"


def _copy_zoo(dest: Path, refs: list[str]) -> Path:
    """A zoo of a few real published versions (their folders as published) and its index."""
    from heartzoo.zoo.index import find, read_index, write_index

    index = read_index(ZOO)
    for ref in refs:
        e = find(index, ref)
        shutil.copytree(ZOO / e["path"], dest / e["path"])
    write_index(dest)
    return dest


def _checks_of(ref: str) -> list[dict]:
    return [c for c in json.loads((ZOO / "checks.json").read_text())["checks"] if c["ref"] == ref]


def test_the_published_checks_hold_against_the_zoo_they_check():
    from heartzoo.zoo.index import read_index
    from heartzoo.zoo.retrain_checks import read_checks, verdicts

    index = read_index(ZOO)
    checks = read_checks(ZOO, index)  # each ref listed, each with the scores its metrics.json records
    assert {c.made_again for c in checks} == {True, False}
    failed = {ref for ref, ok in verdicts(ZOO, index).items() if not ok}
    assert failed and not failed & set(index["recommended"].values())


def test_a_version_its_recipe_did_not_make_again_is_not_recommended(tmp_path):
    """The tuned beat-3 student leads on validation, and its recipe trained it again into another model
    (zoo/checks.json): with that check the rule picks the hand student, without it the tuned one."""
    from heartzoo.zoo.index import read_index, verify, write_index

    tuned, hand = "beat-3-cnn3-student-tuned@v1", "beat-3-cnn3-student@v3"
    assert _checks_of(tuned) and not any(c["made_again"] for c in _checks_of(tuned))
    root = _copy_zoo(tmp_path / "zoo", [tuned, hand])
    assert read_index(root)["recommended"] == {"beat-3": tuned}
    (root / "checks.json").write_text(json.dumps({"format": 1, "checks": _checks_of(tuned)}))
    # an index written before the check still recommends what its recipe did not make again: `zoo verify` says so
    (problem,) = verify(root, agreement=False)
    assert f"recommends {tuned} for beat-3, which its recipe did not make again" in problem
    assert write_index(root)["recommended"] == {"beat-3": hand}
    assert verify(root, agreement=False) == []
    # a check that made it again (as at another commit) restores it: any commit that makes it will do
    made = {
        **_checks_of(tuned)[0],
        "now": _checks_of(tuned)[0]["published"],
        "same_history": True,
        "made_again": True,
    }
    (root / "checks.json").write_text(json.dumps({"format": 1, "checks": [*_checks_of(tuned), made]}))
    assert write_index(root)["recommended"] == {"beat-3": tuned}


def _one_check(**change) -> dict:
    c = {
        "ref": "beat-2-cnn3-student@v2",
        "recipe": "configs/beat-2-cnn3-student.yaml",
        "retrained_at": "0" * 40,
        "published": {"val_macro_f1": 0.5, "test_float_macro_f1": 0.6},
        "now": {"val_macro_f1": 0.5, "test_float_macro_f1": 0.6},
        "same_history": True,
        "made_again": True,
    }
    return {**c, **change}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"made_agian": True}, r"check 0 \(beat-2-cnn3-student@v2\), field 'made_agian': Extra inputs"),
        ({"retrained_at": "0" * 40 + "-dirty"}, r"check 0 \(beat-2-cnn3-student@v2\), field 'retrained_at'"),
        ({"recipe": "../../etc/passwd.yaml"}, r"field 'recipe'"),
        ({"ref": "beat-2-cnn3-student"}, r"field 'ref'"),
        # a verdict that does not follow from the numbers it records
        ({"now": {"val_macro_f1": 0.5, "test_float_macro_f1": 0.61}}, r"made_again: True does not follow"),
        ({"same_history": False}, r"made_again: True does not follow"),
    ],
)
def test_a_bad_check_is_refused_naming_the_file_the_check_and_the_field(tmp_path, change, message):
    from heartzoo.zoo.retrain_checks import read_checks

    (tmp_path / "checks.json").write_text(json.dumps({"format": 1, "checks": [_one_check(**change)]}))
    with pytest.raises(HeartzooError, match=rf"{tmp_path / 'checks.json'}: refused(.|\n)*{message}"):
        read_checks(tmp_path)


def test_a_check_of_other_numbers_or_of_an_unlisted_version_is_refused(tmp_path):
    from heartzoo.meta import read_metrics
    from heartzoo.zoo.index import read_index, write_index

    root = _copy_zoo(tmp_path / "zoo", ["beat-2-cnn3-student@v2"])
    m = read_metrics(root / "beat-2/beat-2-cnn3-student/v2")
    scores = {"val_macro_f1": m.val_macro_f1, "test_float_macro_f1": m.float.macro_f1}
    good = _one_check(published=scores, now=scores)
    (root / "checks.json").write_text(json.dumps({"format": 1, "checks": [good]}))
    before = (root / "index.json").read_bytes()
    assert write_index(root)["recommended"] == read_index(root)["recommended"]
    off = {**scores, "test_float_macro_f1": scores["test_float_macro_f1"] - 1e-9}
    (root / "checks.json").write_text(
        json.dumps({"format": 1, "checks": [_one_check(published=off, now=off)]})
    )
    with pytest.raises(
        HeartzooError, match=r"check 0 \(beat-2-cnn3-student@v2\): field 'published'.*metrics.json"
    ):
        write_index(root)
    assert (root / "index.json").read_bytes() == before  # nothing half-written
    (root / "checks.json").write_text(
        json.dumps({"format": 1, "checks": [{**good, "ref": "beat-2-cnn3-student@v9"}]})
    )
    with pytest.raises(HeartzooError, match=r"the zoo's index lists no beat-2-cnn3-student@v9"):
        write_index(root)


def test_a_check_needs_clean_commit_of():
    from heartzoo.training.retrain import _clean_commit_of

    commit = "a" * 40
    assert _clean_commit_of([commit], "x") == commit
    for bad in ([f"{commit}-dirty"], [commit, "b" * 40], None):
        with pytest.raises(HeartzooError, match="a check needs one clean commit"):
            _clean_commit_of(bad, "the run was trained")


def test_history_rows_compare_every_column_but_the_wall_clock(tmp_path):
    from heartzoo.training.retrain import history_rows

    published = ZOO / "aami-5" / "aami-5-cnn3-student" / "v3" / "history.csv"
    lines = published.read_text().splitlines()
    header = lines[0].split(",")
    at = {c: header.index(c) for c in ("seconds", "loss")}

    def altered(column: str) -> Path:
        row = lines[3].split(",")
        row[at[column]] += "1"  # one more digit
        out = tmp_path / f"{column}.csv"
        out.write_text("\n".join([*lines[:3], ",".join(row), *lines[4:]]) + "\n")
        return out

    assert history_rows(published) == history_rows(altered("seconds"))
    assert history_rows(published) != history_rows(altered("loss"))


def test_retrain_refuses_a_run_of_another_recipe_and_writes_nothing(tmp_path, small_run, data_root):
    from heartzoo.training.retrain import retrain

    root = _copy_zoo(tmp_path / "zoo", ["beat-2-cnn3-student@v2"])
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    # the recipe v2 was made from: its own configuration.json
    with pytest.raises(
        HeartzooError, match=r"its config is not beat-2/beat-2-cnn3-student/v2/configuration\.json "
    ):
        retrain("beat-2-cnn3-student@v2", root, run=small_run)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    with pytest.raises(HeartzooError, match="nope"):
        retrain("nope@v1", root)


def test_a_card_says_what_its_checks_found():
    from heartzoo.checkout import Checkout
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index

    index = read_index(ZOO)

    def card(ref):
        e = find(index, ref)
        return model_card(e, ZOO / e["path"], Checkout.of(REPO)).split("## Reproduce")[1]

    tuned = card("beat-3-cnn3-student-tuned@v1")
    assert "**not made again**: history.csv differs, validation 0.8086" in tuned
    assert "so heartzoo does not recommend it" in tuned
    made = card("beat-2-cnn3-student@v2")
    assert "at commit `03f59b1` (`heartzoo zoo retrain beat-2-cnn3-student@v2`): **made again**" in made
    assert "does not recommend" not in made
    assert "Not yet checked by retraining (`heartzoo zoo retrain beat-3-cnn1@v1`)" in card("beat-3-cnn1@v1")


def test_a_retrained_af4_model_is_scored_as_export_scored_it():
    """A per-recording task's check scores the retrained model as export scores a version (its mean+max
    aggregation fitted and cross-fitted on validation): on af-4-cnn3-student v3, the numbers its metrics.json
    records, where the windows' mean gives others."""
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.meta import read_metrics
    from heartzoo.training.retrain import export_scores

    vdir = ZOO / "af-4" / "af-4-cnn3-student" / "v3"
    model, config = load_run(vdir)
    m = read_metrics(vdir)
    val, test = export_scores(model, config, stage_val=-1.0)
    assert val == pytest.approx(m.val_macro_f1, abs=1e-12) and test == pytest.approx(
        m.float.macro_f1, abs=1e-12
    )


def test_a_check_records_the_machine_it_retrained_on(tmp_path):
    """A recipe makes one model on one kind of processor: a check names the machine of its run, typed like
    the rest (an unknown field is refused), and the card says it."""
    from heartzoo.training.machine import this_machine
    from heartzoo.zoo.retrain_checks import read_checks, retraining_note

    here = this_machine()
    (tmp_path / "checks.json").write_text(
        json.dumps({"format": 1, "checks": [_one_check(retrained_on=[here])]})
    )
    (check,) = read_checks(tmp_path)
    assert check.retrained_on[0].model_dump() == here
    note = retraining_note("beat-2-cnn3-student@v2", tmp_path)
    assert f"at commit `0000000` on {here['processor']} ({here['isa']}, {here['cores']} cores;" in note
    bad = _one_check(retrained_on=[{**here, "gpu": "H100"}])
    (tmp_path / "checks.json").write_text(json.dumps({"format": 1, "checks": [bad]}))
    with pytest.raises(HeartzooError, match=r"field 'retrained_on.0.gpu': Extra inputs"):
        read_checks(tmp_path)


def test_a_failed_check_on_another_kind_of_machine_does_not_unrecommend(tmp_path):
    """A recipe is deterministic on one kind of processor only: a check that failed on another kind than
    the version recorded says nothing of the recipe, so the version stays recommended, and its card says
    why; the same failure on the version's own kind takes it out, as one recording no machine does."""
    from heartzoo.meta import read_metrics
    from heartzoo.zoo.index import read_index, write_index
    from heartzoo.zoo.retrain_checks import retraining_note

    top, other = "af-4-cnn4-student@v1", "af-4-cnn3-student@v3"
    root = _copy_zoo(tmp_path / "zoo", [top, other])
    assert read_index(root)["recommended"] == {"af-4": top}
    own = [m.model_dump() for m in read_metrics(root / "af-4" / "af-4-cnn4-student" / "v1").trained_on]
    (made,) = _checks_of(top)
    failed = {**made, "now": {**made["now"], "test_float_macro_f1": 0.5}, "same_history": False}
    failed["made_again"] = False
    for machines, recommended, says in (
        ([{**m, "isa": "AVX2"} for m in own], top, "say nothing of the recipe"),
        (own, other, "does not recommend it"),
        (None, other, "does not recommend it"),
    ):
        check = {**failed, "retrained_on": machines}
        (root / "checks.json").write_text(json.dumps({"format": 1, "checks": [check]}))
        assert write_index(root)["recommended"] == {"af-4": recommended}, machines
        assert says in retraining_note(
            top, root, read_metrics(root / "af-4" / "af-4-cnn4-student" / "v1").trained_on
        )
