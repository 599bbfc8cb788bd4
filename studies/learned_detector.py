"""A learned QRS detector against the default Pan-Tompkins, in noise (issue 45).

Why: no window gate over the default detector meets issue 45's bar at electrode motion 6 dB (+P >= 99 %
keeping >= 90 % of beats): a perfect gate keeps 77 % of DS1's beats at 2.56 s windows, because Pan-Tompkins
errs almost everywhere in that noise (DS2 + em 6 dB: +P 86.9 %, results/detector.jsonl). The bar needs a
detector that errs less in noise. Learned detectors that see the rhythm around a candidate can tell a
QRS from a motion spike of the same band; this study measures whether a microcontroller-sized one does.

The detector (`learned`, registered here at 100 Hz; `heartzoo.detect` resamples and moves its beats onto
the R wave as for every detector): a fully convolutional net (a 7-tap stem, six residual blocks of 5-tap
convolutions dilated 1...32, 16 channels: about 7.9 k weights, a receptive field of 2.6 s) that scores
every sample as within 40 ms of a beat annotation or not; beats are the peaks of that score above 0.5, at
least 200 ms apart. Its input is the lead at 100 Hz, high-passed at 0.5 Hz (zero phase) and divided by
its running RMS over 4 s.

Data, and what is kept apart:
- trained on DS1's patients but the five validation patients (119, 203, 205, 209, 223), every beat
  annotation a target; crops of 20.5 s, with NSTDB noise from channel 1's first 20 minutes (em, ma, bw,
  or em+ma; SNR uniform in -6...24 dB by NSTDB's convention) on 75 % of them, a polarity flip on 30 %,
  and 5 % pure noise with no beat;
- the development side, which the rule reads: the five validation patients from the 5-minute mark,
  clean and with em and ma from channel 1's last 10 minutes at 12, 6 and 0 dB;
- never read to decide: DS2 clean and with channel 0's em / ma (studies/detector.py's stress corpora),
  svdb (no beat of it trained on) and the Icentia11k segments.

Rule, written before any run: the learned detector is carried into the line (a zoo model and a detector
option) if, on the development side, (a) clean: gross Se and +P each >= Pan-Tompkins' minus 0.1 point,
and (b) at em 6 dB: gross +P >= Pan-Tompkins' + 2 points with Se >= Pan-Tompkins' - 0.5 point. Whether
it then becomes the default is decided on the development side too, in the stop that carries it. One
training run (seed 0, 6,000 steps of 32 crops, Adam 3e-3 with cosine decay); the test corpora are read
after the rule is applied (`--test`): DS2 clean, the stress corpora, svdb and the Icentia11k segments (not mitdb's 44, which hold its training records).

First round (`--detectors learned@0.5`, results/learned_detector.jsonl): not carried. It makes an
order of magnitude fewer false detections in noise (development em 6 dB: 16 against 205, +P 99.85 %
against 98.17 %; em 0 dB: 145 against 3,217, 98.67 % against 77.33 %) but misses more beats (clean Se 98.97 % against 99.59 %; 126 of its 0.5-threshold
misses are in record 203's multiform ventricular beats and 19 in 205's).

Second round, written after the first and before any of it ran; the same model and rule, three
candidates (the one carried, if several pass, is the one with the highest F-measure of Se and +P at em
6 dB): `learned@0.3` and `learned@0.1` (the net's peaks above a lower threshold), and `verified`
(Pan-Tompkins' beats that the net scores >= 0.1 within 50 ms, plus the net's own peaks >= 0.5 further
than 150 ms from all of them: Pan-Tompkins' sensitivity, the net's judgement of what is noise).

Second round (results/learned_detector.jsonl): none passes, and none could: clause (b) was written with
the stress corpora's Pan-Tompkins in mind (+P 86.9 % on DS2 with channel 0's em at 6 dB), but on the
development side's milder channel 1 Pan-Tompkins keeps +P 98.17 % at 6 dB, so +2 points is above 100 %.
Clause (a) passes for `learned@0.1` and `verified`.

Third round, written after the second and before the test corpora were read: clause (b) becomes what it
meant, an order of noise the development side can show: at em 6 dB and at em 0 dB, at most half of
Pan-Tompkins' false detections with Se >= Pan-Tompkins' - 0.5 point. Scored on the second round's
development numbers (no new run), the carried candidate is again the one with the highest F-measure at em
6 dB. (`--rule 3`, the default; `--rule 1` the first.)
Result: `verified` passes it (and `learned@0.1`; `verified` has the higher F-measure) and is carried; the
test corpora, read after, are in docs/recordings.md.

Fourth round, written after the third's test corpora were read (so its design, not its choice, knows
them) and before any of it ran. The test side showed what the development side could not: the net
learnt channel 1's electrode motion, and channel 0's (the stress noise) is another; at em 12 dB
`verified` made more false detections than Pan-Tompkins. So the development side's noise becomes motion
no net trained on: channel 0's first 15 minutes (em and ma), on the same five patients; the test corpora
use channel 0's last 15 minutes only (DS2 at 24, 12, 6, 0 dB, Pan-Tompkins scored beside on the same
noise), with svdb and the Icentia11k segments as before. One more net (seed 0, same recipe) trains on
channel 1's noise whole (30 minutes) and varied: each noise crop played 0.5-2x as fast, either sign, and
half the time in bursts under a smooth random envelope. Candidates: `verified` and `learned@0.1` of the
first net, `verified-r4` and `learned-r4@0.1` of the new one. The third round's rule on the new
development side; the carried one is the passing one with the highest F-measure at em 6 dB; if none
passes, nothing is carried and `verified` is withdrawn. (`--round 4`, the default; `--round 3` reruns
rounds 1-3's protocol.)
Result: none passes, so nothing is carried and `verified` is withdrawn. On motion no net trained on, every
candidate cuts Pan-Tompkins' false detections at em 6 dB by half or more (`verified`: 476 against 1,274),
but at em 0 dB each loses 1.3-1.9 points of Se (`verified` 96.81 % against 98.46 %) while keeping half
of Pan-Tompkins' false detections. The varied noise made the new net no better on this motion than the
first (`verified-r4` 413 and 2,320 false detections against 476 and 2,610, with more misses everywhere).

Run: `python studies/learned_detector.py [--steps 6000] [--record results/learned_detector.jsonl]`: trains
(runs/learned-detector/qrs.keras), scores the development side for Pan-Tompkins and
`--detectors`, applies the rule, then the test corpora with studies/detector.py's scoring.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import time
from pathlib import Path

import numpy as np

FS = 100.0
DEV = ("119", "203", "205", "209", "223")
CROP = 2048
HALF_WIDTH = 4  # samples at 100 Hz: a target within 40 ms of a beat annotation
NOISE_SPLIT_S = 1200.0  # channel 1's first 20 minutes train, the rest is the development side's
ROOT = Path(__file__).resolve().parent.parent


def normalised(x100: np.ndarray) -> np.ndarray:
    """The net's input: high-passed at 0.5 Hz (zero phase), over its running RMS of 4 s."""
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, 0.5, btype="highpass", fs=FS, output="sos")
    y = sosfiltfilt(sos, np.asarray(x100, np.float64))
    # the filter of a running sum can dip a rounding error below 0 where the lead is near flat
    rms = np.sqrt(np.maximum(uniform_filter1d(y * y, size=int(4 * FS), mode="reflect"), 0.0))
    return (y / (rms + 1e-3)).astype(np.float32)


