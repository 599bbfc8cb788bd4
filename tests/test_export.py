"""Export and the zoo, end to end on a small model trained on real DS1 frames: int8 TFLite verified in
LiteRT (reference kernels) and TFLM, C array, configuration contract, immutable versions, verify."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heartzoo.config import parse_config
from heartzoo.environment import Environment
from heartzoo.errors import HeartzooError
from heartzoo.export import ExportError, convert_int8, quantized_inputs, run_tflm
from heartzoo.zoo.publish import export_run


@pytest.fixture(scope="module")
def run(small_run):
    return small_run


@pytest.fixture(scope="module")
def zoo(small_zoo):
    return small_zoo


def _sha(p) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_export_writes_every_file(zoo):
    vdir = zoo / "beat-3" / "small-cnn2" / "v1"
    names = {p.name for p in vdir.iterdir()}
    assert {
        "model.keras",
        "model.tflite",
        "configuration.json",
        "metrics.json",
        "confusion.json",
        "confusion.png",
        "history.csv",
    } <= names
    assert not any(n.endswith((".h", ".cc")) for n in names)  # C arrays are derived on demand
    assert not [p for p in zoo.rglob(".*") if p.name != "."]  # no staging leftovers


def test_metrics_json(zoo):
    m = json.loads((zoo / "beat-3" / "small-cnn2" / "v1" / "metrics.json").read_text())
    assert m["split"] == "ds2" and m["dataset"] == "mitdb" and not m["leaky"]
    assert m["calibration"]["split"] == "train (mitdb:DS1 less the validation patients)"
    assert m["float"]["n"] == m["int8"]["n"] == 44259 + 1837 + 3221
    assert abs(m["float"]["macro_f1"] - m["int8"]["macro_f1"]) <= 0.01
    assert m["int8_macro_f1_drop"] == pytest.approx(m["float"]["macro_f1"] - m["int8"]["macro_f1"])
    assert m["tflite_bytes"] == (zoo / "beat-3" / "small-cnn2" / "v1" / "model.tflite").stat().st_size
    assert 1000 < m["tflm_arena_bytes"] < 200_000 and m["host_latency_ms"] > 0
    assert m["verification"] == {"frames": 1000, "litert_reference_vs_tflm": "bit-identical"}
    assert "FULLY_CONNECTED" not in m["ops"] and "CONV_2D" in m["ops"]
    assert m["params"] > 1000 and m["macs"] > m["params"]


def test_configuration_is_the_firmware_contract(zoo):
    c = json.loads((zoo / "beat-3" / "small-cnn2" / "v1" / "configuration.json").read_text())
    fw = c["firmware"]
    assert fw["sampling_rate_hz"] == 100 and fw["lead"] == "MLII" and fw["frame_size"] == 512
    assert fw["r_peak_index"] == 256 and fw["normalization"]["name"] == "zscore"
    assert fw["class_names"] == ["N", "S", "V"]
    assert [i["name"] for i in fw["inputs"]] == ["ecg", "rr"] or [i["name"] for i in fw["inputs"]] == [
        "rr",
        "ecg",
    ]
    assert all(t["dtype"] == "int8" and t["scale"] > 0 for t in fw["inputs"] + fw["outputs"])
    assert fw["outputs"][0]["shape"] == [1, 3]
    assert parse_config(c["config"]).name == "small-cnn2"


def test_c_array_matches_the_tflite(zoo, tmp_path):
    from heartzoo.cli import app

    vdir = zoo / "beat-3" / "small-cnn2" / "v1"
    buf = (vdir / "model.tflite").read_bytes()
    app(
        [
            "zoo",
            "c-array",
            "small-cnn2",
            "--zoo",
            str(zoo),
            "--out",
            str(tmp_path / "fw"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        standalone_mode=False,
    )
    assert sorted(p.name for p in (tmp_path / "fw").iterdir()) == [
        "small_cnn2_model.cc",
        "small_cnn2_model.h",
        "small_cnn2_model_golden.h",
    ]
    src = (tmp_path / "fw" / "small_cnn2_model.cc").read_text()
    hdr = (tmp_path / "fw" / "small_cnn2_model.h").read_text()
    assert "alignas(16) const unsigned char small_cnn2_model[]" in src
    data = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", src))
    assert data == buf and f"small_cnn2_model_len = {len(buf)};" in src
    arena = json.loads((vdir / "metrics.json").read_text())["tflm_arena_bytes"]
    assert f"small_cnn2_model_arena_size = {(arena + 1024 + 15) // 16 * 16};" in hdr
    assert "resolver.AddConv2D();" in hdr and "MicroMutableOpResolver" in hdr


def test_index_lists_sizes_and_hashes(zoo):
    index = json.loads((zoo / "index.json").read_text())
    (entry,) = index["models"]
    assert (entry["task"], entry["name"], entry["version"]) == ("beat-3", "small-cnn2", "v1")
    for f in entry["files"]:
        p = zoo / entry["path"] / f["path"]
        assert f["bytes"] == p.stat().st_size and f["sha256"] == _sha(p)


def test_verify_passes_then_fails_on_a_corrupted_file(zoo, shared_cache, tmp_path):
    from heartzoo.zoo.index import verify

    assert verify(zoo, env=Environment(cache_dir=shared_cache)) == []
    bad = tmp_path / "zoo"
    shutil.copytree(zoo, bad)
    tfl = bad / "beat-3" / "small-cnn2" / "v1" / "model.tflite"
    raw = bytearray(tfl.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    tfl.write_bytes(bytes(raw))
    problems = verify(bad, env=Environment(cache_dir=shared_cache))
    assert len(problems) == 1 and "model.tflite: sha256" in problems[0]
    proc = subprocess.run(
        [sys.executable, "-m", "heartzoo", "zoo", "verify", "--zoo", str(bad), "--no-agreement"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "model.tflite: sha256" in proc.stderr
    (bad / "beat-3" / "small-cnn2" / "v1" / "history.csv").unlink()
    assert any("history.csv: missing" in p for p in verify(bad, agreement=False))
    # an export killed before its rename leaves its staging folder: hidden, and said
    (bad / "beat-3" / "small-cnn2" / ".v2.k3x9q1").mkdir()
    assert any(".v2.k3x9q1: the staging folder of an export" in p for p in verify(bad, agreement=False))


def test_a_name_serves_one_task_and_a_publish_cut_short_leaves_no_version(run, zoo, shared_cache, tmp_path):
    """A run of another task under a published name: refused before any work (it was exported, its index
    refused, the folder left unlisted, and every later publish into that zoo failed). A version whose index
    cannot be written is taken back; `verify` names a version folder the index does not list."""
    from heartzoo.zoo.index import publish, verify

    zoo = shutil.copytree(zoo, tmp_path / "zoo")
    other = shutil.copytree(run, tmp_path / "other")
    cfg = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**cfg, "task": "beat-2"}))
    with pytest.raises(
        HeartzooError, match=r"small-cnn2: the zoo .* publishes a model of that name for task beat-3"
    ):
        publish(other, zoo, env=Environment(cache_dir=shared_cache))
    assert not (zoo / "beat-2").exists()
    (zoo / "beat-3" / "Not a name" / "v1").mkdir(parents=True)  # unlisted: refused before any work
    with pytest.raises(HeartzooError, match="is not a model name"):
        publish(_litert_copy(run, tmp_path), zoo, version="v2", env=Environment(cache_dir=shared_cache))
    assert sorted(p.name for p in (zoo / "beat-3" / "small-cnn2").iterdir()) == ["v1"]
    shutil.rmtree(zoo / "beat-3" / "Not a name")
    shutil.copytree(zoo / "beat-3" / "small-cnn2" / "v1", zoo / "beat-3" / "small-cnn2" / "v7")
    assert verify(zoo, agreement=False) == [
        f"{zoo / 'beat-3' / 'small-cnn2' / 'v7'}: a version folder the index does not list"
    ]


def test_a_zoo_that_is_no_longer_what_its_index_lists_takes_no_new_version(run, zoo, shared_cache, tmp_path):
    """Publishing wrote the index again from the disk: a changed file was then vouched for, and a version
    gone missing was dropped from the index (and its number handed out again). Now refused before any
    work, naming the file, with the index as it was."""
    from heartzoo.zoo.index import INDEX, publish

    zoo = shutil.copytree(zoo, tmp_path / "zoo")
    index = (zoo / INDEX).read_bytes()
    metrics = zoo / "beat-3" / "small-cnn2" / "v1" / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"macro_f1": 0.', '"macro_f1": 1.', 1))
    with pytest.raises(HeartzooError, match=r"metrics.json: .* is no longer what .*index.json lists"):
        publish(run, zoo, version="v2", env=Environment(cache_dir=shared_cache))
    shutil.rmtree(metrics.parent)
    with pytest.raises(HeartzooError, match=r"small-cnn2/v1: listed, missing"):
        publish(run, zoo, version="v2", env=Environment(cache_dir=shared_cache))
    assert (zoo / INDEX).read_bytes() == index and not (zoo / "beat-3" / "small-cnn2" / "v2").exists()


def test_export_into_a_folder_holding_another_model_s_kit_publishes_nothing(run, tmp_path):
    """`export --firmware DIR` where DIR holds another model's kit under the same prefix: refused before the
    version is published (it was published, then the kit refused)."""
    from conftest import REPO, run_cli

    from heartzoo.export.firmware_kit import write_firmware_kit

    write_firmware_kit(REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6", tmp_path / "kit")
    res = run_cli("export", str(run), "--zoo", str(tmp_path / "zoo"), "--firmware", str(tmp_path / "kit"))
    assert res.returncode == 2 and "holds the kit of beat-3-cnn3-student" in " ".join(res.stderr.split())
    assert not (tmp_path / "zoo").exists()
    # kit options the kit cannot take: refused before publishing too (a version was published, then refused)
    for bad, said in (
        (["--recording-hz", "1"], "--recording-hz 1: too low"),
        (["--fixed-point", "--adc-bits", "2"], "--adc-bits 2 at --adc-gain 200 counts per mV holds"),
    ):
        kit = str(tmp_path / "kit2")
        res = run_cli("export", str(run), "--zoo", str(tmp_path / "zoo"), "--firmware", kit, *bad)
        assert res.returncode == 2 and said in " ".join(res.stderr.split()), res.stderr
        assert not (tmp_path / "zoo").exists()
    # a kit inside a zoo that publishing would make: refused by its folder before the zoo exists
    res = run_cli(
        "export", str(run), "--zoo", str(tmp_path / "zoo"), "--firmware", str(tmp_path / "zoo" / "kit")
    )
    assert res.returncode == 2 and "inside the zoo" in " ".join(res.stderr.split()), res.stderr
    assert not (tmp_path / "zoo").exists()


def _litert_copy(run: Path, folder: Path) -> Path:
    """A copy of `run` whose export scores int8 with LiteRT's optimized kernels (TFLM, bit-exact to the
    reference kernels, is tested by the shared zoo's export), on 300 verification frames."""
    copy = shutil.copytree(run, folder / "run")
    cfg = json.loads((copy / "config.json").read_text())
    cfg["export"].update(int8_runtime="litert", verify_frames=300)
    (copy / "config.json").write_text(json.dumps(cfg))
    return copy


