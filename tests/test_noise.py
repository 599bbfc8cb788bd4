"""NSTDB noise at a target SNR, noise-stress sets, and training augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from heartzoo.data import mitbih
from heartzoo.data.augment import AugmentConfig, Augmenter, NoiseAugment
from heartzoo.data.noise import NOISE_KINDS, add_record_noise, qrs_power, read_noise
from heartzoo.data.prepare import StressNoise, load_windows
from heartzoo.preprocess import InputSpec


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_noise_records_read(data_root, kind):
    values, fs = read_noise(data_root / "nstdb_noise", kind)
    assert fs == 360 and values.shape == (2 * 650000,)
    assert np.isfinite(values).all() and values.std() > 0.01


@pytest.mark.parametrize("snr_db", [24.0, 12.0, 0.0])
def test_record_noise_hits_the_target_snr(data_root, snr_db):
    sig = mitbih.read_signal(data_root / "mitdb", "100")
    beats = mitbih.read_beats(data_root / "mitdb", "100")
    noise, _ = read_noise(data_root / "nstdb_noise", "em", channel=0)
    noisy = add_record_noise(sig.values, beats.samples, sig.fs, noise, snr_db)
    added = noisy.astype(np.float64) - sig.values
    measured = 10 * np.log10(qrs_power(sig.values, beats.samples, sig.fs) / np.mean(added**2))
    assert measured == pytest.approx(snr_db, abs=0.01)


def test_noise_stress_set(data_root, shared_cache):
    clean = load_windows(["100"], InputSpec(), data_dir=data_root, cache_dir=shared_cache)
    at12 = load_windows(
        ["100"], InputSpec(), data_dir=data_root, cache_dir=shared_cache, noise=StressNoise("em", 12)
    )
    at0 = load_windows(
        ["100"], InputSpec(), data_dir=data_root, cache_dir=shared_cache, noise=StressNoise("em", 0)
    )
    np.testing.assert_array_equal(clean.aami, at0.aami)
    d12 = np.mean((at12.x - clean.x) ** 2)
    d0 = np.mean((at0.x - clean.x) ** 2)
    assert 0 < d12 < d0  # more noise, further from the clean frames


def test_augmenter_identity_and_determinism(data_root):
    spec = InputSpec()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, spec.frame_size)).astype(np.float32)
    off = Augmenter(AugmentConfig(), spec)
    assert not off.active
    np.testing.assert_array_equal(off(x, np.random.default_rng(1)), x)
    cfg = AugmentConfig(noise=NoiseAugment(probability=0.5), amplitude=(0.8, 1.2), jitter=4)
    aug = Augmenter(cfg, spec, data_dir=data_root)
    a = aug(x, np.random.default_rng(7))
    b = aug(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and not np.allclose(a, x)


def test_jitter_shifts_frames():
    spec = InputSpec(frame_size=64, r_peak_index=32)
    x = np.tile(np.arange(64, dtype=np.float32), (200, 1))
    out = Augmenter(AugmentConfig(jitter=3), spec)(x, np.random.default_rng(0))
    shifts = 32 - out[:, 32]  # out[t] = x[t - shift]
    assert set(np.unique(shifts)) <= {-3, -2, -1, 0, 1, 2, 3} and len(np.unique(shifts)) > 4
    for row, s in zip(out, shifts, strict=True):
        np.testing.assert_array_equal(row[10:50], np.arange(10, 50) - s)


def test_time_scale_stretches_frames_around_the_r_peak(data_root):
    """Sampling jitter: a ramp stretched by s around the R peak has slope 1/s there and keeps the R peak
    where it is; on real beats a stretched QRS is wider, and the draw touches no other recipe's stream."""
    spec = InputSpec(frame_size=64, r_peak_index=20)
    x = np.tile(np.arange(64, dtype=np.float32), (500, 1))
    aug = Augmenter(AugmentConfig(time_scale=(0.9, 1.1)), spec)
    assert aug.active
    out = aug(x, np.random.default_rng(0))
    np.testing.assert_allclose(out[:, 20], 20, atol=1e-5)  # the R peak stays
    slopes = out[:, 25] - out[:, 24]
    assert 1 / 1.1 - 1e-5 <= slopes.min() < 0.93 and 1.07 < slopes.max() <= 1 / 0.9 + 1e-5
    np.testing.assert_allclose(out[:, 30] - 20, 10 * slopes, rtol=1e-5)  # linear within the frame
    assert out.min() >= 0 and out.max() <= 63  # past an end: the edge value, never outside the frame
    # the same seed gives the same frames; recipes without it draw exactly as before
    np.testing.assert_array_equal(out, aug(x, np.random.default_rng(0)))
    jitter_only = Augmenter(AugmentConfig(jitter=3), spec)(x, np.random.default_rng(5))
    jitter_off_scale = Augmenter(AugmentConfig(jitter=3, time_scale=(1.0, 1.0)), spec)(
        x, np.random.default_rng(5)
    )
    np.testing.assert_array_equal(jitter_only, jitter_off_scale)
    # a real QRS read at 10 % more samples is wider: more samples above half its height
    ws = load_windows(["100"], InputSpec(), data_dir=data_root, use_cache=False)
    beats = ws.x[ws.aami == 0][:200]
    r = InputSpec().r_peak
    from heartzoo.data.augment import time_scaled

    wide = time_scaled(beats, np.full(len(beats), 1.1), r)
    half = beats[:, r : r + 1] / 2
    assert ((wide[:, r - 8 : r + 9] > half).sum(axis=1) >= (beats[:, r - 8 : r + 9] > half).sum(axis=1)).all()
    with pytest.raises(ValueError, match="time_scale"):
        AugmentConfig(time_scale=(1.2, 1.1))


