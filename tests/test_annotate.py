"""`heartzoo annotate` and `heartzoo.recording.annotation`: a recording in, labelled beats out. With the reference
R peaks of a DS2 record the int8 probabilities are exactly evaluation's; the WFDB file reads back with
wfdb.rdann; every kind of bad input is one clear error and leaves nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, annotated_json, run_annotate, run_cli, write_record

from heartzoo.errors import HeartzooError
from heartzoo.synthetic import synthetic_ecg

ZOO = REPO / "zoo"
MODEL = "beat-3-cnn3-student"
RECORD = "117"  # a DS2 record (1,535 beats, all N, S or V)


@pytest.fixture(scope="module")
def student():
    from heartzoo.zoo.hub import load_model

    return load_model(MODEL, format="tflite", zoo=ZOO)


def _evaluation_probabilities(loaded, record: str, cache: Path):
    """The int8 probabilities evaluation gives the record's beats: the frames and RR features of
    `data.prepare.load_windows` (as `evaluate` and export build them), in LiteRT's reference kernels
    (bit-exact with the TFLM run export scores)."""
    from heartzoo.data.prepare import load_windows
    from heartzoo.export import (
        dequantize_probs,
        io_specs,
        litert_interpreter,
        quantize_inputs,
        run_interpreter,
    )
    from heartzoo.preprocess import Preprocessor
    from heartzoo.tasks import get_task

    spec = loaded.config.input
    ws = load_windows([record], spec, cache_dir=cache, workers=1).with_context(spec)
    kept, _ = ws.for_task(get_task(loaded.config.task))
    it = litert_interpreter((loaded.folder / "model.tflite").read_bytes())
    ins, outs = io_specs(it)
    q = quantize_inputs(ins, kept.model_inputs(Preprocessor.of(loaded.config)))
    return kept.sample, dequantize_probs(run_interpreter(it, q), outs[0]), len(ws)


def test_reference_peaks_reproduce_evaluation_exactly(mitdb, student, tmp_path):
    from heartzoo.recording.annotation import annotate_file

    got = annotate_file(mitdb / RECORD, student, reference="atr")
    samples, expected, all_beats = _evaluation_probabilities(student, RECORD, tmp_path / "cache")
    # evaluation frames every annotated beat (edge-padded at the record's ends) and keeps those of the
    # task's classes; annotate classifies every beat it is given, so the shared beats are all of them
    assert len(got.samples) == all_beats
    rows = np.searchsorted(got.samples, samples)
    assert np.array_equal(got.samples[rows], samples)
    assert np.array_equal(got.probabilities[rows], expected)  # bit for bit
    assert got.runtime.startswith("int8") and got.peaks == "reference annotations (atr)"


def test_cli_writes_annotations_that_wfdb_reads_back(mitdb, tmp_path):
    import wfdb

    out = tmp_path / "out"
    res = run_annotate(mitdb / f"{RECORD}.hea", f"{MODEL}@v1", out, "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["model"] == f"{MODEL}@v1" and summary["lead"] == "MLII" and summary["fs"] == 360
    ann = wfdb.rdann(str(out / RECORD), "heartzoo")
    beats = json.loads((out / f"{RECORD}.heartzoo.json").read_text())["beat_list"]
    csv_rows = (out / f"{RECORD}.heartzoo.csv").read_text().splitlines()
    assert summary["warnings"] == [] and summary["quality"]["unreadable_windows"] == 0  # a clean record
    assert len(ann.sample) == len(beats) == len(csv_rows) - 1 == summary["beats"]
    assert csv_rows[0] == "sample,time_s,class,symbol,p_N,p_S,p_V"
    assert ann.fs == 360
    assert ann.sample.tolist() == [b["sample"] for b in beats]
    assert ann.symbol == [{"N": "N", "S": "A", "V": "V"}[b["class"]] for b in beats]
    # detected beats scored against the cardiologists' annotations
    res = run_cli("ec57", str(mitdb / f"{RECORD}.atr"), str(out / f"{RECORD}.heartzoo"), "--json")
    assert res.returncode == 0, res.stderr
    gross = json.loads(res.stdout)["gross"]
    assert gross["qrs_se"] >= 0.995 and gross["qrs_pp"] >= 0.995


@pytest.mark.parametrize("classes", [("normal", "ectopic"), ("non-V", "V")])
def test_a_class_wfdb_has_no_code_for_is_written_as_q_with_a_note(tmp_path, classes):
    """beat-2's "ectopic", and a new task's class (a contributor's "non-V" ended annotate in a KeyError)."""
    import wfdb

    from heartzoo.evaluation.ec57 import read_annotations
    from heartzoo.recording.annotation import Annotated
    from heartzoo.recording.annotation_files import write_annotations

    a = Annotated(
        "rec",
        250.0,
        np.array([100, 300, 500]),
        np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]),
        classes,
        "beat-2-x@v1",
        "int8",
        "given",
    )
    paths = write_annotations(a, tmp_path)
    ann = wfdb.rdann(str(tmp_path / "rec"), "heartzoo")
    first = "N" if classes[0] == "normal" else "Q"
    second, note = ("Q", "ectopic") if classes[1] == "ectopic" else ("V", "")
    assert ann.symbol == [first, second, first] and ann.fs == 250
    assert ann.aux_note == ["" if first == "N" else classes[0], note, "" if first == "N" else classes[0]]
    assert read_annotations(paths["wfdb"]).labels.tolist() == [first, second, first]
    assert a.ec57().labels.tolist() == [first, second, first]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_other_formats_and_the_python_api(student, tmp_path):
    from wfdb.io.convert.edf import wfdb_to_edf

    from heartzoo.recording.annotation import annotate

    x, truth = synthetic_ecg(250, 30)
    np.save(tmp_path / "one.npy", x)
    np.savetxt(
        tmp_path / "two.csv", np.stack([x * 0.5, x], axis=1), delimiter=",", header="V1,MLII", comments=""
    )
    np.save(tmp_path / "two.npy", np.stack([x * 0.5, x], axis=1))
    # a spreadsheet where the comma is the decimal mark separates with semicolons; a .tsv or .txt with tabs
    rows = "".join(f"{a:.4f};{b:.4f}\n".replace(".", ",") for a, b in zip(x * 0.5, x, strict=True))
    (tmp_path / "semi.csv").write_text("V1;MLII\n" + rows)
    (tmp_path / "tabs.tsv").write_text(
        "".join(f"{a:.4f}\t{b:.4f}\n" for a, b in zip(x * 0.5, x, strict=True))
    )
    (tmp_path / "one.txt").write_text("".join(f"{v:.4f}\n" for v in x))
    quoted = "".join(f'"{a:.4f}";"{b:.4f}"\n'.replace(".", ",") for a, b in zip(x * 0.5, x, strict=True))
    (tmp_path / "quoted.csv").write_text('"V1";"MLII"\n' + quoted)  # every cell quoted
    write_record(tmp_path / "wfdb", "syn", fs=250, seconds=30)
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path / "wfdb")  # wfdb_to_edf writes beside the record
    try:
        wfdb_to_edf("syn", output_filename=str(tmp_path / "syn.edf"))
    finally:
        os.chdir(cwd)
    cases = {
        "one.npy": ["--fs", "250"],
        "two.csv": ["--fs", "250"],  # the MLII column, by its header
        "two.npy": ["--fs", "250", "--lead", "1"],
        "semi.csv": ["--fs", "250"],
        "tabs.tsv": ["--fs", "250", "--lead", "1"],
        "one.txt": ["--fs", "250"],
        "quoted.csv": ["--fs", "250"],
        "syn.edf": [],
    }
    from heartzoo.recording.read import read_recording

    semi = read_recording(tmp_path / "semi.csv", "MLII", fs=250)
    assert semi.lead == "MLII" and np.allclose(semi.signal, np.round(x, 4), atol=1e-6)  # 0,1234 is 0.1234
    for name, extra in cases.items():
        beats = annotated_json(tmp_path / name, tmp_path / f"out-{name}", MODEL, *extra)["beat_list"]
        # wfdb_to_edf pads the EDF with zeros to whole 10 s blocks, and the step into the padding looks
        # like a beat: compare up to the trace's last half second, which holds no beat
        found = np.array([b["sample"] for b in beats if b["sample"] < len(x) - 125])
        assert len(found) == len(truth) and np.max(np.abs(found - truth)) <= 2, name
    calls = []
    got = annotate(x, 250, student, progress=lambda d, done, total: calls.append((d, done, total)))
    assert len(got.samples) == len(truth) and np.max(np.abs(got.samples - truth)) <= 2
    assert calls[-1] == ("classifying beats", len(truth), len(truth))


