"""Using the zoo: download from a real HTTP server on 127.0.0.1, load, predict on real DS2 records."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import empty_zoo
from httpserver import FolderServer

from heartzoo.errors import DownloadError
from heartzoo.integrity import IntegrityError

NAME = "small-cnn2"


@pytest.fixture(scope="module")
def published(small_zoo):
    return small_zoo


def _site(published, tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(published, site)
    return site


def test_download_verifies_every_file(published, tmp_path):
    from heartzoo.zoo.hub import download

    with FolderServer(published) as srv:
        folder = download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
    entry = json.loads((published / "index.json").read_text())["models"][0]
    for f in entry["files"]:
        assert hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert not list(folder.glob("*.part"))


def test_corrupted_file_is_refused_and_removed(published, tmp_path):
    from heartzoo.zoo.hub import download

    site = _site(published, tmp_path)
    tfl = site / "beat-3" / NAME / "v1" / "model.tflite"
    raw = bytearray(tfl.read_bytes())
    raw[100] ^= 0xFF
    tfl.write_bytes(bytes(raw))
    with FolderServer(site) as srv, pytest.raises(DownloadError, match=r"model.tflite: refused"):
        download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "models" / "beat-3" / NAME / "v1" / "model.tflite").exists()


def test_missing_file_is_named(published, tmp_path):
    from heartzoo.zoo.hub import download

    site = _site(published, tmp_path)
    (site / "beat-3" / NAME / "v1" / "history.csv").unlink()
    with FolderServer(site) as srv, pytest.raises(DownloadError, match=r"history.csv: .*HTTP 404"):
        download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache", retries=0)


def test_dropped_connection_resumes(published, tmp_path):
    from heartzoo.zoo.hub import download

    path = f"beat-3/{NAME}/v1/model.keras"
    with FolderServer(published, drop_once={path}) as srv:
        folder = download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
        ranges = [r for p, r in srv.log if p == path]
    assert len(ranges) == 2 and ranges[0] is None and ranges[1].startswith("bytes=")
    assert (folder / "model.keras").read_bytes() == (published / path).read_bytes()


def test_offline_the_cache_serves(published, tmp_path, caplog):
    from heartzoo.zoo.hub import download

    with FolderServer(published) as srv:
        first = download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
        url = srv.url
    # the server is gone now: the cached version serves, and the user is told it is the cache's
    with caplog.at_level("WARNING", logger="heartzoo.zoo.downloads"):
        assert download(NAME, base_url=url, cache_dir=tmp_path / "cache", timeout=2, retries=0) == first
    said = [r.getMessage() for r in caplog.records if r.name == "heartzoo.zoo.downloads"]
    assert len(said) == 1 and "cannot read the zoo index" in said[0], said
    assert f"using {NAME}@v1 cached at {first}" in said[0], said
    with pytest.raises(DownloadError, match="cannot read the zoo index"):
        download("other-model", base_url=url, cache_dir=tmp_path / "cache", timeout=2, retries=0)


def test_a_version_named_and_cached_is_served_without_the_network(published, tmp_path, caplog):
    """A published version never changes: NAME@vN cached intact from the same zoo asks no index (a
    wearable's gateway offline, or a zoo host that accepts connections and never answers, costs nothing
    and says nothing); a name alone still asks which version is the latest, and another mirror, or a copy
    with a file gone, goes the way of a download."""
    from heartzoo.zoo.hub import download
    from heartzoo.zoo.index import write_index

    cache = tmp_path / "cache"
    with FolderServer(published) as srv:
        first = download(NAME, "v1", base_url=srv.url, cache_dir=cache)
        asked = len(srv.log)
        with caplog.at_level("WARNING", logger="heartzoo"):
            assert download(NAME, "v1", base_url=srv.url, cache_dir=cache) == first
        assert len(srv.log) == asked  # not even the index
        assert download(NAME, base_url=srv.url, cache_dir=cache) == first
        assert len(srv.log) > asked and srv.log[asked][0] == "index.json"
    assert not [r for r in caplog.records if r.name.startswith("heartzoo")]
    # another mirror's index is read: one that changed the version is refused, the good copy kept
    site = _site(published, tmp_path)
    (site / "beat-3" / NAME / "v1" / "history.csv").write_text("epoch\n")
    write_index(site)
    with FolderServer(site) as other, pytest.raises(DownloadError, match=r"lists other files"):
        download(NAME, "v1", base_url=other.url, cache_dir=cache)
    # a file gone from the copy is fetched again, alone
    (first / "history.csv").unlink()
    with FolderServer(published) as srv:
        assert download(NAME, "v1", base_url=srv.url, cache_dir=cache) == first
        assert [p for p, _ in srv.log if p != "index.json"] == [f"beat-3/{NAME}/v1/history.csv"]
    (first / "history.csv").write_text("damaged\n")  # bit rot: refused, never served
    with pytest.raises(IntegrityError, match=r"history\.csv"):
        download(NAME, "v1", base_url="http://127.0.0.1:9/", cache_dir=cache)


def test_an_index_that_changes_a_cached_version_is_refused_and_the_cache_kept(published, tmp_path):
    """A published version never changes: an index that now lists other bytes for a version already
    cached (a swapped file, or one file more) is what is wrong, and the good cached copy stays."""
    from heartzoo.zoo.hub import download
    from heartzoo.zoo.index import write_index

    site = _site(published, tmp_path)
    with FolderServer(site) as srv:
        folder = download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
        first = srv.url
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    version = site / "beat-3" / NAME / "v1"
    (version / "model.tflite").write_bytes(b"another model")
    write_index(site)  # an index consistent with the swapped file: only the cache remembers
    with FolderServer(site) as srv:
        for _ in range(2):  # and again: nothing was quarantined the first time
            with pytest.raises(
                DownloadError,
                match=r"model.tflite: [0-9a-f]{12}, [\d,]+ bytes cached, [0-9a-f]{12}, 13 bytes listed",
            ):
                download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # whose copy it is, so that a first download from a host that lied is what the user sees
    with FolderServer(site) as srv, pytest.raises(DownloadError) as exc:
        download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
    assert f"cached at {folder} from {first.rstrip('/')}/index.json" in str(exc.value)
    (version / "model.tflite").write_bytes((published / "beat-3" / NAME / "v1" / "model.tflite").read_bytes())
    (version / "notes.txt").write_text("a file more")
    write_index(site)
    with FolderServer(site) as srv, pytest.raises(DownloadError, match=r"notes.txt: absent cached"):
        download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
    assert not (folder / "notes.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["keras", "tflite"])
def test_download_load_predict_reproduces_the_ds2_metrics(published, data_root, tmp_path, fmt):
    import heartzoo
    from heartzoo.data import mitbih
    from heartzoo.evaluation.metrics import classification_report
    from heartzoo.tasks import get_task

    with FolderServer(published) as srv:
        assert heartzoo.list_models(remote=True, base_url=srv.url) == [f"{NAME}@v1"]
        heartzoo.download(NAME, base_url=srv.url, cache_dir=tmp_path / "cache")
        loaded = heartzoo.load_model(
            NAME,
            format=fmt,
            zoo=empty_zoo(tmp_path / "nozoo"),
            base_url=srv.url,
            cache_dir=tmp_path / "cache",
        )
    assert loaded.class_names == ["N", "S", "V"] and loaded.folder.is_relative_to(tmp_path / "cache")
    task = get_task("beat-3")
    labels, preds = [], []
    for record in mitbih.DS2:
        sig = mitbih.read_signal(data_root / "mitdb", record)
        beats = mitbih.read_beats(data_root / "mitdb", record)
        probs = heartzoo.predict(loaded, sig.values, sig.fs, beats.samples)
        y = task.labels(beats.aami)
        keep = y >= 0
        labels.append(y[keep])
        preds.append(probs[keep].argmax(axis=1))
    rep = classification_report(np.concatenate(labels), np.concatenate(preds), task.class_names)
    metrics = json.loads((published / "beat-3" / NAME / "v1" / "metrics.json").read_text())
    expected = metrics["float" if fmt == "keras" else "int8"]
    assert rep["n"] == expected["n"]
    assert rep["confusion"] == expected["confusion"]
    assert rep["macro_f1"] == pytest.approx(expected["macro_f1"], abs=1e-12)


def test_cli_download_and_remote_list(published, tmp_path):
    env = {**os.environ, "COLUMNS": "200", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with FolderServer(published) as srv:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "heartzoo",
                "download",
                f"{NAME}@v1",
                "--base-url",
                srv.url,
                "--cache-dir",
                str(tmp_path / "c"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        proc = subprocess.run(
            [
                *(
                    sys.executable,
                    "-m",
                    "heartzoo",
                    "zoo",
                    "list",
                    "--remote",
                    "--base-url",
                    srv.url,
                    "--json",
                ),
                *("--cache-dir", str(tmp_path / "listed")),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 0 and json.loads(proc.stdout)["models"][0]["name"] == NAME
        # its copy of the index goes where --cache-dir says, as download's files do
        assert list((tmp_path / "listed").rglob("indexes/*.json")), proc.stderr
        # the table says which zoo it read: the server $HEARTZOO_ZOO_URL names, not "the published zoo"
        proc = subprocess.run(
            [sys.executable, "-m", "heartzoo", "zoo", "list", "--remote"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "HEARTZOO_ZOO_URL": srv.url},
        )
    assert proc.returncode == 0 and f"zoo: {srv.url}" in proc.stdout, proc.stdout + proc.stderr


def test_a_quarantined_copy_still_pins_its_version(published, tmp_path):
    """A cached copy found damaged goes to quarantine with its record of the version's files; an index that
    then lists other files for that version was accepted, since the record left with the copy."""
    from heartzoo.integrity import IntegrityError
    from heartzoo.zoo.hub import download
    from heartzoo.zoo.index import write_index

    site, cache = _site(published, tmp_path), tmp_path / "cache"
    with FolderServer(site) as srv:
        folder = download(NAME, base_url=srv.url, cache_dir=cache)
    (folder / "history.csv").write_text("damaged\n")  # bit rot, or a local edit
    version = site / "beat-3" / NAME / "v1"
    good = (version / "model.tflite").read_bytes()
    with FolderServer(site) as srv, pytest.raises(IntegrityError, match="the cached copy is moved to"):
        download(NAME, base_url=srv.url, cache_dir=cache)
    (version / "model.tflite").write_bytes(b"another model")
    write_index(site)  # consistent with the swap: only the quarantined record remembers
    with FolderServer(site) as srv, pytest.raises(DownloadError, match=r"\.quarantine.*model.tflite: "):
        download(NAME, base_url=srv.url, cache_dir=cache)
    assert not (folder / "model.tflite").exists()
    (version / "model.tflite").write_bytes(good)
    write_index(site)
    with FolderServer(site) as srv:  # the honest index fetches the version again
        assert (download(NAME, base_url=srv.url, cache_dir=cache) / "model.tflite").read_bytes() == good


def test_zoo_verify_checks_the_download_cache(published, tmp_path):
    """`zoo verify --cache` re-hashes every cached version against the entry it was downloaded with, names
    the damaged file and exits 1, moving nothing; `zoo verify` alone checked only a zoo folder, so a cache
    could be checked only by loading each model."""
    from conftest import run_cli

    from heartzoo.zoo.hub import download

    cache = tmp_path / "cache"
    with FolderServer(published) as srv:
        folder = download(NAME, base_url=srv.url, cache_dir=cache)
    ok = run_cli("zoo", "verify", "--cache", "--cache-dir", str(cache))
    assert ok.returncode == 0 and "1 cached model version(s) verified" in ok.stdout, ok.stdout + ok.stderr
    raw = bytearray((folder / "model.tflite").read_bytes())
    raw[100] ^= 0xFF  # the same size: only the hash can tell
    (folder / "model.tflite").write_bytes(bytes(raw))
    (folder / "notes.txt").write_text("planted\n")
    bad = run_cli("zoo", "verify", "--cache", "--cache-dir", str(cache))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "model.tflite: sha256" in bad.stderr and "notes.txt: not in the index" in bad.stderr, bad.stderr
    assert (folder / "model.tflite").read_bytes() == bytes(raw)  # reported, not moved
    # a folder no entry vouches for (an interrupted download, files put there by hand), a linked entry
    (folder.parent / "v9").mkdir()
    (folder.parent / "v9" / "model.tflite").write_bytes(b"planted")
    entry = folder / ".entry.json"
    (tmp_path / "entry.json").write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to(tmp_path / "entry.json")
    bad = run_cli("zoo", "verify", "--cache", "--cache-dir", str(cache))
    assert bad.returncode == 1 and "v9: no .entry.json beside it" in bad.stderr, bad.stderr
    assert ".entry.json: a symbolic link, refused" in bad.stderr, bad.stderr
    missing = run_cli("zoo", "verify", "--cache", "--cache-dir", str(tmp_path / "none"))
    assert missing.returncode == 2 and "no download cache here" in missing.stderr, missing.stderr
    both = run_cli("zoo", "verify", "--cache", "--zoo", str(tmp_path), "--cache-dir", str(cache))
    assert both.returncode == 2 and "--zoo, --hashes-only and --data-dir do not apply" in both.stderr, (
        both.stderr
    )