def build_model(channels: int = 16):
    import keras
    from keras import layers

    inp = keras.Input((None, 1))
    h = layers.Conv1D(channels, 7, padding="same", activation="relu")(inp)
    for d in (1, 2, 4, 8, 16, 32):
        r = layers.Conv1D(channels, 5, padding="same", dilation_rate=d, activation="relu")(h)
        h = layers.Add()([h, r])
    out = layers.Conv1D(1, 1, activation="sigmoid")(h)
    return keras.Model(inp, out, name="qrs_net")


def targets(n: int, beats: np.ndarray) -> np.ndarray:
    y = np.zeros(n, np.float32)
    for off in range(-HALF_WIDTH, HALF_WIDTH + 1):
        i = beats + off
        y[i[(i >= 0) & (i < n)]] = 1.0
    return y


def mitdb_record(data_dir: Path, record: str):
    """(lead MLII at 360 Hz in mV, beat samples at 360 Hz, path of .atr without extension)."""
    from heartzoo.data.databases import get_database

    db = get_database("mitdb")
    folder = db.folder(data_dir)
    sig = db.read_signal(folder, record, "MLII")
    return sig.values, sig.fs, db.read_beats(folder, record).samples, db.record_dir(folder, record) / record


def noise_parts(data_dir: Path, channel: int, kinds, cut_s: float) -> tuple[dict, dict]:
    """One channel of each NSTDB noise of `kinds` at 360 Hz, cut at `cut_s`: {kind: before}, {kind: after}."""
    from heartzoo.data.noise import NOISE_FOLDER, read_noise

    before, after = {}, {}
    for kind in kinds:
        x, fs = read_noise(Path(data_dir) / NOISE_FOLDER, kind, channel=channel)
        before[kind], after[kind] = x[: int(cut_s * fs)], x[int(cut_s * fs) :]
    return before, after


