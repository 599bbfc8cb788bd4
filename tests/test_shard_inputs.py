"""Shard preparation and reading on damaged or wrong input: a recording without a label, bad options, an
output that is a file, a run that fails before any shard (it must not lock its folder), and a manifest
whose shard path leaves its folder or whose shard bytes changed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from test_icentia11k import write_segment

from heartzoo.config import InputSpec
from heartzoo.data.shards import MANIFEST, prepare_shards, read_manifest, verify_shards
from heartzoo.errors import ArgumentError, DataError, HeartzooError
from heartzoo.preprocess import Preprocessor

SPEC = InputSpec(frame_size=64, rr_features=True)


@pytest.fixture
def icentia(tmp_path) -> Path:
    """Two made-up Icentia11k patients: a data folder to prepare from in a second."""
    root = tmp_path / "data" / "icentia11k"
    write_segment(root, "p00001_s00", seconds=20, symbols="NNNSNNV")
    write_segment(root, "p00002_s00", seconds=20, symbols="NSV", seed=2)
    return tmp_path / "data"


# -- a CinC 2017 recording missing from REFERENCE-v3.csv -----------------------------------------------


@pytest.fixture
def cinc_one_label(data_root, tmp_path) -> Path:
    """Two real recordings, copied, with a label file that labels only the first."""
    real = data_root / "cinc2017" / "training2017"
    if not (real / "A00002.mat").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    where = tmp_path / "data" / "cinc2017" / "training2017"
    where.mkdir(parents=True)
    for r in ("A00001", "A00002"):
        for ext in ("hea", "mat"):
            shutil.copy(real / f"{r}.{ext}", where / f"{r}.{ext}")
    (where.parent / "REFERENCE-v3.csv").write_text("A00001,N\n")
    return tmp_path / "data"


def _af4_spec():
    from heartzoo.config import load_config

    return load_config(Path(__file__).parents[1] / "configs" / "af-4-cnn3.yaml").input


def test_a_recording_without_a_label_is_refused_before_anything_is_written(cinc_one_label, tmp_path):
    out = tmp_path / "shards"
    with pytest.raises(DataError, match=r"record A00002 \(.*REFERENCE-v3\.csv\): no label"):
        prepare_shards(["cinc2017:A00001", "cinc2017:A00002"], _af4_spec(), out, data_dir=cinc_one_label)
    assert not out.exists()


def test_a_shard_of_a_recording_without_a_label_names_the_label_file(cinc_one_label, tmp_path):
    """The same, where a shard is written directly (a library caller, no check of the sources first)."""
    from heartzoo.data.shards import ShardJob, write_shard

    job = ShardJob("shard-00000", ("cinc2017:A00002",), (("cinc2017", "A00002"),))
    with pytest.raises(DataError, match=r"record A00002 \(.*REFERENCE-v3\.csv\): no label"):
        write_shard(job, _af4_spec(), tmp_path, str(cinc_one_label))
    assert not list(tmp_path.glob("shard-*"))


# -- options and the output folder ----------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--patients-per-shard", "--workers"])
def test_the_cli_refuses_a_count_under_one(icentia, tmp_path, option):
    from conftest import run_cli

    out = tmp_path / "shards"
    res = run_cli(
        "data", "shard", "icentia11k:all", "--out", str(out), "--data-dir", str(icentia), option, "0"
    )
    assert res.returncode == 2 and option in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


@pytest.mark.parametrize("kw", [{"patients_per_shard": 0}, {"workers": 0}])
def test_the_library_refuses_a_count_under_one(icentia, tmp_path, kw):
    (name,) = kw
    with pytest.raises(ArgumentError, match=f"{name} must be at least 1, got 0"):
        prepare_shards(["icentia11k:all"], SPEC, tmp_path / "shards", data_dir=icentia, **kw)
    assert not (tmp_path / "shards").exists()


def test_an_output_that_is_a_file_is_a_clear_error(icentia, tmp_path):
    from conftest import run_cli

    afile = tmp_path / "afile"
    afile.write_text("mine")
    res = run_cli("data", "shard", "icentia11k:all", "--out", str(afile), "--data-dir", str(icentia))
    assert res.returncode == 2 and "afile: cannot hold the shards (a file, not a folder)" in res.stderr, (
        res.stderr
    )
    assert afile.read_text() == "mine"


# -- a failed run does not lock its folder ----------------------------------------------------------------


def test_a_missing_data_folder_is_found_before_anything_is_written(tmp_path):
    out = tmp_path / "t10"
    with pytest.raises(HeartzooError, match="no mitdb folder"):
        prepare_shards(["mitdb:100"], SPEC, out, data_dir=tmp_path / "nope")
    assert not out.exists()


def test_a_missing_record_is_found_before_anything_is_written(tmp_path):
    (tmp_path / "data" / "mitdb").mkdir(parents=True)  # the folder, without record 100
    out = tmp_path / "shards"
    with pytest.raises(DataError, match=r"record 100 \(.*100\.hea\): header file missing"):
        prepare_shards(["mitdb:100"], SPEC, out, data_dir=tmp_path / "data")
    assert not out.exists()


def test_a_manifest_without_a_finished_shard_is_replaced(icentia, tmp_path):
    """A run stopped before its first shard leaves a manifest and nothing else: a run under another
    contract may take the folder; once a shard is finished it may not."""
    out = tmp_path / "shards"

    def stop_at_once(done, total, name):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare_shards(["icentia11k:all"], SPEC, out, data_dir=icentia, progress=stop_at_once)
    assert (out / MANIFEST).is_file() and not list(out.glob("shard-*"))
    other = InputSpec(frame_size=128)
    m = prepare_shards(["icentia11k:all"], other, out, data_dir=icentia)
    assert m["complete"] and m["contract"]["input"] == other.key()
    with pytest.raises(HeartzooError, match="prepared with another contract"):
        prepare_shards(["icentia11k:all"], SPEC, out, data_dir=icentia)


# -- the manifest a training stream reads -----------------------------------------------------------------


@pytest.fixture
def shards(tmp_path) -> Path:
    from heartzoo.data.synthetic_shards import write_synthetic_shards

    folder = tmp_path / "sh"
    write_synthetic_shards(folder, SPEC, [{"N": 300, "S": 40, "V": 30}, {"N": 200, "S": 20, "V": 50}])
    return folder


def _edit(folder: Path, **shard0) -> None:
    m = json.loads((folder / MANIFEST).read_text())
    m["shards"][0].update(shard0)
    (folder / MANIFEST).write_text(json.dumps(m))


def _stream(folder: Path):
    from heartzoo.data.shard_stream import ShardStream

    return ShardStream(folder, "beat-3", Preprocessor(SPEC), batch_size=16, seed=0)


@pytest.mark.parametrize(
    "name",
    [
        "../outside_sh/x.h5",
        "/etc/passwd",
        "shard-00000.json",
        "sub/shard-00000.h5",
        "..\\x.h5",
        ".x.h5",
        "..",
    ],
)
def test_a_shard_path_outside_its_folder_is_refused(shards, tmp_path, name):
    outside = tmp_path / "outside_sh"
    outside.mkdir()
    shutil.copy(shards / "shard-00000.h5", outside / "x.h5")  # the same bytes: only the path is wrong
    _edit(shards, file=name)
    refused = r"manifest\.json: field 'shards\[0\]\.file' is .*, not a bare \.h5 file name"
    with pytest.raises(HeartzooError, match=refused):
        read_manifest(shards)
    with pytest.raises(HeartzooError, match=refused):
        _stream(shards)
    with pytest.raises(HeartzooError, match=refused):
        verify_shards(shards)  # the report reads no file outside the folder either


def test_a_shard_whose_bytes_changed_is_refused_when_the_stream_opens(shards):
    _stream(shards)  # intact
    shard = shards / "shard-00001.h5"
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size: only the hash tells
    shard.write_bytes(bytes(raw))
    with pytest.raises(
        HeartzooError, match=r"shard-00001\.h5: its bytes do not match field 'shards\[1\]\.sha256'"
    ):
        _stream(shards)
    assert verify_shards(shards) == ["shard-00001.h5"]  # the report of damaged shards still lists it


def test_a_shard_of_another_size_or_missing_is_refused(shards):
    shard = shards / "shard-00000.h5"
    shard.write_bytes(shard.read_bytes() + b"x")
    with pytest.raises(HeartzooError, match=r"shard-00000\.h5: .* bytes, field 'shards\[0\]\.bytes' says"):
        read_manifest(shards)
    shard.unlink()
    with pytest.raises(HeartzooError, match=r"shard-00000\.h5: missing"):
        read_manifest(shards)


def _hashed(folder: Path) -> dict[tuple, str]:
    """What this process's cache of shard hashes (`shard_manifest._HASHED`) holds for the shards of `folder`."""
    from heartzoo.data.shard_manifest import _HASHED

    return {k: v for k, v in _HASHED.items() if Path(k[0]).parent == folder.resolve()}


