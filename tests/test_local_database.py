"""A database of your own: a folder of WFDB records in the data folder with a `heartzoo-database.yaml`
is named by every command and config as the shipped ones are. The records are written here from real
MIT-BIH records (resampled to 250 Hz, leads renamed as another recorder names them), never committed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli

from heartzoo.data import databases
from heartzoo.errors import ConfigError

DESCRIPTION = """title: A hospital's Holter beats (written by the test)
fs: 250
leads: {MLII: II}
licence: CC BY 4.0
commercial_use: false
citation: The test, 2026
splits: {first: [h01]}
"""


def write_database(
    root: Path, mitdb: Path, name: str = "ownholter", records=("100", "208"), seconds: float = 360
) -> Path:
    """`root/name/`: `seconds` of each MIT-BIH record at 250 Hz, its leads named II and V1, its beats
    moved to the new rate, and the description."""
    import wfdb
    from scipy.signal import resample_poly

    folder = root / name
    folder.mkdir(parents=True)
    for i, rec in enumerate(records, 1):
        r = wfdb.rdrecord(str(mitdb / rec), sampto=round(360 * seconds))
        a = wfdb.rdann(str(mitdb / rec), "atr", sampto=round(360 * seconds))
        x = resample_poly(r.p_signal, 25, 36, axis=0)
        at = np.round(a.sample * 250 / 360).astype(int)
        keep = at < len(x)
        wfdb.wrsamp(
            f"h{i:02d}", 250, ["mV"] * 2, ["II", "V1"], p_signal=x, fmt=["16"] * 2, write_dir=str(folder)
        )
        wfdb.wrann(
            f"h{i:02d}", "atr", at[keep], list(np.asarray(a.symbol)[keep]),
            aux_note=list(np.asarray(a.aux_note)[keep]), fs=250, write_dir=str(folder),
        )  # fmt: skip
    (folder / "heartzoo-database.yaml").write_text(DESCRIPTION)
    return folder


@pytest.fixture
def own(tmp_path, mitdb):
    return write_database(tmp_path / "data", mitdb)


def test_a_described_folder_is_counted_tested_and_trained_on_like_the_shipped_databases(own, monkeypatch):
    """`data stats --dataset` counts it, `evaluate --dataset` tests a published model on it, and a config
    trains on it, carrying its licence; `--data-dir` names the data folder for all of it."""
    import wfdb

    from heartzoo.config import parse_config
    from heartzoo.data.records import SYMBOL_TO_AAMI

    data = str(own.parent)
    stats = run_cli("data", "stats", "--dataset", own.name, "--data-dir", data, "--json")
    assert stats.returncode == 0, stats.stderr
    got = json.loads(stats.stdout)
    symbols = [s for r in ("h01", "h02") for s in wfdb.rdann(str(own / r), "atr").symbol]
    want = {c: sum(SYMBOL_TO_AAMI.get(s) == c for s in symbols) for c in ("N", "S", "V", "F", "Q")}
    assert {c: n for c, n in got["beats"].items() if n} == {c: n for c, n in want.items() if n}
    assert got["licence"] == "CC BY 4.0" and not got["commercial_use"]
    assert "one label" not in run_cli("data", "stats", "--dataset", own.name, "--data-dir", data).stdout

    res = run_cli(
        "evaluate", "beat-3-cnn3-student@v6", "--dataset", own.name, "--data-dir", data,
        "--zoo", str(REPO / "zoo"), "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)["float"]
    scored = sum(report["per_class"][c]["support"] for c in ("N", "S", "V"))
    assert 0.98 * (want["N"] + want["S"] + want["V"]) <= scored <= want["N"] + want["S"] + want["V"]

    monkeypatch.setenv("HEARTZOO_DATA_DIR", data)
    cfg = parse_config(
        {
            "name": "x",
            "task": "beat-3",
            "model": {"arch": "cnn2"},
            "data": {"train": ["mitdb:DS1", f"{own.name}:first"]},
        }
    )
    assert databases.resolve(f"{own.name}:first")[1] == ("h01",)
    licences = databases.licences_of(cfg)
    assert [(lic.database, lic.commercial_use) for lic in licences] == [("mitdb", True), (own.name, False)]
    # end to end (detector, then model), scored as EC57 scores it, from the first minute
    from heartzoo.recording.end_to_end import end_to_end

    e2e = end_to_end("beat-3-cnn3-student@v6", zoo=REPO / "zoo", database=own.name, start_s=60)
    assert e2e["reference"]["ec57"]["qrs_se"] == 1.0 and e2e["detected"]["ec57"]["qrs_se"] >= 0.99
    # a record's database is found in the data folder (a worker process reads $HEARTZOO_DATA_DIR)
    assert databases.database_of("h02").name == databases.database_of("h02", data).name == own.name


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (
            lambda t: t.replace("licence:", "licnce:"),
            r"(?s)heartzoo-database.yaml.*unknown field .licnce. \(did you mean .licence.\?\)",
        ),
        (
            lambda t: t.replace("commercial_use: false\n", ""),
            r"(?s)heartzoo-database.yaml.*field .commercial_use.: Field required",
        ),
        (lambda t: t.replace("[h01]", "[h09]"), r"field 'splits.first': no record 'h09'"),
        (lambda t: t.replace("first:", "all:"), r"field 'splits.all': `all` is every record"),
        (lambda t: t.replace("fs: 250", "fs: -1"), r"(?s)heartzoo-database.yaml.*field .fs."),
    ],
)
def test_a_wrong_description_is_an_error_naming_its_file_and_field(own, edit, said):
    path = own / "heartzoo-database.yaml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(ConfigError, match=said):
        databases.get_database(own.name, own.parent)


def test_records_are_the_folders_headers_and_never_another_databases(own):
    """A record named as MIT-BIH's would make `100` mean two records: refused. A name is a folder's,
    never a path, and a folder without a description is no database."""
    (own / "h02.hea").rename(own / "100.hea")
    with pytest.raises(ConfigError, match=r"record '100' is a record of mitdb"):
        databases.get_database(own.name, own.parent)
    for name in ("../ownholter", "ownholter/..", "nothere", "Own"):
        with pytest.raises(ValueError, match="unknown database"):
            databases.get_database(name, own.parent)
    with pytest.raises(ValueError, match="unknown database 'mitdb2'"):
        (own.parent / "mitdb2").mkdir()
        databases.get_database("mitdb2", own.parent)


def test_databases_of_your_own_belong_to_their_data_folder(tmp_path, mitdb):
    """Two data folders may each hold a database of one name: each is its folder's, read again when its
    description changes; a broken description beside them does not hide their records, but is said
    when nothing else owns a record."""
    a = write_database(tmp_path / "a", mitdb, records=("100",))
    b = write_database(tmp_path / "b", mitdb, records=("100", "208"))
    assert databases.get_database(a.name, a.parent).records == ("h01",)
    assert databases.get_database(b.name, b.parent).records == ("h01", "h02")
    with pytest.raises(ValueError, match="record 'h02' is in none of the databases"):
        databases.database_of("h02", a.parent)
    assert databases.database_of("h02", b.parent).described_in == b / "heartzoo-database.yaml"
    (b / "heartzoo-database.yaml").write_text(DESCRIPTION.replace("[h01]", "[h02]"))
    assert databases.get_database(b.name, b.parent).splits["first"] == ("h02",)
    broken = b.parent / "broken"
    broken.mkdir()
    (broken / "heartzoo-database.yaml").write_text("title: x\n")
    assert databases.database_of("h01", b.parent).name == b.name
    with pytest.raises(ConfigError, match=r"broken/heartzoo-database.yaml"):
        databases.database_of("h09", b.parent)


def test_a_patient_of_several_records_is_named_by_its_first(own):
    """`same_patient` maps a record to its patient's first record: a chain (h03 -> h02 -> h01) would make
    two patients of one, and split it between training and validation."""
    path = own / "heartzoo-database.yaml"
    path.write_text(DESCRIPTION + "same_patient: {h02: h01}\n")
    assert databases.get_database(own.name, own.parent).patient_of("h02") == f"{own.name}:h01"
    (own / "h03.hea").write_text((own / "h02.hea").read_text().replace("h02", "h03"))
    path.write_text(DESCRIPTION + "same_patient: {h03: h02, h02: h01}\n")
    with pytest.raises(ConfigError, match=r"field 'same_patient.h03': h02 is itself mapped to h01"):
        databases.get_database(own.name, own.parent)


def test_end_to_end_names_a_record_too_short_to_score(tmp_path, mitdb):
    """A record whose beats all lie before the scoring start stopped the whole run: it is named, and the
    others are scored; a database of such records alone is an error."""
    from heartzoo.recording.end_to_end import end_to_end

    own = write_database(tmp_path / "data", mitdb, records=("100",), seconds=360)
    short = write_database(tmp_path / "short", mitdb, records=("208",), seconds=240)
    for ext in ("dat", "atr"):
        (own / f"h03.{ext}").write_bytes((short / f"h01.{ext}").read_bytes())
    (own / "h03.hea").write_text((short / "h01.hea").read_text().replace("h01", "h03"))
    e2e = end_to_end("beat-3-cnn3-student@v6", zoo=REPO / "zoo", database=own.name, data_dir=own.parent)
    assert e2e["skipped"] == ["h03"] and [r["record"] for r in e2e["per_record"]] == ["h01"]
    with pytest.raises(ValueError, match=r"records h01: no reference beat from 300 s"):
        end_to_end("beat-3-cnn3-student@v6", zoo=REPO / "zoo", database=short.name, data_dir=short.parent)
