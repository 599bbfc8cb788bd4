"""The reader, labels, splits and frames on the real MIT-BIH records."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from heartzoo.config import InputSpec
from heartzoo.data import mitbih
from heartzoo.data.prepare import load_windows, record_counts
from heartzoo.data.splits import draw_validation_records, inter_patient_records, leaky_beat_split
from heartzoo.errors import DataError
from heartzoo.preprocess import resample
from heartzoo.tasks import AAMI_CLASSES, get_task

# de Chazal et al. (2004), Table I; also DATA.md.
PUBLISHED = {
    "ds1": {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8},
    "ds2": {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7},
}


def _total(counts: dict[str, dict[str, int]], records) -> dict[str, int]:
    c: Counter[str] = Counter()
    for r in records:
        c.update(counts[r])
    return {k: c[k] for k in AAMI_CLASSES}


@pytest.fixture(scope="module")
def counts(data_root):
    return record_counts(mitbih.ALL_RECORDS, data_root)


def test_counts_equal_de_chazal(counts):
    assert _total(counts, mitbih.DS1) == PUBLISHED["ds1"]
    assert _total(counts, mitbih.DS2) == PUBLISHED["ds2"]


def test_whole_database_counts(counts):
    # The usual whole-database figures, paced records included.
    assert _total(counts, mitbih.ALL_RECORDS) == {"N": 90631, "S": 2781, "V": 7236, "F": 803, "Q": 8043}


def test_symbol_map_is_aami():
    assert {s for s, c in mitbih.SYMBOL_TO_AAMI.items() if c == "S"} == set("AaJSn")
    assert {s for s, c in mitbih.SYMBOL_TO_AAMI.items() if c == "Q"} == set("/fQ?")
    assert {s for s, c in mitbih.SYMBOL_TO_AAMI.items() if c == "V"} == set("VEr")
    for non_beat in '+~!|x[]"':
        assert non_beat not in mitbih.SYMBOL_TO_AAMI


def test_beats_no_mit_bih_record_holds_are_counted_as_the_scorer_counts_them(data_root, tmp_path):
    """`r` (R-on-T PVC), `n` (supraventricular escape) and `?`: the data layer dropped them unsaid, while
    `heartzoo ec57` counted them V, S and Q."""
    import shutil

    import wfdb

    from heartzoo.evaluation.ec57 import read_annotations

    for ext in ("hea", "dat"):
        shutil.copy(data_root / "mitdb" / f"100.{ext}", tmp_path)
    ref = wfdb.rdann(str(data_root / "mitdb" / "100"), "atr")
    symbols = list(ref.symbol)
    normal = [i for i, s in enumerate(symbols) if s == "N"]
    for i, s in zip(normal[:25], "r" * 10 + "n" * 10 + "?" * 5, strict=True):
        symbols[i] = s
    wfdb.wrann("100", "atr", ref.sample, symbol=symbols, subtype=ref.subtype, write_dir=str(tmp_path))
    beats = mitbih.DATABASE.read_beats(tmp_path, "100")
    before = mitbih.DATABASE.read_beats(data_root / "mitdb", "100").counts()
    assert len(beats.samples) == sum(before.values())  # none dropped
    assert beats.counts() == {
        **before,
        "N": before["N"] - 25,
        "V": before["V"] + 10,
        "S": before["S"] + 10,
        "Q": before["Q"] + 5,
    }
    scored = read_annotations(tmp_path / "100.atr")
    assert {c: int((scored.labels == c).sum()) for c in "NSVFQ"} == beats.counts()


def test_paced_records_excluded_by_default():
    recs = mitbih.default_records()
    assert len(recs) == 44
    assert not set(mitbih.PACED_RECORDS) & set(recs)
    assert set(recs) == set(mitbih.DS1) | set(mitbih.DS2)
    assert len(mitbih.default_records(exclude_paced=False)) == 48


def test_mlii_chosen_by_name_for_114(mitdb):
    import wfdb

    raw = wfdb.rdrecord(str(mitdb / "114"))
    assert raw.sig_name == ["V5", "MLII"]  # MLII is stored second here
    sig = mitbih.read_signal(mitdb, "114")
    assert sig.lead == "MLII"
    np.testing.assert_allclose(sig.values, raw.p_signal[:, 1], atol=1e-6)
    assert not np.allclose(sig.values, raw.p_signal[:, 0], atol=1e-3)


def test_record_without_mlii_is_refused(mitdb):
    with pytest.raises(DataError, match=r"record 102.*no MLII lead.*V5, V2"):
        mitbih.read_signal(mitdb, "102")


def test_windows_are_centred_on_r_peaks(data_root, shared_cache):
    spec = InputSpec()
    ws = load_windows(["100", "114"], spec, data_dir=data_root, cache_dir=shared_cache)
    assert ws.x.shape == (2273 + 1879, 512)
    assert ws.x.dtype == np.float32
    # The frame's R-peak index holds the resampled, normalised signal at the annotated beat.
    sig = mitbih.read_signal(data_root / "mitdb", "100")
    x100 = resample(sig.values, sig.fs, spec.fs)
    first = ws.subset(ws.record == "100")
    i = 10
    centre = round(first.sample[i] * spec.fs / 360)
    raw = x100[centre - spec.r_peak : centre - spec.r_peak + spec.frame_size]
    expected = (raw - raw.mean()) / (raw.std() + spec.eps)
    np.testing.assert_allclose(first.x[i], expected, atol=1e-4)
    # And the QRS is there: the largest deflection near the centre sits within 30 ms of the R-peak.
    normal = ws.subset(ws.aami == 0)
    near = normal.x[:, spec.r_peak - 20 : spec.r_peak + 21]
    offset = np.abs(near - np.median(normal.x, axis=1, keepdims=True)).argmax(axis=1) - 20
    assert np.mean(np.abs(offset) <= 3) > 0.95
    # per-frame z-normalisation
    np.testing.assert_allclose(ws.x.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(ws.x.std(axis=1), 1, atol=1e-2)


def test_rr_features(mitdb):
    from heartzoo.preprocess.rr_features import rr_intervals

    beats = mitbih.read_beats(mitdb, "100")
    rr = rr_intervals(beats.samples, beats.fs)
    s = beats.samples / 360.0
    assert rr.shape == (len(s), 5)
    np.testing.assert_allclose(rr[5, 0], s[5] - s[4], rtol=1e-5)
    np.testing.assert_allclose(rr[5, 1], s[6] - s[5], rtol=1e-5)
    np.testing.assert_allclose(rr[20, 2], np.mean(np.diff(s)[10:20]), rtol=1e-5)
    np.testing.assert_allclose(rr[400, 3], np.mean(np.diff(s)[100:400]), rtol=1e-4)
    np.testing.assert_allclose(
        rr[50, 3], np.mean(np.concatenate([[s[1] - s[0]], np.diff(s)[:50]])), rtol=1e-4
    )
    # the irregularity of beat 30: the 10 intervals before its own, s[20]..s[29]
    before = np.diff(s)[19:29]
    median = np.sort(np.abs(np.diff(before)))[4]
    np.testing.assert_allclose(rr[30, 4], median / (before.mean() + 1e-3), rtol=1e-4)


def test_rr_irregularity_is_high_in_atrial_fibrillation(mitdb):
    """Record 203 (DS1) is in atrial flutter and fibrillation for most of its half hour, record 100 in
    sinus rhythm: the irregularity before their beats tells them apart."""
    from heartzoo.preprocess.rr_features import rr_intervals

    median = {}
    for record in ("100", "203"):
        beats = mitbih.read_beats(mitdb, record)
        median[record] = float(np.median(rr_intervals(beats.samples, beats.fs)[:, 4]))
    assert median["100"] < 0.05 < 0.15 < median["203"], median


def test_validation_draw_keeps_patients_whole(counts):
    pooled = {r: counts[r] for r in mitbih.default_records()}
    for seed in range(25):
        val = set(draw_validation_records(pooled, 0.3, seed))
        assert ("201" in val) == ("202" in val), f"seed {seed}: 201 and 202 split apart"


def test_validation_draw_from_ds1(counts):
    ds1 = {r: counts[r] for r in mitbih.DS1}
    val = draw_validation_records(ds1, 0.2, seed=0)
    assert val == draw_validation_records(ds1, 0.2, seed=0)  # deterministic
    assert set(val) < set(mitbih.DS1)
    splits = inter_patient_records(val)
    assert not set(splits["train"]) & set(splits["val"])
    assert set(splits["train"]) | set(splits["val"]) == set(mitbih.DS1)
    assert splits["test"] == list(mitbih.DS2)
    held = _total(counts, val)
    total = PUBLISHED["ds1"]
    beats = sum(held.values()) / sum(total.values())
    assert 0.15 < beats < 0.3
    for cls in ("S", "V"):
        assert 0.1 < held[cls] / total[cls] < 0.35, (cls, held)
    with pytest.raises(ValueError, match="must come from DS1"):
        inter_patient_records(["100"])


def test_leaky_split_is_a_partition():
    idx = leaky_beat_split(1000, 0.2, 0.1, seed=3)
    allidx = np.concatenate(list(idx.values()))
    assert len(allidx) == 1000 and len(np.unique(allidx)) == 1000
    assert len(idx["test"]) == 200 and len(idx["val"]) == 80


def test_task_labels():
    aami = np.array([0, 1, 2, 3, 4])
    np.testing.assert_array_equal(get_task("beat-2").labels(aami), [0, 1, 1, -1, -1])
    np.testing.assert_array_equal(get_task("beat-3").labels(aami), [0, 1, 2, -1, -1])
    np.testing.assert_array_equal(get_task("aami-5").labels(aami), [0, 1, 2, 3, 4])
    with pytest.raises(KeyError, match="known tasks"):
        get_task("beat-4")


def test_a_rate_that_is_no_whole_number_resamples_without_drift(data_root):
    """A device's measured clock (a Polar strap's 130.05 Hz) is any number: record 100 given as sampled at
    360.4 Hz reaches 100 Hz with its R peaks where that clock puts them, to the end of the half hour (a rate
    rounded to 360 would have drifted 2 s by then)."""
    from heartzoo.preprocess import positions_at

    sig = mitbih.read_signal(data_root / "mitdb", "100")
    beats = mitbih.read_beats(data_root / "mitdb", "100").samples
    fs = 360.4
    y = resample(sig.values, fs, 100)
    assert len(y) == int((len(sig.values) - 1) * 100 / fs) + 1
    late = positions_at(beats[beats > len(sig.values) - 300 * 360], fs, 100)  # the last 5 minutes
    late = late[late < len(y) - 3]
    near = np.stack([y[p - 3 : p + 4] for p in late])
    offset = np.abs(near - np.median(y)).argmax(axis=1) - 3
    assert np.mean(np.abs(offset) <= 1) > 0.95, np.bincount(offset + 3)
    # and the same lead as the whole-rate path gives, read at those times
    ref = resample(sig.values, 360, 100)
    k = np.arange(1000, len(y) - 1000)
    assert np.corrcoef(y[k], np.interp(k * fs / 360, np.arange(len(ref)), ref))[0, 1] > 0.99
    with pytest.raises(ValueError, match="the output rate must be a whole number"):
        resample(sig.values, 360, 99.5)


def test_a_long_lead_resamples_in_chunks_bit_for_bit(data_root):
    """A day of signal is resampled in chunks (a float64 copy of it at once otherwise): chunks that start
    on the output's grid, each read with more than the filter's reach of its neighbours, give the samples
    of one pass exactly (record 100 in 10-minute chunks, to the model's 100 Hz and to svdb's 128 Hz)."""
    x = mitbih.read_signal(data_root / "mitdb", "100").values
    for fs_out in (100, 128):
        whole, chunked = resample(x, 360, fs_out), resample(x, 360, fs_out, chunk_s=600)
        assert chunked.dtype == np.float32 and chunked.tobytes() == whole.tobytes()


def test_a_lead_resampled_where_it_is_sliced_is_the_whole_resample(data_root):
    """A model reads a long recording a batch at a time, so its lead at the model's rate is resampled where
    a batch's frames slice it (`ResampledLead`, its last two chunks kept): record 100 in 10-minute chunks
    gives, for stretches across seams, at both ends and whole, the bytes `resample` gives, and its frames
    are those of the whole lead; a rate it cannot read lazily is refused, and `resampled` gives it whole."""
    from heartzoo.preprocess import extract_frames
    from heartzoo.preprocess.resampling import ResampledLead, resampled

    x = mitbih.read_signal(data_root / "mitdb", "100").values
    whole = resample(x, 360, 100, chunk_s=600)
    lazy = ResampledLead(x, 360, 100, chunk_s=600)
    assert len(lazy) == len(whole) and lazy.shape == whole.shape
    seam = 600 * 100
    for a, b in (
        (0, 10),
        (seam - 50, seam + 50),
        (seam - 1, 3 * seam + 7),
        (len(whole) - 30, len(whole) + 9),
    ):
        assert lazy[a:b].dtype == np.float32 and lazy[a:b].tobytes() == whole[a:b].tobytes(), (a, b)
    assert np.asarray(lazy).tobytes() == whole.tobytes()
    assert lazy[5:5].shape == (0,)
    centres = np.array([0, seam - 3, seam + 2, 2 * seam, len(whole) - 1])
    assert (
        extract_frames(lazy, centres, 256, 90).tobytes() == extract_frames(whole, centres, 256, 90).tobytes()
    )
    with pytest.raises(TypeError, match="stretches"):
        lazy[[1, 2]]
    with pytest.raises(ValueError, match="two different whole rates"):
        ResampledLead(x, 130.05, 100)
    assert resampled(x, 130.05, 100).tobytes() == resample(x, 130.05, 100).tobytes()
    assert isinstance(resampled(x, 360, 100), ResampledLead)


def test_frames_copy_only_the_stretch_they_cover(data_root):
    """A batch of beats is cut from the stretch of the lead its frames cover, padded with the edge values
    past either end: the frames of the whole lead padded at once (what a batch of a day's recording copied
    before), byte for byte, for beats at the very first and last samples and in between."""
    from heartzoo.preprocess import extract_frames

    x = mitbih.read_signal(data_root / "mitdb", "100").values.astype(np.float32)
    size, r_peak = 256, 90
    whole = np.lib.stride_tricks.sliding_window_view(np.pad(x, (r_peak, size - r_peak), mode="edge"), size)
    for centres in ([0, 5, 1000], [len(x) - 1, len(x) - 3], [300_000, 300_001, 310_000], [0, len(x) - 1]):
        got = extract_frames(x, np.array(centres), size, r_peak)
        assert got.dtype == np.float32 and got.tobytes() == whole[centres].tobytes(), centres
    assert extract_frames(x, np.array([], np.int64), size, r_peak).shape == (0, size)
