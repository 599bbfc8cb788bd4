"""R-peak detection: Se/+P on real MIT-BIH records (EC57 scoring), any sampling rate, plug-in detectors,
and clear refusals of signals no detector should be given."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.detect import DETECTORS, detect, register
from heartzoo.errors import HeartzooError
from heartzoo.evaluation.ec57 import Annotations, Report, compare, read_annotations
from heartzoo.synthetic import synthetic_ecg


def _mlii(mitdb, record: str) -> np.ndarray:
    from heartzoo.data.mitbih import read_signal

    return read_signal(mitdb, record).values


def _score(mitdb, records, method="pan-tompkins", fs_out=None):
    from heartzoo.preprocess import resample

    results = []
    for r in records:
        x = _mlii(mitdb, r)
        fs = 360
        if fs_out is not None:
            x, fs = resample(x, 360, fs_out), fs_out
        peaks = detect(x, fs, method)
        if fs_out is not None:
            peaks = np.rint(peaks * 360 / fs_out).astype(np.int64)  # back to the reference's samples
        ref = read_annotations(mitdb / f"{r}.atr")
        results.append(compare(ref, Annotations.of(peaks, ["N"] * len(peaks), 360, length=ref.length)))
    return Report(results)


def test_pan_tompkins_finds_the_beats_of_real_records(mitdb):
    rep = _score(mitdb, ["100", "105", "119", "203", "228"])  # 105, 203: noisy and hard
    g = rep.gross.stats
    assert g["qrs_se"] >= 0.99 and g["qrs_pp"] >= 0.99, g
    easy = _score(mitdb, ["100", "113", "119"]).gross.stats
    assert easy["qrs_se"] >= 0.999 and easy["qrs_pp"] >= 0.999, easy


@pytest.mark.parametrize("fs_out", [128, 250, 500])
def test_any_sampling_rate(mitdb, fs_out):
    g = _score(mitdb, ["100"], fs_out=fs_out).gross.stats
    assert g["qrs_se"] >= 0.998 and g["qrs_pp"] >= 0.998, g


def test_peaks_sit_on_the_r_wave(mitdb):
    # the reference annotations' fiducial point: the classifiers were trained on frames centred there
    x = _mlii(mitdb, "100")
    peaks = detect(x, 360)
    ref = read_annotations(mitdb / "100.atr").samples
    nearest = peaks[np.clip(np.searchsorted(peaks, ref), 0, len(peaks) - 1)]
    assert np.median(np.abs(nearest - ref)) <= 2


def test_wfdb_detectors_are_quiet_and_good(mitdb, capsys):
    x = _mlii(mitdb, "100")[: 360 * 120]
    ref = read_annotations(mitdb / "100.atr")
    short = Annotations.of(
        ref.samples[ref.samples < len(x)], ["N"] * int((ref.samples < len(x)).sum()), 360, length=len(x)
    )
    for method in ("xqrs", "gqrs"):
        peaks = detect(x, 360, method)
        g = compare(
            short, Annotations.of(peaks, ["N"] * len(peaks), 360, length=len(x)), start_s=0
        ).counts.stats
        assert g["qrs_se"] >= 0.99 and g["qrs_pp"] >= 0.99, (method, g)
    out = capsys.readouterr()
    assert "Learning" not in out.out + out.err


def test_gqrs_finds_the_same_beats_in_uv_and_v(mitdb):
    """gqrs's thresholds are in mV: given the lead in µV it found twice the beats, in V none."""
    x = _mlii(mitdb, "100")[: 360 * 120]
    in_mv = detect(x, 360, "gqrs")
    assert len(in_mv) > 140
    for k in (1000.0, 0.001):
        np.testing.assert_array_equal(detect(x * k, 360, "gqrs"), in_mv)


def test_gqrs_at_a_rate_its_filters_cannot_take_is_an_error_naming_it(mitdb):
    from heartzoo.preprocess import resample

    x = resample(_mlii(mitdb, "100")[: 360 * 60], 360, 50)
    with pytest.raises(HeartzooError, match=r"gqrs cannot read 50 Hz .*pan-tompkins and xqrs detectors can"):
        detect(x, 50, "gqrs")
    assert len(detect(x, 50)) > 60  # the default reads it