@pytest.mark.slow
def test_published_versions_are_never_overwritten(run, zoo, shared_cache, tmp_path):
    from heartzoo.zoo.index import publish, read_index

    zoo = shutil.copytree(zoo, tmp_path / "zoo")  # the shared zoo keeps its one version
    v1 = zoo / "beat-3" / "small-cnn2" / "v1"
    before = {p.name: _sha(p) for p in v1.iterdir()}
    with pytest.raises(HeartzooError, match="published already; published versions are never overwritten"):
        publish(run, zoo, version="v1", env=Environment(cache_dir=shared_cache))
    assert {p.name: _sha(p) for p in v1.iterdir()} == before
    with pytest.raises(ExportError, match="exists already"):
        export_run(run, v1, env=Environment(cache_dir=shared_cache))
    # the same model again (a copy of the run, scored by LiteRT: TFLM's DS2 pass is not the point) would be
    # a second version of one model: refused before any work, unless a version is named
    copy = _litert_copy(run, tmp_path)
    with pytest.raises(HeartzooError, match=r"published already as small-cnn2@v1 .*Name a version"):
        publish(copy, zoo, env=Environment(cache_dir=shared_cache))
    assert sorted(p.name for p in v1.parent.iterdir()) == ["v1"]
    v2 = publish(copy, zoo, version="v2", env=Environment(cache_dir=shared_cache))
    assert v2.name == "v2" and [m["version"] for m in read_index(zoo)["models"]] == ["v1", "v2"]
    assert {p.name: _sha(p) for p in v1.iterdir()} == before
    # each version records the model file it was exported from
    assert json.loads((v2 / "metrics.json").read_text())["exported_from"] == _sha(run / "model.keras")


