"""EC57 beat-by-beat comparison (WFDB bxb's rules) on hand-built annotation pairs whose answers are
worked out here, on annotation files written by the test, and through `heartzoo ec57`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from heartzoo.errors import HeartzooError
from heartzoo.evaluation.ec57 import Annotations, Report, compare, read_annotations, score
from heartzoo.evaluation.ec57_pairs import read_pairs

FS = 360  # window: round(0.15 * 360) = 54 samples; start: 300 s = 108,000 samples
START = 300 * FS


def ann(samples, labels, **kw) -> Annotations:
    return Annotations.of(samples, list(labels), FS, **kw)


def beats(n: int, first: int = START + 100, rr: int = 300) -> np.ndarray:
    return first + rr * np.arange(n)


def test_identical_annotations_score_perfectly():
    s = beats(10)
    r = compare(ann(s, "NNVNNSNNFQ"), ann(s, "NNVNNSNNFQ"))
    t = r.counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (10, 0, 0)
    assert (t["veb_tp"], t["sveb_tp"]) == (1, 1)
    # VEB TN: rows N S F Q O x columns n s f q -> the 9 non-V beats
    assert t["veb_tn"] == 9
    assert r.counts.stats["veb_fpr"] == 0.0


def test_a_missed_beat_and_an_extra_beat():
    s = beats(10)
    test_s = np.sort(np.r_[np.delete(s, 4), s[7] + 150])  # beat 4 missed; an extra 150 samples after beat 7
    r = compare(ann(s, "N" * 10), ann(test_s, "N" * 10))
    t = r.counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (9, 1, 1)
    assert r.counts.stats["qrs_se"] == pytest.approx(0.9)
    assert r.counts.stats["qrs_pp"] == pytest.approx(0.9)
    assert (4, -1) in r.pairs  # the missed reference beat, paired with nothing


@pytest.mark.parametrize(("shift", "matched"), [(54, True), (-54, True), (55, False), (-55, False)])
def test_the_150_ms_window_edge(shift, matched):
    s = beats(5)
    test_s = s.copy()
    test_s[2] += shift  # 54 samples = 150 ms at 360 Hz: inside; 55: outside
    t = compare(ann(s, "NNNNN"), ann(test_s, "NNNNN")).counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == ((5, 0, 0) if matched else (4, 1, 1))


def test_the_closer_test_beat_wins():
    # two test beats within the window of one reference beat: the closer one is its match, the other extra
    s = beats(3)
    test_s = np.sort(np.r_[s, s[1] - 40])  # 40 samples early vs exactly on time
    r = compare(ann(s, "NNN"), ann(test_s, "NNNN"))
    assert (1, 2) in r.pairs and (-1, 1) in r.pairs
    assert r.counts.tallies["qrs_fp"] == 1


def test_veb_rules_for_f_and_q_beats():
    s = beats(8)
    ref = "NNFQVVSN"
    test = "VSVVNQVN"
    # pairs: Nv Ns Fv Qv Vn Vq Sv Nn
    t = compare(ann(s, ref), ann(s, test)).counts.tallies
    assert t["veb_tp"] == 0
    assert t["veb_fn"] == 2  # Vn, Vq
    # Nv and Sv are VEB false positives; Fv and Qv are not (EC57 / bxb)
    assert t["veb_fp"] == 2
    # TN: rows N S F Q x columns n s f q: Ns, Nn -> 2
    assert t["veb_tn"] == 2
    assert t["sveb_tp"] == 0
    assert t["sveb_fn"] == 1  # Sv
    assert t["sveb_fp"] == 1  # Ns


def test_sveb_rules_for_f_and_q_beats():
    s = beats(4)
    # Fs is an SVEB false positive; Qs is not; Ss a true positive; Vs a false positive
    t = compare(ann(s, "FQSV"), ann(s, "SSSS")).counts.tallies
    assert (t["sveb_tp"], t["sveb_fp"], t["sveb_fn"]) == (1, 2, 0)
    assert (t["veb_fn"], t["veb_tp"]) == (1, 0)


def test_scoring_starts_at_five_minutes():
    early = np.arange(10) * 3000 + 1000  # all before 300 s
    late = beats(5)
    ref = ann(np.r_[early, late], "N" * 15)
    # the test misses every early beat and adds extras there: none of it is scored
    test = ann(np.r_[early[:3] + 500, late], "N" * 8)
    t = compare(ref, test).counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (5, 0, 0)
    # from 0 s (nonstandard) the early misses count: 10 missed, 3 extra
    r = compare(ref, test, start_s=0.0)
    t0 = r.counts.tallies
    assert (t0["qrs_tp"], t0["qrs_fn"], t0["qrs_fp"]) == (5, 10, 3)
    assert Report([r], start_s=0.0).standard is False
    assert "NONSTANDARD" in Report([r], start_s=0.0).to_dict()["method"]


def test_a_test_beat_just_before_the_start_may_match_the_first_reference_beat():
    ref = ann([START + 10, START + 310], "NN")
    test = ann([START - 20, START + 310], "NN")  # 30 samples before the first scored reference beat
    t = compare(ref, test).counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (2, 0, 0)


def test_ventricular_flutter_episodes_are_not_scored():
    s = beats(6)
    end = int(s[5]) + 3000  # the record length: scoring runs to its end
    vf = ((int(s[5]) + 100, int(s[5]) + 2000),)
    # extra test beats inside the reference VF episode: neither matched nor false positives
    test = ann(np.r_[s, s[5] + 300, s[5] + 600], "N" * 8)
    t = compare(ann(s, "NNNNNN", vf=vf, length=end), test).counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (6, 0, 0)
    # the same extra beats outside VF are false positives
    t = compare(ann(s, "NNNNNN", length=end), test).counts.tallies
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (6, 0, 2)


def test_gross_sums_counts_and_average_means_records():
    s = beats(10)
    r1 = compare(ann(s, "N" * 10, record="a"), ann(s[:-2], "N" * 8))  # Se 8/10
    r2 = compare(ann(s[:4], "VVNN", record="b"), ann(s[:4], "VVNN"))  # Se 1, VEB Se 1
    rep = Report([r1, r2])
    assert rep.gross.stats["qrs_se"] == pytest.approx(12 / 14)
    assert rep.average["qrs_se"] == pytest.approx((0.8 + 1.0) / 2)
    assert rep.average["veb_se"] == pytest.approx(1.0)  # record a has no VEB: left out of the mean
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["standard"] is True and [r["record"] for r in d["records"]] == ["a", "b"]
    assert d["gross"]["matrix"]["N"]["O"] == 2


def test_bad_annotations_are_refused():
    with pytest.raises(HeartzooError, match="AAMI classes"):
        Annotations.of([1, 2], ["N", "X"], FS)
    with pytest.raises(HeartzooError, match="time order"):
        Annotations.of([5, 2], ["N", "N"], FS)
    with pytest.raises(HeartzooError, match="Hz"):
        compare(ann([1], "N"), Annotations.of([1], ["N"], 250))


def _write(folder, record, ext, samples, symbols, fs=FS):
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    wfdb.wrann(record, ext, np.asarray(samples), list(symbols), fs=fs, write_dir=str(folder))


def test_annotation_files_map_symbols_and_skip_non_beats(tmp_path):
    s = beats(8)
    syms = ["N", "L", "A", "j", "V", "F", "/", "+"]  # '+' is a rhythm change, not a beat
    _write(tmp_path, "r1", "atr", s, syms)
    a = read_annotations(tmp_path / "r1.atr")
    assert a.labels.tolist() == ["N", "N", "S", "N", "V", "F", "Q"]
    assert a.fs == FS and a.record == "r1"


def test_cli_compares_files_and_folders(tmp_path):
    s = beats(20)
    _write(tmp_path / "ref", "r1", "atr", s, "N" * 19 + "V")
    _write(tmp_path / "ref", "r2", "atr", s, "N" * 20)
    _write(tmp_path / "test", "r1", "hz", s, "N" * 19 + "V")
    _write(tmp_path / "test", "r2", "hz", s[:-1], "N" * 19)
    res = run_cli("ec57", str(tmp_path / "ref"), str(tmp_path / "test"), "--test-ext", "hz", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["gross"]["qrs_fn"] == 1 and d["gross"]["veb_tp"] == 1
    table = run_cli("ec57", str(tmp_path / "ref" / "r1.atr"), str(tmp_path / "test" / "r1.hz"))
    assert table.returncode == 0 and "gross" in table.stdout and "100.00" in table.stdout
    by_record = run_cli(
        "ec57", str(tmp_path / "ref" / "r2"), str(tmp_path / "test" / "r2"), "--test-ext", "hz", "--json"
    )
    assert json.loads(by_record.stdout)["gross"]["qrs_fn"] == 1  # RECORD and the extensions
    missing = run_cli("ec57", str(tmp_path / "ref"), str(tmp_path / "test"), "--test-ext", "qq")
    assert missing.returncode == 2 and "no .qq annotations for record(s) r1, r2" in missing.stderr
    bad = tmp_path / "test" / "r3.hz"
    bad.write_bytes(b"\x01\x02garbage")
    res = run_cli("ec57", str(tmp_path / "ref" / "r1.atr"), str(bad))
    assert res.returncode == 2 and "r3.hz" in res.stderr and "Traceback" not in res.stderr


def test_a_short_record_of_a_folder_is_left_out_and_named_not_the_folder_refused(tmp_path):
    """One record of a database too short to score (its beats all before the 5th minute) left the whole
    folder unscored; it is left out of the gross and the average and named, in the table and the JSON.
    Alone, or every one, it is still an error."""
    s, early = beats(20), np.arange(20) * 300 + 100
    for folder, ext in (("ref", "atr"), ("test", "hz")):
        _write(tmp_path / folder, "r1", ext, s, "N" * 19 + "V")
        _write(tmp_path / folder, "r2", ext, s, "N" * 20)
        _write(tmp_path / folder, "s4", ext, early, "N" * 20)
    res = run_cli("ec57", str(tmp_path / "ref"), str(tmp_path / "test"), "--test-ext", "hz", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert [r["record"] for r in d["records"]] == ["r1", "r2"] and d["gross"]["qrs_tp"] == 40
    assert [r["record"] for r in d["skipped"]] == ["s4"] and "scoring starts at 300 s" in d["skipped"][0][
        "why"
    ]
    assert "not scored: record s4" in res.stderr
    table = run_cli("ec57", str(tmp_path / "ref"), str(tmp_path / "test"), "--test-ext", "hz")
    assert table.returncode == 0 and "not scored: record s4" in table.stdout and "s4 " not in table.stdout
    lone = run_cli("ec57", str(tmp_path / "ref" / "s4.atr"), str(tmp_path / "test" / "s4.hz"))
    assert lone.returncode == 2 and "scoring starts at 300 s" in lone.stderr
    with pytest.raises(HeartzooError, match=r"record s4: .*; record s4"):
        score([read_pairs(tmp_path / "ref", tmp_path / "test", test_ext="hz")[2]] * 2)


def test_a_table_is_printed_whole_in_a_log(tmp_path):
    """Piped to a log, rich reads 80 columns and cut the table's numbers to "100.…" and "10,4…": a table
    is printed at its own width."""
    s = beats(20)
    for folder, ext in (("ref", "atr"), ("test", "hz")):
        _write(tmp_path / folder, "a_long_record_name", ext, s, "N" * 19 + "V")
    res = run_cli("ec57", str(tmp_path / "ref"), str(tmp_path / "test"), "--test-ext", "hz")
    assert res.returncode == 0 and "…" not in res.stdout and "a_long_record_name" in res.stdout
    assert "100.00" in res.stdout and "average" in res.stdout


def test_misses_in_the_test_s_shutdown_are_reported_apart_and_scored_alike(tmp_path):
    """bxb's shutdown: reference beats inside the test's `~` (subtype -1) ... `~` (0) stretch, as annotate
    writes its unreadable windows, are the same QRS, VEB and SVEB misses, counted in the X column; the
    report gives them and the stretch's seconds, and the CLI says so."""
    s = beats(12)
    labels = "NNNVNNSNNNNN"
    test = [k for k in range(12) if k not in (3, 4, 5, 6)]  # the V, N, N, S beats left out...
    on, off = int(s[3]) - 100, int(s[6]) + 100  # ...inside the test's shutdown
    samples = [*(int(s[k]) for k in test[:3]), on, off, *(int(s[k]) for k in test[3:])]
    symbols = ["N"] * 3 + ["~", "~"] + ["N"] * 5
    import wfdb

    wfdb.wrann("r1", "atr", s, list(labels), fs=FS, write_dir=str(tmp_path))
    subtype = np.array([0, 0, 0, -1, 0] + [0] * 5)
    wfdb.wrann("r1", "hz", np.array(samples), symbols, subtype=subtype, fs=FS, write_dir=str(tmp_path))
    t = read_annotations(tmp_path / "r1.hz", need_beats=False)
    assert t.shutdown == ((on, off),)
    r = compare(read_annotations(tmp_path / "r1.atr"), t)
    plain = compare(read_annotations(tmp_path / "r1.atr"), ann([int(s[k]) for k in test], "N" * 8))
    assert r.counts.stats == plain.counts.stats  # the statistics are bxb's: misses all the same
    c = r.counts.tallies
    assert (c["qrs_fn"], c["shutdown_fn"], c["veb_fn"], c["sveb_fn"]) == (4, 4, 1, 1)
    assert plain.counts.tallies["shutdown_fn"] == 0
    assert r.shutdown_s == pytest.approx((off - on) / FS, abs=1e-3)
    d = Report([r]).to_dict()
    assert d["records"][0]["matrix"]["V"]["X"] == 1 and d["gross"]["shutdown_s"] == r.shutdown_s
    res = run_cli("ec57", str(tmp_path / "r1.atr"), str(tmp_path / "r1.hz"))
    assert res.returncode == 0 and "4 of the 4 missed beats (FN) lie where the test" in " ".join(
        res.stdout.split()
    )


