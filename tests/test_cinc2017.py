"""CinC 2017: its labels, the committed test split (stable, stratified, never in `train`), its records read
as the challenge ships them, and the external tests of a beat model on a few of its records."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli

from heartzoo.data import cinc2017
from heartzoo.data.databases import database_of, licences_of, resolve
from heartzoo.errors import DataError

DB = cinc2017.DATABASE


@pytest.fixture(scope="module")
def folder(data_root: Path) -> Path:
    if not (data_root / "cinc2017" / cinc2017.REFERENCE).is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    return data_root / "cinc2017"


def test_the_labels_are_version_3(folder):
    labels = cinc2017.read_labels(folder)
    assert Counter(labels.values()) == {"N": 5076, "A": 758, "O": 2415, "~": 279}
    assert tuple(labels) == cinc2017.RECORDS


def test_the_committed_test_split_is_the_seeded_stratified_draw(folder):
    labels = cinc2017.read_labels(folder)
    test = DB.splits["test"]
    assert list(test) == cinc2017.draw_test_split(labels)  # the file is what the seed draws, and stays so
    counts, everything = Counter(labels[r] for r in test), Counter(labels.values())
    assert all(abs(counts[c] - 0.2 * everything[c]) <= 1 for c in cinc2017.LABELS), counts
    assert not set(test) & set(DB.splits["train"]) and len(test) + len(DB.splits["train"]) == 8528
    assert resolve("cinc2017:test")[1] == test and database_of("A00005") is DB


def test_a_record_reads_as_distributed(folder):
    sig = DB.read_signal(folder, "A00005", "MLII")  # lead I stands for a model's MLII
    assert sig.fs == 300 and len(sig.values) == 18000 and sig.lead == "ECG"
    assert sig.notes and "no checksum" in sig.notes[0]
    with pytest.raises(DataError, match="no beat annotations"):
        DB.read_beats(folder, "A00005")


def test_data_stats_counts_its_recordings_per_label(folder):
    """CinC 2017 has no beats to count: `data stats --dataset` counts recordings per label, in the task's
    order, and their hours from the headers."""
    args = ("data", "stats", "--dataset", "cinc2017", "--data-dir", str(folder.parent))
    out = run_cli(*args, "--select", "test", "--json")
    assert out.returncode == 0, out.stderr
    stats, labels = json.loads(out.stdout), cinc2017.read_labels(folder)
    expected = Counter(labels[r] for r in DB.splits["test"])
    assert list(stats["labels"].items()) == [(c, expected[c]) for c in cinc2017.LABELS]
    assert stats["records"] == len(DB.splits["test"]) and stats["beats"] is None
    one = json.loads(run_cli(*args, "--select", "A00005", "--json").stdout)
    assert one["labels"] == {"N": 0, "A": 1, "O": 0, "~": 0} and one["hours"] == pytest.approx(60 / 3600)
    table = run_cli(*args, "--select", "A00005")
    assert table.returncode == 0 and "one label each: N 0, A 1, O 0, ~ 0" in table.stdout


def test_its_licence_and_citation_reach_a_card():
    (lic,) = [x for x in licences_of({"data": {"train": ["cinc2017:train"]}}) if x.database == "cinc2017"]
    assert lic.licence == "ODC-By 1.0" and lic.commercial_use and "Clifford" in lic.citation
    # af-4 learns from CinC 2017 alone and is not tested on DS2: MIT-BIH is not its data
    af4 = licences_of({"task": "af-4", "data": {"train": ["cinc2017:train"]}})
    assert [x.database for x in af4] == ["cinc2017"]
    beat = licences_of({"task": "beat-3", "data": {"train": ["svdb:all"]}})
    assert [x.database for x in beat] == ["svdb", "mitdb"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A00001,N\nA00002,X\n", r"line 2 is not RECORD,LABEL"),
        ("A00001,N\nA00001,A\n", r"line 2: record A00001 is labelled twice"),
        ("../x,N\n", r"line 1 is not RECORD,LABEL"),
    ],
)
def test_a_bad_label_file_names_its_line(tmp_path, text, message):
    (tmp_path / cinc2017.REFERENCE).write_text(text)
    with pytest.raises(DataError, match=message):
        cinc2017.read_labels(tmp_path)


def test_a_label_file_not_in_utf_8_names_its_line(tmp_path):
    (tmp_path / cinc2017.REFERENCE).write_bytes(b"A00001,N\nA09999,\xe9\n")
    with pytest.raises(DataError, match=r"REFERENCE-v3\.csv\): line 2 is not UTF-8"):
        cinc2017.read_labels(tmp_path)


def test_external_calls_on_af_and_normal_records(folder):
    from heartzoo.recording.external import cinc2017 as calls
    from heartzoo.zoo.hub import load_model

    loaded = load_model("beat-3-cnn3-student", "v3", format="tflite", zoo=REPO / "zoo")
    labels = cinc2017.read_labels(folder)
    records = tuple(
        [r for r in DB.splits["test"] if labels[r] == "A"][:3]
        + [r for r in DB.splits["test"] if labels[r] == "N"][:3]
    )
    got = calls(loaded, folder.parent, records)
    for group in ("A", "N"):
        g = got[group]
        assert g["records"] == 3 and g["beats"] > 30
        assert np.isclose(sum(g["share"].values()), 1.0)
        assert 0 <= g["records_with_any"]["S"] <= g["records_with_beats"] <= 3
    assert got["rhythm"] is None and "with_rhythm" not in got["A"]
    # with a rhythm model, as `annotate --rhythm` writes them: inside AF, S's probability goes to N, so S
    # calls (and V calls narrower than S and N together) become N; no beat becomes S or V
    with_rhythm = calls(loaded, folder.parent, records, rhythm="af-4-cnn3-student@v2", zoo=REPO / "zoo")
    for group in ("A", "N"):
        alone, line = with_rhythm[group]["share"], with_rhythm[group]["with_rhythm"]["share"]
        assert alone == got[group]["share"]  # the beat model alone: the same as without a rhythm model
        assert line["S"] <= alone["S"] and line["V"] <= alone["V"] and line["N"] >= alone["N"]
        assert np.isclose(sum(line.values()), sum(alone.values()))
    # a benchmark of several models shares one scan per recording (detection, gate, rhythm), and each
    # model's calls are what it gets alone
    scans: dict = {}
    assert calls(
        loaded, folder.parent, records, rhythm="af-4-cnn3-student@v2", zoo=REPO / "zoo", scans=scans
    ) == (with_rhythm)
    assert len(scans) == len(records)
    other = load_model("beat-2-cnn3-wearable", "v2", format="tflite", zoo=REPO / "zoo")
    shared = calls(
        other, folder.parent, records, rhythm="af-4-cnn3-student@v2", zoo=REPO / "zoo", scans=scans
    )
    assert len(scans) == len(records)
    assert shared == calls(other, folder.parent, records, rhythm="af-4-cnn3-student@v2", zoo=REPO / "zoo")


def test_the_relabelling_study_selects_on_af4s_validation_af_records_never_the_test_split(
    folder, monkeypatch
):
    monkeypatch.syspath_prepend(str(REPO / "studies"))
    from af_s_gate import af4_validation_af_records

    from heartzoo.config import load_config
    from heartzoo.data.recording_windows import split_recordings

    records = af4_validation_af_records(folder.parent)
    labels = cinc2017.read_labels(folder)
    assert records and all(labels[r] == "A" for r in records)
    assert not set(records) & set(DB.splits["test"])
    cfg = load_config(REPO / "configs" / "af-4-cnn3-student.yaml")
    split = split_recordings(
        labels, DB.splits["test"], cfg.data.validation.fraction, cfg.data.validation.seed
    )
    assert set(records) == {
        r for r in split["val"] if labels[r] == "A"
    }  # the rhythm model never trained on them
    assert not set(records) & set(split["train"])


def test_a_relabelled_recording_is_prepared_again_and_only_it(folder, tmp_path):
    """The cached windows hold the label: edited in REFERENCE-v3.csv, it came back as it was."""
    from heartzoo.config import load_config
    from heartzoo.data.recording_windows import load_recording_split

    labels = cinc2017.read_labels(folder)
    test = sorted(cinc2017.held_out_records())[:3]
    where = tmp_path / "data" / "cinc2017" / "training2017"
    where.mkdir(parents=True)
    for r in test:
        for ext in ("hea", "mat"):
            (where / f"{r}.{ext}").symlink_to(folder / "training2017" / f"{r}.{ext}")

    def read(given: dict) -> dict:
        (where.parent / cinc2017.REFERENCE).write_text("".join(f"{r},{given[r]}\n" for r in test))
        ws = load_recording_split(
            load_config(REPO / "configs" / "af-4-cnn3.yaml"), "test", data_dir=tmp_path / "data",
            cache_dir=tmp_path / "cache",
        )  # fmt: skip
        return {r: int(ws.aami[ws.record == r][0]) for r in test}

    read(labels)
    written = {p.stem: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.h5")}
    other = next(c for c in "NAO~" if c != labels[test[0]])
    got = read({**labels, test[0]: other})
    classes = ["N", "A", "O", "~"]
    assert got == {r: classes.index(other if r == test[0] else labels[r]) for r in test}
    again = {p.stem: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.h5")}
    assert sorted(r for r in test if again[r] != written[r]) == [test[0]]