@pytest.mark.slow
def test_collapsed_int8_model_fails_the_export(run, shared_cache, tmp_path):
    from heartzoo.evaluation.evaluate import load_run
    from heartzoo.export import calibration_inputs

    # Calibration frames not normalised like the model input (here at 1/20 of the scale): the int8
    # ranges are far too narrow, activations saturate and the int8 model collapses.
    run = _litert_copy(run, tmp_path / "copy")
    _, cfg = load_run(run)
    good = calibration_inputs(cfg, n=300, cache_dir=shared_cache)
    bad = {"ecg": good["ecg"] * 0.05, "rr": good["rr"]}
    with pytest.raises(
        ExportError,
        match=r"int8 macro-F1 .* points below float .* the bound \(export.max_f1_drop\) is 1.00 points",
    ):
        export_run(run, tmp_path / "v1", env=Environment(cache_dir=shared_cache), calibration=bad)
    assert not (tmp_path / "v1").exists()  # nothing half-written
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]


def test_ops_tflm_lacks_fail_the_export():
    import keras

    inp = keras.Input((1, 64, 1), batch_size=1, name="ecg")
    x = keras.layers.Reshape((256,))(keras.layers.Conv2D(4, (1, 3), padding="same")(inp))
    out = keras.layers.Softmax()(keras.ops.top_k(x, k=3)[0])
    calib = np.random.default_rng(0).standard_normal((20, 1, 64, 1)).astype("float32")
    buf = convert_int8(keras.Model(inp, out), calib)
    with pytest.raises(
        ExportError, match="TensorFlow Lite Micro cannot run this model: it has no kernel for TOPK_V2"
    ):
        run_tflm(buf, quantized_inputs(buf, calib[:2]))


