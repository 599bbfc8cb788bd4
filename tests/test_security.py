"""One test per attack on the zoo's download and load paths, against a real HTTP server on 127.0.0.1
serving a copy of a published version: each is refused with an error naming the entry, field or file,
and nothing is written (or read) outside the folder it belongs in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import empty_zoo
from httpserver import FolderServer

from heartzoo.errors import DownloadError, HeartzooError

REPO = Path(__file__).resolve().parents[1]
NAME = "beat-3-cnn3-student"
VERSION_DIR = REPO / "zoo" / "beat-3" / NAME / "v1"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A zoo holding one published version (copied from the repository's zoo) and its index."""
    from heartzoo.zoo.index import write_index

    root = tmp_path_factory.mktemp("zoo")
    shutil.copytree(VERSION_DIR, root / "beat-3" / NAME / "v1")
    write_index(root)
    return root


@pytest.fixture
def site(published, tmp_path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(published, dest)
    return dest


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _index(site: Path) -> dict:
    return json.loads((site / "index.json").read_text())


def _write_index(site: Path, index: dict) -> None:
    (site / "index.json").write_text(json.dumps(index))


def _download(srv, cache: Path, name: str = NAME, **kw):
    from heartzoo.zoo.hub import download

    return download(name, base_url=srv.url, cache_dir=cache, timeout=5, retries=0, **kw)


def test_a_dotdot_path_in_the_index_writes_nothing_outside_the_cache(site, tmp_path):
    index = _index(site)
    entry = index["models"][0]
    # the attack of the issue: the entry's folder two levels above the cache, files with right hashes
    shutil.copytree(site / entry["path"], site / "pwned" / "v1")
    entry["path"] = "../../pwned/v1"
    _write_index(site, index)
    before = _tree(tmp_path)
    with FolderServer(site) as srv, pytest.raises(HeartzooError) as exc:
        _download(srv, tmp_path / "sandbox" / "cache")
    msg = str(exc.value)
    assert "index.json: refused, not a valid zoo index" in msg
    assert f"entry 0 ({NAME}@v1), field" in msg and "../../pwned/v1" in msg
    assert _tree(tmp_path) - before <= {"sandbox", "sandbox/cache", "sandbox/cache/models"}
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("path", "/etc"),
        ("path", "../../../../../../etc"),
        ("file", "/etc/passwd"),
        ("file", "../../../../etc/passwd"),
        ("file", "sub/model.tflite"),
        ("file", "..\\..\\model.tflite"),
        ("file", "C:model.tflite"),
        ("file", "model.keras.part"),  # the download's own temporary name for model.keras
        ("file", "CON.txt"),  # a device on Windows
        ("file", "model."),
        ("twin", "MODEL.KERAS"),  # one file with model.keras on a case-insensitive disk
        ("version", "v01"),  # v1 spelt twice
        ("version", "v0"),
        ("name", "a/b"),
        ("name", "../x"),
        ("version", "v1/../../x"),
        ("task", "beat-3/../.."),
        ("bytes", -1),
        ("bytes", 10**12),
        ("sha256", "not-a-hash"),
    ],
)
def test_every_command_refuses_a_bad_entry(site, tmp_path, field, value, capsys):
    """The local zoo's list, show and verify, and the download from a server of the same index."""
    from heartzoo.cli import app
    from heartzoo.zoo.index import read_index, verify

    index = _index(site)
    entry = index["models"][0]
    if field == "file":
        entry["files"][0]["path"] = value
    elif field == "twin":
        entry["files"][1]["path"] = entry["files"][0]["path"].upper()
    elif field in ("bytes", "sha256"):
        entry["files"][0][field] = value
    else:
        entry[field] = value
    _write_index(site, index)
    pattern = r"index.json: refused, not a valid zoo index:\n  - entry 0 \(.*\), field '"
    with pytest.raises(HeartzooError, match=pattern):
        read_index(site)
    with pytest.raises(HeartzooError, match=pattern):
        verify(site, agreement=False)
    for args in (["zoo", "list", "--zoo", str(site)], ["zoo", "show", NAME, "--zoo", str(site)]):
        with pytest.raises(HeartzooError, match=pattern):
            app(args, standalone_mode=False)
    with FolderServer(site) as srv, pytest.raises(HeartzooError, match=pattern):
        _download(srv, tmp_path / "cache")
    assert not (tmp_path / "cache" / "models" / "beat-3").exists()


