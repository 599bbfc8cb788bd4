"""`heartzoo train` from shards (`data.shards`): the stream resumes exactly where it was, workers read
disjoint shares, a config that does not fit its shards is refused before anything trains, and a
2-worker run on shards, killed and started again, ends as the uninterrupted run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import kill_worker_after_epoch

from heartzoo.errors import ConfigError, HeartzooError
from heartzoo.preprocess import InputSpec, Preprocessor

SPEC = InputSpec(frame_size=64, rr_features=True)
COUNTS = [
    {"N": 3000, "S": 40, "V": 300, "F": 9, "Q": 2},
    {"N": 5000, "S": 1300, "V": 0, "F": 0, "Q": 0},
    {"N": 1500, "S": 100, "V": 2500, "F": 21, "Q": 3},
]
# DS1 through the real line: cnn1 without dropout, so that two workers differ only by their draws; two
# validation patients (S and V in both), which every worker scores after every epoch
CONFIG = {
    "name": "sharded",
    "task": "beat-3",
    "data": {"validation": {"records": ["205", "223"]}},
    "model": {"arch": "cnn1", "params": {"dropout": 0.0}},
    "input": {"rr_features": True},
    "augment": {"amplitude": [0.9, 1.1], "jitter": 3, "premature": 0.1},
    "train": {"epochs": 3, "batch_size": 64, "steps_per_epoch": 10, "patience": 10, "learning_rate": 3e-4},
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    from heartzoo.data.synthetic_shards import write_synthetic_shards

    folder = tmp_path_factory.mktemp("synthetic-shards")
    write_synthetic_shards(folder, SPEC, COUNTS)
    return folder


def _stream(folder: Path, **kw):
    from heartzoo.data.augment import AugmentConfig, Augmenter
    from heartzoo.data.shard_stream import ShardStream

    augmenter = Augmenter(AugmentConfig(jitter=2, amplitude=(0.9, 1.1)), SPEC)
    return ShardStream(
        folder,
        "beat-3",
        Preprocessor(SPEC),
        batch_size=48,
        seed=5,
        pool=300,
        cycle=2,
        augmenter=augmenter,
        premature=(0.2, (0, 1)),
        **kw,
    )


def _take(batches, n: int) -> list:
    return [next(batches) for _ in range(n)]


def _same(a, b) -> bool:
    (xa, ya, wa), (xb, yb, wb) = a, b
    return all(np.array_equal(xa[k], xb[k]) for k in xa) and np.array_equal(ya, yb) and np.array_equal(wa, wb)


def test_a_resumed_stream_draws_what_the_uninterrupted_one_draws(synthetic):
    """Pool, open pieces, pass order and generator restored: epoch 3 onwards, batch for batch."""
    from heartzoo.data.pipeline import EpochStates

    steps = 7  # the readers' pools turn over several times in three epochs (300 rows, 48 a batch)
    whole_states = EpochStates(steps)
    whole_states.start_at(0, None)
    whole = _take(_stream(synthetic).batches(whole_states), 5 * steps)
    at3 = whole_states.state_at(3)
    assert json.loads(json.dumps(at3)) == at3  # it goes into state.json as it is
    resumed_states = EpochStates(steps)
    resumed_states.start_at(3, json.loads(json.dumps(at3)))
    resumed = _take(_stream(synthetic).batches(resumed_states), 2 * steps)
    assert all(_same(a, b) for a, b in zip(whole[3 * steps :], resumed, strict=True))
    assert resumed_states.state_at(4) == whole_states.state_at(4)
    # and the check can fail: a fresh start draws other batches there
    fresh = EpochStates(steps)
    fresh.start_at(3, None)
    assert not _same(_take(_stream(synthetic).batches(fresh), 1)[0], whole[3 * steps])


def test_a_saved_place_in_shards_prepared_again_is_refused_when_training_sets_it(synthetic, tmp_path):
    """A run interrupted, its shards folder prepared again with another layout, then resumed: the saved
    place named pieces that were now others, and tf.data died of an IndexError. The place names its
    shards, and one of other shards is refused where training sets it, before any batch."""
    import shutil

    from heartzoo.data.pipeline import EpochStates
    from heartzoo.data.synthetic_shards import write_synthetic_shards

    states = EpochStates(7)
    states.start_at(0, None)
    _take(_stream(synthetic).batches(states), 8)
    saved = json.loads(json.dumps(states.state_at(1)))
    other = tmp_path / "other"
    shutil.copytree(synthetic, other)
    again = _stream(other)
    EpochStates(7, check=again.check_state).start_at(1, saved)  # the same shards, copied: resumed
    shutil.rmtree(other)
    write_synthetic_shards(other, SPEC, [{"N": 4000, "S": 300, "V": 500, "F": 9, "Q": 2}])
    with pytest.raises(HeartzooError, match=r"the shards changed since this run saved its place"):
        EpochStates(7, check=_stream(other).check_state).start_at(1, saved)


def test_workers_read_disjoint_shares(synthetic):
    """Rows are (class, shard, row) in x[0:3]: two workers' draws never meet, and together cover the data."""
    from heartzoo.data.shard_stream import ShardStream, class_pieces
    from heartzoo.data.shards import read_manifest
    from heartzoo.tasks import get_task

    manifest, task = read_manifest(synthetic), get_task("beat-3")
    one, two = (class_pieces(manifest, task, share=(i, 2)) for i in range(2))
    every = class_pieces(manifest, task)
    for a, b, whole in zip(one, two, every, strict=True):
        assert not set(a) & set(b) and sorted(a + b) == sorted(whole)
    ids = []
    for i in range(2):  # no augmentation: x[0:3] of every frame are its (class, shard, row)
        stream = ShardStream(
            synthetic, "beat-3", Preprocessor(SPEC), batch_size=48, seed=5, pool=300, cycle=2, share=(i, 2)
        )
        rows = np.concatenate([x["ecg"][:, 0, :3, 0] for x, *_ in _take(stream.batches(), 60)])
        ids.append({tuple(r) for r in np.rint(rows).astype(int).tolist()})
    assert not ids[0] & ids[1]
    assert {s for _, s, _ in ids[0]} and {s for _, s, _ in ids[1]}


