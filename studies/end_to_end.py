"""Published students end to end on DS2: each int8 model classifying the beats the Pan-Tompkins detector
found, scored beat by beat against the reference annotations (EC57 gross QRS, VEB and SVEB Se/+P from
the 5-minute mark; per-class F1 over matched beats), beside the same model on the reference R peaks
(`heartzoo.recording.end_to_end`). `published_int8_macro_f1` is the model's metrics.json int8 DS2 macro-F1, which
`reference.all_beats.macro_f1` must equal (the same frames, LiteRT's reference kernels bit-exact with the
TFLM run that scored it).

Run: `python studies/end_to_end.py [--models a,b] [--snr 24 18 12 6 0] [--record FILE]`; one JSON
line per model (and per NSTDB `em` noise level with --snr: the noise-stress test, noise added to whole
records before detection).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = (
    "beat-2-cnn3-student",
    "beat-3-cnn3-student",
    "aami-5-cnn3-student",
    "beat-2-cnn3-born-again",
    "beat-3-cnn3-born-again",
    "aami-5-cnn3-born-again",
    "beat-2-cnn3-born-again-2",
    "beat-3-cnn3-born-again-2",
    "aami-5-cnn3-born-again-2",
)


def main() -> None:
    from heartzoo.io import append_json_line
    from heartzoo.recording.end_to_end import end_to_end
    from heartzoo.zoo.hub import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--records", help="comma-separated mitdb records [default: DS2]")
    ap.add_argument("--detector", default="pan-tompkins")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--data-dir", help="folder holding mitdb/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    ap.add_argument(
        "--snr", type=float, nargs="+", help="NSTDB em noise levels (dB) instead of clean records"
    )
    ap.add_argument("--gate", help="the quality gate of `gated`: a quality model of the zoo [default: sqi]")
    args = ap.parse_args()
    levels = [("em", snr) for snr in args.snr] if args.snr else [None]
    for name, noise in ((n, lv) for n in args.models.split(",") for lv in levels):
        loaded = load_model(name, format="tflite", zoo=args.zoo)
        t0 = time.perf_counter()
        line = end_to_end(
            loaded,
            args.records.split(",") if args.records else None,
            detector=args.detector,
            data_dir=args.data_dir,
            noise=noise,
            gate=args.gate,
        )
        line["seconds"] = round(time.perf_counter() - t0, 1)
        metrics = json.loads((loaded.folder / "metrics.json").read_text())
        line["published_int8_macro_f1"] = metrics["int8"]["macro_f1"]
        d, g, r = line["detected"], line["gated"], line["reference"]
        print(
            f"{line['model']}{'' if noise is None else f' em {noise[1]:g} dB'}: QRS Se {d['ec57']['qrs_se']:.4f} +P {d['ec57']['qrs_pp']:.4f} · macro-F1 matched "
            f"{d['classes']['macro_f1']:.4f} detected, {g['classes']['macro_f1']:.4f} gated (+P "
            f"{g['ec57']['qrs_pp']:.4f}, {g['beats_kept']:.4f} kept) vs {r['classes']['macro_f1']:.4f} reference peaks · all "
            f"beats {r['all_beats']['macro_f1']:.4f} (published int8 {line['published_int8_macro_f1']:.4f})",
            flush=True,
        )
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