def test_zoo_cli_list_and_show(zoo, tmp_path):
    env = {**os.environ, "COLUMNS": "200", "TF_CPP_MIN_LOG_LEVEL": "3"}

    def zoo_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "heartzoo", "zoo", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    proc = zoo_cli("list", "--zoo", str(zoo), "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["models"][0]["name"] == "small-cnn2"
    proc = zoo_cli("show", "small-cnn2@v1", "--zoo", str(zoo))
    assert proc.returncode == 0 and "int8 (TFLM) on ds2" in proc.stdout and "model.tflite" in proc.stdout
    proc = zoo_cli("show", "nope", "--zoo", str(zoo))
    assert proc.returncode == 2 and "no model 'nope' in the zoo" in proc.stderr
    # a changed metrics.json is not shown as the version's numbers
    copy = shutil.copytree(zoo, tmp_path / "zoo")
    metrics = copy / "beat-3" / "small-cnn2" / "v1" / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"macro_f1": 0.', '"macro_f1": 1.', 1))
    proc = zoo_cli("show", "small-cnn2@v1", "--zoo", str(copy))
    assert proc.returncode != 0 and "metrics.json: sha256" in " ".join(proc.stderr.split())
    assert "macro-F1" not in proc.stdout


@pytest.mark.slow
def test_litert_runtime_gives_the_tflm_metrics(run, zoo, shared_cache, tmp_path):
    # Models too slow for TFLM on the host get their int8 metrics from LiteRT's optimized kernels;
    # on this model the two runtimes must give (nearly) the same numbers, and TFLM still runs.
    copy = _litert_copy(run, tmp_path)
    m = export_run(copy, tmp_path / "v1", env=Environment(cache_dir=shared_cache)).model_dump(mode="json")
    tflm = json.loads((zoo / "beat-3" / "small-cnn2" / "v1" / "metrics.json").read_text())
    v = m["verification"]
    assert v["frames"] == 300 and v["litert_reference_vs_tflm"] == "bit-identical"
    assert v["int8_metrics_runtime"].startswith("LiteRT optimized")
    assert v["litert_optimized_vs_tflm"]["same_class"] >= 0.99
    assert abs(m["int8"]["macro_f1"] - tflm["int8"]["macro_f1"]) < 0.005
    assert m["int8"]["n"] == tflm["int8"]["n"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "params", "absent"),
    [
        ("nin-encoder", {"widths": (8, 16)}, "GELU"),
        ("recurrent-gru", {"units": 8, "downsample": 16}, "WHILE"),
        # an unrolled Keras LSTM is FULLY_CONNECTED steps, whose kernels differ between the runtimes
        ("recurrent-lstm", {"units": 8, "downsample": 16}, "FULLY_CONNECTED"),
    ],
)
def test_gelu_and_recurrent_models_run_in_tflm(arch, params, absent):
    # TFLM has no GELU kernel and the int8 calibrator crashes on a recurrent loop: export rewrites
    # both (tanh-form GELU, the recurrence as 1x1 convolutions) and the function must stay the same.
    from heartzoo.export import (
        firmware_model,
        microcontroller_layers,
        run_litert,
        runtime_mismatch,
        tflite_ops,
    )
    from heartzoo.models import build_model

    cfg = parse_config({"name": "x", "task": "beat-3", "model": {"arch": arch, "params": params}})
    model = build_model(arch, input_shape=(1, 512, 1), num_classes=3, **params)
    x = np.random.default_rng(0).standard_normal((24, 1, 512, 1)).astype("float32")
    ref = model.predict(x, verbose=0)
    assert np.abs(microcontroller_layers(model).predict(x, verbose=0) - ref).max() < 5e-3
    buf = convert_int8(firmware_model(model, cfg), x)
    assert absent not in tflite_ops(buf)
    q = quantized_inputs(buf, x)
    assert runtime_mismatch(run_litert(buf, q), run_tflm(buf, q)) == (0, 0)


