"""Sharded preparation and the streaming pipeline: shards equal, frame for frame, to the in-memory path
on real MIT-BIH records; a killed or partial preparation resumes shard by shard; a corrupt segment
fails naming its file; the stream draws classes in the configured proportions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_icentia11k import write_segment

from heartzoo.config import InputSpec
from heartzoo.data.shards import MANIFEST, prepare_shards, read_manifest, read_shard, verify_shards
from heartzoo.errors import DataError, HeartzooError
from heartzoo.preprocess import Preprocessor

SPEC = InputSpec(frame_size=256, template_beats=4, rr_features=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec", [SPEC, SPEC.model_copy(update={"template_on_time": 0.9})], ids=["all", "on-time"]
)
def test_shards_equal_the_in_memory_frames(spec, data_root, shared_cache, tmp_path):
    """201 and 202 are one patient: one shard; frames, labels, samples, RR and templates (of every beat,
    or of the on-time ones: 201 and 202 hold AF) are equal."""
    from heartzoo.data.prepare import load_windows
    from heartzoo.data.windows import WindowSet

    sources = ["mitdb:201", "mitdb:202", "mitdb:101"]
    m = prepare_shards(sources, spec, tmp_path / "shards", workers=2, data_dir=data_root)
    assert [s["records"] for s in m["shards"]] == [["201", "202"], ["101"]]
    assert m["complete"] and m["contract"]["preprocessing"] == Preprocessor(spec).contract()
    ws = load_windows(["201", "202", "101"], spec, cache_dir=shared_cache).with_context(spec)
    parts = [read_shard(tmp_path / "shards" / s["file"]) for s in m["shards"]]
    got = WindowSet.concat(parts)
    for name in ("x", "aami", "record", "sample", "rr"):
        assert np.array_equal(getattr(got, name), getattr(ws, name)), name
    assert np.array_equal(np.concatenate([p.template for p in parts]), ws.template)
    assert m["counts"] == {c: int((ws.aami == i).sum()) for i, c in enumerate(("N", "S", "V", "F", "Q"))}
    assert verify_shards(tmp_path / "shards") == []


@pytest.fixture
def icentia(tmp_path) -> Path:
    """Four Icentia11k patients (one with two segments), written in the release's layout."""
    root = tmp_path / "data" / "icentia11k"
    write_segment(root, "p00001_s00", seconds=20, symbols="NNNSNNV")
    write_segment(root, "p00001_s01", seconds=20, symbols="NNV", seed=1)
    write_segment(root, "p00002_s00", seconds=20, symbols="NSV", seed=2)
    write_segment(root, "p00003_s00", seconds=20, symbols="NQ", seed=3)
    write_segment(root, "p01004_s00", seconds=20, symbols="NNS", seed=4)
    return tmp_path / "data"


def _prepare(data: Path, out: Path, **kw):
    return prepare_shards(["icentia11k:all"], SPEC, out, data_dir=data, **kw)


def test_an_interrupted_preparation_resumes_shard_by_shard(icentia, tmp_path):
    out = tmp_path / "shards"

    def ctrl_c_after_two(done, total, name):
        if done == 2 and name != "finished before":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _prepare(icentia, out, progress=ctrl_c_after_two)
    assert sorted(p.name for p in out.glob("shard-*")) == [
        "shard-00000.h5",
        "shard-00000.json",
        "shard-00001.h5",
        "shard-00001.json",
    ]
    with pytest.raises(HeartzooError, match="preparation unfinished; run it again to resume"):
        read_manifest(out)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*")}
    # what a killed run leaves besides: a worker's temporary file, and a shard renamed into place
    # whose summary was never written
    (out / ".shard-00002.h5.abc123.tmp").write_bytes(b"half a shard")
    steps = []
    m = _prepare(icentia, out, progress=lambda done, total, name: steps.append((done, name)))
    assert steps[0] == (2, "finished before") and [n for _, n in steps[1:]] == ["shard-00002", "shard-00003"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("shard-0000[01].*")} == before  # not rewritten
    assert not list(out.glob(".*.tmp")) and m["complete"] and len(m["shards"]) == 4
    assert m["shards"][0]["records"] == ["p00001_s00", "p00001_s01"]  # a patient's segments stay together

    (out / "shard-00003.json").unlink()  # a shard without its summary is redone
    steps.clear()
    _prepare(icentia, out, progress=lambda done, total, name: steps.append(name))
    assert steps == ["finished before", "shard-00003"]
    assert verify_shards(out) == []


def test_damaged_shards_are_found_and_redone(icentia, tmp_path):
    out = tmp_path / "shards"
    first = _prepare(icentia, out)
    shard = out / "shard-00001.h5"
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    shard.write_bytes(bytes(raw))
    assert verify_shards(out) == ["shard-00001.h5"]
    steps = []
    again = _prepare(icentia, out, verify=True, progress=lambda d, t, name: steps.append(name))
    assert steps == ["finished before", "shard-00001"]
    assert again["shards"][1]["sha256"] == first["shards"][1]["sha256"]  # the same bytes, made again
    assert verify_shards(out) == []