def _bytes_read(then: Callable[[], object]) -> int:
    """Bytes this process reads from files while it runs `then` (Linux's /proc/self/io, `rchar`)."""
    io = Path("/proc/self/io")
    if not io.is_file():
        pytest.skip("no /proc/self/io here")

    def rchar() -> int:
        return int(io.read_text().split("rchar:")[1].split()[0])

    before = rchar()
    then()
    return rchar() - before


def test_each_shard_is_hashed_once_per_process_and_again_once_rewritten(shards):
    sizes = [p.stat().st_size for p in sorted(shards.glob("shard-*.h5"))]
    assert _bytes_read(lambda: read_manifest(shards)) >= sum(sizes)  # each shard hashed
    m = read_manifest(shards)
    hashed = _hashed(shards)
    assert sorted((Path(k[0]).name, v) for k, v in hashed.items()) == [
        (s["file"], s["sha256"]) for s in m["shards"]
    ]
    _stream(shards)
    # unchanged since: found in the cache, not read again (the manifest is a few kB, a shard 200 kB)
    assert _bytes_read(lambda: read_manifest(shards)) < min(sizes) // 4
    assert _hashed(shards) == hashed
    shard = shards / "shard-00001.h5"
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    shard.write_bytes(bytes(raw))  # the same size, another mtime (made sure of, whatever the clock's tick)
    st = shard.stat()
    os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(
        HeartzooError, match=r"shard-00001\.h5: its bytes do not match field 'shards\[1\]\.sha256'"
    ):
        read_manifest(shards)
    assert _hashed(shards) == hashed  # the damaged bytes are not taken for the manifest's


def test_verify_shards_lists_a_truncated_and_a_missing_shard(shards):
    """`read_manifest` refuses them; the report of damaged shards lists them, to be prepared again."""
    shard = shards / "shard-00000.h5"
    shard.write_bytes(shard.read_bytes()[:1000])
    (shards / "shard-00001.h5").unlink()
    assert verify_shards(shards) == ["shard-00000.h5", "shard-00001.h5"]
    with pytest.raises(HeartzooError, match=r"shard-00000\.h5: 1,000 bytes"):
        read_manifest(shards)


def test_shards_under_other_bare_names_are_read(shards):
    """What benchmarks/train_shards.py writes: copies of the shards, named after them, in another folder."""
    m = json.loads((shards / MANIFEST).read_text())
    for s in m["shards"]:
        (shards / s["file"]).rename(shards / f"copy00-{s['file']}")
        s["file"] = f"copy00-{s['file']}"
    (shards / MANIFEST).write_text(json.dumps(m))
    assert [s["file"] for s in read_manifest(shards)["shards"]] == [
        "copy00-shard-00000.h5",
        "copy00-shard-00001.h5",
    ]
    assert verify_shards(shards) == []
    _stream(shards)
