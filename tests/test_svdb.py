"""The Supraventricular Arrhythmia Database beside MIT-BIH: its reader on the real records, its quirks,
configs that mix databases, validation patients drawn from all of them, and the external test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import benchmark_script

from heartzoo.config import InputSpec, parse_config
from heartzoo.data import mitbih, svdb
from heartzoo.data.records import read_beats
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError, DataError, HeartzooError

REPO = Path(__file__).resolve().parents[1]
#: svdb/README.md's totals over all 78 records, and the one B beat AAMI EC57 counts as N
README_TOTALS = {"N": 162_339 + 1, "S": 12_198, "V": 9_943, "F": 23, "Q": 79}


@pytest.fixture(scope="module")
def svdb_dir(data_root: Path) -> Path:
    folder = data_root / "svdb"
    if not (folder / "800.hea").is_file():
        pytest.skip("svdb not found beside mitdb")
    return folder


def test_counts_equal_the_readme(svdb_dir, data_root):
    from heartzoo.data.prepare import record_counts

    counts = record_counts(list(svdb.RECORDS), data_root)
    assert len(counts) == 78
    assert {c: sum(r[c] for r in counts.values()) for c in README_TOTALS} == README_TOTALS
    assert counts["865"]["S"] == 1818 and counts["802"]["S"] == 0
    assert counts["868"]["N"] == 2554 + 1  # its B beat


def test_record_860_keeps_its_last_beat_at_the_last_sample(svdb_dir):
    beats = svdb.DATABASE.read_beats(svdb_dir, "860")
    assert beats.samples[-1] == beats.sig_len - 1 == 230_399
    assert len(beats.samples) == 1674 + 17 + 727
    # read by the plain rules, the beat one past the end is a clear error naming the file
    with pytest.raises(DataError, match=r"860 \(.*860\.atr\): beat annotation at sample 230400 lies outside"):
        read_beats(svdb_dir, "860", expected_fs=128)


def test_frames_come_from_the_lead_standing_for_mlii(svdb_dir, data_root, tmp_path):
    """ECG1, resampled from 128 Hz to the model's 100 Hz by the same Preprocessor as mitdb's 360 Hz."""
    from heartzoo.data.prepare import load_windows
    from heartzoo.data.records import read_signal
    from heartzoo.preprocess import Preprocessor

    ws = load_windows(["800"], InputSpec(), data_dir=data_root, cache_dir=tmp_path)
    beats = svdb.DATABASE.read_beats(svdb_dir, "800")
    assert len(ws) == len(beats.samples) and ws.meta["databases"] == ["svdb"]
    ecg1 = read_signal(svdb_dir, "800", "ECG1", expected_fs=128)
    np.testing.assert_array_equal(ws.x, Preprocessor(InputSpec()).frames(ecg1.values, 128, beats.samples))
    # the cache keeps the databases apart (its key holds the database and the lead read)
    again = load_windows(["800", "101"], InputSpec(), data_dir=data_root, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.x[: len(ws)], ws.x)
    assert again.meta["databases"] == ["mitdb", "svdb"]


def test_the_lead_choice_is_the_recorded_studys(svdb_dir, data_root):
    """studies/svdb_lead.py chose the lead on training records only; heartzoo maps that lead, and a
    rerun on a few records gives the recorded correlations."""
    study = benchmark_script("svdb_lead")
    recorded = json.loads((REPO / "results" / "svdb_lead.json").read_text())
    assert recorded["chosen"] == svdb.DATABASE.leads["MLII"] == "ECG1"
    assert recorded["records_where_higher"]["ECG1"] > recorded["records_where_higher"]["ECG2"]
    again = study.lead_agreement(data_root, records=("800", "821", "865"))
    for r, corr in again.items():
        assert corr == pytest.approx(recorded["per_record"][r], abs=1e-6)


def test_a_broken_svdb_record_is_named(svdb_dir, tmp_path):
    from heartzoo.data.prepare import load_windows

    root = tmp_path / "data"
    shutil.copytree(
        svdb_dir, root / "svdb", ignore=lambda d, names: [n for n in names if not n.startswith("801")]
    )
    dat = root / "svdb" / "801.dat"
    dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 2])
    with pytest.raises(DataError, match=r"801.*truncated signal file: 801\.dat"):
        load_windows(["801"], InputSpec(), data_dir=root, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("*.h5"))
    shutil.copy2(svdb_dir / "801.dat", dat)
    (root / "svdb" / "801.atr").unlink()
    with pytest.raises(DataError, match=r"801 \(.*801\.atr\): file missing"):
        load_windows(["801"], InputSpec(), data_dir=root, cache_dir=tmp_path / "cache")


def test_a_config_mixes_databases(data_root):
    """`data.train: [mitdb:DS1, svdb:all]`: 100 training patients, validation patients from both
    databases (whole patients, holding S beats), DS2 untouched."""
    from heartzoo.data.prepare import record_counts, split_records, training_records

    cfg = parse_config({"name": "mix", "task": "beat-3", "data": {"train": ["mitdb:DS1", "svdb:all"]}})
    assert training_records(cfg) == [*mitbih.DS1, *svdb.RECORDS]
    splits = split_records(cfg, data_root)
    assert sorted(splits["train"] + splits["val"]) == sorted(training_records(cfg))
    assert not set(splits["val"]) & set(splits["train"])
    assert splits["test"] == list(mitbih.DS2)
    val = set(splits["val"])
    assert val & set(mitbih.DS1) and val & set(svdb.RECORDS)  # both databases hold out patients
    counts = record_counts(splits["val"], data_root)
    assert sum(c["S"] for c in counts.values()) > 1000  # dozens of S patients, not five
    # the v1 default is unchanged: DS1 alone, the same draw as before
    plain = parse_config({"name": "plain", "task": "beat-3"})
    assert plain.data.train == ["mitdb:DS1"] and training_records(plain) == list(mitbih.DS1)


@pytest.mark.parametrize(
    ("train", "message"),
    [
        (["incart:all"], "unknown database 'incart'; known: mitdb, svdb"),
        (["svdb:999"], "svdb has no record set or record '999'; sets: all"),
        (["svdb"], "'svdb' is not DATABASE:SET or DATABASE:RECORD"),
        (["mitdb:DS2"], "'mitdb:DS2' holds DS2 records: DS2 is the test set and never trains"),
        (["mitdb:DS1", "mitdb:232"], "'mitdb:232' holds DS2 records"),
        (["svdb:all", "svdb:all"], "a source is listed twice"),
    ],
)
def test_a_bad_training_source_is_named(train, message):
    with pytest.raises(ConfigError, match=r"field 'data\.train'") as exc:
        parse_config({"name": "x", "task": "beat-3", "data": {"train": train}}, "mix.yaml")
    assert message in str(exc.value) and "mix.yaml" in str(exc.value)


def test_a_validation_draw_never_splits_a_patient():
    """201 and 202 are one patient: a pool holding both keeps them on one side, in every draw, and a
    hand-made split that tears them apart is refused."""
    from heartzoo.data.splits import draw_validation_records, inter_patient_records

    counts = {
        r: {"N": 1000 + i, "S": 10 * (i % 3), "V": 5 * (i % 4), "F": 0, "Q": 0}
        for i, r in enumerate(["101", "106", "201", "202", "800", "801", "821", "865"])
    }
    for seed in range(25):
        val = set(draw_validation_records(counts, 0.3, seed))
        assert ("201" in val) == ("202" in val)
    with pytest.raises(ValueError, match="would split patient"):
        inter_patient_records(["201"], pool=["101", "201", "202"])


def test_the_external_test_is_refused_for_a_database_the_model_trained_on(tmp_path):
    from heartzoo.data.prepare import external_records
    from heartzoo.evaluation.evaluate import check_split

    v1 = parse_config({"name": "v1", "task": "beat-3"})
    assert external_records(v1, "svdb:all") == list(svdb.RECORDS)
    assert check_split(v1, "svdb:all") == "svdb:all"
    assert check_split(v1, "test") == check_split(v1, "ds2") == "ds2"  # the held-out split by either name
    mixed = parse_config({"name": "mix", "task": "beat-3", "data": {"train": ["mitdb:DS1", "svdb:all"]}})
    with pytest.raises(HeartzooError, match=r"mix trained on svdb .* would not be an external test"):
        check_split(mixed, "svdb:all")
    with pytest.raises(HeartzooError, match="unknown database 'incart'"):
        check_split(v1, "incart:all")
    # CinC 2017 labels recordings: a beat model is refused before any of its files is read
    with pytest.raises(
        HeartzooError, match=r"cinc2017 has no beat annotations \(its labels are per recording\)"
    ):
        check_split(v1, "cinc2017:test")


@pytest.mark.slow
def test_a_model_trains_on_a_mix_of_databases(data_root, shared_cache, tmp_path):
    """The whole training path on mitdb and svdb records together: 360 and 128 Hz frames in one batch
    stream, validation patients from both, a model that runs."""
    from heartzoo.training.train import train

    cfg = parse_config(
        {
            "name": "mix",
            "task": "beat-3",
            "model": {"arch": "cnn1"},
            "input": {"rr_features": True},
            "data": {
                "train": [
                    "mitdb:101",
                    "mitdb:106",
                    "mitdb:119",
                    "mitdb:209",
                    "svdb:821",
                    "svdb:865",
                    "svdb:851",
                ],
                "validation": {"records": ["mitdb:209", "svdb:851"]},
            },
            "train": {"epochs": 2, "batch_size": 64, "steps_per_epoch": 4},
        }
    )
    result = train(cfg, tmp_path / "run", env=Environment(cache_dir=shared_cache))
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["val_records"] == ["209", "851"]
    assert summary["train_frames"] > 8000 and result.epochs_run == 2


def test_svdb_downloads_against_physionets_own_checksums(svdb_dir, tmp_path):
    """`heartzoo data download svdb` from a real HTTP server holding two real records and PhysioNet's
    own SHA256SUMS.txt of the release: the files land verified, and the reader takes them."""
    from httpserver import FolderServer

    from heartzoo.data.download import download_dataset

    site = tmp_path / "site"
    site.mkdir()
    for name in ("800.hea", "800.dat", "800.atr", "860.hea", "860.dat", "860.atr"):
        shutil.copy2(svdb_dir / name, site / name)
    # the release's own list (it names files not served here: only the records asked for are fetched)
    shutil.copy2(svdb_dir / "SHA256SUMS.physionet.txt", site / "SHA256SUMS.txt")
    with FolderServer(site) as srv:
        report = download_dataset("svdb", tmp_path / "data", base_url=srv.url, records=["800", "860"])
    assert sorted(report.downloaded) == sorted(
        f"{r}.{e}" for r in ("800", "860") for e in ("atr", "dat", "hea")
    )
    beats = svdb.DATABASE.read_beats(tmp_path / "data" / "svdb", "860")
    assert beats.samples[-1] == 230_399


def test_a_record_name_two_databases_claim_is_an_error_not_the_first_ones_record(monkeypatch):
    """A contributor's database of records named like MIT-BIH's (`100`) was read as MIT-BIH's, its frames
    and its beats, without a word."""
    import dataclasses

    from heartzoo.data import databases

    clash = dataclasses.replace(svdb.DATABASE, name="clashdb", records=("100", "c1"))
    monkeypatch.setitem(databases.DATABASES, "clashdb", clash)
    with pytest.raises(ValueError, match=r"record '100' is a record of mitdb and clashdb: record names must"):
        databases.database_of("100")
    assert databases.database_of("c1") is clash
    # the registered databases share no record name
    owned = [r for db in databases.DATABASES.values() if db is not clash for r in db.records]
    assert len(owned) == len(set(owned))
