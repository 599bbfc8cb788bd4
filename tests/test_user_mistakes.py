"""The catalogue of a user's mistakes: each ends in one `error:` line that names what is wrong and exit
code 2 (the library: a HeartzooError saying the same) — never a traceback, never a silent success."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
STUDENT = "beat-3-cnn3-student"
STUDENT_DIR = REPO / "zoo" / "beat-3" / STUDENT / "v1"


@pytest.fixture(scope="module")
def zoos(tmp_path_factory) -> dict[str, Path]:
    """Small zoos, each broken in one way, and a run folder with a damaged model."""
    from heartzoo.zoo.index import write_index

    base = tmp_path_factory.mktemp("zoos")

    def one_version(name: str) -> Path:
        root = base / name
        shutil.copytree(STUDENT_DIR, root / "beat-3" / STUDENT / "v1")
        write_index(root)
        return root

    good = one_version("good")
    truncated = one_version("truncated")
    text = (truncated / "index.json").read_text()
    (truncated / "index.json").write_text(text[: len(text) // 2])
    no_metrics = one_version("no-metrics")
    (no_metrics / "beat-3" / STUDENT / "v1" / "metrics.json").unlink()
    empty = base / "empty"
    empty.mkdir()
    (empty / "index.json").write_text('{"format": 1, "models": []}\n')
    damaged = base / "damaged-run"
    shutil.copytree(STUDENT_DIR, damaged)
    keras_file = damaged / "model.keras"
    keras_file.write_bytes(keras_file.read_bytes()[:5000])
    return {
        "good": good,
        "truncated": truncated,
        "no-metrics": no_metrics,
        "empty": empty,
        "missing": base / "nowhere",
        "damaged-run": damaged,
    }


def _configs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {
        "unknown-arch": "name: x\ntask: beat-3\nmodel: {arch: cnn33}\n",
        "typo": "name: x\ntask: beat-3\ntrain: {epocs: 3}\n",
        "bad-teacher": "name: x\ntask: beat-3\nmodel: {arch: cnn3}\ncompress:\n  distill: {teacher: ../../etc}\n",
        "slash-name": "name: a/b\ntask: beat-3\n",
        "not-yaml": "name: [x\n",
        "twice": "name: x\ntask: beat-3\ntrain: {epochs: 3}\ntrain: {seed: 2}\n",
        "ghost-teacher": "name: x\ntask: beat-3\nmodel: {arch: cnn3}\ncompress:\n"
        f"  distill: {{teacher: {STUDENT}@v99}}\n",
        "fine": "name: x\ntask: beat-3\nmodel: {arch: cnn3}\n",
        "kernel-0": "name: x\ntask: beat-3\nmodel: {arch: cnn1, params: {kernel: 0}}\n",
        "thin-effnet": "name: x\ntask: beat-3\nmodel: {arch: efficientnetv2-xs}\ncompress:\n  channel_prune: {keep: 0.5}\n",
        "qat-gru": "name: x\ntask: beat-3\nmodel: {arch: recurrent-gru}\ncompress:\n  qat: {epochs: 1}\n",
        "bare-teacher": "name: x\ntask: beat-3\nmodel: {arch: cnn3}\ncompress:\n"
        f"  distill: {{teacher: {STUDENT}}}\n",
    }.items():
        (tmp_path / f"{name}.yaml").write_text(text)
        out[name] = tmp_path / f"{name}.yaml"
    return out


# (arguments, what the error line must say); {zoo:...}, {cfg:...} and {tmp} are filled in per case
CLI_CASES = [
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--threshold", "-1"], "--threshold"),
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--threshold", "5"], "--threshold"),
    (["models", "--frame-size", "-5"], "--frame-size"),
    (["models", "--frame-size", "0"], "--frame-size"),
    (["models", "--task", "beat-4"], "not a task"),
    (["zoo", "list", "--zoo", "{zoo:truncated}"], "index.json: not a valid zoo index (not JSON"),
    (["zoo", "verify", "--zoo", "{zoo:truncated}"], "index.json: not a valid zoo index (not JSON"),
    (["zoo", "show", STUDENT, "--zoo", "{zoo:no-metrics}"], "metrics.json: missing"),
    (["zoo", "list", "--zoo", "{zoo:missing}"], "no zoo folder here"),
    (["zoo", "verify", "--zoo", "{zoo:missing}"], "no zoo folder here"),
    (["zoo", "list", "--zoo", "{zoo:empty}"], "the index lists no model"),
    (["zoo", "verify", "--zoo", "{zoo:empty}", "--no-agreement"], "lists no model version"),
    (["zoo", "show", "nosuch-model", "--zoo", "{zoo:good}"], "no model 'nosuch-model' in the zoo"),
    (["zoo", "show", STUDENT + "@v9", "--zoo", "{zoo:good}"], f"{STUDENT} has no version v9"),
    (["zoo", "show", "../" + STUDENT, "--zoo", "{zoo:good}"], "is not a model name"),
    (["zoo", "retrain", "nosuch-model@v1", "--zoo", "{zoo:good}"], "no model 'nosuch-model' in the zoo"),
    (
        ["zoo", "retrain", STUDENT + "@v1", "--zoo", "{zoo:good}", "--run", "{tmp}/nowhere"],
        "nowhere/config.json",
    ),
    (
        ["evaluate", "{zoo:damaged-run}"],
        "model.keras: not a readable Keras model (damaged or truncated: 5,000 bytes",
    ),
    (["evaluate", "{tmp}/nowhere"], "nowhere: no such folder"),
    (["evaluate", "{tmp}"], "no model.keras here"),
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--output", "{tmp}"], "a folder; give a file name"),
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--output", "{cfg:fine}/x.json"], "is a file"),
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--split", "ds3"], "unknown split 'ds3'"),
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--calibrate-minutes", "0"], "must be a positive"),
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--calibrate-minutes", "-3"], "must be a positive"),
    (
        ["evaluate", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--calibrate-minutes", "nan"],
        "must be a positive",
    ),
    (["train", "{cfg:unknown-arch}", "--run-dir", "{tmp}/run"], "unknown architecture 'cnn33'"),
    (["train", "{cfg:typo}", "--run-dir", "{tmp}/run"], "unknown field 'train.epocs'"),
    (["train", "{cfg:bad-teacher}", "--run-dir", "{tmp}/run"], "compress.distill.teacher"),
    (["train", "{cfg:slash-name}", "--run-dir", "{tmp}/run"], "field 'name'"),
    (["train", "{cfg:not-yaml}", "--run-dir", "{tmp}/run"], "not valid YAML"),
    (["train", "{tmp}/missing.yaml"], "no such configuration file"),
    (
        ["train", "{cfg:twice}", "--run-dir", "{tmp}/run", "--zoo", "{tmp}/zoo"],
        "line 4: duplicate key 'train' (first at line 3)",
    ),
    (["train", "{cfg:ghost-teacher}", "--run-dir", "{tmp}/run", "--zoo", "{zoo:good}"], "has no version v99"),
    (["train", "{cfg:fine}", "--run-dir", "{cfg:fine}", "--zoo", "{tmp}/zoo"], "a file is there"),
    (["export", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--version", "3"], "'3' is not a version"),
    (["export", "{tmp}/nowhere"], "nowhere: no such folder"),
    (["export", STUDENT + "@v1"], "a published model is exported already (`heartzoo download NAME`"),
    (["download", "../../etc", "--cache-dir", "{tmp}/c"], "is not a model name"),
    (
        ["download", STUDENT, "--base-url", "http://127.0.0.1:9/", "--cache-dir", "{tmp}/c"],
        "cannot read the zoo index",
    ),
    # a file where a folder is written: a traceback, after the version was published or the run trained
    (
        ["export", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--zoo", "{tmp}/z", "--firmware", "{cfg:fine}"],
        "fine.yaml: a file, not a folder",
    ),
    (
        ["export", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--zoo", "{cfg:fine}"],
        "fine.yaml: a file, not a folder",
    ),
    (
        ["train", "{cfg:fine}", "--run-dir", "{tmp}/run", "--zoo", "{cfg:fine}"],
        "fine.yaml: a file, not a folder",
    ),
    (
        ["zoo", "c-array", STUDENT, "--zoo", "{zoo:good}", "--out", "{cfg:fine}"],
        "fine.yaml: a file, not a folder",
    ),
    # a zoo named that is none: the published zoo was asked for the model instead
    (["evaluate", STUDENT, "--zoo", "{tmp}/nowhere"], "nowhere: no zoo here (no index.json)"),
    (["zoo", "c-array", STUDENT, "--zoo", "{cfg:fine}", "--out", "{tmp}/k"], "fine.yaml: no zoo here"),
    (["cv", "{cfg:fine}", "--members", "{tmp}", "--restart"], "--restart do not apply"),
    # a teacher that is not there, named without its version: the path's error alone, no field, no hint
    # (an error found after parsing names the config's file, not only the name inside it)
    (
        ["train", "{cfg:bare-teacher}", "--run-dir", "{tmp}/run", "--zoo", "{zoo:good}"],
        "bare-teacher.yaml: field 'compress.distill.teacher': " + STUDENT + ": no such folder",
    ),
    # a value Keras refuses: its traceback, naming neither the config nor the field
    (
        ["train", "{cfg:kernel-0}", "--run-dir", "{tmp}/run", "--no-publish"],
        "kernel-0.yaml: field 'model.params': The",
    ),
    # a compression step the model cannot take: refused after the first stage had trained, no file named,
    # and for QAT a traceback
    (
        ["train", "{cfg:thin-effnet}", "--run-dir", "{tmp}/run", "--no-publish"],
        "thin-effnet.yaml: field 'compress.channel_prune': efficientnetv2-xs is not prunable by channels",
    ),
    (
        ["train", "{cfg:qat-gru}", "--run-dir", "{tmp}/run", "--no-publish"],
        "qat-gru.yaml: field 'compress.qat': tfmot cannot apply it to recurrent-gru",
    ),
    # a model's folder for its version's, a file for a folder: "train it first", "no such folder"
    (["evaluate", "{zoo:good}/beat-3/" + STUDENT], "a model's folder; name one of its versions, e.g."),
    (["evaluate", "{cfg:fine}"], "fine.yaml: a file, not a model"),
    (["data", "download", "physionet-all", "--data-dir", "{tmp}/d"], "unknown dataset"),
    (["cv", "{cfg:typo}", "--folds", "1"], "--folds"),
    (["no-such-command"], "No such command"),
    # a kit of a dozen files landed in the current folder (the README's command had no --out)
    (["zoo", "c-array", STUDENT, "--firmware", "--zoo", "{zoo:good}"], "Missing option '--out'"),
    # and with an empty name (an unset shell variable: `--out "$KIT"`), which Path reads as `.`
    (["zoo", "c-array", STUDENT, "--firmware", "--zoo", "{zoo:good}", "--out", ""], "an empty folder name"),
    (
        ["export", "{zoo:good}/beat-3/" + STUDENT + "/v1", "--zoo", "{tmp}/z", "--firmware", " "],
        "an empty folder name",
    ),
    # a fixed-point ADC narrower than the kit's golden recording: a correct port failed its self-test
    (
        [
            *(
                "zoo",
                "c-array",
                STUDENT,
                "--firmware",
                "--fixed-point",
                "--adc-bits",
                "10",
                "--adc-gain",
                "500",
            ),
            *("--zoo", "{zoo:good}", "--out", "{tmp}/kit"),
        ],
        "holds +-1.02 mV, less than the kit's golden recording",
    ),
    (
        [
            "zoo",
            "c-array",
            STUDENT,
            "--firmware",
            "--recording-hz",
            "1",
            "--zoo",
            "{zoo:good}",
            "--out",
            "{tmp}/k",
        ],
        "--recording-hz 1: too low to find or classify QRS complexes",
    ),  # a ZeroDivisionError traceback
]


def _fill(arg: str, zoos: dict[str, Path], cfgs: dict[str, Path], tmp: Path) -> str:
    for key, path in zoos.items():
        arg = arg.replace(f"{{zoo:{key}}}", str(path))
    for key, path in cfgs.items():
        arg = arg.replace(f"{{cfg:{key}}}", str(path))
    return arg.replace("{tmp}", str(tmp))


def _run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """`heartzoo ARGS` in this process: an unexpected exception escapes main() and fails the test."""
    from heartzoo.cli import main

    monkeypatch.setattr(sys, "argv", ["heartzoo", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(("args", "says"), CLI_CASES, ids=[" ".join(a)[:60] for a, _ in CLI_CASES])
def test_cli_mistake(args, says, zoos, tmp_path, monkeypatch, capsys):
    cfgs = _configs(tmp_path)
    code, err = _run_cli([_fill(a, zoos, cfgs, tmp_path) for a in args], monkeypatch, capsys)
    assert code == 2, err
    assert err.startswith("error: ") and says in err.splitlines()[0] + err, err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()  # a refused train leaves no run folder to trip the next one
    assert not (tmp_path / "z").exists()  # nor a refused export a version


def test_offline_without_a_local_zoo_says_where_one_was_looked_for(tmp_path, monkeypatch, capsys):
    """No zoo in the folder and none named, and the published zoo out of reach: the error named only the
    URL, never the local zoo a user could give instead."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEARTZOO_ZOO_DIR", raising=False)
    monkeypatch.setenv("HEARTZOO_ZOO_URL", "http://127.0.0.1:9/")
    code, err = _run_cli(["evaluate", STUDENT, "--cache-dir", str(tmp_path / "c")], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err, err
    assert f"in no local zoo ({tmp_path / 'zoo'} holds no index.json)" in err, err
    assert "cannot read the zoo index" in err and "--zoo (zoo= in Python, or $HEARTZOO_ZOO_DIR)" in err, err


def test_restart_deletes_only_a_run_folder(tmp_path, monkeypatch, capsys):
    """`--restart` wipes its --run-dir: a mistyped one (a data folder, `.`) must survive it."""
    cfg = _configs(tmp_path)["fine"]
    precious = tmp_path / "precious"
    (precious / "sub").mkdir(parents=True)
    (precious / "notes.txt").write_text("keep me")
    args = ["train", str(cfg), "--run-dir", str(precious), "--restart", "--zoo", str(tmp_path / "zoo")]
    code, err = _run_cli(args, monkeypatch, capsys)
    assert code == 2 and "not a heartzoo run (no config.json in it)" in err, err
    assert (precious / "notes.txt").read_text() == "keep me" and (precious / "sub").is_dir()
    # a run whose chief failed before its config.json: only `train --workers`' logs, which it may delete
    failed = tmp_path / "failed"
    (failed / ".workers").mkdir(parents=True)
    (failed / ".workers" / "worker1.log").write_text("...")
    from heartzoo.training.train import remove_run_folder

    remove_run_folder(failed)
    assert not failed.exists()


def test_calibrating_past_the_records_is_refused(zoos, data_root, shared_cache, monkeypatch, capsys):
    monkeypatch.setenv("HEARTZOO_DATA_DIR", str(data_root))
    vdir = zoos["good"] / "beat-3" / STUDENT / "v1"
    args = [
        "evaluate",
        str(vdir),
        "--split",
        "val",
        "--calibrate-minutes",
        "1e9",
        "--cache-dir",
        str(shared_cache),
    ]
    code, err = _run_cli(args, monkeypatch, capsys)
    assert code == 2 and "every beat lies in the first 1e+09 min" in err, err


@pytest.fixture(scope="module")
def student(zoos):
    import heartzoo

    return heartzoo.load_model(STUDENT, format="tflite", zoo=zoos["good"])


def _ecg(seconds: float = 20, fs: float = 360):
    from conftest import synthetic_ecg

    return synthetic_ecg(fs, seconds)


PREDICT_CASES = {
    "peak past the end": (lambda x, r: (x, 360, np.append(r, len(x) + 10)), "lies outside the signal's"),
    "negative peak": (lambda x, r: (x, 360, np.concatenate([[-5], r])), "lies outside the signal's"),
    "unsorted peaks": (lambda x, r: (x, 360, r[::-1]), "must be strictly increasing"),
    "repeated peak": (lambda x, r: (x, 360, np.sort(np.append(r, r[3]))), "must be strictly increasing"),
    "fractional peaks": (lambda x, r: (x, 360, r + 0.5), "whole sample indices"),
    "NaN samples": (lambda x, r: (np.where(np.arange(len(x)) == 700, np.nan, x), 360, r), "NaN or infinite"),
    "fs zero": (lambda x, r: (x, 0, r), "positive sampling rate"),
    "fs negative": (lambda x, r: (x, -360, r), "positive sampling rate"),
    "fs not a number": (lambda x, r: (x, "fast", r), "sampling rate"),
    "2-D signal": (lambda x, r: (np.stack([x, x], axis=1), 360, r), "must be one lead"),
    "text signal": (lambda x, r: (np.array(["a"] * len(x)), 360, r), "real numbers"),
    "sample past float32": (lambda x, r: (np.where(np.arange(len(x)) == 700, 1e300, x), 360, r), "float32"),
    "fs True": (lambda x, r: (x, True, r), "positive sampling rate"),
    # a flat lead, a rate no QRS survives, one beat of a model that reads RR intervals: confident answers
    # came back (N at 0.88 for every beat; every beat S at fs 1e9; the lone beat S at 0.99)
    "flat signal": (lambda x, r: (np.zeros_like(x), 360, r), "signal is flat"),
    "empty signal": (lambda x, r: (x[:0], 360, r[:0]), "signal is empty"),
    "fs 0.001": (lambda x, r: (x, 1e-3, r), r"sampling rate 0\.001 Hz is too low"),
    "one beat, RR model": (lambda x, r: (x, 360, r[5:6]), "one R peak has none"),
    "fs 1e9": (lambda x, r: (x, 1e9, r), r"ms apart \(median\) at 1e\+09 Hz.*no heart beats so fast"),
    "peak 1e30": (
        lambda x, r: (x, 360, np.append(r, 1e30)),
        r"r_peaks\[\d+\] = 1000000000000000019884624838656 ",
    ),
    "peak 2**63": (
        lambda x, r: (x, 360, np.append(r, 2**63).astype(np.uint64)),
        r"= 9223372036854775808 lies",
    ),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
def test_predict_mistake(student, case):
    import heartzoo
    from heartzoo.errors import HeartzooError

    make, says = PREDICT_CASES[case]
    x, r = _ecg()
    with pytest.raises(HeartzooError, match=says):
        heartzoo.predict(student, *make(x, np.asarray(r)))


def test_predict_on_good_input_still_answers(student):
    import heartzoo

    x, r = _ecg()
    probs = heartzoo.predict(student, x, 360, r)
    assert probs.shape == (len(r), 3) and np.allclose(probs.sum(axis=1), 1.0, atol=0.02)
    assert heartzoo.predict(student, x, 360, np.zeros(0, int)).shape == (0, 3)
    # a model's name, as annotate takes it; and one lead as a column
    ref = f"{student.config.name}@{student.folder.name}"  # the same published version, from the repo's zoo
    np.testing.assert_array_equal(heartzoo.predict(ref, x[:, None], 360, r), probs)


def test_one_lead_as_a_column_with_missing_samples_is_one_lead(student):
    """A lead given as an (n, 1) column holding NaN (samples missing) is read as one lead with a missing
    stretch, as a 1-D lead is (it ended in numpy's own error); a model that classifies no beats is named
    by its NAME@VERSION, not by its whole description."""
    import heartzoo
    from heartzoo.errors import HeartzooError

    x, _ = _ecg(30)
    x = np.asarray(x, np.float32)
    x[3000:3100] = np.nan
    flat, column = heartzoo.annotate(x, 360, student), heartzoo.annotate(x[:, None], 360, student)
    np.testing.assert_array_equal(column.probabilities, flat.probabilities)
    assert column.missing == flat.missing == ((3000, 3100),)
    rhythm = heartzoo.load_model("af-4-cnn4-student", format="tflite", zoo=REPO / "zoo")
    with pytest.raises(
        HeartzooError, match=r"^model af-4-cnn4-student@v1: its task is af-4, not a beat task"
    ):
        heartzoo.annotate(x, 360, rhythm)


def test_library_mistakes(zoos):
    import heartzoo
    from heartzoo.errors import HeartzooError

    with pytest.raises(HeartzooError, match="format must be 'keras' or 'tflite'"):
        heartzoo.load_model(STUDENT, format="onnx", zoo=zoos["good"])
    with pytest.raises(HeartzooError, match="no zoo index lists this folder"):
        heartzoo.load_model(zoos["damaged-run"])
    # said as what they are, not "is not a model name" or a TypeError from pathlib
    with pytest.raises(HeartzooError, match=r"names version v1, and version= says v2: which\?"):
        heartzoo.load_model(f"{STUDENT}@v1", "v2", zoo=zoos["good"])
    with pytest.raises(HeartzooError, match="a model is named NAME"):
        heartzoo.load_model(None)
    for path in (
        zoos["good"] / "beat-3" / STUDENT,
        zoos["good"] / "beat-3" / STUDENT / "v1" / "model.tflite",
    ):
        with pytest.raises(HeartzooError, match="not a version folder"):
            heartzoo.load_model(path, zoo=zoos["good"])
    loaded = heartzoo.load_model(STUDENT, zoo=zoos["good"])
    x, r = _ecg(60)
    for minutes in (0, -1, float("nan"), float("inf")):
        with pytest.raises(HeartzooError, match="calibration minutes must be a positive number"):
            heartzoo.calibrate(loaded, x, 360, r, minutes=minutes)
    with pytest.raises(HeartzooError, match=r"R peak\(s\) in the first 0.1 min .* needs at least 32"):
        heartzoo.calibrate(loaded, x, 360, r, minutes=0.1)  # a few beats: it used to take even one
    # from a new user's review: a version as a number (re's TypeError), a name to calibrate (an
    # AttributeError), float_model against an int8 model given (ignored), the lazy names in dir()
    with pytest.raises(HeartzooError, match=r"^2 is not a version: the strings v1, v2"):
        heartzoo.load_model(STUDENT, 2, zoo=zoos["good"])
    with pytest.raises(HeartzooError, match=r"R peak\(s\) in the first 0.1 min"):
        heartzoo.calibrate(f"{STUDENT}@v1", x, 360, r, minutes=0.1)  # loaded by name, then checked
    int8 = heartzoo.load_model(STUDENT, format="tflite", zoo=zoos["good"])
    with pytest.raises(HeartzooError, match="float_model asks for the float Keras model"):
        heartzoo.annotate(x, 360, int8, float_model=True)
    assert {"load_model", "predict", "annotate", "read_recording", "RecordingWarning"} <= set(dir(heartzoo))


@pytest.mark.slow
def test_arguments_are_checked_before_tensorflow_loads(zoos, tmp_path):
    """A mistake is answered at once: TensorFlow (8-11 s to import) is never loaded for it."""
    vdir = zoos["good"] / "beat-3" / STUDENT / "v1"
    (tmp_path / "typo.yaml").write_text("name: x\ntask: beat-3\ntrain: {epocs: 3}\n")
    cases = [
        ["evaluate", str(vdir), "--threshold", "5"],
        ["evaluate", str(vdir), "--split", "ds3"],
        ["evaluate", str(vdir), "--calibrate-minutes", "-1"],
        ["export", str(vdir), "--version", "x"],
        ["train", str(tmp_path / "typo.yaml")],
        ["models", "--frame-size", "0"],
        ["zoo", "show", "a/b", "--zoo", str(zoos["good"])],
        ["download", "../x"],
    ]
    script = (
        "import sys, atexit\n"
        "atexit.register(lambda: print('TF LOADED' if 'tensorflow' in sys.modules else 'no tf', file=sys.stdout))\n"
        "from heartzoo.cli import main\n"
        "sys.argv = ['heartzoo', *sys.argv[1:]]\n"
        "main()\n"
    )
    for args in cases:
        proc = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2 and proc.stderr.startswith("error: "), (args, proc.stderr)
        assert proc.stdout.strip() == "no tf", (args, proc.stdout)


def test_a_mistyped_model_is_named_as_a_typo_not_a_network_error(zoos, tmp_path, monkeypatch):
    """Not in the local zoo (./zoo), and no published zoo answers: the error keeps the local zoo's answer
    (the closest name), where it used to say only that the published index could not be read."""
    import heartzoo
    from heartzoo.errors import HeartzooError
    from heartzoo.zoo.index import ZOO_DIR_ENV, ZOO_URL_ENV

    monkeypatch.setenv(ZOO_URL_ENV, "http://127.0.0.1:9/")
    monkeypatch.delenv(ZOO_DIR_ENV, raising=False)
    shutil.copytree(zoos["good"], tmp_path / "here" / "zoo")
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(HeartzooError) as info:
        heartzoo.load_model("beat-3-cnn3-studnet", cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert f"did you mean {STUDENT}?" in message and "nor could it be downloaded" in message, message


def test_a_zoo_named_that_lacks_the_model_never_lends_another_s(zoos, tmp_path, monkeypatch):
    """`--zoo DIR` without the model: refused, where the cache's or the published zoo's copy of that
    name was used without a word (here the published zoo holds it, and is never asked)."""
    import heartzoo
    from heartzoo.errors import HeartzooError
    from heartzoo.zoo.index import ZOO_URL_ENV

    monkeypatch.setenv(ZOO_URL_ENV, zoos["good"].as_uri() + "/")
    from heartzoo.zoo.hub import download

    cache = tmp_path / "cache"
    assert download(STUDENT, cache_dir=cache).is_dir()  # the cache holds it, as after any download
    with pytest.raises(HeartzooError) as info:
        heartzoo.load_model(STUDENT, zoo=zoos["empty"], cache_dir=cache)
    message = str(info.value)
    assert str(zoos["empty"]) in message and f"no model '{STUDENT}'" in message, message
    assert "leave --zoo" in message, message


def test_given_peaks_get_the_leads_warnings_and_a_lone_beat_is_not_classified(student):
    """With the caller's R peaks, `annotate` measured nothing of the lead: a lead in V was classified
    (other classes than in mV) without the warning detected beats get; one beat of a model that reads RR
    intervals was called S at 0.99."""
    import heartzoo

    x, r = _ecg(30)
    r = np.asarray(r)
    assert not heartzoo.annotate(x, 360, student, r_peaks=r).findings
    in_volts = heartzoo.annotate(x / 1000, 360, student, r_peaks=r)
    assert [f.code for f in in_volts.findings] == ["unit"] and "is the lead in µV or V?" in in_volts.findings[
        0
    ].message
    one = heartzoo.annotate(x, 360, student, r_peaks=r[5:6])
    assert len(one.samples) == 0 and one.unclassified == 1
    assert [f.code for f in one.findings] == ["beats"] and "a lone beat has none" in one.findings[0].message


def test_a_clipped_lead_is_said(student, data_root):
    """A recorder whose range is smaller than the ECG holds the lead flat at its end, cutting the R peaks:
    annotate said nothing (here MIT-BIH 100's first minute cut at +-0.5 mV, as an EDF's physical range
    cuts it). MIT-BIH 116 itself sits at the ADC's +-5.12 mV (studies/clipping_check.py)."""
    import heartzoo
    from heartzoo.data import mitbih

    x = np.asarray(mitbih.read_signal(data_root / "mitdb", "100").values[: 360 * 60], np.float32)
    assert "clipped" not in [f.code for f in heartzoo.annotate(x, 360, student).findings]
    cut = heartzoo.annotate(np.clip(x, -0.5, 0.5), 360, student)
    said = [f for f in cut.findings if f.code == "clipped"]
    assert len(said) == 1 and "its recorder's range clipped it" in said[0].message
    assert len(cut.samples) > 60  # the beats are still read, and the user is told
    r = mitbih.read_beats(data_root / "mitdb", "100").samples
    given = heartzoo.annotate(np.clip(x, -0.5, 0.5), 360, student, r_peaks=r[r < len(x)])
    assert [f.code for f in given.findings] == ["clipped"]


def test_a_recording_just_over_one_rhythm_window_is_read(student, data_root):
    """The rhythm model's last window overlaps the one before it (here by all but 22 samples): their centres
    lie 73 ms apart, which the check of R peaks a heart could make refused when it applied to windows."""
    import heartzoo
    from heartzoo.data.cinc2017 import DATABASE

    folder = data_root / "cinc2017"
    if not (folder / "training2017" / "A00005.hea").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    x = np.asarray(DATABASE.read_signal(folder, "A00005", "ECG").values[: 3000 + 22], np.float32)
    got = heartzoo.annotate(x, 300, student, rhythm="af-4-cnn4-student@v1", zoo=REPO / "zoo")
    assert len(got.samples) > 5 and len(got.rhythm) >= 1


def test_a_tracker_not_installed_is_named_before_training(tmp_path, monkeypatch, capsys):
    """`logging.tensorboard: true` without TensorBoard (TensorFlow no longer brings it): a traceback from
    Keras' callback once training had begun; now the field and the extra that installs it, no run folder."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("TensorBoard is installed here")
    cfg = tmp_path / "tb.yaml"
    cfg.write_text("name: x\ntask: beat-3\nmodel: {arch: cnn1}\nlogging: {tensorboard: true}\n")
    code, err = _run_cli(
        ["train", str(cfg), "--run-dir", str(tmp_path / "run"), "--no-publish"], monkeypatch, capsys
    )
    assert code == 2 and "Traceback" not in err, err
    assert "tb.yaml: field 'logging.tensorboard' is true but TensorBoard is not installed" in err, err
    assert "pip install 'heartzoo[tensorboard]'" in " ".join(err.split()) and not (tmp_path / "run").exists()


def test_a_run_interrupted_before_its_model_is_told_to_resume(tmp_path, monkeypatch, capsys):
    """Its folder holds its config but no model yet: "train it first" sent a user to start it again."""
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_text((STUDENT_DIR / "configuration.json").read_text())
    code, err = _run_cli(["export", str(half), "--zoo", str(tmp_path / "z")], monkeypatch, capsys)
    assert code == 2 and "its run did not finish: re-run `heartzoo train` on its config" in " ".join(
        err.split()
    )
    assert not (tmp_path / "z").exists()
