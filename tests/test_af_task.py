"""af-4, the CinC 2017 task: windows of real AliveCor recordings labelled by their recording, the splits
(the committed test split kept out, validation stratified and stable), and scores per recording."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from heartzoo.config import AugmentConfig, parse_config
from heartzoo.data import recording_windows as rw
from heartzoo.errors import HeartzooError
from heartzoo.evaluation.metrics import recording_probabilities
from heartzoo.preprocess import InputSpec
from heartzoo.tasks import get_task


def _config(**data):
    raw = {
        "name": "af",
        "task": "af-4",
        "input": {"lead": "ECG", "fs": 50, "frame_size": 500},
        "data": {"train": ["cinc2017:train"], "protocol": "inter-patient", **data},
    }
    return parse_config(raw, "af.yaml")


@pytest.fixture(scope="module")
def cinc(data_root):
    if not (data_root / "cinc2017" / "REFERENCE-v3.csv").is_file():
        pytest.skip("cinc2017 not found beside mitdb")
    from heartzoo.data.cinc2017 import DATABASE

    return DATABASE


def test_the_task_scores_recordings_over_n_a_o():
    task = get_task("af-4")
    assert task.per_recording and task.class_names == ("N", "A", "O", "~")
    assert task.macro_classes == ("N", "A", "O") and task.source_classes == task.class_names


def test_recording_probabilities_average_windows_in_recording_order():
    probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.4, 0.6]], np.float32)
    p, y = recording_probabilities(probs, np.array([0, 1, 0, 1]), np.array(["b", "a", "b", "a"]))
    np.testing.assert_allclose(p, [[0.55, 0.45], [0.45, 0.55]], rtol=1e-6)  # b first: it came first
    assert y.tolist() == [0, 1]
    with pytest.raises(ValueError, match="different labels"):
        recording_probabilities(probs, np.array([0, 1, 1, 1]), np.array(["b", "a", "b", "a"]))


def test_window_starts_cover_short_and_long_recordings():
    assert rw.recording_window_starts(9000, 3000).tolist() == [0, 3000, 6000]
    assert rw.recording_window_starts(10000, 3000).tolist() == [0, 3000, 6000]  # the rest is left out
    assert rw.recording_window_starts(2700, 3000).tolist() == [-150]  # one centred window


def test_splits_keep_the_test_split_out_and_stay_stable(cinc):
    from heartzoo.data.cinc2017 import held_out_records

    labels = cinc.labels()
    sides = rw.split_recordings(labels, held_out_records(), 0.2, 0)
    assert set(sides["test"]) == set(held_out_records())
    assert not set(sides["train"]) & set(sides["val"]) and not (
        set(sides["train"]) | set(sides["val"])
    ) & set(sides["test"])
    assert len(sides["train"]) + len(sides["val"]) + len(sides["test"]) == len(labels)
    for label in "NAO~":  # stratified: a fifth of each label's training recordings
        pool = [r for r in sides["train"] + sides["val"] if labels[r] == label]
        assert abs(sum(labels[r] == label for r in sides["val"]) - 0.2 * len(pool)) <= 1
    assert rw.split_recordings(labels, held_out_records(), 0.2, 0) == sides
    assert rw.split_recordings(labels, held_out_records(), 0.2, 1)["val"] != sides["val"]


def test_windows_of_a_real_recording_carry_its_label(cinc):
    """A00001 (N, 30 s at 300 Hz): three 10 s windows at 50 Hz, each labelled N."""
    spec = InputSpec(lead="ECG", fs=50, frame_size=500)
    a = rw.recording_arrays(cinc, cinc.folder(), "A00001", spec, 0)
    sig = cinc.read_signal(cinc.folder(), "A00001", "ECG")
    assert a["x"].shape == (len(sig.values) // 3000, 500) and (a["aami"] == 0).all()
    assert np.allclose(a["x"].mean(axis=1), 0, atol=1e-4)  # z-scored per window


def test_only_cinc_trains_af_4():
    with pytest.raises(HeartzooError, match="cinc2017:train alone"):
        rw.load_recording_split(_config(train=["mitdb:DS1"]), "val")


def test_polarity_flips_about_its_share_of_frames():
    from heartzoo.data.augment import Augmenter

    aug = Augmenter(AugmentConfig(polarity=0.5), InputSpec(fs=50, frame_size=100))
    x = np.ones((2000, 100), np.float32)
    out = aug(x, np.random.default_rng(0))
    flipped = (out[:, 0] < 0).mean()
    assert 0.45 < flipped < 0.55 and set(np.unique(out).tolist()) == {-1.0, 1.0}
    assert np.array_equal(
        Augmenter(AugmentConfig(), InputSpec(fs=50, frame_size=100))(x, np.random.default_rng(0)), x
    )


def test_cross_validation_folds_deal_every_training_recording_once(cinc):
    from heartzoo.data.cinc2017 import held_out_records
    from heartzoo.data.folds import fold_config, fold_records

    config = _config()
    folds = fold_records(config, 5, 0)
    every = [r for f in folds for r in f]
    labels = cinc.labels()
    assert len(every) == len(set(every)) == len(labels) - len(held_out_records())
    assert not set(every) & set(held_out_records())
    af = [sum(labels[r] == "A" for r in f) for f in folds]
    assert max(af) - min(af) <= 1  # each label spread evenly
    ws = rw.load_recording_split(fold_config(config, folds[0][:5]), "val")
    assert sorted(set(ws.record.tolist())) == sorted(folds[0][:5])


def test_validation_can_be_read_in_overlapping_windows(cinc, shared_cache):
    """`hop` (a study of reading recordings in overlapping windows): each recording's windows start `hop`
    frames apart; without it validation keeps its non-overlapping windows, whatever training's hop."""
    from heartzoo.data.folds import fold_config, fold_records

    records = fold_records(_config(), 5, 0)[0][:3]
    config = fold_config(_config(), records)
    plain = rw.load_recording_split(config, "val", cache_dir=shared_cache)
    half = rw.load_recording_split(config, "val", cache_dir=shared_cache, hop=0.5)
    hop_config = config.model_copy(update={"data": config.data.model_copy(update={"window_hop": 0.5})})
    np.testing.assert_array_equal(
        rw.load_recording_split(hop_config, "val", cache_dir=shared_cache).x, plain.x
    )
    length = round(config.input.frame_size * 300 / config.input.fs)
    for record in records:
        n = len(cinc.read_signal(cinc.folder(), record, "ECG").values)
        starts = rw.recording_window_starts(n, length, length // 2)
        np.testing.assert_array_equal(half.sample[half.record == record], starts + length // 2)
        assert (plain.record == record).sum() < len(starts)


def _rhythm_model() -> str | None:
    import json

    from conftest import REPO

    models = json.loads((REPO / "zoo" / "index.json").read_text())["models"]
    return next((f"{m['name']}@{m['version']}" for m in models if m["task"] == "af-4"), None)


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_a_recording_shorter_than_a_window_gets_one_answer(cinc):
    """A01049 (9.67 s, training side): its one rhythm episode was read from a window padded at its end,
    the recording's class from one centred on it, and they disagreed (A against O) with no word."""
    from conftest import REPO

    from heartzoo.recording.rhythm_annotation import recording_class, rhythm_episodes
    from heartzoo.zoo.hub import load_model

    loaded = load_model("af-4-cnn4-student", "v1", format="tflite", zoo=REPO / "zoo")
    x = cinc.read_signal(cinc.folder(), "A01049", "ECG").values
    (episode,), whole = rhythm_episodes(x, 300.0, loaded), recording_class(x, 300.0, loaded)
    assert len(x) < loaded.config.input.frame_samples(300.0)
    assert episode.label == whole["class"] and episode.probability == pytest.approx(
        whole["probabilities"][episode.label], abs=1e-4
    )


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_each_rhythm_window_speaks_for_its_own_stretch_of_the_grid(cinc, tmp_path):
    """A recording a little longer than a window (A01253, 10.43 s, too noisy by its label; training side)
    is read in two windows, the second ending at the recording's end. The first speaks for its whole 10 s,
    as the recording's class reads it; the second only for the 0.43 s left over (it spoke for 10 s, and
    the first for 0.43 s, when their calls differed)."""
    from conftest import REPO

    from heartzoo.recording.rhythm_annotation import rhythm_episodes
    from heartzoo.zoo.hub import load_model

    loaded = load_model("af-4-cnn4-student", "v1", format="tflite", zoo=REPO / "zoo")
    sig = cinc.read_signal(cinc.folder(), "A01253", "ECG")
    n = loaded.config.input.frame_samples(sig.fs)
    assert n < len(sig.values) < 2 * n
    episodes = rhythm_episodes(sig.values, float(sig.fs), loaded)
    assert sum(e.windows for e in episodes) == 2
    assert {e.start for e in episodes} <= {0, n} and episodes[-1].end == len(sig.values)
    # the terminal says the 0.43 s, and the one window the recording's class reads
    from conftest import run_annotate

    res = run_annotate(
        cinc.folder() / "training2017" / "A01253", "beat-3-cnn3-student@v6", tmp_path, "--lead", "ECG",
        "--rhythm", "af-4-cnn4-student@v1",
    )  # fmt: skip
    said = " ".join(res.stdout.split())
    assert res.returncode == 0 and "-10.4 s" in said and " 1 window, mean+max)" in said, said


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_annotate_writes_the_rhythm_beside_the_beats(cinc, tmp_path, monkeypatch):
    """A CinC 2017 recording through `heartzoo annotate --rhythm`: the episodes tile the recording, each
    a `+` annotation with its aux note in the WFDB file, and the JSON names the model. Run from a folder
    with no zoo of its own: every model comes from `--zoo`."""
    import json

    import wfdb
    from conftest import REPO, run_annotate

    monkeypatch.chdir(tmp_path)

    base = cinc.folder() / "training2017" / "A00004"  # an AF recording
    res = run_annotate(
        base, "beat-3-cnn3-student@v3", tmp_path, "--lead", "ECG", "--rhythm", _rhythm_model(), "--json"
    )
    assert res.returncode == 0, res.stderr
    rhythm = json.loads(res.stdout)["rhythm"]
    assert rhythm["model"] == _rhythm_model()
    episodes = rhythm["episodes"]
    length = json.loads(res.stdout)["samples_in_recording"]
    assert episodes[0]["start"] == 0 and episodes[-1]["end"] == length
    assert all(a["end"] >= b["start"] for a, b in itertools.pairwise(episodes))
    ann = wfdb.rdann(str(tmp_path / "A00004"), "heartzoo")
    plus = [(s, a) for s, sym, a in zip(ann.sample, ann.symbol, ann.aux_note, strict=True) if sym == "+"]
    assert [(e["start"], e["aux"]) for e in episodes] == [(int(s), a.rstrip("\x00")) for s, a in plus]
    assert {e["aux"] for e in episodes} <= {"(N", "(AFIB", "(O", "(NOISE"}
    # the AF burden: the AF episodes' time over the time not called too noisy, and a warning for an AF
    # episode of 30 s or more
    seconds = {
        aux: sum(e["end"] - e["start"] for e in episodes if e["aux"] == aux) / 300
        for aux in ("(AFIB", "(NOISE")
    }
    burden = rhythm["af_burden"]
    assert burden["af_s"] == pytest.approx(seconds["(AFIB"], abs=0.01)
    assert burden["analysed_s"] == pytest.approx(length / 300 - seconds["(NOISE"], abs=0.01)
    long_af = [
        (e["start"], e["end"]) for e in episodes if e["aux"] == "(AFIB" and e["end"] - e["start"] >= 30 * 300
    ]
    assert [(e["start"], e["end"]) for e in burden["episodes"]] == long_af
    # the mean ventricular rate in AF: the detected beats inside the AF windows per minute of them
    assert (burden["af_rate_bpm"] is None) == (burden["af_s"] == 0)
    if burden["af_s"]:
        assert 40 < burden["af_rate_bpm"] < 200
    warned = [f for f in json.loads(res.stdout)["findings"] if f["code"] == "af"]
    assert len(warned) == (1 if long_af else 0)
    # the whole recording's class: what the evaluation scores for it (its windows as the test split's,
    # the int8 model's probabilities, the version's aggregation)
    from heartzoo.data.recording_windows import recording_arrays
    from heartzoo.evaluation.aggregation import MEAN, recording_probabilities
    from heartzoo.evaluation.evaluate import int8_probabilities
    from heartzoo.preprocess import Preprocessor
    from heartzoo.zoo.hub import load_model

    loaded = load_model(*_rhythm_model().split("@"), format="tflite", zoo=REPO / "zoo")
    arrays = recording_arrays(cinc, cinc.folder(), "A00004", loaded.config.input, 1)
    inputs = Preprocessor.of(loaded.config).inputs(arrays["x"], None, None)
    buf = (loaded.folder / "model.tflite").read_bytes()
    want = recording_probabilities(
        int8_probabilities(buf, inputs, loaded.config),
        ["A00004"] * len(arrays["x"]),
        loaded.firmware.aggregation or MEAN,
    )[0][0]
    whole = rhythm["recording"]
    assert whole["windows"] == len(arrays["x"]) and whole["class"] == loaded.class_names[int(want.argmax())]
    np.testing.assert_allclose(list(whole["probabilities"].values()), want, atol=1e-4)
    res = run_annotate(
        base, "beat-3-cnn3-student@v3", tmp_path, "--lead", "ECG", "--rhythm", "beat-3-cnn3-student@v3"
    )
    assert res.returncode != 0 and "--rhythm (rhythm= in Python) takes a model of af-4" in " ".join(
        res.stderr.split()
    )


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_icentia11k_false_af_per_hour(data_root):
    """The external test on the Icentia11k segments (no AF in them): every window of each segment is
    classified, and the alarms per hour are the windows called A over the hours of signal."""
    from conftest import REPO

    from heartzoo.meta import check_ref
    from heartzoo.recording.external_rhythm import icentia11k
    from heartzoo.zoo.hub import load_model

    if not (data_root / "icentia11k_sample").is_dir():
        pytest.skip("icentia11k_sample not found beside mitdb")
    loaded = load_model(*check_ref(_rhythm_model()), format="tflite", zoo=REPO / "zoo")
    out = icentia11k(loaded)
    per = out["records"]
    assert set(per) == {"p00000_s00", "p01001_s00"}
    assert per["p01001_s00"]["windows"] == int(per["p01001_s00"]["hours"] * 3600 // 10)  # 10 s windows
    assert out["false_af_per_hour"] == pytest.approx(out["false_af_windows"] / out["hours"])


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_mitdb_external_counts_false_af_in_every_other_rhythm(data_root):
    """MIT-BIH's windows inside rhythms that are neither AF, flutter, normal sinus nor paced: each
    rhythm's windows and those called A (all false), beside the AF F1 they do not enter."""
    from conftest import REPO

    from heartzoo.meta import check_ref
    from heartzoo.recording.external_rhythm import mitdb
    from heartzoo.zoo.hub import load_model

    loaded = load_model(*check_ref(_rhythm_model()), format="tflite", zoo=REPO / "zoo")
    out = mitdb(loaded, data_root)
    other = out["other"]
    rhythms = other["rhythms"]
    assert "SBR" in rhythms and "B" in rhythms  # 232's sinus bradycardia, bigeminy
    assert not set(rhythms) & {"N", "AFIB", "AFL", "P"}
    assert other["windows"] == sum(r["windows"] for r in rhythms.values())
    assert all(0 <= r["called_af"] <= r["windows"] for r in rhythms.values())
    assert other["called_af"] == pytest.approx(
        sum(r["called_af"] for r in rhythms.values()) / other["windows"]
    )
    assert out["windows"]["A"] > 0 and 0 < out["af_f1"] <= 1


@pytest.mark.slow
def test_the_af_4_kit_at_alivecors_rate_makes_the_windows_python_makes(cinc, tmp_path):
    """`--recording-hz 300`: the kit resamples CinC's 300 Hz stream itself; fed each window's centre as
    its "peak", its C preprocessing gives the int8 windows Python gives, and the model the same classes
    (float and fixed point, on real recordings of every label)."""
    from conftest import REPO, run_cli

    from heartzoo.export.firmware_check import compare
    from heartzoo.meta import Configuration, read_meta
    from heartzoo.zoo.index import find, read_index

    zoo = REPO / "zoo"
    vdir = zoo / find(read_index(zoo), "af-4-cnn3-student")["path"]
    proc = run_cli(
        "zoo",
        "c-array",
        "af-4-cnn3-student",
        "--zoo",
        str(zoo),
        "--firmware",
        "--recording-hz",
        "300",
        "--out",
        str(tmp_path / "kit"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "#define HZ_RECORDING_HZ 300 " in (tmp_path / "kit" / "heartzoo_contract.h").read_text()
    fw = read_meta(Configuration, vdir / "configuration.json").firmware
    labels = cinc.labels()
    cinc_gain = 1000.0  # adu per mV (the database's README)
    recordings = []
    for record in [next(r for r in sorted(labels) if labels[r] == lab) for lab in ("N", "A", "O", "~")]:
        sig = cinc.read_signal(cinc.folder(), record, "ECG")
        length = round(fw.frame_size * sig.fs / fw.sampling_rate_hz)
        centres = rw.recording_window_starts(len(sig.values), length) + length // 2
        counts = np.rint(sig.values.astype(np.float64) * cinc_gain).astype(np.int16)  # its own ADC's counts
        recordings.append(
            {"record": record, "fs": sig.fs, "values": sig.values, "counts": counts, "peaks": centres}
        )
    for fixed_point in (False, True):
        got = compare(
            vdir,
            recordings,
            fixed_point=fixed_point,
            model_frames=None,
            work_dir=tmp_path,
            adc_gain=cinc_gain,
            adc_bits=16,
        )
        assert got["frames"] == sum(len(r["peaks"]) for r in recordings) and got["peaks_in_order"]
        assert got["ecg"]["largest_difference_steps"] <= 1, got
        assert got["ecg"]["share_differing"] < 1e-3, got
        assert got["model"]["same_class"] == got["model"]["frames_run"] == got["frames"], got


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_classify_recording_answers_for_the_whole_recording(cinc):
    """`heartzoo.classify_recording`: a real AF recording's class and probabilities, as the int8
    evaluation computes them from the test split's windows (any sampling rate: the same recording
    resampled to 500 Hz answers alike); a missing (NaN) sample leaves its window out; a beat model and an
    infinite sample are refused with the reason."""
    from conftest import REPO
    from scipy.signal import resample_poly

    import heartzoo
    from heartzoo.evaluation.evaluate import int8_probabilities
    from heartzoo.meta import check_ref
    from heartzoo.preprocess import Preprocessor
    from heartzoo.zoo.hub import load_model

    loaded = load_model(*check_ref("af-4-cnn3-student"), format="tflite", zoo=REPO / "zoo")
    sig = cinc.read_signal(cinc.folder(), "A00004", "ECG")
    got = heartzoo.classify_recording(loaded, sig.values, sig.fs)
    arrays = rw.recording_arrays(cinc, cinc.folder(), "A00004", loaded.config.input, 1)
    inputs = Preprocessor.of(loaded.config).inputs(arrays["x"], None, None)
    probs = int8_probabilities((loaded.folder / "model.tflite").read_bytes(), inputs, loaded.config)
    from heartzoo.evaluation.aggregation import one_recording

    want = one_recording(probs, loaded.aggregation)
    assert got["class"] == loaded.class_names[int(want.argmax())] and got["windows"] == len(arrays["x"])
    np.testing.assert_allclose(list(got["probabilities"].values()), want, atol=1e-4)
    again = heartzoo.classify_recording(loaded, resample_poly(sig.values, 5, 3), 500.0)
    assert again["class"] == got["class"] and again["windows"] == got["windows"]
    beat = load_model(*check_ref("beat-3-cnn3-student@v6"), format="tflite", zoo=REPO / "zoo")
    with pytest.raises(HeartzooError, match="not recordings"):
        heartzoo.classify_recording(beat, sig.values, sig.fs)
    broken = sig.values.copy()
    broken[100] = np.nan  # a sample missing: its window left out
    assert heartzoo.classify_recording(loaded, broken, sig.fs)["windows"] == got["windows"] - 1
    broken[100] = np.inf
    with pytest.raises(HeartzooError, match="infinite"):
        heartzoo.classify_recording(loaded, broken, sig.fs)


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_a_recording_longer_than_cinc_s_has_episodes_but_no_one_class(data_root, tmp_path):
    """af-4's class of a whole recording is defined on CinC 2017's 9-61 s: over half an hour of windows the
    largest probability of every class is high and the aggregation's answer means nothing. MIT-BIH's
    record 201 (AF, then other rhythms) gets its episodes and AF burden, and no class for the whole: null
    in the JSON, said on the terminal; `classify_recording` refuses it and says what to use."""
    import json

    from conftest import REPO, run_annotate

    import heartzoo
    from heartzoo.data import mitbih
    from heartzoo.meta import check_ref
    from heartzoo.tasks import RECORDING_MAX_S, RECORDING_MIN_S
    from heartzoo.zoo.hub import load_model

    res = run_annotate(
        data_root / "mitdb" / "201", "beat-3-cnn3-student@v6", tmp_path, "--rhythm", _rhythm_model()
    )
    assert res.returncode == 0, res.stderr
    rhythm = json.loads((tmp_path / "201.heartzoo.json").read_text())["rhythm"]
    assert rhythm["recording"] is None and len(rhythm["episodes"]) > 5
    assert {e["class"] for e in rhythm["episodes"]} >= {"A", "N"} and rhythm["af_burden"]["burden"] > 0.05
    said = " ".join(res.stdout.split())
    assert (
        f"no class for the whole recording (the model classifies recordings of 9-{RECORDING_MAX_S:g} s)"
        in said
    )
    loaded = load_model(*check_ref(_rhythm_model()), format="tflite", zoo=REPO / "zoo")
    sig = mitbih.read_signal(data_root / "mitdb", "201")
    with pytest.raises(
        HeartzooError,
        match=r"is 1806 s long at the stated 360 Hz .* at most 61 s, .*heartzoo annotate --rhythm",
    ):
        heartzoo.classify_recording(loaded, sig.values, sig.fs)
    # CinC's longest, 61 s, is still one recording
    assert heartzoo.classify_recording(loaded, sig.values[: round(61 * sig.fs)], sig.fs)["class"] in "NAO~"
    # and under its shortest, 9 s, none: the one window would be padded past the recording's end
    short = sig.values[: round(7 * sig.fs)]
    with pytest.raises(HeartzooError, match=rf"is 7.00 s long; .* at least {RECORDING_MIN_S:g} s"):
        heartzoo.classify_recording(loaded, short, sig.fs)
    np.save(tmp_path / "short.npy", short)
    res = run_annotate(
        tmp_path / "short.npy", "beat-3-cnn3-student@v6", tmp_path / "short", "--fs", str(sig.fs),
        "--rhythm", _rhythm_model(), "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    rhythm = json.loads((tmp_path / "short" / "short.heartzoo.json").read_text())["rhythm"]
    assert rhythm["recording"] is None and rhythm["episodes"]


def test_s_in_af_moves_s_to_n_inside_af_episodes_only():
    from heartzoo.recording.rhythm_annotation import Episode, s_in_af_to_n

    episodes = [Episode(0, 100, "N", 1, 0.9), Episode(100, 200, "A", 1, 0.8), Episode(200, 300, "O", 1, 0.7)]
    peaks = np.array([50, 120, 150, 199, 200, 250])
    probs = np.array([[0.2, 0.7, 0.1]] * 5 + [[0.1, 0.1, 0.8]], np.float32)  # S, S, S, S, S, V
    out, relabelled = s_in_af_to_n(probs, peaks, episodes, ("N", "S", "V"))
    assert relabelled.tolist() == [False, True, True, True, False, False]  # [100, 200) is AF
    np.testing.assert_allclose(out[1], [0.9, 0.0, 0.1])  # S's mass to N, V untouched
    np.testing.assert_array_equal(out[[0, 4, 5]], probs[[0, 4, 5]])
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    # a V call inside AF stays V; beat-2 (no S class) and a recording with no beat are left as they are
    inside_v = s_in_af_to_n(
        np.array([[0.1, 0.2, 0.7]], np.float32), np.array([150]), episodes, ("N", "S", "V")
    )
    assert inside_v[0].argmax() == 2 and not inside_v[1].any()
    two = np.array([[0.3, 0.7]], np.float32)
    assert s_in_af_to_n(two, np.array([150]), episodes, ("normal", "ectopic"))[0] is two
    assert s_in_af_to_n(probs[:0], peaks[:0], episodes, ("N", "S", "V"))[1].shape == (0,)
    # a recording the rhythm model calls AF as a whole: every S call, inside AF episodes or not
    whole = s_in_af_to_n(probs, peaks, episodes, ("N", "S", "V"), {"class": "A"})[1]
    assert whole.tolist() == [True, True, True, True, True, False]
    other = s_in_af_to_n(probs, peaks, episodes, ("N", "S", "V"), {"class": "O"})[1]
    assert other.tolist() == relabelled.tolist()


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_annotate_writes_no_s_beat_inside_the_atrial_fibrillation_it_finds(cinc):
    """CinC's A00005 (AF): the beat model alone calls S beats inside the episodes the rhythm model calls AF
    (or in a recording it calls AF as a whole); annotate --rhythm writes them N and counts them, and
    keep_s_in_af keeps them."""
    from conftest import REPO

    from heartzoo.recording.annotation import annotate

    sig = cinc.read_signal(cinc.folder(), "A00005", "ECG")
    kw = {"record": "A00005", "rhythm": _rhythm_model(), "zoo": REPO / "zoo"}
    kept = annotate(sig.values, sig.fs, "beat-3-cnn3-student@v3", keep_s_in_af=True, **kw)
    line = annotate(sig.values, sig.fs, "beat-3-cnn3-student@v3", **kw)
    # inside its AF episodes, or everywhere where the recording as a whole is called AF
    af = np.full(len(kept.samples), (kept.rhythm_recording or {}).get("class") == "A")
    for e in kept.rhythm:
        if e.aux == "(AFIB":
            af |= (kept.samples >= e.start) & (kept.samples < e.end)
    s_in_af = int((af & (kept.classes == "S")).sum())
    assert af.any() and s_in_af > 0  # the case this is for
    assert kept.s_relabelled_in_af is None and line.s_relabelled_in_af == s_in_af
    assert not (af & (line.classes == "S")).any()
    assert ((line.classes == "S") == ((kept.classes == "S") & ~af)).all()  # outside AF nothing changes
    assert line.summary()["rhythm"]["s_beats_in_af_relabelled_n"] == s_in_af
    # each one is flagged where it is written (a review could not tell them apart): the CSV's column
    rows = [r for r in line.csv_text().splitlines() if not r.startswith("#")]
    flags = [int(r.rsplit(",", 1)[1]) for r in rows[1:]]
    assert rows[0].endswith(",relabelled") and flags == (af & (kept.classes == "S")).astype(int).tolist()
    assert "relabelled" not in kept.csv_text()
    # A00005 holds an AF episode of 30 s or more: a warning to review, and the burden
    assert line.af_burden.episodes and line.af_burden.longest_s >= 30
    assert [f.code for f in line.findings].count("af") == 1 and 0 < line.af_burden.burden < 1


@pytest.mark.skipif(_rhythm_model() is None, reason="no af-4 model published in zoo/")
def test_a_rhythm_model_reads_a_long_lead_in_batches_of_frames_not_of_windows(data_root, monkeypatch):
    """`predict` takes as many frames at a time as hold `BATCH_SAMPLES` samples: a rhythm model's 10-s
    windows fewer than a beat model's beats, so a week's windows never sit in memory at once. Icentia11k's
    70-minute patch (420 windows) read 50 windows at a time gives the probabilities of one batch, row for
    row, and a beat model still takes its 512-sample frames 16,384 at a time."""
    from conftest import REPO

    from heartzoo.data.databases import get_database
    from heartzoo.meta import check_ref
    from heartzoo.preprocess import Preprocessor
    from heartzoo.zoo import hub

    if not (data_root / "icentia11k_sample").is_dir():
        pytest.skip("icentia11k_sample not found beside mitdb")
    db = get_database("icentia11k")
    sig = db.read_signal(db.folder(data_root), "p01001_s00", "ecg")
    loaded = hub.load_model(*check_ref(_rhythm_model()), format="tflite", zoo=REPO / "zoo")
    n = round(loaded.config.input.frame_size * sig.fs / loaded.config.input.fs)
    centres = np.arange(n // 2, len(sig.values) - n // 2, n)
    whole = hub.predict(loaded, sig.values, sig.fs, centres)
    sizes = []
    batches = Preprocessor.batches
    monkeypatch.setattr(Preprocessor, "batches", lambda self, *a: sizes.append(a[3]) or batches(self, *a))
    monkeypatch.setattr(hub, "BATCH_SAMPLES", 50 * loaded.config.input.frame_size)
    assert np.array_equal(hub.predict(loaded, sig.values, sig.fs, centres), whole)
    assert sizes == [50] and len(centres) > 400
    monkeypatch.undo()
    assert hub.BATCH_SAMPLES // loaded.config.input.frame_size < hub.BATCH_BEATS == hub.BATCH_SAMPLES // 512


@pytest.mark.parametrize(("record", "warned"), [("A00022", True), ("A00001", False)])
def test_a_recording_cinc_labels_too_noisy_is_said_to_be(data_root, tmp_path, record, warned):
    """CinC labels A00022 too noisy (~): the rhythm model's reading is a warning in the JSON and the files."""
    import json

    from conftest import REPO, run_cli

    res = run_cli(
        "annotate", str(data_root / "cinc2017" / "training2017" / record), "--lead", "ECG",
        "--model", "beat-3-cnn3-student@v6", "--rhythm", "af-4-cnn4-student@v1", "--zoo", str(REPO / "zoo"), "--output-dir",
        str(tmp_path), "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    said = [w for w in json.loads(res.stdout)["warnings"] if "too noisy to tell its rhythm" in w]
    assert bool(said) == warned
    rows = (tmp_path / f"{record}.heartzoo.json").read_text()
    assert ("too noisy to tell its rhythm" in rows) == warned
