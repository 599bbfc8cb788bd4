"""Choosing a lead when two share a name, as aftdb's two `ECG` leads do: a name that fits several is one
clear error that gives their numbers, and `--lead N` reads signal N (from 0) of a WFDB record or an EDF
file. The records are written here from two minutes of MIT-BIH record 100 (MLII and V5, both called ECG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import annotated_json, assert_refused
from test_edf import edf

MODEL = "beat-3-cnn3-student@v6"


@pytest.fixture(scope="module")
def leads(data_root: Path) -> np.ndarray:
    """(samples, 2): record 100's MLII and V5 in mV, two minutes."""
    import wfdb

    return wfdb.rdrecord(str(data_root / "mitdb" / "100"), sampto=120 * 360).p_signal


@pytest.fixture(scope="module")
def two_ecg(leads, tmp_path_factory) -> Path:
    """A WFDB record (format 16) whose two leads are both named ECG."""
    import wfdb

    folder = tmp_path_factory.mktemp("two_ecg")
    wfdb.wrsamp(
        "twin", fs=360, units=["mV", "mV"], sig_name=["ECGa", "ECGb"], p_signal=leads, fmt=["16", "16"],
        adc_gain=[200.0, 200.0], baseline=[0, 0], write_dir=str(folder),
    )  # fmt: skip
    hea = folder / "twin.hea"  # wfdb writes no two names alike; aftdb's headers have them
    hea.write_text(hea.read_text().replace(" ECGa\n", " ECG\n").replace(" ECGb\n", " ECG\n"))
    assert hea.read_text().count(" ECG\n") == 2
    return folder / "twin"


def _stored(base: Path, channel: int) -> np.ndarray:
    import wfdb

    return wfdb.rdrecord(str(base), channels=[channel]).p_signal[:, 0]


@pytest.mark.parametrize("number", [0, 1])
def test_a_lead_is_read_by_its_number_where_two_share_a_name(two_ecg, number):
    from heartzoo.recording.read import read_recording

    rec = read_recording(two_ecg, str(number), lead_given=True)
    assert rec.lead == "ECG"
    np.testing.assert_array_equal(rec.signal, _stored(two_ecg, number).astype(np.float32))
    assert any("chosen by its number" in n for n in rec.notes), rec.notes
    other = _stored(two_ecg, 1 - number).astype(np.float32)
    assert not np.array_equal(rec.signal, other)  # the two leads differ: the number chose


def test_a_name_two_leads_share_is_refused_with_their_numbers(two_ecg, tmp_path):
    from heartzoo.data.records import read_signal
    from heartzoo.errors import DataError

    assert_refused(
        two_ecg, MODEL, r"2 leads are named ECG \(numbers 0, 1.*--lead 0", "--lead", "ECG", out=tmp_path / "a"
    )
    # the model's lead (MLII) is not there: the leads are listed with the numbers that choose them
    assert_refused(
        two_ecg, MODEL, r"no lead MLII \(the model's lead\).*leads: 0 ECG, 1 ECG", out=tmp_path / "b"
    )
    assert_refused(two_ecg, MODEL, r"no lead 2; leads: 0 ECG, 1 ECG", "--lead", "2", out=tmp_path / "c")
    with pytest.raises(DataError, match="no lead number 2"):
        read_signal(two_ecg.parent, two_ecg.name, 2)


def test_annotate_reads_lead_1_as_the_same_samples_given_as_npy(two_ecg, tmp_path):
    npy = tmp_path / "v5.npy"
    np.save(npy, _stored(two_ecg, 1).astype(np.float32))
    by_number = annotated_json(two_ecg, tmp_path / "wfdb", MODEL, "--lead", "1")
    as_npy = annotated_json(npy, tmp_path / "npy", MODEL, "--fs", "360")
    assert by_number["beats"] and by_number["beats"] == as_npy["beats"]
    # the WFDB annotations sit on the lead they were made from, where wfdb.plot_wfdb draws them
    import wfdb

    assert set(wfdb.rdann(str(tmp_path / "wfdb" / "twin"), "heartzoo").chan.tolist()) == {1}
    assert set(wfdb.rdann(str(tmp_path / "npy" / "v5"), "heartzoo").chan.tolist()) == {0}


def test_an_edf_signal_is_read_by_its_number_where_two_share_a_name(leads, tmp_path):
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.read import read_recording

    path = edf(
        tmp_path / "twin.edf", [("ECG", "mV", 5.0, 360, leads[:, 0]), ("ECG", "mV", 5.0, 360, leads[:, 1])]
    )
    first, second = (read_recording(path, n, lead_given=True).signal for n in ("0", "1"))
    step = 5.0 / 32767  # the written digital step, mV
    np.testing.assert_allclose(first, leads[:, 0], atol=step)
    np.testing.assert_allclose(second, leads[:, 1], atol=step)
    with pytest.raises(HeartzooError, match=r"2 leads are named ECG \(numbers 0, 1"):
        read_recording(path, "ECG", lead_given=True)


def test_a_wfdb_lead_without_a_description_is_named_by_its_number(two_ecg, tmp_path):
    """A signal line may leave out its description (WFDB's optional last field): the lead is read, named
    by its number as an unnamed CSV column is, and a lead asked for by name is one clear error."""
    import shutil

    from heartzoo.errors import HeartzooError
    from heartzoo.recording.read import read_recording

    shutil.copy(f"{two_ecg}.dat", tmp_path / "twin.dat")
    (tmp_path / "twin.hea").write_text(Path(f"{two_ecg}.hea").read_text().replace(" ECG\n", "\n"))
    rec = read_recording(tmp_path / "twin", "1", lead_given=True)
    assert rec.lead == "1"
    np.testing.assert_array_equal(rec.signal, read_recording(two_ecg, "1", lead_given=True).signal)
    with pytest.raises(HeartzooError, match=r"twin.hea: no lead MLII; leads: 0, 1"):
        read_recording(tmp_path / "twin", "MLII", lead_given=True)


def test_python_takes_a_lead_by_its_number_as_the_cli_does(data_root):
    """`read_recording(path, 0)` ended in an AttributeError ('int' has no casefold)."""
    from heartzoo.errors import HeartzooError
    from heartzoo.recording.read import read_recording

    record = data_root / "mitdb" / "100"
    assert read_recording(record, 1).lead == read_recording(record, "1", lead_given=True).lead == "V5"
    with pytest.raises(HeartzooError, match=r"its name or its number from 0, got 1\.5"):
        read_recording(record, 1.5)