def test_noise_augmentation_keeps_frames_normalised(data_root):
    spec = InputSpec()
    ws = load_windows(["101"], spec, data_dir=data_root, use_cache=False)
    cfg = AugmentConfig(noise=NoiseAugment(probability=1.0, snr_db=(0.0, 0.0), kinds=["ma"]))
    out = Augmenter(cfg, spec, data_dir=data_root)(ws.x[:256], np.random.default_rng(0))
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-2)
    assert np.mean((out - ws.x[:256]) ** 2) > 0.1


def test_window_noise_is_measured_against_the_windows_qrs(data_root):
    """A rhythm window holds QRS complexes, but none at a fixed place: measured at the frame's centre (a
    beat frame's R peak), the SNR is against whatever lies there; `reference: window` measures it against
    the window's QRS amplitude, as NSTDB does."""
    from heartzoo.preprocess.resampling import positions_at, resample

    sig = mitbih.read_signal(data_root / "mitdb", "100")
    beats = mitbih.read_beats(data_root / "mitdb", "100")
    x100, r100 = resample(sig.values, sig.fs, 100), positions_at(beats.samples, sig.fs, 100)
    x = np.stack([x100[i * 1000 : (i + 1) * 1000] for i in range(32)])
    truth = np.array([qrs_power(w, r100 - i * 1000, 100) for i, w in enumerate(x)])
    spec = InputSpec(fs=100, frame_size=1000, normalization="none")  # so the noise added is out - x
    snr = {}
    for reference in ("window", "qrs"):
        cfg = AugmentConfig(
            noise=NoiseAugment(probability=1.0, snr_db=(0, 0), kinds=["em"], reference=reference)
        )
        added = Augmenter(cfg, spec, data_dir=data_root)(x, np.random.default_rng(0)) - x
        snr[reference] = 10 * np.log10(truth / np.mean(added.astype(np.float64) ** 2, axis=1))
    assert np.abs(snr["window"]).max() < 1.0, snr["window"]
    assert np.median(snr["qrs"]) > 6, snr["qrs"]  # mostly the baseline between beats: far less noise


def test_noise_augmentation_needs_the_noise_folder(tmp_path):
    cfg = AugmentConfig(noise=NoiseAugment(probability=0.5))
    with pytest.raises(Exception, match="NSTDB noise record missing"):
        Augmenter(cfg, InputSpec(), data_dir=tmp_path)