def test_calibration_source_names_what_trained_and_says_when_it_is_leaky():
    from heartzoo.config import parse_config
    from heartzoo.export.convert import calibration_source

    beats = parse_config(
        {
            "name": "b",
            "task": "beat-3",
            "model": {"arch": "cnn1"},
            "data": {"train": ["mitdb:DS1", "svdb:all"]},
        }
    )
    af = parse_config(
        {
            "name": "a",
            "task": "af-4",
            "model": {"arch": "cnn1"},
            "data": {"train": ["cinc2017:train"]},
            "input": {"lead": "ECG", "fs": 100, "frame_size": 1000},
        }
    )
    assert calibration_source(beats, False) == "train (mitdb:DS1, svdb:all less the validation patients)"
    assert calibration_source(af, False) == "train (cinc2017:train less the validation recordings)"
    assert "LEAKY" in calibration_source(beats, True) and "DS1" not in calibration_source(beats, True)


@pytest.mark.parametrize("ref", ["quality/quality-cnn3/v1", "beat-3/beat-3-cnn3-student-ensemble/v2"])
def test_the_c_array_s_arena_starts_the_model_where_the_published_one_did_not(ref):
    """These versions published TFLM's allocation total as their arena (9,024 B for the quality gate),
    which leaves out the memory planner's scratch: TFLM refused to start them in it. The C array's arena
    is measured again and TFLM builds and runs the model in it, headroom taken off."""
    from tflite_micro.python.tflite_micro import runtime

    from heartzoo.export.codegen import c_array_files
    from heartzoo.export.runtimes import _capture_stderr, io_specs

    vdir = Path(__file__).resolve().parents[1] / "zoo" / ref
    buf = (vdir / "model.tflite").read_bytes()
    header = next(t for n, t in c_array_files(vdir).items() if n.endswith(".h") and "golden" not in n)
    arena = int(re.search(r"_arena_size = (\d+);", header)[1]) - 1024
    published = json.loads((vdir / "metrics.json").read_text())["tflm_arena_bytes"]

    def runs(size: int) -> bool:
        try:
            tm = _capture_stderr(lambda: runtime.Interpreter.from_bytes(buf, arena_size=size))[0]
            for j, spec in enumerate(io_specs(buf)[0]):
                tm.set_input(np.zeros(spec.shape, spec.dtype), j)
            _capture_stderr(tm.invoke)
        except RuntimeError:
            return False
        return True

    assert not runs(published) and runs(arena) and arena > published
