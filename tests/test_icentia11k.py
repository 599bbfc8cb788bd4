"""Icentia11k: its reader on the real sample segment and on small segments written here in the release's
layout (several patients, S beats, AFIB/AFL episodes, corrupt files), the patient as the unit of a
split, its licence, and `heartzoo data stats --dataset icentia11k`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from heartzoo.data import icentia11k
from heartzoo.data.databases import database_of, licences_of, resolve
from heartzoo.errors import DataError
from heartzoo.synthetic import synthetic_ecg

DB = icentia11k.DATABASE
FS = icentia11k.SAMPLING_RATE


@pytest.fixture(scope="module")
def sample(data_root: Path) -> Path:
    folder = data_root / "icentia11k_sample"
    if not (folder / "p01" / "p01001" / "p01001_s00.hea").is_file():
        pytest.skip("icentia11k_sample not found beside mitdb")
    return folder


def write_segment(
    root: Path,
    record: str,
    *,
    seconds: float = 30,
    symbols: str = "N",
    rhythms: tuple[tuple[int, str], ...] = (),
    seed: int = 0,
) -> np.ndarray:
    """A segment as the release writes it: one `ecg` lead, 250 Hz, format 16, beats with the aux note
    'None', rhythm changes as '+' with '(NAME' or ')'; `rhythms` are (sample, note). Returns the peaks."""
    import wfdb

    folder = icentia11k.segment_dir(root, record)
    folder.mkdir(parents=True, exist_ok=True)
    signal, peaks = synthetic_ecg(FS, seconds, seed=seed)
    wfdb.wrsamp(
        record,
        fs=FS,
        units=["mV"],
        sig_name=["ecg"],
        p_signal=signal[:, None],
        fmt=["16"],
        adc_gain=[74.36482269503546],
        baseline=[0],
        write_dir=str(folder),
    )
    marks = [(int(p), symbols[i % len(symbols)], "None") for i, p in enumerate(peaks)]
    marks += [(s, "+", note) for s, note in rhythms]
    marks.sort(key=lambda m: m[0])
    wfdb.wrann(
        record,
        "atr",
        np.array([m[0] for m in marks]),
        [m[1] for m in marks],
        aux_note=[m[2] for m in marks],
        write_dir=str(folder),
    )
    return peaks


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """<data>/icentia11k with three patients in two group folders; p00001 has two segments."""
    data = tmp_path_factory.mktemp("icentia-data")
    root = data / "icentia11k"
    write_segment(root, "p00001_s00", symbols="NNNSNNNV", rhythms=((100, "(N"), (4000, ")"), (4000, "(AFIB")))
    write_segment(root, "p00001_s01", symbols="NNV", rhythms=((0, "(AFIB"), (2500, ")")), seed=1)
    write_segment(root, "p00002_s00", symbols="NSSQ", rhythms=((500, "(AFL"), (3000, ")")), seed=2)
    write_segment(root, "p01003_s00", symbols="N", seed=3)
    return data


# -- the real sample segment -------------------------------------------------------------------


def test_the_sample_segment_reads_as_its_readme_says(sample):
    assert icentia11k.find_segments(sample) == ("p00000_s00", "p01001_s00")
    assert DB.read_beats(sample, "p00000_s00").counts() == {"N": 6641, "S": 0, "V": 0, "F": 0, "Q": 244}
    beats = DB.read_beats(sample, "p01001_s00")
    assert beats.counts() == {"N": 2821, "S": 0, "V": 1297, "F": 0, "Q": 1490}
    assert beats.samples[0] == 43 and beats.sig_len == 1_048_577 and beats.fs == 250
    rhythms = DB.read_rhythms(sample, "p01001_s00")
    assert rhythms.counts() == {"N": 69}  # 138 '+' annotations: 69 '(N' and 69 ')'
    assert rhythms.start[0] == 944 and rhythms.end[0] == 8924
    # the '(N' at 944 shares its sample with a beat, which is inside the episode
    assert icentia11k.RECORD_RE.fullmatch(beats.record)
    assert rhythms.at(np.array([43, 944, 8923, 8924])).tolist() == ["", "N", "N", ""]
    signal = DB.read_signal(sample, "p01001_s00", "MLII")
    assert signal.lead == "ecg" and len(signal.values) == 1_048_577 and np.isfinite(signal.values).all()


def test_the_sample_is_found_under_its_own_folder_name(sample, tmp_path):
    from heartzoo.data.prepare import load_windows

    db, records = resolve("icentia11k:all", sample.parent)
    assert db is DB and records == ("p00000_s00", "p01001_s00")
    assert resolve("icentia11k:p01001", sample.parent)[1] == ("p01001_s00",)
    assert DB.folder(sample.parent) == sample  # no icentia11k/ there: icentia11k_sample/ is used
    records = ("p01001_s00",)
    ws = load_windows(list(records), _spec(), data_dir=sample.parent, cache_dir=tmp_path, workers=1)
    assert len(ws) == 5608 and set(ws.record) == {"p01001_s00"}  # the name is not cut to 8 characters


def test_evaluate_says_a_class_the_segments_lack_pulls_the_macro_f1_down(sample):
    """The segments hold no S beat: S's F1 is 0 by the model's false calls alone, and the macro-F1 over
    N, S and V counts it; `evaluate` says so, in its JSON and its tables."""
    from conftest import REPO, run_cli

    args = ("evaluate", "beat-3-cnn3-student@v6", "--dataset", "icentia11k", "--zoo", str(REPO / "zoo"))
    env = {"HEARTZOO_DATA_DIR": str(sample.parent)}
    got = json.loads(run_cli(*args, "--json", env=env).stdout)
    assert got["float"]["per_class"]["S"]["support"] == 0 and got["float"]["per_class"]["S"]["predicted"] > 0
    assert got["notes"] == [
        "icentia11k:all holds no S: its F1 is 0 by the model's calls of S alone, and the macro-F1 (N, S, V) "
        "counts it"
    ]
    table = run_cli(*args, env=env)
    assert table.returncode == 0 and "note: icentia11k:all holds no S" in " ".join(table.stdout.split())


def _spec():
    from heartzoo.config import InputSpec

    return InputSpec(frame_size=128)


# -- the layout, patients and splits ----------------------------------------------------------


def test_segments_patients_and_selections(written):
    root = written / "icentia11k"
    assert icentia11k.find_segments(root) == ("p00001_s00", "p00001_s01", "p00002_s00", "p01003_s00")
    assert DB.select("p00001", written) == ("p00001_s00", "p00001_s01")
    assert DB.select("p01003_s00", written) == ("p01003_s00",)
    assert database_of("p00001_s01") is DB and DB.patient_of("p00001_s01") == "icentia11k:p00001"
    with pytest.raises(ValueError, match="use all, a patient"):
        DB.select("DS1", written)
    with pytest.raises(ValueError, match="no segment of p00009"):
        DB.select("p00009", written)
    with pytest.raises(ValueError, match="no icentia11k folder"):
        DB.select("all", written / "nowhere")


def test_a_patient_is_never_split(written, monkeypatch):
    from heartzoo.data.prepare import record_counts
    from heartzoo.data.splits import draw_validation_records, group_by_patient

    monkeypatch.setenv("HEARTZOO_DATA_DIR", str(written))
    records = list(resolve("icentia11k:all")[1])
    assert group_by_patient(records) == {
        "icentia11k:p00001": ["p00001_s00", "p00001_s01"],
        "icentia11k:p00002": ["p00002_s00"],
        "icentia11k:p01003": ["p01003_s00"],
    }
    counts = record_counts(records, written)
    for seed in range(5):
        val = draw_validation_records(counts, 0.3, seed, tries=20)
        assert ("p00001_s00" in val) == ("p00001_s01" in val)


def test_beats_and_rhythms_of_written_segments(written):
    root = written / "icentia11k"
    beats = DB.read_beats(root, "p00002_s00")
    assert set(beats.symbols) == {"N", "S", "Q"} and beats.counts()["S"] == len(beats.samples) // 2
    r = DB.read_rhythms(root, "p00001_s00")
    # '(N' closes at 4000 where '(AFIB' opens; AFIB is never closed: it ends with the segment
    assert r.label.tolist() == ["N", "AFIB"] and r.start.tolist() == [100, 4000]
    assert r.end.tolist() == [4000, 30 * FS]
    assert r.seconds() == pytest.approx({"N": 3900 / FS, "AFIB": (30 * FS - 4000) / FS})
    assert DB.read_rhythms(root, "p01003_s00").counts() == {}


def test_the_census_counts_whatever_is_present(written):
    from heartzoo.data.census import database_census

    stats = database_census("icentia11k", written)
    assert stats["patients"] == 3 and stats["records"] == 4 and stats["hours"] == pytest.approx(4 * 30 / 3600)
    assert stats["rhythms"]["AFL"]["episodes"] == 1 and stats["rhythms"]["AFIB"]["episodes"] == 2
    assert stats["per_patient"]["p00001"]["records"] == ["p00001_s00", "p00001_s01"]
    assert stats["commercial_use"] is False and stats["licence"] == "CC BY-NC-SA 4.0"
    assert sum(stats["beats"].values()) == sum(
        len(DB.read_beats(written / "icentia11k", r).samples)
        for r in icentia11k.find_segments(written / "icentia11k")
    )


def test_data_stats_cli(written):
    from conftest import run_cli

    out = run_cli("data", "stats", "--dataset", "icentia11k", "--data-dir", str(written), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["records"] == 4
    table = run_cli("data", "stats", "--dataset", "icentia11k", "--data-dir", str(written))
    assert "p00002" in table.stdout and "non-commercial" in table.stdout
    bad = run_cli("data", "stats", "--dataset", "icentia11k", "--data-dir", str(written), "--select", "x")
    assert bad.returncode != 0 and "use all, a patient" in bad.stderr


# -- licence ----------------------------------------------------------------------------------


def test_a_model_trained_on_icentia11k_is_non_commercial(written, monkeypatch):
    from heartzoo.config import parse_config

    monkeypatch.setenv("HEARTZOO_DATA_DIR", str(written))
    cfg = parse_config(
        {
            "name": "x",
            "task": "beat-3",
            "model": {"arch": "cnn2"},
            "data": {"train": ["mitdb:DS1", "icentia11k:all"]},
        }
    )
    licences = licences_of(cfg)
    assert [lic.database for lic in licences] == ["mitdb", "icentia11k"]
    assert [lic.commercial_use for lic in licences] == [True, False]
    assert licences == licences_of(cfg.model_dump(mode="json"))  # a card reads the dumped config
    assert [lic.licence for lic in licences_of({"data": {"train": ["mitdb:DS1"]}})] == ["ODC-By 1.0"]
    # and its card says so, in the section every card has
    from heartzoo.site.card_sections import licence_text

    text = licence_text(cfg.model_dump(mode="json"))
    assert "CC BY-NC-SA 4.0" in text and "**Non-commercial use only**" in text and "Tan et al. 2022" in text
    assert "Non-commercial" not in licence_text({"data": {"train": ["mitdb:DS1", "svdb:all"]}})


# -- damaged files ----------------------------------------------------------------------------


def _damaged(tmp_path: Path, record: str = "p00005_s00", **kw) -> Path:
    root = tmp_path / "icentia11k"
    write_segment(root, record, **kw)
    return root


def test_a_truncated_segment_names_its_file(tmp_path):
    root = _damaged(tmp_path)
    dat = icentia11k.segment_dir(root, "p00005_s00") / "p00005_s00.dat"
    dat.write_bytes(dat.read_bytes()[:-1000])
    with pytest.raises(
        DataError, match=r"p00005_s00 \(.*p00/p00005/p00005_s00\.dat\): truncated signal file"
    ):
        DB.read_signal(root, "p00005_s00", "MLII")


def test_corrupt_bytes_fail_the_checksum_naming_the_file(tmp_path):
    root = _damaged(tmp_path)
    dat = icentia11k.segment_dir(root, "p00005_s00") / "p00005_s00.dat"
    raw = bytearray(dat.read_bytes())
    raw[2000:2010] = b"\x11" * 10
    dat.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"p00005_s00\.dat\): header checksum .* disagrees"):
        DB.read_signal(root, "p00005_s00", "MLII")


def test_a_damaged_annotation_file_names_it(tmp_path):
    root = _damaged(tmp_path)
    atr = icentia11k.segment_dir(root, "p00005_s00") / "p00005_s00.atr"
    atr.write_bytes(atr.read_bytes()[:7] + b"\xff" * 5)
    with pytest.raises(DataError, match=r"p00005_s00\.atr"):
        DB.read_beats(root, "p00005_s00")


@pytest.mark.parametrize(
    ("rhythms", "problem"),
    [
        (((300, ")"),), r"rhythm '\)' at sample 300 closes no episode"),
        (
            ((300, "(N"), (900, "(AFIB")),
            r"rhythm '\(AFIB' at sample 900 opens inside the episode \(N opened at sample 300",
        ),
        (((300, "AFIB"),), r"rhythm annotation at sample 300 has aux note 'AFIB', not \(NAME or \)"),
    ],
)
def test_malformed_rhythm_annotations_name_file_and_sample(tmp_path, rhythms, problem):
    root = _damaged(tmp_path, rhythms=rhythms)
    with pytest.raises(DataError, match=r"p00005_s00\.atr\): " + problem):
        DB.read_rhythms(root, "p00005_s00")


def test_a_segment_outside_its_patients_folder_is_refused(tmp_path):
    root = _damaged(tmp_path)
    wrong = root / "p01" / "p00005"
    (root / "p00").rename(root / "p01")
    assert wrong.is_dir()
    with pytest.raises(
        DataError,
        match=r"segment of patient p00005 found in p01/p00005/; the release keeps it in p00/p00005/",
    ):
        icentia11k.find_segments(root)


def test_rhythm_windows_from_the_release_layout(written):
    """rhythm-3 reads Icentia11k's opened and closed episodes through the same window path as mitdb's."""
    from heartzoo.config import InputSpec
    from heartzoo.data.prepare import window_arrays
    from heartzoo.tasks import RHYTHM_CLASSES

    spec = InputSpec(fs=50, frame_size=500)  # 10 s: 2,500 samples at 250 Hz
    root = written / "icentia11k"
    first = window_arrays(DB, "p00001_s00", spec, root)
    # 0-10 s starts before the (N at 100; 10-20 s crosses into AFIB at 4,000; 20-30 s is AFIB
    assert [RHYTHM_CLASSES[c] for c in first["aami"]] == ["AF"] and first["sample"].tolist() == [6250]
    assert first["x"].shape == (1, 500)
    assert (
        window_arrays(DB, "p00002_s00", spec, root)["aami"].tolist() == []
    )  # AFL 500-3,000: no whole window
    assert window_arrays(DB, "p01003_s00", spec, root)["aami"].tolist() == []  # unlabelled


def test_the_external_tests_patients_never_train(sample, monkeypatch):
    """The data folder's Icentia11k segments are the wearable path's external tests: a config that trains
    on them (a validation draw would select on them too) is refused, naming them; other patients of the
    release are not."""
    from heartzoo.config import parse_config
    from heartzoo.errors import ConfigError

    monkeypatch.setenv("HEARTZOO_DATA_DIR", str(sample.parent))
    base = {"name": "x", "task": "beat-3", "model": {"arch": "cnn2"}}
    for source in ("icentia11k:all", "icentia11k:p01001", "icentia11k:p00000_s00"):
        with pytest.raises(ConfigError, match=r"holds Icentia11k patient\(s\) p0.*the external tests"):
            parse_config({**base, "data": {"train": ["mitdb:DS1", source]}})