def test_the_matcher_agrees_with_wfdb_compare_annotations(mitdb):
    from wfdb.processing import compare_annotations

    x = _mlii(mitdb, "203")
    peaks = detect(x, 360)
    ref = read_annotations(mitdb / "203.atr")
    t = compare(ref, Annotations.of(peaks, ["N"] * len(peaks), 360, length=len(x)), start_s=0).counts.tallies
    c = compare_annotations(ref.samples, peaks, 54)
    assert (t["qrs_tp"], t["qrs_fn"], t["qrs_fp"]) == (c.tp, c.fn, c.fp)


def test_a_registered_detector_runs_at_its_own_rate():
    x, truth = synthetic_ecg(360, 20)
    seen = {}

    @register("test-threshold", "every local maximum above 0.6 mV", fs=100)
    def threshold(sig, fs):
        from scipy.signal import find_peaks

        seen["fs"], seen["n"] = fs, len(sig)
        return find_peaks(sig, height=0.6, distance=int(0.3 * fs))[0]

    try:
        peaks = detect(x, 360, "test-threshold")
    finally:
        DETECTORS.pop("test-threshold")
    assert seen == {"fs": 100, "n": 2000}  # resampled to its rate, and the peaks mapped back to 360 Hz
    assert len(peaks) == len(truth) and np.max(np.abs(peaks - truth)) <= 2


@pytest.mark.parametrize(
    ("signal", "fs", "message"),
    [
        (np.zeros(3600), 360, "flat"),
        (
            np.r_[synthetic_ecg(360, 10)[0][:1000], np.nan, synthetic_ecg(360, 10)[0][1001:]],
            360,
            "1 NaN or infinite sample.*sample 1000",
        ),
        (np.r_[synthetic_ecg(360, 10)[0][:-1], np.inf], 360, "NaN or infinite"),
        (
            synthetic_ecg(360, 2)[0],
            360,
            r"2.00 s long \(720 samples at 360 Hz\); beat detection needs at least 5 s",
        ),
        (synthetic_ecg(360, 10)[0], 20, "too low"),
        (np.ones((3600, 2)), 360, "one lead"),
        (synthetic_ecg(360, 10)[0], "fast", "sampling rate in Hz"),
    ],
)
def test_refused_signals(signal, fs, message):
    with pytest.raises(HeartzooError, match=message):
        detect(signal, fs)


def test_unknown_detector_lists_the_known():
    with pytest.raises(HeartzooError, match="unknown detector 'nope'; known: gqrs, pan-tompkins, xqrs"):
        detect(synthetic_ecg(360, 10)[0], 360, "nope")


def test_a_long_lead_read_in_chunks_gives_the_beats_of_one_pass(mitdb):
    """Days of signal are read in chunks (a detector holds several copies of what it reads); each chunk
    reads a minute of its neighbours, where the default detector's levels settle, so the seams leave no
    trace: half-hour records cut into 10-minute chunks (105 and 203 noisy, 207 and 208 with many ectopic
    beats). (gqrs's levels adapt over minutes: chunked, it finds a few beats of these records otherwise.)"""
    for r in ("105", "203", "207", "208"):
        x = _mlii(mitdb, r)
        whole, chunked = detect(x, 360), detect(x, 360, chunk_s=600)
        assert len(whole) > 2000 and np.array_equal(whole, chunked), r
    # a seam through a beat: the chunk that keeps it is the one whose stretch holds its R peak, once
    x = _mlii(mitdb, "100")
    whole = detect(x, 360)
    for seam in whole[[100, 900]]:
        cut = detect(x, 360, chunk_s=float(seam) / 360)  # the seam on an R peak
        assert np.array_equal(cut, whole)


def test_a_float32_lead_is_held_once_and_detected_as_float64(mitdb):
    """A day's lead is checked where it lies (no float64 copy of the whole of it); each detector reads its
    stretch as float64, so the beats are those of the lead converted whole, as before."""
    from heartzoo.detect import check_signal

    x = _mlii(mitdb, "203").astype(np.float32)
    held, rate = check_signal(x, 360)
    assert held is x and rate == 360.0
    for method in ("pan-tompkins", "gqrs"):
        assert np.array_equal(detect(x, 360, method), detect(x.astype(np.float64), 360, method)), method