@pytest.fixture(scope="module")
def ds1_shards(tmp_path_factory, data_root) -> Path:
    from heartzoo.config import parse_config
    from heartzoo.data.shards import prepare_shards

    out = tmp_path_factory.mktemp("ds1-shards") / "shards"
    config = parse_config(CONFIG)
    prepare_shards(config.data.train, config.input, out, workers=2, data_dir=data_root)
    return out


def _config_file(root: Path, name: str, **data) -> Path:
    import yaml

    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "name": name, "data": {**CONFIG["data"], **data}}))
    return path


@pytest.mark.slow
def test_a_config_that_does_not_fit_its_shards_is_refused_before_training(ds1_shards, data_root, tmp_path):
    from heartzoo.config import parse_config
    from heartzoo.data.shard_stream import training_input
    from heartzoo.training.train import train

    def refused(error, match, shards, **changes):
        config = parse_config(
            {**CONFIG, **changes, "data": {**changes.get("data", {}), "shards": str(shards)}}
        )
        with pytest.raises(error, match=match):
            train(config, tmp_path / "run", restart=True)
        assert not (tmp_path / "run" / "backup").exists() and not (tmp_path / "run" / "history.csv").exists()

    refused(
        HeartzooError, "shards prepared for another input", ds1_shards, input={"rr_features": True, "fs": 128}
    )
    refused(
        ConfigError,
        r"shards prepared from \['mitdb:DS1'\], but field 'data.train'",
        ds1_shards,
        data={"train": ["mitdb:DS1", "svdb:all"]},
    )
    refused(
        ConfigError,
        "train.balance.patient_power",
        ds1_shards,
        train={**CONFIG["train"], "balance": {"patient_power": 0.5}},
    )
    # a relative folder read from another place than the one it was prepared in: the field is named
    refused(ConfigError, r"field 'data.shards': no shards' manifest in .*nowhere", tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"field 'data\.shards': shards hold beats or recordings' windows"):
        parse_config({"name": "w", "task": "quality", "data": {"shards": str(ds1_shards)}})
    af = parse_config(
        {"name": "w", "task": "af-4", "data": {"train": ["cinc2017:train"], "shards": str(ds1_shards)}}
    )
    with pytest.raises(ConfigError, match=r"shards prepared from \['mitdb:DS1'\]"):
        training_input(af, [])
    with pytest.raises(HeartzooError, match=r"shards of beat-labelled data .* af-4 reads N, A, O, ~"):
        _task_stream(ds1_shards, "af-4", parse_config(CONFIG).input)