def test_a_lone_shutdown_annotation_spans_its_neighbours():
    """The AHA database's style: one `~` with both unreadable bits between two beats stands for the
    stretch from a window after the beat before it to a window before the annotation after it."""
    from heartzoo.evaluation.ec57 import _shutdown

    w = 54
    assert _shutdown([1000, 1500, 2000], ["N", "~", "N"], [0, -1, 0], w) == ((1000 + w, 2000 - w),)
    assert _shutdown([1000, 1500], ["N", "~"], [0, 0x30], w)[0][0] == 1500  # to the file's end
    assert _shutdown([1000, 1500, 1600], ["N", "~", "~"], [0, 1, 2], w) == ()  # noisy, not unreadable


def test_read_pairs_needs_matching_kinds(tmp_path):
    _write(tmp_path / "ref", "r1", "atr", beats(3), "NNN")
    with pytest.raises(HeartzooError, match="two annotation files, or two folders"):
        read_pairs(tmp_path / "ref", tmp_path / "ref" / "r1.atr")
    with pytest.raises(HeartzooError, match=r"nope.atr: no such annotation file or folder$"):
        read_pairs(tmp_path / "nope.atr", tmp_path / "ref" / "r1.atr")
    with pytest.raises(HeartzooError, match=r"nope: no such annotation file or folder \(nor nope.atr\)"):
        read_pairs(tmp_path / "nope", tmp_path / "ref" / "r1.atr")
    assert len(score(read_pairs(tmp_path / "ref", tmp_path / "ref", test_ext="atr")).records) == 1


