"""One Preprocessor: predict on a raw record and the evaluation path see the same inputs; the firmware
contract round-trips; configs written before the redesign still read; teachers come from the zoo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from heartzoo.config import InputSpec, load_config, parse_config
from heartzoo.environment import Environment
from heartzoo.errors import ConfigError
from heartzoo.preprocess import Preprocessor
from heartzoo.preprocess.rr_features import rr_intervals

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"
STUDENT = ZOO / "beat-3" / "beat-3-cnn3-student" / "v1"
VERSIONS = sorted(ZOO.glob("*/*/v*/configuration.json"))


@pytest.mark.slow
def test_predict_and_evaluation_see_identical_inputs_and_outputs(data_root, shared_cache):
    """`heartzoo.predict` on a raw DS2 record (its own resampling, framing, RR features) and
    `heartzoo evaluate`'s path (cached frames of the whole split) give the same inputs, bit for bit,
    and the same probabilities for every beat the task keeps."""
    import heartzoo
    from heartzoo.data import mitbih
    from heartzoo.data.prepare import load_task_split
    from heartzoo.evaluation.evaluate import split_probabilities
    from heartzoo.tasks import get_task
    from heartzoo.zoo.hub import beat_inputs

    loaded = heartzoo.load_model(STUDENT)
    config = loaded.config
    record = "232"  # DS2, many S beats
    sig = mitbih.read_signal(data_root / "mitdb", record)
    beats = mitbih.read_beats(data_root / "mitdb", record)
    keep = get_task(config.task).labels(beats.aami) >= 0

    mine = beat_inputs(loaded, sig.values, sig.fs, beats.samples)
    ws, _ = load_task_split(config, "ds2", cache_dir=shared_cache)
    rows = np.flatnonzero(ws.record == record)
    np.testing.assert_array_equal(ws.sample[rows], beats.samples[keep])
    theirs = ws.subset(rows).model_inputs(Preprocessor.of(config))
    assert set(mine) == set(theirs) == {"ecg", "rr"}
    for k in mine:
        np.testing.assert_array_equal(mine[k][keep], theirs[k])

    probs, _, _ = split_probabilities(loaded.model, config, "ds2", env=Environment(cache_dir=shared_cache))
    predicted = heartzoo.predict(loaded, sig.values, sig.fs, beats.samples)[keep]
    np.testing.assert_allclose(predicted, probs[rows], atol=1e-6)


@pytest.mark.parametrize("path", VERSIONS, ids=lambda p: f"{p.parent.parent.name}")
def test_the_firmware_contract_round_trips(path):
    """Every published version's contract says exactly what its config's Preprocessor does, and
    rebuilds that Preprocessor."""
    from heartzoo.meta import Configuration, read_meta

    conf = read_meta(Configuration, path)
    pre = Preprocessor.of(parse_config(conf.config, str(path)))
    stored = conf.firmware.model_dump(mode="json", exclude_none=True)
    assert {k: stored[k] for k in pre.contract()} == pre.contract()
    assert Preprocessor.from_contract(conf.firmware).contract() == pre.contract()


def test_preprocessor_steps_on_a_synthetic_recording():
    """Frames at the model rate with the R peak at its index, z-scored; RR features from the peaks;
    the template channel only when asked for."""
    from conftest import synthetic_ecg

    x, peaks = synthetic_ecg(360.0, 30.0, beat_every=0.8)
    pre = Preprocessor(InputSpec(fs=100, frame_size=128, rr_features=True))
    inputs = pre(x, 360.0, peaks)
    assert inputs["ecg"].shape == (len(peaks), 1, 128, 1) and inputs["rr"].shape == (len(peaks), 4)
    ecg = inputs["ecg"][:, 0, :, 0]
    np.testing.assert_allclose(ecg.mean(axis=1), 0, atol=1e-5)
    assert (ecg.argmax(axis=1) == 64).mean() > 0.9  # the QRS spike sits at r_peak_index
    np.testing.assert_allclose(rr_intervals(peaks, 360.0)[1:, 0], 0.8, atol=1 / 360)
    np.testing.assert_allclose(inputs["rr"][5:, 0], 0.8 / 0.801, rtol=1e-3)  # pre / local10
    assert rr_intervals(peaks, 360.0)[:, 4].max() < 0.01  # a steady rhythm (1-sample rounding): not irregular
    irregular = Preprocessor(InputSpec(fs=100, frame_size=128, rr_features=True, rr_irregularity=True))
    assert irregular.rr_names[-1] == "irregularity10"
    assert irregular(x, 360.0, peaks)["rr"].shape == (len(peaks), 5)
    two = Preprocessor(InputSpec(fs=100, frame_size=128, template_beats=3))(x, 360.0, peaks)
    assert two.shape == (len(peaks), 1, 128, 2)
    np.testing.assert_array_equal(two[0, 0, :, 1], 0)  # the first beat is its own template
    # what any recording must be, checked as predict checks it (NaN gave NaN inputs, reversed peaks RR)
    from heartzoo.errors import HeartzooError

    broken = np.where(np.arange(len(x)) == 500, np.nan, x)
    for args, says in (((broken, 360.0, peaks), "NaN or infinite"), ((x, 360.0, peaks[::-1]), "increasing")):
        with pytest.raises(HeartzooError, match=says):
            pre(*args)
        with pytest.raises(HeartzooError, match=says):
            next(pre.batches(*args, 10))


def test_schema_1_configs_are_read_as_they_meant():
    """A config written before 0.2: `data.dir` null is dropped, `model.rr_features` moves to `input`;
    a machine path in `data.dir` is refused with what to do instead."""
    old = {
        "name": "x",
        "task": "beat-3",
        "data": {"dir": None, "protocol": "inter-patient"},
        "model": {"arch": "cnn1", "rr_features": True},
    }
    cfg = parse_config(old)
    assert cfg.input.rr_features and "dir" not in cfg.data.model_dump()
    assert cfg == parse_config(
        {"name": "x", "task": "beat-3", "model": {"arch": "cnn1"}, "input": {"rr_features": True}}
    )
    with pytest.raises(
        ConfigError, match=r"'data\.dir' is no longer part of a configuration: pass --data-dir"
    ):
        parse_config({**old, "data": {"dir": "/home/me/data"}}, "old.yaml")
    with pytest.raises(ConfigError, match=r"'model\.rr_features' and 'input\.rr_features' disagree"):
        parse_config({**old, "input": {"rr_features": False}})
    with pytest.raises(ConfigError, match=r"unknown field 'data\.dirr'"):
        # the new schema has no such field: only the migration of old files accepts it
        parse_config({"name": "x", "task": "beat-3", "data": {"protocol": "inter-patient", "dirr": "/x"}})


def test_a_zoo_teacher_is_named_and_loaded_by_version():
    """`compress.distill.teacher: NAME@vN` loads that version from the zoo, checked against its index;
    a malformed reference is refused while the config is read."""
    from heartzoo.training.teacher import load_teacher

    student = json.loads((STUDENT / "configuration.json").read_text())["config"]
    cfg = parse_config({**student, "compress": {"distill": {"teacher": "beat-3-efficientnetv2-sm@v1"}}})
    assert cfg.compress.distill.zoo_ref == ("beat-3-efficientnetv2-sm", "v1")
    teacher = load_teacher(cfg, zoo=ZOO)
    assert teacher.count_params() > 50_000
    for bad in ("beat-3-efficientnetv2-sm@1", "../x@v1", "x@v1/../.."):
        with pytest.raises(ConfigError, match=r"compress\.distill\.teacher"):
            parse_config({**student, "compress": {"distill": {"teacher": bad}}})
    wrong = parse_config({**student, "compress": {"distill": {"teacher": "beat-2-efficientnetv2-sm@v1"}}})
    with pytest.raises(ConfigError, match="does not fit the student"):
        load_teacher(wrong, zoo=ZOO)


def test_a_teacher_that_trained_on_the_student_s_validation_records_is_said(data_root):
    """The recommended student's teacher (beat-3-efficientnetv2-sm v1) drew other validation patients and
    trained on three of the student's: nothing said so (a fold ensemble is refused for the same reason)."""
    from heartzoo.training.teacher import teacher_folder, validation_seen

    cfg = load_config(REPO / "configs" / "beat-3-cnn3-student.yaml", model=True)
    folder = teacher_folder(cfg, zoo=ZOO)
    note = validation_seen(cfg, folder, data_root)
    assert note is not None and "3 of the student's validation records (119, 203, 209)" in note
    from heartzoo.data.prepare import split_records
    from heartzoo.evaluation.evaluate import run_config

    held = split_records(run_config(folder)[1], data_root)["val"]  # the teacher's, as the note advises
    validation = cfg.data.validation.model_copy(update={"records": held})
    apart = cfg.model_copy(update={"data": cfg.data.model_copy(update={"validation": validation})})
    assert validation_seen(apart, folder, data_root) is None


