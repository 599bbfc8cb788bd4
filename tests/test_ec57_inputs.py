"""`heartzoo ec57` and `evaluation.ec57` given what is not a pair of one record's annotation files:
another kind of file, a file cut short, annotations at another rate than the header's, two records, no
beats, a short recording, a start past the end. Each is one clear error naming the file, never a score.
The files are real MIT-BIH records (and `heartzoo annotate`'s output) copied or cut into tmp_path."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from conftest import REPO, run_cli

from heartzoo.data.records import SYMBOL_TO_AAMI
from heartzoo.errors import HeartzooError
from heartzoo.evaluation.ec57 import Annotations, compare, read_annotations
from heartzoo.evaluation.ec57_pairs import read_pairs

RECORD = "100"  # 30 min at 360 Hz, 2,273 beats


@pytest.fixture
def rec(mitdb, tmp_path):
    """Record 100's header, signal and reference annotations, copied into tmp_path."""
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb / f"{RECORD}.{ext}", tmp_path)
    return tmp_path


def _refused(*args: str) -> str:
    res = run_cli("ec57", *args)
    assert res.returncode == 2, res.stdout
    assert "Traceback" not in res.stderr
    return res.stderr


def _not_annotations(folder) -> None:
    """Files named 100.EXT, beside 100.hea, that are not whole annotation files."""
    import wfdb

    atr = (folder / f"{RECORD}.atr").read_bytes()
    samples = wfdb.rdann(str(folder / RECORD), "atr").sample
    (folder / f"{RECORD}.txt").write_text("\n".join(map(str, samples)) + "\n")
    (folder / f"{RECORD}.empty").write_bytes(b"")
    half = len(atr) // 4 * 2  # an even byte count: wfdb reads the half it is given without a word
    (folder / f"{RECORD}.half").write_bytes(atr[:half])
    (folder / f"{RECORD}.odd").write_bytes(atr[: half + 1])  # was numpy's "cannot reshape array"


@pytest.mark.parametrize("ext", ["hea", "dat", "txt", "empty", "half", "odd"])
def test_files_that_are_not_whole_annotation_files_are_refused(rec, ext):
    _not_annotations(rec)
    err = _refused(str(rec / f"{RECORD}.atr"), str(rec / f"{RECORD}.{ext}"), "--start", "0")
    assert f"{RECORD}.{ext}: truncated or not a WFDB annotation file" in err, err
    # every real annotation file is whole
    assert read_annotations(rec / f"{RECORD}.atr").samples.size == 2273


def test_an_annotation_error_names_the_file(rec):
    # whole, but its second beat comes before its first (SKIP back 100 samples): N at 500, N at 400
    word = lambda code, arg: ((code << 10) | arg).to_bytes(2, "little")  # noqa: E731
    back = (-100) & 0xFFFFFFFF
    skip = word(59, 0) + (back >> 16).to_bytes(2, "little") + (back & 0xFFFF).to_bytes(2, "little")
    (rec / f"{RECORD}.back").write_bytes(word(1, 500) + skip + word(1, 0) + word(0, 0))
    with pytest.raises(HeartzooError, match=rf"{RECORD}\.back: beat samples must be in time order"):
        read_annotations(rec / f"{RECORD}.back")