def channel1_parts(data_dir: Path) -> tuple[dict, dict]:
    """Channel 1 of em, ma and bw: the training part (its first 20 minutes), the development part."""
    return noise_parts(data_dir, 1, ("em", "ma", "bw"), NOISE_SPLIT_S)


def training_set(data_dir: Path, noise: dict) -> tuple[list, dict]:
    """The training patients at 100 Hz (lead, targets, NSTDB signal power) and `noise` ({kind: 360 Hz})
    at 100 Hz."""
    from heartzoo.data.mitbih import DS1
    from heartzoo.data.noise import qrs_power
    from heartzoo.preprocess import positions_at, resample

    recs = []
    for r in DS1:
        if r in DEV:
            continue
        x, fs, beats, _ = mitdb_record(data_dir, r)
        x100 = resample(x, fs, FS)
        b100 = positions_at(beats, fs, FS)
        recs.append((x100, targets(len(x100), b100), qrs_power(x100, b100, FS)))
    train_noise = {k: resample(v, 360.0, FS) for k, v in noise.items()}
    return recs, train_noise


def noise_crop(noise: np.ndarray, rng: np.random.Generator, varied: bool) -> np.ndarray:
    """A crop of CROP samples of `noise`; `varied` (the fourth round): played 0.5-2x as fast, either sign,
    and in bursts half the time (a smooth random envelope), so the net sees more kinds of motion than one
    electrode's."""
    if not varied:
        o = rng.integers(0, len(noise) - CROP)
        return noise[o : o + CROP]
    from scipy.ndimage import uniform_filter1d

    span = int(CROP * np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    o = rng.integers(0, len(noise) - span)
    out = np.interp(np.linspace(0, span - 1, CROP), np.arange(span), noise[o : o + span])
    out = out * rng.choice([-1.0, 1.0])
    if rng.random() < 0.5:
        smooth = uniform_filter1d(
            rng.standard_normal(CROP), size=int(rng.uniform(1.0, 5.0) * FS), mode="wrap"
        )
        out = out * (1 + np.tanh(8 * smooth / (smooth.std() + 1e-9))) / 2
    return out


def batches(recs, noise, batch: int, rng: np.random.Generator, varied: bool = False):
    from heartzoo.data.noise import scale_for_snr

    lengths = np.array([len(r[0]) for r in recs], np.float64)
    p = lengths / lengths.sum()
    while True:
        xs, ys = [], []
        for _ in range(batch):
            x, y, power = recs[rng.choice(len(recs), p=p)]
            s = rng.integers(0, len(x) - CROP)
            xc, yc = x[s : s + CROP].astype(np.float64), y[s : s + CROP].copy()
            u = rng.random()
            if u < 0.05:  # pure noise, no beat
                kind = rng.choice(["em", "ma", "bw"])
                xc = noise_crop(noise[kind], rng, varied) * rng.uniform(0.2, 3.0)
                yc[:] = 0.0
            elif u < 0.80:
                kinds = [str(rng.choice(["em", "ma", "bw", "em+ma"]))]
                snr = rng.uniform(-6.0, 24.0)
                for kind in kinds[0].split("+"):
                    xc = xc + scale_for_snr(power, noise_crop(noise[kind], rng, varied), snr)
            if rng.random() < 0.3:
                xc = -xc
            xs.append(normalised(xc * rng.uniform(0.5, 2.0)))
            ys.append(yc)
        yield np.stack(xs)[..., None], np.stack(ys)[..., None]


def train(data_dir: Path, out: Path, steps: int, seed: int = 0, fourth: bool = False) -> dict:
    """The net of rounds 1-3, or (`fourth`) of round 4: channel 1's noise whole, varied."""
    import keras

    keras.utils.set_random_seed(seed)
    first, rest = channel1_parts(data_dir)
    noise = {k: np.concatenate([first[k], rest[k]]) for k in first} if fourth else first
    recs, train_noise = training_set(data_dir, noise)
    model = build_model()
    sched = keras.optimizers.schedules.CosineDecay(3e-3, steps)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss="binary_crossentropy")
    gen = batches(recs, train_noise, 32, np.random.default_rng(seed), varied=fourth)
    t0 = time.perf_counter()
    hist = model.fit(gen, steps_per_epoch=steps // 10, epochs=10, verbose=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    return {
        "params": int(model.count_params()),
        "steps": steps,
        "train_seconds": round(time.perf_counter() - t0, 1),
        "loss": [round(float(v), 5) for v in hist.history["loss"]],
    }