def _task_stream(folder: Path, task: str, spec, **kw):
    from heartzoo.data.shard_stream import ShardStream

    return ShardStream(folder, task, Preprocessor(spec), batch_size=32, seed=1, **kw)


@pytest.mark.slow
@pytest.mark.slow
def test_validation_records_are_left_out_wherever_their_shards_put_them(ds1_shards, data_root, tmp_path):
    """Four patients to a shard: the validation records' rows are cut out of their shards' pieces, so the
    stream reads what it reads from shards of one patient each."""
    from heartzoo.config import parse_config
    from heartzoo.data.shard_stream import stream_counts
    from heartzoo.data.shards import prepare_shards

    mixed = tmp_path / "mixed"
    prepare_shards(["mitdb:DS1"], parse_config(CONFIG).input, mixed, patients_per_shard=4, data_dir=data_root)
    val = ["106", "118", "207", "223"]  # V-rich and S-rich patients, in different shards
    left = stream_counts(mixed, "beat-3", val)
    assert left == stream_counts(ds1_shards, "beat-3", val)
    whole = stream_counts(mixed, "beat-3")
    assert all(left[c] < whole[c] for c in ("N", "V"))
    _task_stream(mixed, "beat-3", parse_config(CONFIG).input, skip_records=val)  # a mixed shard is no error


@pytest.fixture(scope="module")
def cinc_shards(tmp_path_factory, data_root):
    """Real CinC 2017 recordings of every label, three to a shard, as af-4 prepares them."""
    from heartzoo.config import load_config
    from heartzoo.data.cinc2017 import DATABASE, LABELS
    from heartzoo.data.shards import prepare_shards

    if not (data_root / "cinc2017" / "REFERENCE-v3.csv").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    labels = DATABASE.labels(data_root)
    records = [r for lab in LABELS for r in sorted(r for r in labels if labels[r] == lab)[:3]]
    spec = load_config(Path(__file__).parents[1] / "configs" / "af-4-cnn3.yaml").input
    out = tmp_path_factory.mktemp("cinc-shards")
    prepare_shards([f"cinc2017:{r}" for r in records], spec, out, patients_per_shard=3, data_dir=data_root)
    return out, spec, {r: labels[r] for r in records}


@pytest.mark.slow
def test_cinc_shards_hold_each_recordings_windows_under_its_label(cinc_shards, data_root):
    from heartzoo.data.cinc2017 import DATABASE
    from heartzoo.data.recording_windows import recording_arrays
    from heartzoo.data.shards import read_manifest, read_shard
    from heartzoo.tasks import CINC_CLASSES

    out, spec, labels = cinc_shards
    m = read_manifest(out)
    assert m["unit"] == "recording" and m["classes"] == list(CINC_CLASSES)
    assert all(m["counts"][c] > 0 for c in CINC_CLASSES)
    for s in m["shards"]:
        ws = read_shard(out / s["file"])
        for record in s["records"]:
            a = recording_arrays(
                DATABASE, DATABASE.folder(data_root), record, spec, CINC_CLASSES.index(labels[record])
            )
            mine = ws.record == record
            assert np.array_equal(ws.x[mine], a["x"]) and np.array_equal(ws.aami[mine], a["aami"])


