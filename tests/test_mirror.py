"""The static mirror of the zoo, the recommendation carried in its index, and where a model name is
looked up when there is no zoo folder at hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from httpserver import FolderServer

from heartzoo.errors import DownloadError, HeartzooError
from heartzoo.meta import read_metrics

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"
TWO = ["beat-3-cnn3-born-again@v1", "beat-2-cnn3-student@v1"]


def load_config_of(vdir: Path):
    from heartzoo.config import parse_config
    from heartzoo.meta import read_configuration

    return parse_config(read_configuration(vdir).config, str(vdir / "configuration.json"))


def test_each_recommendation_is_the_best_validation_score_of_the_wearable_line_within_budget():
    from heartzoo.zoo.index import build_index, read_index
    from heartzoo.zoo.recommend import WEARABLE, WEARABLE_LINE, validation_macro_f1
    from heartzoo.zoo.retrain_checks import verdicts

    index = read_index(ZOO)
    chosen = index["recommended"]
    checked = verdicts(ZOO, index)  # zoo/checks.json: made again by its recipe, where retrained
    assert set(chosen) == {"beat-2", "beat-3", "aami-5", "af-4"}
    passed_over, not_by_a_commit = [], []
    for task, ref in chosen.items():
        fits, others, unclean = [], [], []
        for e in (e for e in index["models"] if e["task"] == task):
            m = read_metrics(ZOO / e["path"])
            if m.leaky:
                continue
            ok = (
                m.ensemble is None
                and {c.split(":")[0] for c in m.compression} >= WEARABLE_LINE
                and m.tflite_bytes <= WEARABLE["tflite_bytes"]
                and m.tflm_arena_bytes <= WEARABLE["tflm_arena_bytes"]
            )
            dbs = len({s.split(":")[0] for s in load_config_of(ZOO / e["path"]).data.train})
            scored = (dbs, validation_macro_f1(ZOO / e["path"]), f"{e['name']}@{e['version']}")
            again = checked.get(scored[2], m.made_by_one_clean_commit())
            if ok and not again:  # fits, but its recipe does not (or may not) make it again
                unclean.append(scored)
            (fits if ok and again else others).append(scored)
        pool = max(f[0] for f in fits)  # the largest patient pool first, then the best validation score
        assert ref == max(f[1:] for f in fits if f[0] == pool)[1]
        passed_over.append(max(o[1] for o in others) > max(f[1] for f in fits))
        not_by_a_commit.append(any(u[:2] > (pool, max(f[1] for f in fits if f[0] == pool)) for u in unclean))
    # the conditions decided something: a model outside them scored higher on validation, and one that
    # fits the budget was passed over only because its recipe does not (or may not) make it again
    assert any(passed_over) and any(not_by_a_commit)
    # the index the zoo ships is the one its files give
    assert build_index(ZOO)["recommended"] == chosen


def test_an_index_recommending_an_unlisted_or_other_task_version_is_refused():
    from heartzoo.meta import parse_index
    from heartzoo.zoo.index import read_index

    index = read_index(ZOO)
    with pytest.raises(HeartzooError, match=r"recommended\['beat-3'\] = 'nope@v1'"):
        parse_index({**index, "recommended": {"beat-3": "nope@v1"}}, "index.json")
    with pytest.raises(HeartzooError, match="is not a beat-2 version"):
        parse_index({**index, "recommended": {"beat-2": "beat-3-cnn3-born-again@v1"}}, "index.json")


def test_a_mirror_is_served_and_downloaded_over_http(tmp_path):
    from heartzoo.zoo.hub import download
    from heartzoo.zoo.mirror import mirror

    rep = mirror(tmp_path / "site", ZOO, models=TWO)
    assert rep.copied == TWO and rep.bytes_copied > 0
    site = json.loads((tmp_path / "site" / "index.json").read_text())
    assert sorted(f"{m['name']}@{m['version']}" for m in site["models"]) == sorted(TWO)
    from heartzoo.zoo.index import read_index

    # the source's recommendations that the mirror holds
    assert site["recommended"] == {t: r for t, r in read_index(ZOO)["recommended"].items() if r in TWO}
    # again: nothing copied, everything kept
    again = mirror(tmp_path / "site", ZOO, models=TWO)
    assert again.copied == [] and again.kept == TWO
    with FolderServer(tmp_path / "site") as srv:
        folder = download("beat-2-cnn3-student", base_url=srv.url, cache_dir=tmp_path / "cache")
    assert (folder / "model.tflite").read_bytes() == (
        ZOO / "beat-2/beat-2-cnn3-student/v1/model.tflite"
    ).read_bytes()


def test_a_mirrored_version_is_never_changed(tmp_path):
    from heartzoo.zoo.index import write_index
    from heartzoo.zoo.mirror import mirror

    src = tmp_path / "zoo"
    shutil.copytree(ZOO / "beat-2" / "beat-2-cnn3-student", src / "beat-2" / "beat-2-cnn3-student")
    write_index(src)
    mirror(tmp_path / "site", src)
    # the source republishes v1 with other bytes (which a zoo never does): the mirror refuses it
    card = src / "beat-2/beat-2-cnn3-student/v1/history.csv"
    card.write_text(card.read_text() + "\n")
    write_index(src)
    before = (tmp_path / "site" / "index.json").read_bytes()
    with pytest.raises(
        HeartzooError, match="mirrored there with other files; a published version never changes"
    ):
        mirror(tmp_path / "site", src)
    assert (tmp_path / "site" / "index.json").read_bytes() == before


def test_a_damaged_source_mirrors_nothing(tmp_path):
    from heartzoo.zoo.index import write_index
    from heartzoo.zoo.mirror import mirror

    src = tmp_path / "zoo"
    shutil.copytree(ZOO / "beat-2" / "beat-2-cnn3-student", src / "beat-2" / "beat-2-cnn3-student")
    write_index(src)
    (src / "beat-2/beat-2-cnn3-student/v1/model.tflite").write_bytes(b"not a model")
    with pytest.raises(HeartzooError, match=r"model.tflite.*nothing mirrored|nothing mirrored.*model.tflite"):
        mirror(tmp_path / "site", src)
    assert not (tmp_path / "site").exists()  # not even the folder: it was made before the refusal


def test_a_mirror_carries_the_retraining_checks_of_the_versions_it_holds(tmp_path):
    from heartzoo.zoo.index import build_index, read_index
    from heartzoo.zoo.mirror import mirror
    from heartzoo.zoo.retrain_checks import read_checks, retraining_note

    site = tmp_path / "site"
    first = ["aami-5-cnn3-student@v2", "beat-3-cnn3-born-again@v1"]  # one checked (not made again), one not
    mirror(site, ZOO, models=first)
    source = read_checks(ZOO, read_index(ZOO))
    assert [c.ref for c in read_checks(site, read_index(site))] == ["aami-5-cnn3-student@v2"]
    # a second mirror run adds a version and its check; the first one's stays
    mirror(site, ZOO, models=["beat-3-cnn3-student@v3"])
    held = read_checks(site, read_index(site))
    assert held == [c for c in source if c.ref in {"aami-5-cnn3-student@v2", "beat-3-cnn3-student@v3"}]
    # so the mirror's cards and recommendation say what the source's do
    for ref in [*first, "beat-3-cnn3-student@v3"]:
        assert retraining_note(ref, site) == retraining_note(ref, ZOO)
    assert build_index(site)["recommended"]["beat-3"] == "beat-3-cnn3-student@v3"


def test_a_source_with_damaged_checks_mirrors_nothing(tmp_path):
    from heartzoo.zoo.index import write_index
    from heartzoo.zoo.mirror import mirror

    src, ref = tmp_path / "zoo", "beat-3-cnn3-student@v3"
    shutil.copytree(ZOO / "beat-3/beat-3-cnn3-student/v3", src / "beat-3/beat-3-cnn3-student/v3")
    write_index(src)
    check = next(c for c in json.loads((ZOO / "checks.json").read_text())["checks"] if c["ref"] == ref)
    (src / "checks.json").write_text(json.dumps({"format": 1, "checks": [{**check, "made_agian": True}]}))
    with pytest.raises(
        HeartzooError, match=r"(?s)checks.json: refused.*check 0 \(beat-3-cnn3-student@v3\).*made_agian"
    ):
        mirror(tmp_path / "site", src)
    assert not (tmp_path / "site").exists()  # not even the folder: it was made before the refusal


def test_mirror_refuses_unknown_names_and_its_own_source(tmp_path):
    from heartzoo.zoo.mirror import mirror

    with pytest.raises(HeartzooError, match="no-such-model: not in the zoo being mirrored"):
        mirror(tmp_path / "site", ZOO, models=["no-such-model"])
    with pytest.raises(HeartzooError, match="is, or is inside, the zoo being mirrored"):
        mirror(ZOO, ZOO)
    with pytest.raises(HeartzooError, match="is, or is inside, the zoo being mirrored"):
        mirror(ZOO / "mirror-inside", ZOO)
    assert not (ZOO / "mirror-inside").exists()


def test_with_no_zoo_folder_names_mean_the_published_index_and_it_is_cached(tmp_path, monkeypatch):
    import heartzoo
    from heartzoo.zoo.mirror import mirror

    mirror(tmp_path / "site", ZOO, models=TWO)
    monkeypatch.chdir(tmp_path)  # no ./zoo here
    monkeypatch.delenv("HEARTZOO_ZOO_DIR", raising=False)
    with FolderServer(tmp_path / "site") as srv:
        monkeypatch.setenv("HEARTZOO_ZOO_URL", srv.url)
        online = heartzoo.list_models(cache_dir=tmp_path / "cache")
    assert sorted(online) == sorted(TWO)
    # the server is gone: the index read last serves, from the cache
    assert heartzoo.list_models(cache_dir=tmp_path / "cache") == online
    # a zoo folder here wins over the published one
    mirror(tmp_path / "zoo", ZOO, models=TWO[:1])
    assert heartzoo.list_models() == TWO[:1]


def test_an_install_without_the_checkout_downloads_from_the_published_zoo(monkeypatch, tmp_path):
    from heartzoo.zoo import index as zoo

    monkeypatch.delenv("HEARTZOO_ZOO_URL", raising=False)
    monkeypatch.delenv("HEARTZOO_ZOO_DIR", raising=False)
    assert zoo.zoo_url() == ZOO.as_uri() + "/"  # a checkout serves its own zoo/
    monkeypatch.chdir(tmp_path)  # outside a checkout, as a wheel's user is
    assert zoo.zoo_url() == zoo.DEFAULT_ZOO_URL
    assert zoo.zoo_url("http://mirror.example/zoo") == "http://mirror.example/zoo/"
    # the local zoo that load_model reads serves download too
    monkeypatch.setenv("HEARTZOO_ZOO_DIR", str(ZOO))
    assert zoo.zoo_url() == ZOO.as_uri() + "/"
    monkeypatch.setenv("HEARTZOO_ZOO_URL", "http://mirror.example/zoo")
    assert zoo.zoo_url() == "http://mirror.example/zoo/"
    # the published zoo unreachable: the error says what to name instead (nothing listens on port 9)
    monkeypatch.delenv("HEARTZOO_ZOO_DIR")
    monkeypatch.setattr(zoo, "DEFAULT_ZOO_URL", "http://127.0.0.1:9/zoo/")
    monkeypatch.delenv("HEARTZOO_ZOO_URL")
    with pytest.raises(DownloadError, match=r"until then name one: --base-url"):
        zoo.remote_index(cache_dir=tmp_path / "cache")


def test_the_recommended_models_are_named_the_same_in_the_readme_and_make_demo():
    import re

    from heartzoo.zoo.index import find, read_index

    chosen = read_index(ZOO)["recommended"]
    readme = (REPO / "README.md").read_text()
    table = re.findall(r"^\| ([a-z0-9-]+) \| `([a-z0-9-]+)` (v\d+) \|", readme, re.M)
    assert {task: f"{name}@{version}" for task, name, version in table} == chosen
    # make demo trains the recipe that made the recommended version: its own configuration.json
    demo = re.search(r"^DEMO_REF \?= (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert demo is not None and demo.group(1) == chosen["beat-3"]
    assert (ZOO / find(read_index(ZOO), demo.group(1))["path"] / "configuration.json").is_file()


def test_a_mirror_is_readable_by_a_web_server_of_another_user(tmp_path):
    import os
    import stat

    from heartzoo.zoo.mirror import mirror

    mirror(tmp_path / "site", ZOO, models=TWO[:1])
    mask = os.umask(0)
    os.umask(mask)
    files = [p for p in (tmp_path / "site").rglob("*") if p.is_file() and p.name != ".nojekyll"]
    assert len(files) > 3
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p


def test_a_mirror_cut_short_is_redone_by_the_next_run(tmp_path):
    from heartzoo.zoo.mirror import mirror

    site = tmp_path / "site"
    # what a crash during the copy leaves: a part folder with a truncated file, no index entry
    part = site / "beat-3" / "beat-3-cnn3-born-again" / "v1.part"
    part.mkdir(parents=True)
    (part / "model.tflite").write_bytes(b"half")
    rep = mirror(site, ZOO, models=TWO[:1])
    assert rep.copied == TWO[:1] and not part.exists()
    from heartzoo.integrity import check_files
    from heartzoo.zoo.index import find, read_index

    e = find(read_index(site), "beat-3-cnn3-born-again", "v1")
    assert check_files(site / e["path"], e["files"]) == []


def test_a_refused_run_writes_nothing_and_a_run_stopped_before_its_index_is_finished_by_the_next(tmp_path):
    """Every conflict is found before the first write; a version renamed into place by a run that then
    stopped (refused or killed before its index) is found intact and listed by the next run."""
    from heartzoo.zoo.index import write_index
    from heartzoo.zoo.mirror import mirror

    src, site = tmp_path / "zoo", tmp_path / "site"
    for ref in TWO:
        name, version = ref.split("@")
        task = "-".join(name.split("-")[:2])
        shutil.copytree(ZOO / task / name / version, src / task / name / version)
    write_index(src)
    mirror(site, src, models=TWO[1:])
    card = src / "beat-2/beat-2-cnn3-student/v1/history.csv"
    card.write_text(card.read_text() + "\n")
    write_index(src)
    tree = sorted(p.relative_to(site) for p in site.rglob("*"))
    with pytest.raises(HeartzooError, match="mirrored there with other files"):
        mirror(site, src, models=TWO)  # the new version first, then the changed one
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == tree
    # a run killed after renaming a version into place, before writing its index
    born = "beat-3/beat-3-cnn3-born-again/v1"
    shutil.copytree(src / born, site / born)
    rep = mirror(site, src, models=TWO[:1])
    assert rep.kept == TWO[:1] and rep.copied == []
    assert "beat-3-cnn3-born-again" in (site / "index.json").read_text()
    (site / born / "notes.txt").write_text("not the version's")
    (site / "index.json").unlink()
    with pytest.raises(HeartzooError, match=r"holds files no index of .* lists"):
        mirror(site, src, models=TWO[:1])


def test_the_docs_build_never_replaces_the_zoo_the_checkout_or_a_foreign_folder(tmp_path):
    from heartzoo.site.build import build_site

    for where in (ZOO, REPO, REPO / "docs", ZOO / "beat-3"):
        with pytest.raises(HeartzooError, match="choose a folder of its own"):
            build_site(ZOO, where)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    with pytest.raises(HeartzooError, match="not a built site"):
        build_site(ZOO, foreign)
    assert (foreign / "mine.txt").read_text() == "keep me"