def register_learned(path: Path, suffix: str = "") -> None:
    """Adds the detectors of both rounds to heartzoo.detect's registry: `learned@T` (the net's peaks
    above T) and `verified` (Pan-Tompkins' beats the net scores >= 0.1 within 50 ms, and the net's peaks
    >= 0.5 further than 150 ms from every one of them)."""
    import keras
    from scipy.signal import find_peaks

    from heartzoo.detect import pan_tompkins, register
    from heartzoo.preprocess import positions_at, resample

    model = keras.models.load_model(path)

    def score_of(x100: np.ndarray) -> np.ndarray:
        return model.predict(normalised(x100)[None, :, None], verbose=0)[0, :, 0]

    def peaks_of(p: np.ndarray, threshold: float) -> np.ndarray:
        return find_peaks(p, height=threshold, distance=int(0.2 * FS))[0].astype(np.int64)

    for t in (0.5, 0.3, 0.1):

        def _learned(x: np.ndarray, fs: float, t=t) -> np.ndarray:
            return peaks_of(score_of(x), t)

        register(f"learned{suffix}@{t}", "a learned QRS detector (studies/learned_detector.py)", fs=FS)(
            _learned
        )

    @register(
        f"verified{suffix}", "Pan-Tompkins verified by the learned detector (studies/learned_detector.py)"
    )
    def _verified(x: np.ndarray, fs: float) -> np.ndarray:
        p = score_of(resample(x, fs, FS))
        pt = positions_at(pan_tompkins(x, fs), fs, FS)
        w = round(0.05 * FS)
        kept = pt[[p[max(0, i - w) : i + w + 1].max(initial=0.0) >= 0.1 for i in pt]] if len(pt) else pt
        own = peaks_of(p, 0.5)
        if len(kept):
            gap = np.abs(own[:, None] - kept[None, :]).min(axis=1)
            own = own[gap > round(0.15 * FS)]
        return positions_at(np.sort(np.concatenate([kept, own])), FS, fs)


def mitdb_corpus(data_dir: Path, records, noise: np.ndarray | None = None, snr: float | None = None):
    """(record, lead, rate, .atr base, start) of each MIT-BIH record, `noise` (360 Hz) added at `snr`
    where given, scored from the 5-minute mark."""
    from heartzoo.data.noise import add_record_noise

    for r in records:
        x, fs, beats, base = mitdb_record(data_dir, r)
        if noise is not None:
            x = add_record_noise(x, beats, fs, noise, snr)
        yield r, x, fs, base, 300.0