def test_the_window_rounds_half_up_as_bxb_does():
    # 0.15 s at 150 Hz is 22.5 samples: bxb's strtim makes it 23 (round() would give 22, half to even)
    fs, start = 150, 300 * 150
    s = start + 100 + 300 * np.arange(5)
    moved = s.copy()
    moved[2] += 23
    r = compare(Annotations.of(s, list("NNNNN"), fs), Annotations.of(moved, list("NNNNN"), fs))
    assert r.counts.tallies["qrs_tp"] == 5
    moved[2] += 1
    r = compare(Annotations.of(s, list("NNNNN"), fs), Annotations.of(moved, list("NNNNN"), fs))
    assert r.counts.tallies["qrs_fn"] == 1


def test_a_record_shorter_than_the_start_is_an_error_not_an_empty_score():
    s = np.arange(10) * 300 + 100
    short = Annotations.of(s, list("N" * 10), FS, record="short", length=4 * 60 * FS)
    with pytest.raises(HeartzooError, match=r"record short: 240\.0 s long, but scoring starts at 300 s"):
        compare(short, short)
    # a header without a length scores to the last reference beat, as bxb does
    far = Annotations.of(beats(5), list("NNNNN"), FS, length=0)
    assert compare(far, far).counts.tallies["qrs_tp"] == 5