def test_another_contract_is_refused(icentia, tmp_path):
    out = tmp_path / "shards"
    _prepare(icentia, out)
    with pytest.raises(HeartzooError, match="prepared with another contract; prepare into a new folder"):
        prepare_shards(["icentia11k:all"], InputSpec(frame_size=128), out, data_dir=icentia)


def test_shards_of_an_older_cache_version_are_refused_as_such(icentia, tmp_path):
    """A folder made before the irregularity column names the version, not a differing input."""
    from heartzoo.data.cache import CACHE_VERSION
    from heartzoo.data.shard_stream import shard_dataset

    out = tmp_path / "shards"
    _prepare(icentia, out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["contract"]["cache_version"] = CACHE_VERSION - 1
    (out / MANIFEST).write_text(json.dumps(manifest))
    was, now = CACHE_VERSION - 1, CACHE_VERSION
    old = f"shards prepared by frame-cache version {was}, this heartzoo makes version {now}"
    with pytest.raises(HeartzooError, match=old):
        shard_dataset(out, "beat-3", Preprocessor(SPEC), batch_size=8)
    with pytest.raises(HeartzooError, match=old):
        _prepare(icentia, out)


@pytest.mark.slow
def test_a_corrupt_segment_stops_the_pool_naming_its_file(icentia, tmp_path):
    dat = icentia / "icentia11k" / "p00" / "p00003" / "p00003_s00.dat"
    dat.write_bytes(dat.read_bytes()[:-500])
    out = tmp_path / "shards"
    with pytest.raises(DataError, match=r"p00003_s00 \(.*p00003_s00\.dat\): truncated signal file"):
        _prepare(icentia, out, workers=2)
    assert not (out / "shard-00002.h5").exists()  # the damaged patient's shard
    assert not json.loads((out / MANIFEST).read_text())["complete"]
    assert (out / "shard-00000.json").is_file()  # shards done before the error are kept


def test_the_cli_prepares_and_resumes(icentia, tmp_path):
    from conftest import run_cli

    out = tmp_path / "shards"
    args = ("data", "shard", "icentia11k:all", "--out", str(out), "--data-dir", str(icentia))
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "4 shard(s)" in first.stdout and read_manifest(out)["beats"] > 0
    assert run_cli(*args).returncode == 0


# -- the stream ---------------------------------------------------------------------------------

COUNTS = [
    {"N": 3000, "S": 40, "V": 300, "F": 9, "Q": 2},
    {"N": 5000, "S": 260, "V": 0, "F": 0, "Q": 0},
    {"N": 1500, "S": 100, "V": 500, "F": 21, "Q": 3},
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    from heartzoo.data.synthetic_shards import write_synthetic_shards

    folder = tmp_path_factory.mktemp("synthetic-shards")
    write_synthetic_shards(folder, InputSpec(frame_size=64, rr_features=True), COUNTS)
    return folder


@pytest.mark.parametrize(("balance", "power"), [("sampling", 0.5), ("sampling", 0.0), ("none", 0.5)])
def test_the_stream_draws_classes_in_the_configured_proportions(synthetic, balance, power):
    from heartzoo.data.shard_stream import shard_batches, stream_counts

    spec = InputSpec(frame_size=64, rr_features=True)
    counts = np.array(list(stream_counts(synthetic, "aami-5").values()), dtype=float)
    assert counts.tolist() == [9500, 400, 800, 30, 5]
    stream = shard_batches(
        synthetic,
        "aami-5",
        Preprocessor(spec),
        batch_size=500,
        balance=balance,
        power=power,
        seed=3,
        pool=256,
        cycle=2,
    )
    seen, labels = [], []
    for _ in range(40):
        inputs, onehot, _ = next(stream)
        ecg = inputs["ecg"][:, 0, :, 0]
        y = onehot.argmax(1)
        assert np.array_equal(ecg[:, 0], y)  # every row comes from its class's group
        seen.append(ecg[:, :3].astype(int))
        labels.append(y)
    y = np.concatenate(labels)
    p = counts ** (power if balance == "sampling" else 1.0)
    p /= p.sum()
    got = np.bincount(y, minlength=5) / len(y)
    assert np.all(np.abs(got - p) <= 4 * np.sqrt(p * (1 - p) / len(y)) + 1e-9), (got, p)
    rows = np.concatenate(seen)
    # the rare classes went round every shard: all 30 F and 5 Q rows were drawn
    if power == 0.0:
        assert len({tuple(r) for r in rows if r[0] == 3}) == 30
        assert len({tuple(r) for r in rows if r[0] == 4}) == 5


def test_the_tf_dataset_has_the_in_memory_signature(synthetic):
    from heartzoo.data.shard_stream import shard_dataset

    spec = InputSpec(frame_size=64, rr_features=True)
    ds = shard_dataset(synthetic, "beat-3", Preprocessor(spec), batch_size=32, seed=0)
    x, y, w = next(iter(ds))
    assert x["ecg"].shape == (32, 1, 64, 1) and x["rr"].shape == (32, 4)
    assert y.shape == (32, 3) and w.shape == (32,)
    with pytest.raises(HeartzooError, match="shards prepared for another input"):
        shard_dataset(synthetic, "beat-3", Preprocessor(InputSpec(frame_size=128)), batch_size=32)