def score(detector: str, corpus) -> dict:
    """Gross QRS Se / +P of `detector` over `corpus` ((record, lead, rate, .atr base, start) each), scored
    as studies/detector.py scores, and its time per hour of signal."""
    from heartzoo.evaluation.ec57 import Report

    results, seconds, hours = detector_study().scored(detector, corpus)
    gross = Report(results).gross
    g, t = gross.stats, gross.tallies
    return {
        "se": g["qrs_se"],
        "pp": g["qrs_pp"],
        "fn": t["qrs_fn"],
        "fp": t["qrs_fp"],
        "seconds_per_hour": round(seconds / hours, 3),
    }


@functools.cache
def detector_study():
    """studies/detector.py (not a package), loaded once."""
    spec = importlib.util.spec_from_file_location("detector_study", ROOT / "studies" / "detector.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--model", type=Path, default=ROOT / "runs" / "learned-detector" / "qrs.keras")
    ap.add_argument("--skip-training", action="store_true", help="score the model at --model")
    ap.add_argument("--detectors", nargs="+", default=["learned@0.3", "learned@0.1", "verified"])
    ap.add_argument("--round", type=int, choices=(3, 4), default=4, help="3: rounds 1-3's protocol")
    ap.add_argument("--rule", type=int, choices=(1, 3), default=3)
    ap.add_argument("--test", action="store_true", help="also the test corpora (after the rule)")
    ap.add_argument("--test-detector", help="the detector the test corpora read [default: the carried one]")
    ap.add_argument("--data-dir")
    ap.add_argument("--record", type=Path)
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    if args.round == 4:
        return fourth_round(args, data_dir)
    if not args.skip_training:
        info = train(data_dir, args.model, args.steps)
        print(info, flush=True)
        append_json_line(args.record, {"study": "learned_detector", "training": info})
    register_learned(args.model)
    dev, passed, carried = development(data_dir, channel1_parts(data_dir)[1], args.detectors, args.rule)
    append_json_line(
        args.record,
        {
            "study": "learned_detector",
            "side": "development",
            "model": str(args.model.name),
            "conditions": dev,
            "rule_passed": passed,
            "carried": carried,
        },
    )
    tested = args.test_detector or carried
    if args.test and tested:
        from heartzoo.data.mitbih import DS2

        study = detector_study()
        for det in ("pan-tompkins", tested):  # DS2 clean is not one of studies/detector.py's corpora
            ds2 = score(det, mitdb_corpus(data_dir, DS2))
            print(f"test ds2 {det} Se {100 * ds2['se']:.2f} +P {100 * ds2['pp']:.2f}", flush=True)
            append_json_line(
                args.record,
                {"study": "learned_detector", "side": "test", "detector": det, "corpus": "ds2", **ds2},
            )
        for corpus in [c for c in study.CORPORA if c != "mitdb"]:
            line = study.run(tested, corpus, data_dir)
            g = line["gross"]
            print(
                f"test {corpus:12s} {tested} Se {100 * g['qrs_se']:.2f} +P {100 * g['qrs_pp']:.2f} "
                f"(FN {g['fn']}, FP {g['fp']}) {line['seconds_per_hour']} s/h",
                flush=True,
            )
            append_json_line(args.record, {"study": "learned_detector", "side": "test", **line})


STRESS_SPLIT_S = 900.0  # the fourth round: channel 0's first 15 minutes develop, the rest test
FOURTH_DEV_NOISE = "NSTDB channel 0's first 15 minutes"
FOURTH_TEST_NOISE = "channel 0 from 15 min"