def test_annotations_at_another_rate_than_the_header_are_refused(rec):
    import wfdb

    ref = wfdb.rdann(str(rec / RECORD), "atr")
    at250 = (ref.sample * 250 // 360).astype(np.int64)
    wfdb.wrann(RECORD, "hz", at250, list(ref.symbol), fs=250, write_dir=str(rec))
    with pytest.raises(HeartzooError, match=rf"{RECORD}\.hz: annotations written at 250 Hz, but 100\.hea"):
        read_annotations(rec / f"{RECORD}.hz")
    # a file that stores no rate takes the header's
    wfdb.wrann(RECORD, "norate", ref.sample, list(ref.symbol), write_dir=str(rec))
    assert read_annotations(rec / f"{RECORD}.norate").fs == 360
    # compare's own check names both sides
    a = Annotations.of([1], ["N"], 360, record="a")
    b = Annotations.of([1], ["N"], 250, record="b")
    with pytest.raises(HeartzooError, match="reference a at 360 Hz but test annotations b at 250 Hz"):
        compare(a, b)


def test_a_short_recording_without_a_header_is_an_error_not_dashes(mitdb, tmp_path):
    """The reviewer's case: `annotate` on 2 minutes of record 100 as a .npy (no header, so no length),
    then `ec57` on its output; its CSV's `# warning:` lines are comments to pandas."""
    import pandas as pd
    import wfdb

    x = wfdb.rdrecord(str(mitdb / RECORD), sampto=120 * 360, channels=[0]).p_signal[:, 0]
    x[50 * 360 : 56 * 360] = 0.0  # a flat 6 s: a warning in the CSV
    np.save(tmp_path / "rec100.npy", x)
    out = tmp_path / "out"
    res = run_cli(
        "annotate", str(tmp_path / "rec100.npy"), "--fs", "360", "--model", "beat-3-cnn3-student",
        "--zoo", str(REPO / "zoo"), "--output-dir", str(out), "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    csv = out / "rec100.heartzoo.csv"
    assert csv.read_text().startswith("# warning:")
    table = pd.read_csv(csv, comment="#")
    assert list(table.columns[:4]) == ["sample", "time_s", "class", "symbol"]
    assert len(table) == json.loads(res.stdout)["beats"]

    ann = str(out / "rec100.heartzoo")
    err = _refused(ann, ann)
    assert "record rec100: its last reference beat is at 119" in err and "needs --start" in err
    res = run_cli("ec57", ann, ann, "--start", "0", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["gross"]["qrs_se"] == 1.0


def test_annotations_of_two_records_are_refused(mitdb, tmp_path):
    for r in ("100", "203"):
        for ext in ("atr", "hea"):
            shutil.copy(mitdb / f"{r}.{ext}", tmp_path)
    err = _refused(str(tmp_path / "100.atr"), str(tmp_path / "203.atr"))
    assert "annotations of two different records (100 and 203)" in err
    assert len(read_pairs(tmp_path / "100.atr", tmp_path / "100", test_ext="atr")) == 1  # one record


def test_a_file_without_beats_is_refused_as_reference_and_noted_as_test(rec):
    """No beats in the reference: nothing to score. No beats in the test annotations is an honest result
    (nothing detected, or a recording unreadable throughout, whose windows annotate marks `~`): Se 0, with
    a note saying why."""
    import wfdb

    # rhythm and noise annotations only; and a file of no annotations at all (its end-of-file word)
    wfdb.wrann(RECORD, "nobeat", np.array([10, 500, 900]), ["+", "~", "+"], fs=360, write_dir=str(rec))
    (rec / f"{RECORD}.none").write_bytes(b"\x00\x00")
    for ext in ("nobeat", "none"):
        err = _refused(str(rec / f"{RECORD}.{ext}"), str(rec / f"{RECORD}.atr"))
        assert f"{RECORD}.{ext}: holds no beat annotations" in err, err
        res = run_cli("ec57", str(rec / f"{RECORD}.atr"), str(rec / f"{RECORD}.{ext}"), "--json")
        assert res.returncode == 0 and json.loads(res.stdout)["gross"]["qrs_se"] == 0.0, res.stderr
        assert f"{RECORD}.{ext} holds no beat annotations: each of its record's beats counts as missed" in (
            " ".join(res.stderr.split())
        )


def test_beat2_ectopic_written_as_q_gets_a_note(rec):
    import wfdb

    ref = wfdb.rdann(str(rec / RECORD), "atr")
    beat = np.isin(ref.symbol, list(SYMBOL_TO_AAMI))
    symbols = np.asarray(ref.symbol)[beat]
    ectopic = np.isin(symbols, ["A", "V"])  # 33 APCs and 1 PVC: what beat-2 calls ectopic
    wfdb.wrann(
        RECORD, "heartzoo", ref.sample[beat], ["Q" if e else "N" for e in ectopic], fs=360,
        aux_note=["ectopic" if e else "" for e in ectopic], write_dir=str(rec),
    )  # fmt: skip
    args = (str(rec / f"{RECORD}.atr"), str(rec / f"{RECORD}.heartzoo"), "--start", "0")
    res = run_cli("ec57", *args)
    assert res.returncode == 0, res.stderr
    assert "34 test beats are a beat-2 model's 'ectopic' class, written as Q" in " ".join(res.stdout.split())
    res = run_cli("ec57", *args, "--json")
    assert json.loads(res.stdout)["gross"]["veb_se"] == 0.0 and "'ectopic' class" in res.stderr
    # a Q without the note is an unclassifiable beat, not beat-2's class: no note
    wfdb.wrann(
        RECORD, "q", ref.sample[beat], ["Q" if e else "N" for e in ectopic], fs=360, write_dir=str(rec)
    )
    res = run_cli("ec57", str(rec / f"{RECORD}.atr"), str(rec / f"{RECORD}.q"), "--start", "0")
    assert res.returncode == 0 and "written as Q" not in res.stdout


def test_a_header_without_a_sample_count_scores_to_the_last_reference_beat(rec):
    import wfdb

    hea = rec / f"{RECORD}.hea"
    lines = hea.read_text().splitlines()
    assert lines[0] == "100 2 360 650000"
    hea.write_text("\n".join(["100 2 360", *lines[1:]]) + "\n")
    a = read_annotations(rec / f"{RECORD}.atr")
    assert a.length is None
    ref = wfdb.rdann(str(rec / RECORD), "atr")
    scored = sum(
        s >= 300 * 360 and sym in SYMBOL_TO_AAMI for s, sym in zip(ref.sample, ref.symbol, strict=True)
    )
    assert compare(a, a).counts.tallies["qrs_tp"] == scored > 1000


def test_non_finite_start_or_window_is_refused(rec):
    a = read_annotations(rec / f"{RECORD}.atr")
    for kw in ({"start_s": math.inf}, {"window_s": math.inf}, {"start_s": math.nan}):
        with pytest.raises(HeartzooError, match="finite"):
            compare(a, a, **kw)
    atr = str(rec / f"{RECORD}.atr")
    assert "finite" in _refused(atr, atr, "--start", "inf")
    assert "finite" in _refused(atr, atr, "--window", "inf")


def test_a_start_past_the_end_hints_at_start_only_when_it_was_not_given(rec):
    atr = str(rec / f"{RECORD}.atr")
    err = _refused(atr, atr, "--start", "40")
    assert "record 100: 1805.6 s long, but scoring starts at 2400 s" in err and "--start" not in err
    short = Annotations.of([100], ["N"], 360, record="short", length=60 * 360)
    with pytest.raises(HeartzooError, match="a shorter recording needs --start"):
        compare(short, short)


def test_a_dotted_record_pairs_with_the_name_annotate_gives_it(mitdb, tmp_path):
    """annotate writes WFDB record `rec.1`'s annotations as `rec_1.heartzoo` (WFDB's letters): the two
    files are one record's, not two."""
    for ext in ("atr", "hea"):
        shutil.copy(mitdb / f"100.{ext}", tmp_path / f"rec.1.{ext}")
    for name in ("rec_1", "rec_2"):
        shutil.copy(mitdb / "100.atr", tmp_path / f"{name}.heartzoo")
        shutil.copy(mitdb / "100.hea", tmp_path / f"{name}.hea")
    err = _refused(str(tmp_path / "rec.1.atr"), str(tmp_path / "rec_2.heartzoo"))
    assert "two different records (rec.1 and rec_2)" in err, err
    res = run_cli("ec57", str(tmp_path / "rec.1.atr"), str(tmp_path / "rec_1.heartzoo"), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["gross"]["qrs_se"] == 1.0, res.stderr
