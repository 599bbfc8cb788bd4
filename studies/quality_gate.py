"""The signal-quality gate of `heartzoo annotate` (`heartzoo.recording.quality`: template matching after Orphanidou
et al. 2015) on MIT-BIH records, clean and with NSTDB electrode motion (`em`) added to the whole record:
the share of reference beats in windows it keeps, and the QRS Se and +P of the default detector's beats
there (a detected beat is true within 150 ms of a reference beat), against the same detector with no gate.
And pure noise: Gaussian (60 s at 250 Hz, 0.2 mV), and NSTDB's three noise records as recorded (each
channel a recording of its own, no ECG in it): how many beats are kept.

The gate's threshold was chosen on DS1 (`--records DS1`: the highest of 0.5, 0.6, 0.66 that keeps >= 99 %
of clean DS1's beats); DS2 (the default) is measured, never chosen on.

The learned gate (`--gate quality-cnn3@v1`, a `quality` model of the zoo) is measured the same way; its
size, arena and time per window are on its card. `--oracle 2.56 5 10` measures what any gate of that
window length could keep: the beats in windows where the detector makes no error; on noise channel 1 (the
training side) it chose the quality model's window, on channel 0 (the stress noise) it bounds every gate.

`--icentia` (a diagnosis, choosing nothing) asks where the gate's unreadable windows fall on the Icentia11k
segments: among the beats the annotators could not classify (`Q`), or among beats they read.

Run: `python studies/quality_gate.py [--records DS2] [--snr 12 6 0] [--gate sqi NAME@VERSION ...]
[--min-correlation T ...] [--record FILE]`; one JSON line per condition. On the validation patients (the side a choice may read):
`--records 119,203,205,209,223 --noise-channel 1`. The choice of the threshold: `--records DS1 --snr --min-correlation
0.5 0.6 0.66` (clean DS1 alone).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def windows_of(gate, x, fs: float, peaks, min_correlation: float):
    """The gate's windows: the template-matching index (gate None) or a quality model's."""
    from heartzoo.recording.quality import model_windows, sqi_windows

    if gate is None:
        return sqi_windows(x, fs, peaks, min_correlation=min_correlation)
    return model_windows(x, fs, gate)


def condition(
    records, snr: float | None, data_dir: Path, min_correlation: float, gate=None, channel: int = 0
) -> dict:
    from heartzoo.data.databases import get_database
    from heartzoo.data.noise import NOISE_FOLDER, add_record_noise, read_noise
    from heartzoo.data.quality_windows import MATCH_S, near
    from heartzoo.detect import detect

    db = get_database("mitdb")
    folder = db.folder(data_dir)
    em = read_noise(data_dir / NOISE_FOLDER, "em", channel=channel)[0] if snr is not None else None
    tally = dict.fromkeys(("ref", "ref_kept", "det", "det_tp", "kept", "kept_tp", "ref_kept_found"), 0)
    seconds, n_windows = 0.0, 0
    for r in records:
        x = db.read_signal(folder, r, "MLII").values
        ref = db.read_beats(folder, r).samples
        if em is not None:
            x = add_record_noise(x, ref, 360.0, em, snr)
        peaks = detect(x, 360.0)
        t0 = time.perf_counter()
        windows = windows_of(gate, x, 360.0, peaks, min_correlation)
        keep, ref_keep = windows.of(peaks), windows.of(ref)
        seconds += time.perf_counter() - t0
        n_windows += len(windows.readable)
        tol = MATCH_S * 360.0  # 54 samples
        tp, found = near(peaks, ref, tol), near(ref, peaks, tol)
        for key, v in (
            ("ref", len(ref)),
            ("ref_kept", ref_keep.sum()),
            ("det", len(peaks)),
            ("det_tp", tp.sum()),
            ("kept", keep.sum()),
            ("kept_tp", (keep & tp).sum()),
            ("ref_kept_found", (ref_keep & found).sum()),
        ):
            tally[key] += int(v)
    return {
        **gate_of(gate, min_correlation),
        "records": len(records),
        "noise": None
        if snr is None
        else {"kind": "em", "snr_db": snr, **({"channel": channel} if channel else {})},
        "beats_kept": tally["ref_kept"] / tally["ref"],
        "qrs_pp_kept": tally["kept_tp"] / max(1, tally["kept"]),
        "qrs_se_kept": tally["ref_kept_found"] / max(1, tally["ref_kept"]),
        "qrs_pp_ungated": tally["det_tp"] / max(1, tally["det"]),
        "tallies": tally,
        "gate_seconds": round(seconds, 2),
        "gate_windows": n_windows,
    }


def gate_of(gate, min_correlation: float) -> dict:
    if gate is None:
        return {"gate": "sqi", "min_correlation": min_correlation}
    return {"gate": f"{gate.config.name}@{gate.folder.name}"}


def pure_noise(gate, min_correlation: float) -> dict:
    from heartzoo.detect import detect

    x = np.random.default_rng(0).standard_normal(15000) * 0.2
    peaks = detect(x, 250.0)
    return {
        **gate_of(gate, min_correlation),
        "noise": "gaussian 0.2 mV, 60 s, 250 Hz",
        "detected": len(peaks),
        "kept": int(windows_of(gate, x, 250.0, peaks, min_correlation).of(peaks).sum()),
    }


def recorded_noise(gate, min_correlation: float, data_dir: Path) -> list[dict]:
    """Noise as electrodes record it, with no ECG in it: NSTDB's three noise records (electrode motion,
    muscle, baseline wander; 30 min, 360 Hz, each channel read as a recording of its own), the beats the
    default detector finds and the gate keeps, which `annotate` would classify."""
    from heartzoo.data.noise import NOISE_FOLDER, read_noise
    from heartzoo.detect import detect

    lines = []
    for kind in ("em", "ma", "bw"):
        for channel in (0, 1):
            x, fs = read_noise(data_dir / NOISE_FOLDER, kind, channel=channel)
            peaks = detect(x, fs)
            windows = windows_of(gate, x, fs, peaks, min_correlation)
            lines.append(
                {
                    **gate_of(gate, min_correlation),
                    "noise": f"NSTDB {kind} channel {channel}, {len(x) / fs / 60:.0f} min",
                    "detected": len(peaks),
                    "kept": int(windows.of(peaks).sum()),
                    "readable_share": float(windows.readable.mean()),
                }
            )
    return lines


#: `--indices`' clauses, each added to the template index: a window is readable only if the index also
#: passes. Fixed before the run (a diagnosis: it chooses nothing)
KURTOSIS = (0.0, 0.5, 1.0)
AGREEMENT = (0.5, 0.7, 0.8)


def indices(records, data_dir: Path) -> list[dict]:
    """Two published indices that look for noise where the template index sees beats, each as a clause
    on the template index's readable windows, on the development side only (DS1, NSTDB channel 1):
    kurtosis (kSQI: the excess kurtosis of the window's samples; an ECG's spiky QRS makes it high,
    Li, Mark & Clifford, Physiol Meas 29:15-32, 2008; Clifford et al., Physiol Meas 33:1419-1433, 2012)
    and the agreement of two detectors (bSQI: beats both Pan-Tompkins and gqrs find within 150 ms over
    the beats either finds, same papers). Per clause: the share of DS1's reference beats kept, clean and
    with electrode motion at 6 dB (and +P of the detected beats kept there), and the beats kept of NSTDB's
    em and ma records read as recordings (no ECG in them)."""
    from scipy.stats import kurtosis

    from heartzoo.data.databases import get_database
    from heartzoo.data.noise import NOISE_FOLDER, add_record_noise, read_noise
    from heartzoo.data.quality_windows import MATCH_S, near
    from heartzoo.detect import detect
    from heartzoo.recording.quality import sqi_windows

    db = get_database("mitdb")
    folder = db.folder(data_dir)
    em = read_noise(data_dir / NOISE_FOLDER, "em", channel=1)[0]
    clauses = [("none", None)] + [("kurtosis", k) for k in KURTOSIS] + [("agreement", a) for a in AGREEMENT]
    tally: dict = {}

    def score(tag: str, x: np.ndarray, fs: float, ref: np.ndarray) -> None:
        peaks, other = detect(x, fs), detect(x, fs, "gqrs")
        w = sqi_windows(x, fs, peaks)
        tol = MATCH_S * fs
        true, agree = near(peaks, ref, tol), near(peaks, other, tol)
        for i, (s, e) in enumerate(zip(w.starts, w.ends, strict=True)):
            mine, ref_in = (peaks >= s) & (peaks < e), int(((ref >= s) & (ref < e)).sum())
            both = int(agree[mine].sum())
            b = both / max(1, int(mine.sum()) + int(((other >= s) & (other < e)).sum()) - both)
            k = float(kurtosis(x[s:e].astype(np.float64)))
            for name, t in clauses:
                ok = w.readable[i] and (t is None or (k if name == "kurtosis" else b) >= t)
                row = tally.setdefault(
                    (tag, name, t), dict.fromkeys(("ref", "ref_kept", "kept", "kept_tp"), 0)
                )
                row["ref"] += ref_in
                if ok:
                    row["ref_kept"] += ref_in
                    row["kept"] += int(mine.sum())
                    row["kept_tp"] += int((mine & true).sum())

    for r in records:
        x = db.read_signal(folder, r, "MLII").values
        ref = db.read_beats(folder, r).samples
        score("DS1 clean", x, 360.0, ref)
        score("DS1 + em 6 dB (channel 1)", add_record_noise(x, ref, 360.0, em, 6.0), 360.0, ref)
    for kind in ("em", "ma"):
        x, fs = read_noise(data_dir / NOISE_FOLDER, kind, channel=1)
        score(f"NSTDB {kind} channel 1 (no ECG)", x, fs, np.zeros(0, np.int64))
    return [
        {
            "indices": tag,
            "clause": name if t is None else f"{name} >= {t:g}",
            "beats_kept": v["ref_kept"] / v["ref"] if v["ref"] else None,
            "qrs_pp_kept": v["kept_tp"] / max(1, v["kept"]),
            "detected_kept": v["kept"],
        }
        for (tag, name, t), v in tally.items()
    ]


def oracle(records, snr: float, data_dir: Path, window_s: float, channel: int) -> dict:
    """The most a gate of `window_s` windows could keep: the share of reference beats in windows where
    the default detector makes no error (a gate keeping exactly those has QRS +P 100 %)."""
    from heartzoo.data.databases import get_database
    from heartzoo.data.noise import NOISE_FOLDER, add_record_noise, read_noise
    from heartzoo.data.quality_windows import detection_readable
    from heartzoo.data.rhythms import window_starts
    from heartzoo.detect import detect

    db = get_database("mitdb")
    em = read_noise(data_dir / NOISE_FOLDER, "em", channel=channel)[0]
    beats = in_readable = 0
    for r in records:
        x = db.read_signal(db.folder(data_dir), r, "MLII").values
        ref = db.read_beats(db.folder(data_dir), r).samples
        noisy = add_record_noise(x, ref, 360.0, em, snr)
        n = round(window_s * 360.0)
        starts = window_starts(len(x), n)
        ok = detection_readable(ref, detect(noisy, 360.0), starts, n, 360.0)
        w = ref // n
        beats += int((w < len(starts)).sum())
        in_readable += int(ok[w[w < len(starts)]].sum())
    return {
        "oracle_window_s": window_s,
        "noise": {"kind": "em", "snr_db": snr, "channel": channel},
        "beats_in_readable_windows": in_readable / max(1, beats),
    }


def icentia(data_dir: Path, min_correlation: float) -> list[dict]:
    """A diagnosis, choosing nothing: on each Icentia11k segment (an external test), the reference beats by
    their label in the windows the gate keeps and in those it calls unreadable, and the detections there
    that match no reference beat. Icentia11k's annotators label a beat `Q` (undefined) where they could not
    classify it, as in noise: do the gate's unreadable windows fall where the annotators could not read?"""
    from heartzoo.data.databases import get_database
    from heartzoo.data.quality_windows import MATCH_S, near
    from heartzoo.detect import detect
    from heartzoo.recording.quality import sqi_windows

    db = get_database("icentia11k")
    folder = db.folder(data_dir)
    out = []
    for r in db.select("all", data_dir):
        sig = db.read_signal(folder, r, "ecg")
        beats = db.read_beats(folder, r)
        peaks = detect(sig.values, sig.fs)
        windows = sqi_windows(sig.values, sig.fs, peaks, min_correlation=min_correlation)
        kept, labels = windows.of(beats.samples), np.asarray(beats.symbols)
        false = ~near(peaks, beats.samples, MATCH_S * sig.fs)
        by = {
            side: {str(k): int(v) for k, v in zip(*np.unique(labels[mask], return_counts=True), strict=True)}
            for side, mask in (("readable", kept), ("unreadable", ~kept))
        }
        out.append(
            {
                "gate": "sqi",
                "min_correlation": min_correlation,
                "segment": r,
                "windows": len(windows.readable),
                "unreadable_windows": int((~windows.readable).sum()),
                "reference_beats": by,
                "false_detections": {
                    "readable": int((false & windows.of(peaks)).sum()),
                    "unreadable": int((false & ~windows.of(peaks)).sum()),
                },
            }
        )
    return out