def fourth_round(args, data_dir: Path) -> None:
    """Round 4: the development side's noise is channel 0's first 15 minutes, which no net trained on;
    the nets of rounds 1-3 and of round 4 against Pan-Tompkins; the test corpora on channel 0's rest."""
    from heartzoo.io import append_json_line

    model4 = args.model.with_name("qrs-r4.keras")
    if not args.skip_training:
        info = train(data_dir, model4, args.steps, fourth=True)
        print(info, flush=True)
        append_json_line(args.record, {"study": "learned_detector", "round": 4, "training": info})
    register_learned(args.model)
    register_learned(model4, "-r4")
    from heartzoo.data.mitbih import DS2

    # channel 0 of em and ma: its first 15 minutes the development side's, the rest the test corpora's
    dev_noise, test_noise = noise_parts(data_dir, 0, ("em", "ma"), STRESS_SPLIT_S)
    candidates = ["verified", "learned@0.1", "verified-r4", "learned-r4@0.1"]
    dev, passed, carried = development(data_dir, dev_noise, candidates)
    append_json_line(
        args.record,
        {
            "study": "learned_detector",
            "round": 4,
            "side": "development",
            "dev_noise": FOURTH_DEV_NOISE,
            "conditions": dev,
            "rule_passed": passed,
            "carried": carried,
        },
    )
    if not (args.test and carried):
        return
    for det in ("pan-tompkins", carried):
        for kind in (None, "em", "ma"):
            for snr in (None,) if kind is None else (24.0, 12.0, 6.0, 0.0):
                corpus = "ds2" if kind is None else f"ds2+{kind}{snr:g}, {FOURTH_TEST_NOISE}"
                s = score(det, mitdb_corpus(data_dir, DS2, None if kind is None else test_noise[kind], snr))
                print(
                    f"test {corpus:32s} {det:15s} Se {100 * s['se']:.2f} +P {100 * s['pp']:.2f} "
                    f"(FN {s['fn']}, FP {s['fp']})",
                    flush=True,
                )
                append_json_line(
                    args.record,
                    {
                        "study": "learned_detector",
                        "round": 4,
                        "side": "test",
                        "detector": det,
                        "corpus": corpus,
                        **s,
                    },
                )
    study = detector_study()
    for corpus in ("svdb", "icentia11k"):
        line = study.run(carried, corpus, data_dir)
        print(
            f"test {corpus:32s} {carried} Se {100 * line['gross']['qrs_se']:.2f} "
            f"+P {100 * line['gross']['qrs_pp']:.2f}",
            flush=True,
        )
        append_json_line(args.record, {"study": "learned_detector", "round": 4, "side": "test", **line})


def development(data_dir: Path, noise: dict, candidates, version: int = 3) -> tuple[dict, dict, str | None]:
    """Pan-Tompkins and `candidates` on the development side with `noise` ({kind: 360 Hz}): the scores by condition, which
    candidates pass the rule, and the one carried (the highest F-measure at em 6 dB of those that pass)."""
    dev = {}
    for cond in ("clean", "em12", "em6", "em0", "ma12", "ma6", "ma0"):
        kind, snr = (None, None) if cond == "clean" else (cond[:2], float(cond[2:]))
        for det in ("pan-tompkins", *candidates):
            s = score(det, mitdb_corpus(data_dir, DEV, None if kind is None else noise[kind], snr))
            dev[f"{cond}/{det}"] = s
            print(
                f"dev {cond:6s} {det:15s} Se {100 * s['se']:.2f} +P {100 * s['pp']:.2f} "
                f"(FN {s['fn']}, FP {s['fp']})",
                flush=True,
            )
    passed = {det: rule(dev, det, version) for det in candidates}
    carried = max((d for d in passed if passed[d]), key=lambda d: f_measure(dev[f"em6/{d}"]), default=None)
    print("rule:", passed, "carried:", carried, flush=True)
    return dev, passed, carried


def f_measure(s: dict) -> float:
    return 2 * s["se"] * s["pp"] / (s["se"] + s["pp"])


def rule(dev: dict, det: str, version: int = 3) -> bool:
    """The rule against Pan-Tompkins on the development side: (a) clean, and (b) in noise, as the first
    round wrote it (`version` 1) or as the third round does (3)."""
    c_pt, c = dev["clean/pan-tompkins"], dev[f"clean/{det}"]
    clean = c["se"] >= c_pt["se"] - 0.001 and c["pp"] >= c_pt["pp"] - 0.001
    if version == 1:
        e_pt, e = dev["em6/pan-tompkins"], dev[f"em6/{det}"]
        return clean and e["pp"] >= e_pt["pp"] + 0.02 and e["se"] >= e_pt["se"] - 0.005
    noisy = all(
        dev[f"{cond}/{det}"]["fp"] <= dev[f"{cond}/pan-tompkins"]["fp"] / 2
        and dev[f"{cond}/{det}"]["se"] >= dev[f"{cond}/pan-tompkins"]["se"] - 0.005
        for cond in ("em6", "em0")
    )
    return clean and noisy


if __name__ == "__main__":
    main()