def test_a_server_sending_more_bytes_than_the_index_says_is_cut_off(site, tmp_path):
    path = f"beat-3/{NAME}/v1/model.tflite"
    size = (site / path).stat().st_size
    cache = tmp_path / "cache"
    with FolderServer(site, padding={path: b"\0" * 50_000}) as srv, pytest.raises(DownloadError) as exc:
        _download(srv, cache)
    expected = (
        f"model.tflite: refused, the server announces {size + 50_000:,} bytes and the index lists {size:,}"
    )
    assert expected in str(exc.value)
    folder = cache / "models" / path.rsplit("/", 1)[0]
    assert not (folder / "model.tflite").exists() and not (folder / "model.tflite.part").exists()


def test_a_body_longer_than_announced_is_cut_off_while_streaming(site, tmp_path):
    """No Content-Length to go by: the stream itself is counted."""
    from heartzoo.data.download import fetch_resumable

    path = f"beat-3/{NAME}/v1/model.tflite"
    size = (site / path).stat().st_size
    with FolderServer(site, padding={path: b"\0" * 10}, omit_length={path}) as srv:
        part = tmp_path / "model.tflite.part"
        with pytest.raises(DownloadError, match=rf"refused, the server sent more than the {size:,} bytes"):
            fetch_resumable(srv.url + path, part, 5, 0, "model.tflite", None, max_bytes=size)
    assert not part.exists()


def test_a_redirect_to_another_host_is_refused(site, tmp_path):
    path = f"beat-3/{NAME}/v1/model.keras"
    with FolderServer(site) as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost") + path
        with FolderServer(site, redirect={path: elsewhere}) as srv, pytest.raises(DownloadError) as exc:
            _download(srv, tmp_path / "cache")
        assert other.log == []  # nothing was asked of the other host
    assert "refused a redirect to another host" in str(exc.value) and "model.keras" in str(exc.value)
    assert not (tmp_path / "cache" / "models" / path).exists()


def test_a_keras_file_holding_a_lambda_layer_is_refused_unrun(site, tmp_path, monkeypatch):
    import keras

    import heartzoo
    from heartzoo.zoo.index import write_index

    marker = tmp_path / "lambda-ran"
    monkeypatch.setenv("HZ_LAMBDA_MARKER", str(marker))

    # code that leaves a mark whenever it runs (no closure: Keras stores the bytecode alone)
    def code(x):
        return x + float(
            __import__("pathlib").Path(__import__("os").environ["HZ_LAMBDA_MARKER"]).touch() is None
        )

    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(code)(inputs)
    keras.Model(inputs, outputs).save(site / "beat-3" / NAME / "v1" / "model.keras")
    marker.unlink(missing_ok=True)
    write_index(site)  # the index vouches for the file: only safe mode stands in the way
    with pytest.raises(HeartzooError, match=r"model.keras: refused, the model holds code \(a Lambda layer"):
        heartzoo.load_model(NAME, zoo=site, cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_a_symlink_planted_in_the_cache_is_refused_and_quarantined(site, tmp_path):
    import heartzoo

    cache = tmp_path / "cache"
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"not a model, and not to be read or overwritten")
    with FolderServer(site) as srv:
        folder = _download(srv, cache)
        (folder / "model.tflite").unlink()
        (folder / "model.tflite").symlink_to(outside)
        with pytest.raises(HeartzooError) as exc:
            heartzoo.load_model(
                NAME, format="tflite", zoo=empty_zoo(tmp_path / "nozoo"), base_url=srv.url, cache_dir=cache
            )
        assert "model.tflite: a symbolic link, refused" in str(exc.value)
        assert "the cached copy is moved to" in str(exc.value)
        assert outside.read_bytes() == b"not a model, and not to be read or overwritten"
        assert not folder.exists() and list((cache / "models" / ".quarantine").iterdir())
        # the next download fetches a clean copy instead of reusing the planted one
        again = _download(srv, cache)
    assert not (again / "model.tflite").is_symlink()
    assert (again / "model.tflite").read_bytes() == (
        site / "beat-3" / NAME / "v1" / "model.tflite"
    ).read_bytes()