def test_a_single_column_of_decimal_commas_is_one_lead(tmp_path):
    """ "-0,1450" in a file of one column is one sample in a comma-decimal locale, not two whole numbers;
    two columns of whole numbers (a device's ADC counts) stay two."""
    from heartzoo.recording.read import read_recording

    x, _ = synthetic_ecg(250, 10)
    rows = "".join(f"{v:.4f}\n".replace(".", ",") for v in x)
    (tmp_path / "named.csv").write_text("ECG\n" + rows)
    (tmp_path / "bare.csv").write_text(rows)
    (tmp_path / "bare.txt").write_text(rows)
    for name in ("named.csv", "bare.csv", "bare.txt"):
        rec = read_recording(tmp_path / name, "ECG", fs=250)
        assert np.allclose(rec.signal, np.round(x, 4), atol=1e-6), name
    counts = np.round(np.stack([x, -x], axis=1) * 200 + 512).astype(int)
    (tmp_path / "adc.csv").write_text("".join(f"{a},{b}\n" for a, b in counts))
    rec = read_recording(tmp_path / "adc.csv", "1", fs=250)
    assert np.array_equal(rec.signal, counts[:, 1])


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (
            "no_mlii",
            [],
            r"no lead MLII \(the model's lead\); choose one with --lead, by name or number; leads: V1, V2",
        ),
        (
            "short",
            [],
            r"syn: recording is 2.00 s long \(500 samples at 250 Hz\); beat detection needs at least 5 s",
        ),
        ("short_ref", ["--reference-peaks", "atr"], r"2.00 s long"),
        ("inf", ["--fs", "250"], r"lead 0 holds 1 infinite sample\(s\), the first at sample 700"),
        (
            "all_nan",
            ["--fs", "250"],
            r"x.npy: lead 0 holds no sample: every one of its 5,000 is missing \(NaN\)",
        ),
        ("flat", ["--fs", "250"], "flat"),
        ("good", ["--model", "no-such-model"], "no model 'no-such-model' in the zoo"),
        (
            "garbage_edf",  # EDF's version, then 10 bytes: an EDF header cut short
            [],
            r"x\.edf: truncated: 18 bytes, fewer than the 256 of an EDF header",
        ),
        ("garbage_hea", [], "cannot parse the header"),
        ("good_csv", [], r"carries no sampling rate; give it \(--fs HZ\)"),
        ("good", ["--fs", "360"], "carries its sampling rate"),
        ("good", ["--reference-peaks", "qrs"], r"syn.qrs: no such annotation file"),
        ("good_npy", ["--fs", "250", "--reference-peaks", "atr"], "needs a WFDB record"),
        ("two_npy", ["--fs", "250"], r"no lead MLII .*leads: 0, 1"),
        ("good", ["--extension", "h-z"], "letters only"),
        ("good", ["--detector", "nope"], "unknown detector 'nope'"),
        ("missing", [], "no such file"),
        (
            "no_length",
            [],
            r"syn.hea\): the record line gives no number of samples per signal \(its 4th field\)",
        ),
        ("negative_fs", [], r"sampling frequency \(3rd field\) is '-250', not a positive number"),
        ("multi_segment", [], r"syn.hea: segment line 1 is 'syn.dat 212 .*', not a record's name"),
        (
            "format_999",
            [],
            r"lead MLII's storage format \(2nd field of its signal line\) is '999', not a WFDB",
        ),
        ("truncated_atr", ["--reference-peaks", "atr"], r"syn.atr: truncated WFDB annotation file"),
        ("npz", ["--fs", "250"], r"x.npy: a .npz archive \(np.savez\), not a .npy array"),
        ("text_npy", ["--fs", "250"], r"x.npy: not a NumPy .npy file"),
        ("bad_header_npy", ["--fs", "250"], r"x.npy: not a readable .npy array"),
        ("complex_npy", ["--fs", "250"], r"expected numbers of shape .* got complex128"),
        ("empty_npy", ["--fs", "250"], r"x.npy: no samples"),
        (
            "huge_csv",
            ["--fs", "250"],
            r"x.csv: lead 0 holds a sample of 1e\+39 \(sample 700\), not a voltage",
        ),
        ("folder", [], r"in: a folder, not a recording"),
        (
            "upper_case_hea",
            [],
            r"SYN.HEA: WFDB opens a record's header in lower case: rename SYN.HEA to SYN.hea",
        ),
        (
            "dat_file",
            [],
            r"syn.dat: a file of the WFDB record syn, not the record; give the record: \S*syn \(or",
        ),
    ],
)
def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, make, args, message):
    x, _ = synthetic_ecg(250, 20)
    src = tmp_path / "in"
    src.mkdir()
    path = {
        "no_mlii": lambda: write_record(src, "syn", fs=250, seconds=20, leads=("V1", "V2")) and src / "syn",
        "short": lambda: write_record(src, "syn", fs=250, seconds=2) and src / "syn",
        "short_ref": lambda: write_record(src, "syn", fs=250, seconds=2) and src / "syn",
        "good": lambda: write_record(src, "syn", fs=250, seconds=20) and src / "syn",
        "inf": lambda: np.save(src / "x.npy", np.r_[x[:700], np.inf, x[701:]]) or src / "x.npy",
        "all_nan": lambda: np.save(src / "x.npy", np.full(5000, np.nan)) or src / "x.npy",
        "flat": lambda: np.save(src / "x.npy", np.zeros(5000)) or src / "x.npy",
        "good_npy": lambda: np.save(src / "x.npy", x) or src / "x.npy",
        "two_npy": lambda: np.save(src / "x.npy", np.stack([x, x], axis=1)) or src / "x.npy",
        "good_csv": lambda: np.savetxt(src / "x.csv", x) or src / "x.csv",
        "garbage_edf": lambda: (src / "x.edf").write_bytes(b"0       not an edf") and src / "x.edf",
        "garbage_hea": lambda: (src / "syn.hea").write_text("syn two 250\n") and src / "syn.hea",
        "missing": lambda: src / "absent.npy",
        "no_length": lambda: _edit_header(src, lambda line: " ".join(line.split()[:3])),
        "negative_fs": lambda: _edit_header(src, lambda line: line.replace(" 250 ", " -250 ")),
        "multi_segment": lambda: _edit_header(src, lambda line: line.replace("syn ", "syn/2 ", 1)),
        "format_999": lambda: _edit_header(
            src, lambda line: line, signal=lambda line: line.replace(" 212 ", " 999 ")
        ),
        "truncated_atr": lambda: (
            _truncate(write_record(src, "syn", fs=250, seconds=20) and src / "syn.atr") or src / "syn"
        ),
        "npz": lambda: np.savez(src / "x.npz", x=x) or (src / "x.npz").rename(src / "x.npy") or src / "x.npy",
        "bad_header_npy": lambda: (  # its header's shape left open, as a flipped byte may leave it
            np.save(src / "x.npy", x)
            or (
                (src / "x.npy").write_bytes((src / "x.npy").read_bytes().replace(b"(5000,)", b"(5000,("))
                and src / "x.npy"
            )
        ),
        "text_npy": lambda: (src / "x.npy").write_text("1\n2\n3\n") and src / "x.npy",
        "complex_npy": lambda: np.save(src / "x.npy", x + 1j * x) or src / "x.npy",
        "empty_npy": lambda: np.save(src / "x.npy", np.zeros(0)) or src / "x.npy",
        "huge_csv": lambda: np.savetxt(src / "x.csv", np.r_[x[:700], 1e39, x[701:]]) or src / "x.csv",
        "folder": lambda: src,
        "upper_case_hea": lambda: (  # an old CD-ROM's names: SYN.HEA beside SYN.DAT
            write_record(src, "syn", fs=250, seconds=20)
            and (src / "syn.hea").rename(src / "SYN.HEA")
            and src / "SYN.HEA"
        ),
        "dat_file": lambda: write_record(src, "syn", fs=250, seconds=20) and src / "syn.dat",
    }[make]()
    out = tmp_path / "out"
    if "--model" not in args:
        args = [*args, "--model", MODEL]
    res = run_cli("annotate", str(path), "--zoo", str(ZOO), "--output-dir", str(out), *args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "error:" in res.stderr and "Traceback" not in res.stderr
    assert __import__("re").search(message, " ".join(res.stderr.split())), res.stderr
    assert _files(out) == []


def _edit_header(src: Path, record, signal=lambda line: line) -> Path:
    """A 20-s record whose header's record line (and each signal line) is rewritten by the functions."""
    write_record(src, "syn", fs=250, seconds=20)
    hea = src / "syn.hea"
    first, *rest = hea.read_text().splitlines()
    hea.write_text("\n".join([record(first), *(signal(line) for line in rest)]) + "\n")
    return src / "syn"


def _truncate(path: Path) -> None:
    """Cut an annotation file at an even byte, so that its end-of-file mark is lost."""
    path.write_bytes(path.read_bytes()[:-4])


@pytest.mark.parametrize(
    "clock, said",
    [
        ("08:12:00 31/02/2026", r"base date \(6th field\) is '31/02/2026', not a date \(dd/mm/yyyy\)"),
        ("25:99:00 01/02/2026", r"base time \(5th field\) is '25:99:00', not a time of day \(hh:mm:ss\)"),
    ],
)
def test_a_start_that_is_no_time_is_read_without_one_and_said(tmp_path, clock, said):
    """wfdb refuses the whole header for a base time or date it cannot read; the samples are good, so the
    record is read with its start unknown and a note naming the field (as the other readers do)."""
    import re

    from heartzoo.recording.read import read_recording

    good = read_recording(_edit_header(tmp_path / "good", lambda line: line), "MLII")
    base = _edit_header(tmp_path / "in", lambda line: " ".join(line.split()[:4]) + " " + clock)
    rec = read_recording(base, "MLII")
    assert rec.start is None and np.array_equal(np.asarray(rec.signal), np.asarray(good.signal))
    assert any(re.search(said + ": read without a start time", n) for n in rec.notes), rec.notes


def test_a_bom_csv_names_its_leads_as_a_spreadsheet_wrote_them(tmp_path):
    from heartzoo.recording.read import read_recording

    x, _ = synthetic_ecg(250, 20)
    (tmp_path / "x.csv").write_text("\ufeffMLII,V1\n" + "".join(f"{v},{-v}\n" for v in x), encoding="utf-8")
    rec = read_recording(tmp_path / "x.csv", "MLII", fs=250)
    assert rec.lead == "MLII" and np.allclose(rec.signal, x, atol=1e-6)


def test_a_record_of_one_lead_is_read_whatever_its_lead_is_called(tmp_path):
    """CinC 2017's `ECG` and Icentia11k's `ecg` need no --lead, as a one-column CSV needs none; a record of
    two leads without the model's is still refused (the `no_mlii` case above)."""
    from heartzoo.recording.read import read_recording

    write_record(tmp_path, "syn", fs=250, seconds=20, leads=("ECG",))
    rec = read_recording(tmp_path / "syn", "MLII")
    assert rec.lead == "ECG" and "ECG, the recording's one lead, read for the model's MLII" in rec.notes
    assert read_recording(tmp_path / "syn", "ECG", lead_given=True).notes == rec.notes[:-1]
    with pytest.raises(HeartzooError, match=r"no lead MLII; leads: ECG"):
        read_recording(tmp_path / "syn", "MLII", lead_given=True)
    # a name typed in another case is that lead, and said
    assert (lower := read_recording(tmp_path / "syn", "ecg", lead_given=True)).lead == "ECG"
    assert "lead ECG read for ecg (names compared without case)" in lower.notes
    write_record(tmp_path, "two", fs=250, seconds=20, leads=("MLII", "V5"))
    assert read_recording(tmp_path / "two", "v5", lead_given=True).lead == "V5"


def test_output_folder_problems_are_one_clear_error(tmp_path):
    write_record(tmp_path / "in", "syn", fs=250, seconds=20)

    def to(out: Path):
        res = run_annotate(tmp_path / "in" / "syn", MODEL, out)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        return " ".join(res.stderr.split())

    blocked = tmp_path / "afile"
    blocked.write_text("not a folder")
    assert "cannot write the annotations there" in to(blocked) and "cannot write" in to(blocked / "sub")
    # a folder where one of the three files goes: refused before anything is written
    out = tmp_path / "out"
    (out / "syn.heartzoo.json").mkdir(parents=True)
    assert "a folder where the annotations go" in to(out)
    assert sorted(p.name for p in out.iterdir()) == ["syn.heartzoo.json"]


def test_the_records_own_files_are_never_written_over(tmp_path):
    """`--extension hea` (or `atr`, the reference annotations) into the record's own folder would replace
    the record's file: refused, the file unchanged; heartzoo's own files are replaced run after run."""
    import wfdb

    folder = tmp_path / "in"
    write_record(folder, "syn", fs=250, seconds=20)
    wfdb.wrann("syn", "atr", np.array([100, 400]), symbol=["N", "N"], fs=250, write_dir=str(folder))
    # a JSON of the name heartzoo writes, but not its summary, is no sign it wrote the file beside it
    (folder / "syn.atr.json").write_text("{}")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    for ext in ("hea", "atr", "dat"):
        res = run_annotate(folder / "syn", MODEL, folder, "--extension", ext)
        said = " ".join(res.stderr.split())
        assert res.returncode == 2 and "heartzoo did not write it" in said and "Traceback" not in said, said
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    for _ in range(2):
        assert run_annotate(folder / "syn", MODEL, folder).returncode == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before


@pytest.mark.parametrize("model", ["af-4-cnn4-student@v1", "quality-cnn3"])
def test_a_model_that_classifies_no_beats_is_refused_before_any_recording(tmp_path, model):
    write_record(tmp_path / "in", "syn", fs=250, seconds=20)
    write_record(tmp_path / "in", "two", fs=250, seconds=20)
    for records in (["syn"], ["syn", "two"]):
        res = run_cli(
            "annotate", *(str(tmp_path / "in" / r) for r in records), "--model", model,
            "--zoo", str(REPO / "zoo"), "--output-dir", str(tmp_path / "out"),
        )  # fmt: skip
        said = " ".join(res.stderr.split())
        assert res.returncode == 2 and "not a beat task (beat-2, beat-3, aami-5)" in said, said
        assert "Traceback" not in said and not (tmp_path / "out").exists()


def test_the_three_files_replace_the_old_ones_all_or_none(tmp_path):
    """A move that fails half-way puts the old files back and takes the new ones away."""
    from heartzoo.recording.annotation_files import _replace_all

    spare, out = tmp_path / "spare", tmp_path / "out"
    spare.mkdir()
    out.mkdir()
    (out / "a.csv").write_text("old csv")
    (spare / "a.csv").write_text("new csv")
    (spare / "a.json").write_text("new json")
    moves = {spare / "a.csv": out / "a.csv", spare / "a.json": out / "a.json", spare / "gone": out / "a.wfdb"}
    with pytest.raises(FileNotFoundError):
        _replace_all(moves, spare)
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"] and (out / "a.csv").read_text() == "old csv"
    (spare / "a.json").write_text("new json")
    _replace_all({spare / "a.json": out / "a.json"}, spare)  # and one that succeeds replaces
    assert (out / "a.json").read_text() == "new json"


def test_no_beats_means_no_files(tmp_path):
    from heartzoo.recording.annotation import Annotated
    from heartzoo.recording.annotation_files import write_annotations

    empty = Annotated(
        "rec", 250.0, np.zeros(0, np.int64), np.zeros((0, 3)), ("N", "S", "V"), "m@v1", "int8", "x"
    )
    with pytest.raises(HeartzooError, match="no beats"):
        write_annotations(empty, tmp_path / "out")
    assert _files(tmp_path / "out") == []


@pytest.mark.slow  # loads TensorFlow
def test_the_float_model(student, tmp_path):
    from heartzoo.recording.annotation import annotate

    x, truth = synthetic_ecg(360, 20)
    f = annotate(x, 360, MODEL, zoo=ZOO, float_model=True)
    q = annotate(x, 360, student, r_peaks=f.samples)
    assert f.runtime.startswith("float") and len(f.samples) == len(truth)
    assert np.abs(f.probabilities - q.probabilities).max() < 0.1  # int8 steps of the same model


def test_end_to_end_beside_reference_peaks(mitdb, student):
    from heartzoo.recording.end_to_end import end_to_end

    out = end_to_end(student, [RECORD], data_dir=mitdb.parent)
    det, ref = out["detected"], out["reference"]
    assert det["ec57"]["qrs_se"] >= 0.995 and det["ec57"]["qrs_pp"] >= 0.995
    assert ref["ec57"]["qrs_se"] == ref["ec57"]["qrs_pp"] == 1.0  # the reference peaks are the reference
    assert ref["classes"]["missed"] == ref["classes"]["extra"] == 0
    assert det["classes"]["matched"] + det["classes"]["missed"] == ref["classes"]["matched"]
    assert set(det["classes"]["per_class"]) == {"N", "S", "V"} and out["per_record"][0]["record"] == RECORD
    # a clean record: the quality gate keeps every window, so it changes nothing
    assert out["gated"]["beats_kept"] == 1.0 and out["gated"]["classes"] == det["classes"]
    # every beat from the first sample: evaluation's numbers (the frames are evaluation's, bit for bit)
    assert ref["all_beats"]["n"] == 1535


def test_given_peaks_need_none_of_the_detectors_minimums(student):
    from heartzoo.recording.annotation import annotate

    ecg, peaks = synthetic_ecg(360, 3)  # too short to detect in, fine to classify given its peaks
    with pytest.raises(HeartzooError, match="beat detection needs at least 5 s"):
        annotate(ecg, 360, student)
    got = annotate(ecg, 360, student, r_peaks=peaks)
    assert got.probabilities.shape == (len(peaks), 3)
    with pytest.raises(HeartzooError, match=r"r_peaks\[0\] = -1 lies outside"):
        annotate(ecg, 360, student, r_peaks=np.r_[-1, peaks])


def _edf_plus(path: Path, x: np.ndarray, fs: int) -> None:
    """An EDF+ file of one lead (MLII, in mV) and an `EDF Annotations` signal of the same rate, as
    recorders write them; records of 1 s."""

    def field(value, width: int) -> bytes:
        return str(value).ljust(width)[:width].encode("ascii")

    n = len(x) // fs
    labels = ["MLII", "EDF Annotations"]
    head = b"".join(
        [
            field("0", 8),
            field("X X X X", 80),
            field("Startdate X X X X", 80),
            field("01.01.20", 8),
            field("00.00.00", 8),
            field(256 * (1 + len(labels)), 8),
            field("EDF+C", 44),
            field(n, 8),
            field(1, 8),
            field(len(labels), 4),
        ]
    )
    for width, values in (
        (16, labels),
        (80, ["", ""]),
        (8, ["mV", ""]),
        (8, [-10, -1]),
        (8, [10, 1]),
        (8, [-32768, -32768]),
        (8, [32767, 32767]),
        (80, ["", ""]),
        (8, [fs, fs]),
        (32, ["", ""]),
    ):
        head += b"".join(field(v, width) for v in values)
    digital = np.clip(np.round(x[: n * fs] / 10 * 32767), -32768, 32767).astype("<i2").reshape(n, fs)
    body = b"".join(row.tobytes() + np.zeros(fs, "<i2").tobytes() for row in digital)
    path.write_bytes(head + body)


def test_an_edf_plus_file_keeps_stdout_for_the_json(tmp_path):
    """wfdb remarks on an EDF+ annotation signal by printing; `--json` owns stdout, so it still parses."""
    x, _ = synthetic_ecg(250, 20)
    _edf_plus(tmp_path / "plus.edf", x, 250)
    res = run_annotate(tmp_path / "plus.edf", MODEL, tmp_path / "out", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["lead"] == "MLII" and json.loads(res.stdout)["beats"] > 15


def test_a_sampling_rate_given_wrong_is_warned_of(mitdb, tmp_path):
    """A minute of record 100 saved as CSV: at its 360 Hz no warning of the rate; claimed as 1000 Hz its
    QRS complexes are too narrow for any ECG, and `annotate` says the rate may be wrong."""
    from heartzoo.data.databases import get_database
    from heartzoo.recording.annotation import annotate_file

    sig = get_database("mitdb").read_signal(mitdb, "100", "MLII")
    np.savetxt(tmp_path / "x.csv", sig.values[: 360 * 60])
    right = annotate_file(tmp_path / "x.csv", MODEL, fs=360, zoo=ZOO)
    wrong = annotate_file(tmp_path / "x.csv", MODEL, fs=1000, zoo=ZOO)
    assert "fs" not in [f.code for f in right.findings]
    assert [f.code for f in wrong.findings].count("fs") == 1
    assert any("at the stated 1000 Hz" in w and "is the sampling rate right?" in w for w in wrong.warnings)


def test_the_plausible_qrs_width_is_the_one_measured():
    """The ranges `assess` reads are studies/fs_check.py's latest records, not numbers typed in: the
    width's, and the width times the RR interval's, which its fourth round adopted with it."""
    from heartzoo.recording.quality import QRS_RR_MS2, QRS_WIDTH_MS

    lines = [json.loads(line) for line in (REPO / "results" / "fs_check.jsonl").read_text().splitlines()]
    assert list(QRS_WIDTH_MS) == [line for line in lines if "round" not in line][-1]["plausible_ms"]
    product = [line for line in lines if line.get("round") == "product"][-1]
    assert product["adopted"] == "either" and list(QRS_RR_MS2) == product["plausible_product_ms2"]


def test_a_rate_given_as_half_is_warned_of_by_the_width_and_the_rr_together(mitdb, tmp_path):
    """Two minutes of record 202 given at half its 360 Hz: its QRS complexes (about 60 ms) are still as
    wide as an ECG's, its rate (about 27 per minute) still a heart's, but both together are not."""
    from heartzoo.data.databases import get_database
    from heartzoo.recording.annotation import annotate_file

    sig = get_database("mitdb").read_signal(mitdb, "202", "MLII")
    np.save(tmp_path / "x.npy", sig.values[: 360 * 120])
    right = annotate_file(tmp_path / "x.npy", MODEL, fs=360, zoo=ZOO)
    half = annotate_file(tmp_path / "x.npy", MODEL, fs=180, zoo=ZOO)
    assert "fs" not in [f.code for f in right.findings]
    said = [f.message for f in half.findings if f.code == "fs"]
    assert len(said) == 1 and "ms apart (median) at the stated 180 Hz: both too long" in said[0], said


def test_a_lead_in_the_wrong_unit_is_warned_of(mitdb, tmp_path):
    """A minute of record 100 saved as .npy in mV, µV and V: in mV no warning of the unit; in µV or V its
    QRS complexes are a thousand times too large or too small for a lead in mV, and `annotate` says so;
    the range is studies/amplitude_check.py's latest record, not a number typed in."""
    from heartzoo.data.databases import get_database
    from heartzoo.preprocess.plausibility import QRS_AMPLITUDE_MV
    from heartzoo.recording.annotation import annotate_file

    sig = get_database("mitdb").read_signal(mitdb, "100", "MLII")
    for unit, k in (("mV", 1.0), ("µV", 1e3), ("V", 1e-3)):
        np.save(tmp_path / "x.npy", sig.values[: 360 * 60].astype(np.float64) * k)
        got = annotate_file(tmp_path / "x.npy", MODEL, fs=360, zoo=ZOO)
        warned = [w for w in got.warnings if "is the lead in µV or V?" in w]
        assert len(warned) == (unit != "mV"), (unit, got.warnings)
    lines = [json.loads(x) for x in (REPO / "results" / "amplitude_check.jsonl").read_text().splitlines()]
    line = [x for x in lines if "round" not in x][-1]  # the run that fixed the range (not the --ungated one)
    assert list(QRS_AMPLITUDE_MV) == line["plausible_mv"]
    # gqrs finds nothing readable in the lead in µV: the size of what it detected still says the unit
    np.save(tmp_path / "x.npy", sig.values[: 360 * 60].astype(np.float64) * 1e3)
    got = annotate_file(tmp_path / "x.npy", MODEL, fs=360, zoo=ZOO, detector="gqrs")
    assert any("is the lead in µV or V?" in w for w in got.warnings), got.warnings


def test_a_signal_that_is_no_ecg_is_warned_of(mitdb, tmp_path):
    """A sine and a PPG-like pulse train pass the template gate (each "beat" matches the others) and were
    classified without a word; their leads are less peaky than an ECG, and `annotate` says so. A minute of
    record 100 is not warned, nor the same under a wearer's walking (a 1-mV, 0.7-Hz wave, which the
    first measure, above 0.5 Hz, warned); the floor is studies/ecg_shape_wander.py's."""
    from heartzoo.data.databases import get_database
    from heartzoo.recording.annotation import annotate_file
    from heartzoo.recording.quality import MIN_KURTOSIS

    t = np.arange(360 * 60) / 360
    phase = t % 0.8
    ecg = get_database("mitdb").read_signal(mitdb, "100", "MLII").values[: 360 * 60]
    signals = {
        "sine": 0.5 * np.sin(2 * np.pi * 1.5 * t),
        "ppg": np.exp(-(((phase - 0.2) / 0.08) ** 2) / 2) + 0.4 * np.exp(-(((phase - 0.45) / 0.1) ** 2) / 2),
        "ecg": ecg,
        "ecg walking": ecg + np.sin(2 * np.pi * 0.7 * t),
    }
    for name, x in signals.items():
        np.save(tmp_path / f"{name}.npy", np.asarray(x, np.float64))
        got = annotate_file(tmp_path / f"{name}.npy", MODEL, fs=360, zoo=ZOO)
        warned = [w for w in got.warnings if "is it an ECG lead?" in w]
        assert len(warned) == (not name.startswith("ecg")), (name, got.warnings)
    line = json.loads((REPO / "results" / "ecg_shape_wander.jsonl").read_text().splitlines()[-1])
    assert line["adopted"] and round(line["floors"]["candidate"], 2) == MIN_KURTOSIS


def test_the_files_are_written_a_beat_at_a_time(mitdb, student):
    """The CSV and JSON are written a beat at a time (a patch's weeks hold millions of beats): the JSON is
    `json.dumps(to_dict(), indent=1)` byte for byte, the CSV the warnings and one row a beat, on ten
    minutes of record 203 (every class) and on the same with no beat."""
    import csv
    import dataclasses
    import io

    from heartzoo.data.mitbih import read_signal
    from heartzoo.recording.annotation import annotate

    got = annotate(read_signal(mitdb, "203").values[: 600 * 360], 360, student)
    assert len(got.samples) > 500 and len(set(got.classes.tolist())) == 3
    none = dataclasses.replace(got, samples=got.samples[:0], probabilities=got.probabilities[:0])
    for a in (got, none):
        buf = io.StringIO()
        a.write_json(buf)
        assert buf.getvalue() == json.dumps(a.to_dict(), indent=1) + "\n"
        text = a.csv_text()
        comments = [line for line in text.splitlines() if line.startswith("# warning: ")]
        assert comments == [f"# warning: {w}" for w in a.warnings]
        body = text.split("\n", len(comments))[-1]
        rows = list(csv.DictReader(io.StringIO(body)))
        assert [int(r["sample"]) for r in rows] == a.samples.tolist()
        assert [r["class"] for r in rows] == a.classes.tolist()


def test_a_file_name_wfdb_cannot_take_is_said_with_the_name_its_outputs_take(tmp_path):
    """Spaces, brackets and dots became underscores in the outputs' names without a word."""
    from conftest import synthetic_ecg

    from heartzoo.recording.read import read_recording

    x, _ = synthetic_ecg(360, 12)
    np.save(tmp_path / "ECG 2024-01-01 (1).npy", np.asarray(x, np.float32))
    np.save(tmp_path / "plain.npy", np.asarray(x, np.float32))
    odd = read_recording(tmp_path / "ECG 2024-01-01 (1).npy", "0", fs=360)
    assert odd.name == "ECG_2024-01-01__1_" and odd.notes[-1] == (
        "ECG 2024-01-01 (1): its outputs are named ECG_2024-01-01__1_ (WFDB's letters)"
    )
    assert read_recording(tmp_path / "plain.npy", "0", fs=360).notes == ()