def main() -> None:
    from heartzoo import paths
    from heartzoo.data.databases import resolve
    from heartzoo.io import append_json_line
    from heartzoo.recording.quality import MIN_CORRELATION, SQI_GATE
    from heartzoo.zoo.hub import resolve_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--records", default="DS2", help="a mitdb set (DS2, the default, or DS1) or records: 119,203"
    )
    ap.add_argument(
        "--noise-channel",
        type=int,
        default=0,
        help="NSTDB channel: 0 (the test side), 1 (the quality model's training side)",
    )
    ap.add_argument("--snr", type=float, nargs="*", default=[12.0, 6.0, 0.0], help="em noise levels (dB)")
    ap.add_argument(
        "--min-correlation",
        type=float,
        nargs="+",
        default=[MIN_CORRELATION],
        help="the gate's thresholds to measure [default: heartzoo's]",
    )
    ap.add_argument(
        "--gate",
        nargs="+",
        default=["sqi"],
        help="gates to measure: sqi, and quality models of the zoo (NAME@VERSION)",
    )
    ap.add_argument(
        "--oracle",
        type=float,
        nargs="*",
        default=[],
        help="window lengths (s): the share of beats an error-free-window gate keeps (em, --snr)",
    )
    ap.add_argument(
        "--icentia",
        action="store_true",
        help="a diagnosis instead: the Icentia11k segments' reference beats by label, in the windows kept "
        "and not",
    )
    ap.add_argument(
        "--indices",
        action="store_true",
        help="a diagnosis instead: kurtosis and two-detector agreement as clauses of the index (DS1, "
        "noise channel 1)",
    )
    ap.add_argument(
        "--recorded-noise",
        action="store_true",
        help="only NSTDB's noise records, each channel as a recording of its own (also in a full run)",
    )
    ap.add_argument("--data-dir", help="folder holding mitdb/ and nstdb_noise/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    records = (
        args.records.split(",") if "," in args.records else resolve(f"mitdb:{args.records}", data_dir)[1]
    )
    if args.icentia:
        lines = [line for t in args.min_correlation for line in icentia(data_dir, t)]
    elif args.indices:
        lines = indices(records, data_dir)
    elif args.recorded_noise:
        lines = []
        for name in args.gate:
            gate = None if name == SQI_GATE else resolve_model(name)
            for t in args.min_correlation if gate is None else [MIN_CORRELATION]:
                lines += recorded_noise(gate, t, data_dir)
    elif args.oracle:
        lines = [
            oracle(records, snr, data_dir, w, args.noise_channel) for snr in args.snr for w in args.oracle
        ]
    else:
        lines = []
        for name in args.gate:
            gate = None if name == SQI_GATE else resolve_model(name)
            for t in args.min_correlation if gate is None else [MIN_CORRELATION]:
                lines += [
                    condition(records, snr, data_dir, t, gate, args.noise_channel)
                    for snr in (None, *args.snr)
                ]
                lines.append(pure_noise(gate, t))
                lines += recorded_noise(gate, t, data_dir)
    for line in lines:
        recorded = str(line.get("noise", "")).startswith("NSTDB")
        where = "icentia11k" if args.icentia else "nstdb" if recorded else args.records
        if args.indices:
            where = f"{args.records} (indices)"
        line = {"benchmark": "quality_gate", "set": where, **line}
        print(json.dumps(line), flush=True)
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