@pytest.mark.slow
def test_annotate_s_unreadable_stretches_are_its_shutdown_with_or_without_the_rhythm(mitdb, tmp_path):
    """`annotate --rhythm` writes a `+` (NOISE) at an unreadable stretch's start and where the rhythm
    changes inside it, between its two `~`: the stretch was read as a lone `~` before it, and 232's 253
    misses in the gate's 310 s were counted as plain misses. With the rhythm or without, the same stretch."""
    got = {}
    for name, extra in (("beats", ()), ("rhythm", ("--rhythm", "af-4-cnn4-student@v1"))):
        out = tmp_path / name
        done = run_cli(
            "annotate",
            str(mitdb / "232"),
            "--model",
            "beat-3-cnn3-student@v6",
            "--output-dir",
            str(out),
            *extra,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        res = run_cli("ec57", str(mitdb / "232.atr"), str(out / "232.heartzoo"), "--json")
        got[name] = json.loads(res.stdout)["gross"]
    assert got["beats"]["shutdown_fn"] > 200 and got["beats"]["shutdown_s"] > 300
    assert [got["rhythm"][k] for k in ("qrs_fn", "shutdown_fn", "shutdown_s")] == [
        got["beats"][k] for k in ("qrs_fn", "shutdown_fn", "shutdown_s")
    ]


def test_test_annotations_without_a_rate_are_read_at_their_reference_s(data_root, tmp_path):
    """Test annotations written without a rate (wfdb.wrann's default) and no header beside them were
    refused, where bxb reads both files at the record's rate: they are read at the reference's, said."""
    import wfdb

    from heartzoo.evaluation.ec57_pairs import notes

    ref = wfdb.rdann(str(data_root / "mitdb" / "100"), "atr")
    wfdb.wrann("100", "tst", ref.sample, ref.symbol, write_dir=str(tmp_path))  # no fs written
    with pytest.raises(HeartzooError, match=r"no sampling rate in the file and no 100\.hea beside it"):
        read_annotations(tmp_path / "100.tst")
    for pairs in (
        read_pairs(data_root / "mitdb" / "100.atr", tmp_path / "100.tst"),
        read_pairs(data_root / "mitdb", tmp_path, test_ext="tst", records=["100"]),
    ):
        ((a, b),) = pairs
        assert b.fs == a.fs == 360.0 and b.rate_given and not a.rate_given
        assert score(pairs).gross.stats["qrs_se"] == 1.0
        assert any(
            "gives no sampling rate, nor has a header beside it: read at its reference's 360 Hz" in n
            for n in notes(pairs)
        )