def test_sources_labelled_per_beat_and_per_recording_are_refused_together(tmp_path):
    from heartzoo.data.shards import prepare_shards

    with pytest.raises(HeartzooError, match="mix databases labelled per beat and per recording"):
        prepare_shards(["mitdb:DS1", "cinc2017:A00001"], SPEC, tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists()  # refused before anything is written


@pytest.mark.slow
def test_af_4_streams_cinc_shards_without_its_validation_recordings(cinc_shards):
    """The pieces of a stream that leaves two recordings out cover every other recording's rows once and
    none of theirs; and its batches carry af-4's four classes."""
    import h5py

    from heartzoo.data.shard_stream import class_pieces
    from heartzoo.data.shards import read_manifest
    from heartzoo.tasks import get_task

    out, spec, labels = cinc_shards
    m, task = read_manifest(out), get_task("af-4")
    skip = [r for r in labels if labels[r] == "A"][:2]
    seen = []
    for pieces in class_pieces(m, task, skip_records=skip):
        for shard, group, a, b in pieces:
            s = m["shards"][shard]
            with h5py.File(out / s["file"], "r") as f:
                seen += [(s["records"][i], group) for i in f[group]["record"][a:b]]
    expected = [(r, labels[r]) for r in labels if r not in skip]
    assert sorted(set(seen)) == sorted(expected)
    assert len(seen) == m["beats"] - sum(
        s["rows"]["A"][s["records"].index(r)] for s in m["shards"] for r in skip if r in s["records"]
    )
    x, y, _ = next(_task_stream(out, "af-4", spec, skip_records=skip).batches())
    assert x.shape == (32, 1, spec.frame_size, 1) and y.shape == (32, 4) and (y.sum(0) > 0).sum() >= 3


def _history(run: Path) -> list[dict[str, float]]:
    with open(run / "history.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _cli(config: Path, run: Path, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "heartzoo",
        "train",
        str(config),
        "--run-dir",
        str(run),
        "--no-publish",
        "--cache-dir",
        str(cache),
        *extra,
    ]


@pytest.mark.slow
def test_two_workers_on_shards_killed_and_restarted_end_as_the_uninterrupted_run(
    ds1_shards, shared_cache, tmp_path
):
    config = _config_file(tmp_path, "sharded", shards=str(ds1_shards))
    # the uninterrupted run beside the killed one: a worker waits on the other's half of every step,
    # and two jobs at once fill those waits
    log = tmp_path / "whole.log"  # a file, not a pipe nobody reads meanwhile
    with log.open("w") as err:
        whole = subprocess.Popen(
            _cli(config, tmp_path / "whole", shared_cache, "--workers", "2"), stdout=err, stderr=err
        )
    run = tmp_path / "killed"
    try:
        backed_up = kill_worker_after_epoch(_cli(config, run, shared_cache, "--workers", "2"), run, 1)
        assert 1 <= backed_up < CONFIG["train"]["epochs"]
        again = subprocess.run(
            _cli(config, run, shared_cache, "--workers", "2"), capture_output=True, text=True, timeout=600
        )
    finally:
        whole.wait(timeout=600)  # its workers stop with it: nothing is left running, whatever failed
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"resuming at epoch {backed_up + 1}" in again.stderr
    assert whole.returncode == 0, log.read_text()[-3000:]
    summary = json.loads((tmp_path / "whole" / "train_summary.json").read_text())
    assert summary["strategy"]["workers"] == 2 and summary["train_shards"] == str(ds1_shards)
    assert summary["train_frames"] < 51021  # the validation patients' shards were left out
    assert not (tmp_path / "whole" / ".worker1").exists()  # the chief alone keeps what the run wrote
    ha, hb = _history(tmp_path / "whole"), _history(run)
    assert [r["epoch"] for r in ha] == [r["epoch"] for r in hb]
    for ra, rb in zip(ha, hb, strict=True):
        assert rb["loss"] == pytest.approx(ra["loss"], rel=1e-5)
        assert rb["val_loss"] == pytest.approx(ra["val_loss"], rel=1e-5)