def test_a_symlinked_folder_in_the_cache_leads_nowhere(site, tmp_path):
    cache = tmp_path / "cache"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (cache / "models").mkdir(parents=True)
    (cache / "models" / "beat-3").symlink_to(elsewhere, target_is_directory=True)
    with (
        FolderServer(site) as srv,
        pytest.raises(HeartzooError, match=r"leads elsewhere through a symbolic link"),
    ):
        _download(srv, cache)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("where", ["zoo", "cache"])
def test_a_corrupted_tflite_is_never_loaded(published, site, tmp_path, where):
    import heartzoo

    cache = tmp_path / "cache"
    if where == "zoo":
        zoo, tfl = site, site / "beat-3" / NAME / "v1" / "model.tflite"
    else:
        with FolderServer(site) as srv:
            zoo, tfl = empty_zoo(tmp_path / "nozoo"), _download(srv, cache) / "model.tflite"
    # offline from here: the server is gone, the cache or the local zoo serves
    load = dict(format="tflite", zoo=zoo, cache_dir=cache, base_url="http://127.0.0.1:9/")
    assert heartzoo.load_model(NAME, **load).folder == tfl.parent.resolve()  # intact: it loads
    raw = bytearray(tfl.read_bytes())
    raw[5000] ^= 0x01  # one bit, same size: only the sha256 tells
    tfl.write_bytes(bytes(raw))
    with pytest.raises(HeartzooError, match=r"model.tflite: sha256 [0-9a-f]{64} differs from the index"):
        heartzoo.load_model(NAME, **load)
    if where == "cache":
        assert not tfl.exists() and len(list((cache / "models" / ".quarantine").iterdir())) == 1


def test_evaluate_checks_a_zoo_folder_against_its_index(site, capsys, monkeypatch):
    """`heartzoo evaluate` on a version folder of a zoo reads nothing its index does not vouch for."""
    from heartzoo.cli import main

    keras_file = site / "beat-3" / NAME / "v1" / "model.keras"
    raw = bytearray(keras_file.read_bytes())
    raw[-100] ^= 0x01
    keras_file.write_bytes(bytes(raw))
    monkeypatch.setattr("sys.argv", ["heartzoo", "evaluate", str(keras_file.parent)])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "model.keras: sha256" in err and "differs from the index" in err, err