def test_the_lead_measures_read_a_long_lead_in_chunks(mitdb, monkeypatch):
    """The recording's QRS width, QRS size and kurtosis (`quality.measure_lead`, one walk) are measured chunk
    by chunk, each filtered with a minute of its neighbours: on record 208 cut into 10-minute chunks, the
    same numbers up to rounding, and each the one its own function gives."""
    import heartzoo.detect as detect_module
    from heartzoo.preprocess.plausibility import QRS_AMPLITUDE_MV
    from heartzoo.recording.quality import (
        QRS_WIDTH_MS,
        lead_kurtosis,
        measure_lead,
        qrs_amplitude_mv,
        qrs_width_ms,
    )

    x = _mlii(mitdb, "208").astype(np.float32)
    peaks = detect(x, 360)
    whole = measure_lead(x, 360, peaks)
    monkeypatch.setattr(detect_module, "CHUNK_S", 600.0)
    chunked = measure_lead(x, 360, peaks)
    assert whole.qrs_width_ms is not None and QRS_WIDTH_MS[0] < whole.qrs_width_ms < QRS_WIDTH_MS[1]
    assert whole.qrs_size is not None and QRS_AMPLITUDE_MV[0] < whole.qrs_size < QRS_AMPLITUDE_MV[1]
    assert whole.kurtosis is not None and whole.kurtosis > 3  # peakier than Gaussian noise
    assert chunked.qrs_width_ms == pytest.approx(whole.qrs_width_ms, rel=1e-9)
    assert chunked.qrs_size == whole.qrs_size  # the raw lead's peak-to-peak: no filter to settle
    assert chunked.kurtosis == pytest.approx(whole.kurtosis, rel=1e-9)
    assert (qrs_width_ms(x, 360, peaks), qrs_amplitude_mv(x, 360, peaks), lead_kurtosis(x, 360)) == (
        chunked.qrs_width_ms,
        chunked.qrs_size,
        chunked.kurtosis,
    )


def test_an_extra_beat_in_noise_is_dropped_and_every_beat_kept(mitdb):
    """The default's extra-beat clause: bursts of noise pasted 35 % into every fourth RR interval of
    record 100 (smaller than a QRS, shaped like nothing around them) split those intervals in two; plain
    Pan-Tompkins takes about a third of them for beats, the default one or none, and every beat stays."""
    from heartzoo.detect import _pan_tompkins

    x = _mlii(mitdb, "100")[: 360 * 300].astype(np.float64)
    ref = read_annotations(mitdb / "100.atr").samples
    ref = ref[(ref > 360) & (ref < len(x) - 360)]
    rng = np.random.default_rng(0)
    bursts = []
    for a, b in zip(ref[:-1:4], ref[1::4], strict=True):
        at = a + int(0.35 * (b - a))
        burst = np.convolve(rng.standard_normal(30), np.hanning(7), "same")
        x[at : at + 30] += 0.8 * burst / np.abs(burst).max()
        bursts.append(at + 15)
    bursts = np.array(bursts)

    def found(peaks, where, tol):
        return (np.abs(peaks[None, :] - where[:, None]).min(axis=1) <= tol).sum()

    plain, default = _pan_tompkins(x, 360.0), detect(x, 360)
    assert found(plain, bursts, 20) >= 20 and found(default, bursts, 20) <= 2
    assert found(plain, ref, 54) == found(default, ref, 54) == len(ref)


def test_the_extra_beat_clause_keeps_interpolated_pvcs(data_root):
    """svdb 805's PVCs are mostly interpolated (between two normal beats, no pause): each one splits an RR
    interval in two, as noise does. They recur, so they match one another's shape and stay; without the
    shape clause 73 of them went (studies/detector_noise.py, third round)."""
    import wfdb

    from heartzoo.detect import _pan_tompkins

    path = data_root / "svdb" / "805"
    x = wfdb.rdrecord(str(path)).p_signal[:, 0]
    ann = wfdb.rdann(str(path), "atr")
    pvcs = np.array([s for s, y in zip(ann.sample, ann.symbol, strict=True) if y == "V"])

    def kept(peaks):
        return (np.abs(peaks[None, :] - pvcs[:, None]).min(axis=1) <= 19).mean()

    assert kept(detect(x, 128)) >= 0.9 and kept(_pan_tompkins(x, 128.0, extra=(0.5, 0.2, True))) < 0.8