def test_rr_irregularity_leaves_out_the_beat_and_one_ectopic_jump():
    """The median of the successive differences before the beat: a premature beat itself, or one
    earlier ectopic beat, barely moves it; alternating intervals (bigeminy-like chaos) do."""
    from heartzoo.preprocess.rr_features import RR_EPS, rr_irregularity

    steady = np.full(30, 0.8)
    assert rr_irregularity(steady)[-1] == 0
    premature = steady.copy()
    premature[20] = 0.5  # beat 20 comes early: its own pre interval is short
    assert rr_irregularity(premature)[20] == 0
    assert rr_irregularity(premature)[22] == 0  # the two jumps it made are outvoted by seven steady ones
    chaos = np.tile([0.6, 1.0], 15)
    np.testing.assert_allclose(rr_irregularity(chaos)[-1], 0.4 / (0.8 + RR_EPS))
    # every beat against the definition, written out: the first ones (shorter windows, even counts of
    # differences: the lower median) and the beat's own interval left out
    pre = np.random.default_rng(0).uniform(0.3, 1.5, 40)
    want = np.zeros(40)
    for i in range(2, 40):
        window = pre[max(i - 10, 0) : i]
        d = np.sort(np.abs(np.diff(window)))
        want[i] = d[(len(d) - 1) // 2] / (window.mean() + RR_EPS)
    np.testing.assert_allclose(rr_irregularity(pre), want, rtol=1e-6)
    assert rr_irregularity(np.array([0.8]))[0] == 0  # too few intervals


def test_rr_irregularity_needs_rr_features():
    with pytest.raises(ValueError, match=r"rr_irregularity .* needs rr_features"):
        InputSpec(rr_irregularity=True)
    spec = InputSpec(rr_features=True, rr_irregularity=True)
    pre = Preprocessor(spec)
    assert pre.rr_inputs == 5 and pre.input_shapes["rr"] == (5,)
    contract = pre.contract()
    assert contract["rr_features"]["order"][-1] == "irregularity10"
    back = Preprocessor.from_contract(
        {**contract, "class_names": [], "inputs": [], "outputs": [], "output": ""}
    )
    assert back.spec.rr_irregularity and back.rr_inputs == 5


def test_a_restart_reads_each_stretch_as_a_recording_of_its_own(data_root):
    """With `restarts` (the first beats after lost signal), the RR features and the running template of
    the beats on either side are those of each stretch read alone: no interval or frame crosses it. Without,
    the inputs are the whole recording's."""
    from heartzoo.data import mitbih

    sig = mitbih.read_signal(data_root / "mitdb", "232")
    x, peaks = sig.values[: 360 * 120], mitbih.read_beats(data_root / "mitdb", "232").samples
    peaks = peaks[(peaks > 400) & (peaks < 360 * 118)]
    spec = InputSpec(fs=100, frame_size=128, rr_features=True, rr_irregularity=True, template_beats=8)
    pre, k = Preprocessor(spec), len(peaks) // 2

    def rows(r_peaks, restarts=()):
        parts = list(pre.batches(x, 360.0, r_peaks, 7, restarts))  # batches cut inside each stretch
        return {n: np.concatenate([p[n] for p in parts]) for n in ("ecg", "rr")}

    whole, cut = rows(peaks), rows(peaks, [k])
    first, second = rows(peaks[:k]), rows(peaks[k:])
    for name in ("ecg", "rr"):
        np.testing.assert_allclose(cut[name][:k], first[name][:k], atol=1e-6)
        np.testing.assert_allclose(cut[name][k:], second[name], atol=1e-6)
        np.testing.assert_allclose(rows(peaks, ())[name], whole[name])
    assert not np.allclose(cut["rr"][k : k + 10], whole["rr"][k : k + 10])  # the restart changed them
    from heartzoo.errors import HeartzooError

    with pytest.raises(HeartzooError, match=rf"restarts \[{len(peaks)}\]: not indices of the {len(peaks)} R"):
        rows(peaks, [len(peaks)])