def test_an_index_that_is_not_json(site, tmp_path):
    from heartzoo.zoo.index import read_index

    (site / "index.json").write_text('{"format": 1, "models": [')
    with pytest.raises(HeartzooError, match=r"index.json: not a valid zoo index \(not JSON"):
        read_index(site)
    with FolderServer(site) as srv, pytest.raises(HeartzooError, match=r"index.json: not a valid zoo index"):
        _download(srv, tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or _tree(tmp_path / "cache") <= {"models"}


def test_an_index_nested_past_any_index_is_refused_by_name(site, tmp_path):
    from heartzoo.zoo.index import read_index

    (site / "index.json").write_text("[" * 200_000)
    with pytest.raises(HeartzooError, match=r"index.json: not a valid zoo index \(JSON nested deeper"):
        read_index(site)
    with FolderServer(site) as srv, pytest.raises(HeartzooError, match=r"index.json: not a valid zoo index"):
        _download(srv, tmp_path / "cache")


def test_a_content_length_that_is_no_size_is_refused_by_name(site, tmp_path):
    path = _index(site)["models"][0]["path"] + "/model.tflite"
    refused = r"model.tflite: refused, the server's Content-Length 'abc'"
    with FolderServer(site, length_text={path: "abc"}) as srv, pytest.raises(DownloadError, match=refused):
        _download(srv, tmp_path / "cache")
    assert not (tmp_path / "cache" / "models" / path).exists()


def test_a_folder_given_as_the_zoo_address_is_read_as_one_and_no_address_is_refused(site, tmp_path):
    """A `zoo mirror` copy on disk, by its path, is its file:// address (every file checked as from a
    server); a path that is no folder is refused by name."""
    from heartzoo.zoo.hub import download

    folder = download(NAME, base_url=str(site), cache_dir=tmp_path / "cache", retries=0)
    assert (folder / "model.tflite").read_bytes() == (
        site / _index(site)["models"][0]["path"] / "model.tflite"
    ).read_bytes()
    with pytest.raises(DownloadError, match=r"heartzoo fetches http://, https:// and file:// addresses"):
        download(NAME, base_url=str(tmp_path / "nowhere"), cache_dir=tmp_path / "cache2", retries=0)


def test_a_pinned_version_refuses_other_files(site, tmp_path):
    from heartzoo.meta import version_digest

    entry = _index(site)["models"][0]
    pin = version_digest(entry["files"])
    with FolderServer(site) as srv:
        assert _download(srv, tmp_path / "cache", sha256=pin).is_dir()
    # the server republishes v1 with other bytes and a matching index: the pin refuses it
    tfl = site / entry["path"] / "model.tflite"
    tfl.write_bytes(tfl.read_bytes()[:-1] + b"\0")
    from heartzoo.zoo.index import write_index

    write_index(site)
    with FolderServer(site) as srv, pytest.raises(HeartzooError, match=rf"not the pinned {pin}; refused"):
        _download(srv, tmp_path / "cache2", sha256=pin)
    assert not (tmp_path / "cache2" / "models" / entry["path"]).exists()
    # a pin that is no digest at all is said to be one, not "another digest"
    with FolderServer(site) as srv, pytest.raises(HeartzooError, match=r"--sha256 'xyz': .* 64 hex digits"):
        _download(srv, tmp_path / "cache3", sha256="xyz")


def test_a_declared_size_that_is_not_the_files_is_refused_with_the_right_sha256(site, tmp_path):
    """The index lists the right sha256 and a size 1,000 bytes too large: the file was accepted and its
    entry cached, and every honest download after it refused ("it lists other files")."""
    path = f"beat-3/{NAME}/v1/model.tflite"
    size = (site / path).stat().st_size
    honest = _index(site)
    index = json.loads(json.dumps(honest))
    next(f for f in index["models"][0]["files"] if f["path"] == "model.tflite")["bytes"] = size + 1000
    _write_index(site, index)
    cache = tmp_path / "cache"
    with FolderServer(site) as srv, pytest.raises(DownloadError) as exc:
        _download(srv, cache)
    assert f"model.tflite: refused, {size:,} bytes with sha256" in str(exc.value)
    assert f"the index lists {size + 1000:,} bytes" in str(exc.value)
    folder = cache / "models" / path.rsplit("/", 1)[0]
    assert not (folder / ".entry.json").exists() and not list(folder.glob("*.part"))
    _write_index(site, honest)
    with FolderServer(site) as srv:
        assert (_download(srv, cache) / "model.tflite").read_bytes() == (site / path).read_bytes()


def test_a_part_left_by_another_host_is_fetched_again_from_its_first_byte(site, tmp_path):
    """A dropped download keeps its `.part` to resume; bytes another (or a lying) host sent before are
    then resumed over, and the first honest retry failed its sha256. It starts once from byte 0."""
    path = f"beat-3/{NAME}/v1/model.tflite"
    cache = tmp_path / "cache"
    part = cache / "models" / (path + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"EVIL" * 2000)
    with FolderServer(site) as srv:
        folder = _download(srv, cache)
        ranges = [r for p, r in srv.log if p == path]
    assert (folder / "model.tflite").read_bytes() == (site / path).read_bytes()
    assert ranges == ["bytes=8000-", None]  # resumed, refused, then fetched whole


def test_no_run_c_array_or_annotation_is_written_inside_a_zoo(site, tmp_path):
    """A version holds the files its index lists and no other: a C array or annotations written into it
    made `zoo show` and `load_model` refuse it, and a run folder there got a config.json that made
    `train --restart` delete the version (or, given the zoo itself, the whole zoo)."""
    from heartzoo.cli import app
    from heartzoo.config import parse_config
    from heartzoo.export.codegen import write_c_array
    from heartzoo.recording.batch import check_names
    from heartzoo.training.train import prepare_run_dir
    from heartzoo.zoo.index import verify

    vdir = site / "beat-3" / NAME / "v1"
    before = _tree(site)
    config = parse_config({"name": "x", "task": "beat-3", "model": {"arch": "cnn1"}})
    for folder in (vdir, site, site / "beat-3" / "new"):
        with pytest.raises(
            HeartzooError, match=r"inside the zoo .*: write a run into a folder of its own \(--run-dir\)"
        ):
            prepare_run_dir(config, folder)
        with pytest.raises(
            HeartzooError, match=r"inside the zoo .*write the annotations into a folder of its own"
        ):
            check_names([tmp_path / "a.csv"], folder, "heartzoo")
    with pytest.raises(HeartzooError, match=r"inside the zoo .*: write the C array into a folder of its own"):
        write_c_array(vdir, vdir)
    recording = tmp_path / "a.npy"  # refused before it is read or a model loads
    with pytest.raises(HeartzooError, match=r"inside the zoo .*\(--output-dir\)"):
        app(
            [
                "annotate",
                str(recording),
                "--model",
                f"{NAME}@v1",
                "--fs",
                "360",
                "--zoo",
                str(site),
                "--output-dir",
                str(vdir),
            ],
            standalone_mode=False,
        )
    assert _tree(site) == before
    verify(site, agreement=False)


def test_a_folder_that_holds_no_run_is_never_made_one(tmp_path):
    """Its config.json would make `--restart` delete it whole, whatever else it held."""
    from heartzoo.config import parse_config
    from heartzoo.training.train import prepare_run_dir

    config = parse_config({"name": "x", "task": "beat-3", "model": {"arch": "cnn1"}})
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("mine")
    for restart in (False, True):
        with pytest.raises(HeartzooError, match=r"thesis: .*no config.json in it"):
            prepare_run_dir(config, folder, restart=restart)
    assert [p.name for p in folder.iterdir()] == ["chapter1.tex"]
    prepare_run_dir(config, tmp_path / "empty")  # a new folder, or an empty one, becomes a run
    (tmp_path / "bare").mkdir()
    prepare_run_dir(config, tmp_path / "bare")
    (tmp_path / "kept").mkdir()  # and one holding what a file browser or a placeholder leaves
    (tmp_path / "kept" / ".DS_Store").write_bytes(b"")
    (tmp_path / "kept" / ".gitkeep").write_bytes(b"")
    prepare_run_dir(config, tmp_path / "kept")
    assert all((tmp_path / d / "config.json").is_file() for d in ("empty", "bare", "kept"))


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        (("compress", "distill", "teacher"), "/etc/teacher", "compress.distill.teacher"),
        (("logging", "mlflow_tracking_uri"), "http://127.0.0.1:9/collect", "logging.mlflow_tracking_uri"),
    ],
)
def test_retrain_runs_no_published_recipe_that_reaches_outside(site, where, value, field):
    """A zoo's configuration.json is data: retrain ran it as published, reading a teacher from any absolute
    path and sending the run's parameters to any tracking server it named."""
    from heartzoo.training.retrain import retrain
    from heartzoo.zoo.index import write_index

    path = site / "beat-3" / NAME / "v1" / "configuration.json"
    published = json.loads(path.read_text())
    section = published["config"]
    for key in where[:-1]:
        section = section[key]
    section[where[-1]] = value
    path.write_text(json.dumps(published))
    write_index(site)  # as its publisher would list it
    before = _tree(site)
    with pytest.raises(
        HeartzooError, match=rf"configuration.json: field '{field}' .*published recipe is run only"
    ):
        retrain(f"{NAME}@v1", site, record=False)
    assert _tree(site) == before and not Path("runs/retrain", f"{NAME}-v1").exists()


def test_an_entry_s_name_reaches_the_terminal_escaped(site, tmp_path):
    """A name of a server's index was printed as it came: escape sequences set the terminal's title and
    cleared its screen."""
    from heartzoo.zoo.index import read_index

    index = _index(site)
    index["models"][0]["name"] = "\x1b]0;pwned\x07\x1b[2J" + "a" * 5000
    _write_index(site, index)
    with pytest.raises(HeartzooError) as exc:
        read_index(site)
    assert "\x1b" not in str(exc.value) and "\x07" not in str(exc.value)
    assert "entry 0 ('\\x1b]0;pwned" in str(exc.value) and len(str(exc.value)) < 1000