def test_an_extra_beat_at_either_end_of_a_short_lead_is_dropped(mitdb):
    """A 30 s lead, as a watch records one, with a burst of noise in its first and its last RR interval:
    the clause's local median RR reflects the intervals at the lead's ends (repeating the first or last
    one made the short intervals around such a burst the median, so it stayed a beat)."""
    from heartzoo.detect import _pan_tompkins

    x = _mlii(mitdb, "100")[360 * 60 : 360 * 90].astype(np.float64)
    ref = read_annotations(mitdb / "100.atr").samples - 360 * 60
    ref = ref[(ref > 20) & (ref < len(x) - 20)]
    burst = np.convolve(np.random.default_rng(1).standard_normal(30), np.hanning(7), "same")
    bursts = []
    for a, b in ((ref[0], ref[1]), (ref[-2], ref[-1])):
        at = a + int(0.4 * (b - a))
        x[at : at + 30] += 1.2 * burst / np.abs(burst).max()
        bursts.append(at + 15)

    def near(peaks):
        return np.abs(peaks[None, :] - np.array(bursts)[:, None]).min(axis=1)

    peaks = detect(x, 360)
    assert (near(_pan_tompkins(x, 360.0)) <= 20).all() and (near(peaks) > 20).all(), near(peaks)
    assert (np.abs(peaks[None, :] - ref[:, None]).min(axis=1) <= 54).all()


@pytest.mark.parametrize("held", ["the first sample after it", "zero"])
def test_a_lead_that_starts_held_at_one_value_has_no_beat_there(mitdb, held):
    """A recorder started before it touched the skin: the levels, relative to what they had seen, took the
    filters' round-off (about 1e-30 of a QRS) for about 140 beats in 119's first 30 s held at one value."""
    import heartzoo

    x = _mlii(mitdb, "119")[: 360 * 300].copy()
    x[: 360 * 30] = x[360 * 30] if held != "zero" else 0.0
    peaks = detect(x, 360)
    assert not np.any(peaks < 360 * 29)  # the step where the lead comes on may be a detection
    ref = read_annotations(mitdb / "119.atr").samples
    ref = ref[(ref >= 360 * 31) & (ref < len(x) - 360)]
    found = peaks[(peaks >= 360 * 31) & (peaks < len(x) - 360)]
    hit = np.abs(found[np.clip(np.searchsorted(found, ref), 0, len(found) - 1)] - ref) <= 54  # 150 ms
    assert hit.mean() >= 0.995 and len(found) <= len(ref) + 2  # and the beats after it as before
    # without the quality gate the stretch is said, not filled with labelled beats
    got = heartzoo.annotate(x, 360, "beat-3-cnn3-student@v6", quality=False)
    assert not np.any(got.samples < 360 * 29)
    assert any(f.code == "gap" and f.start == 0 for f in got.findings), [f.code for f in got.findings]


def test_a_pvc_s_t_wave_is_no_beat(mitdb):
    """Record 119's bigeminy at 257 Hz: the T wave 0.2-0.3 s after each PVC was taken by search-back (the
    pause after the PVC) or passed the T-wave test (a PVC's slope is shallow): 6 false beats before
    studies/detector_twave.py's clauses, none after, every PVC still found."""
    from heartzoo.preprocess import resample

    x = resample(_mlii(mitdb, "119")[: 360 * 600], 360, 257)
    beats = detect(x, 257) / 257
    ref = read_annotations(mitdb / "119.atr")
    pvcs = ref.samples[(ref.labels == "V") & (ref.samples < 360 * 600)] / 360
    after = beats[:, None] - pvcs[None, :]
    assert not np.any((after > 0.15) & (after < 0.36))
    from heartzoo.detect import EXTRA_BEAT, _pan_tompkins

    before = _pan_tompkins(x, 257, extra=EXTRA_BEAT)[:, None] / 257 - pvcs[None, :]  # without the clauses
    assert np.any((before > 0.15) & (before < 0.36))
    assert np.all(np.min(np.abs(after), axis=0) < 0.15)  # 140 PVCs, each found
