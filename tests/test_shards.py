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


def test_a_shard_of_a_record_edited_since_is_made_again(icentia, tmp_path):
    """A shard reran as finished though its record's beats had been relabelled since, even with --verify
    (which hashes the shard, not what it was made from); `data stats` told the truth."""
    import os

    import wfdb

    out = tmp_path / "shards"
    first = _prepare(icentia, out)
    base = icentia / "icentia11k" / "p00"
    ann = next(base.rglob("p00002_s00.atr"))
    ref = wfdb.rdann(str(ann.with_suffix("")), "atr")
    symbols = ["V" if s == "S" else s for s in ref.symbol]  # an annotator's correction
    wfdb.wrann("p00002_s00", "atr", ref.sample, symbol=symbols, write_dir=str(ann.parent))
    st = ann.stat()
    os.utime(ann, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # within the clock's step of the first write
    steps = []
    again = _prepare(icentia, out, verify=True, progress=lambda d, t, name: steps.append(name))
    edited = next(i for i, s in enumerate(first["shards"]) if "p00002_s00" in s["records"])
    assert steps == ["finished before", f"shard-{edited:05d}"]
    n = sum(s == "S" for s in ref.symbol)
    assert n and (again["counts"]["S"], again["counts"]["V"]) == (
        first["counts"]["S"] - n,
        first["counts"]["V"] + n,
    )


def test_another_contract_is_refused(icentia, tmp_path):
    out = tmp_path / "shards"
    _prepare(icentia, out)
    # the field that differs, with both values
    with pytest.raises(
        HeartzooError,
        match=r"prepared with another contract \(contract.input.frame_size: 256 there, 128 now.*\); prepare into a new",
    ):
        prepare_shards(["icentia11k:all"], InputSpec(frame_size=128), out, data_dir=icentia)
    with pytest.raises(
        HeartzooError, match=r"another plan \(plan: 4 shards there, 2 now: another --patients-per-shard"
    ):
        _prepare(icentia, out, patients_per_shard=2)


def test_without_its_manifest_a_folder_of_another_contract_is_still_refused(icentia, tmp_path):
    """A damaged manifest.json blocked every rerun, and deleted, let another contract's preparation take
    the folder: its manifest said the new input, every old shard held the old one, and training read
    both. The shards' own attributes are read now, and a damaged manifest says so."""
    out = tmp_path / "shards"
    _prepare(icentia, out)
    (out / MANIFEST).write_text("{ damaged")
    with pytest.raises(
        HeartzooError, match=r"delete it and run again: each shard's own file says what it holds"
    ):
        _prepare(icentia, out)
    (out / MANIFEST).unlink()
    with pytest.raises(HeartzooError, match=r"shard-00000.h5: a shard prepared with another contract"):
        prepare_shards(["icentia11k:all"], InputSpec(frame_size=128), out, data_dir=icentia)
    assert not (out / MANIFEST).exists()
    steps = []
    _prepare(icentia, out, progress=lambda done, total, name: steps.append(name))  # its own contract: resumed
    assert steps == ["finished before"] and verify_shards(out) == []


def test_a_run_s_folder_or_any_other_is_no_folder_of_shards(icentia, tmp_path):
    """`data shard --out runs/x`: the run's manifest.json read as the shards' said "prepared with another
    format version ... (or delete this one)" of a trained run, and wrote a lock file into it first."""
    run = tmp_path / "run"
    run.mkdir()
    (run / MANIFEST).write_text(json.dumps({"stages": [{"stage": "train", "dir": "."}]}))
    (run / "config.json").write_text("{}")
    before = sorted(p.name for p in run.iterdir())
    with pytest.raises(
        HeartzooError, match=r"not a folder of shards \(its manifest.json is no shards'"
    ) as err:
        _prepare(icentia, run)
    assert "delete" not in str(err.value) and sorted(p.name for p in run.iterdir()) == before
    (run / MANIFEST).unlink()  # and a folder of other files, without a manifest
    with pytest.raises(HeartzooError, match=r"not a folder of shards \(it holds config.json\)"):
        _prepare(icentia, run)
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]


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


@pytest.mark.slow
def test_a_worker_killed_midway_is_named_and_the_rerun_goes_on(icentia, tmp_path):
    """A pool worker killed by the system (as an out-of-memory kill does) ended the command in a
    BrokenProcessPool traceback: it now says what happened and that a rerun goes on from what is kept."""
    import multiprocessing
    import os
    import signal

    out = tmp_path / "shards"

    def kill_a_worker(done, total, name):
        if name != "finished before" and done == 1:
            os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

    with pytest.raises(
        HeartzooError, match=r"a worker preparing shards into .* died .* run the same command again"
    ):
        _prepare(icentia, out, workers=2, progress=kill_a_worker)
    assert _prepare(icentia, out, workers=2)["complete"] and verify_shards(out) == []


@pytest.mark.slow
def test_pool_workers_end_with_the_process_that_started_them(tmp_path):
    """Killed, `data shard --workers 2` left its workers running, holding the folder's lock: every rerun
    was told another preparation was writing there. A worker now ends with its parent."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    script = f"""
import os, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from heartzoo.data.shards import _die_with

def work(_):
    open({str(pids)!r} + "/" + str(os.getpid()), "w").close()
    time.sleep(60)

if __name__ == "__main__":
    os.makedirs({str(pids)!r}, exist_ok=True)
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=_die_with, initargs=(os.getpid(),)) as pool:
        list(pool.map(work, range(2)))
"""
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(pids.glob("*")) if pids.exists() else []) < 2:
        time.sleep(0.1)
    workers = [int(p.name) for p in pids.glob("*")]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        state = (
            Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
        )
        return state != "Z"  # a zombie has ended; its parent (now init) reaps it

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.1)
    assert not any(alive(p) for p in workers)


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
