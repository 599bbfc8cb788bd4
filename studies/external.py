"""External tests of the published beat models on wearable recordings (`heartzoo.recording.external`): the Icentia11k
chest-patch segments by EC57 (default detector and quality gate, and the reference R peaks), and the
AliveCor recordings of the CinC 2017 test split (the share of beats called S in AF records, all false by
AAMI's rules; the share called V or S in normal-rhythm records, a proxy). Every int8 beat model of the
zoo of at most 64 KB, leaky-split models left out. Read by the cards ("On other devices") and the
leaderboards; never used to train or select (the recommendation rule may read the false-alarm rates).
The CinC shares are also given as `annotate --rhythm` writes them: with the zoo's recommended af-4 model
(or `--rhythm`), whose AF episodes relabel S calls N (studies/af_s_gate.py adopted it).

Run: `python studies/external.py [--models NAME@VERSION,...] [--rhythm NAME@VERSION|none] [--record FILE]`;
one JSON line per model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_BYTES = 64 * 1024


def published(zoo: Path) -> list[str]:
    """NAME@VERSION of every inter-patient beat model whose .tflite is at most 64 KB."""
    index = json.loads((zoo / "index.json").read_text())
    out = []
    for m in index["models"]:
        size = next((f["bytes"] for f in m["files"] if f["path"] == "model.tflite"), None)
        beat = m["task"] in ("beat-2", "beat-3", "aami-5") and m["summary"].get("split") == "ds2"
        if beat and size is not None and size <= MAX_BYTES:
            out.append(f"{m['name']}@{m['version']}")
    return out


def main() -> None:
    from heartzoo import paths
    from heartzoo.io import append_json_line
    from heartzoo.meta import check_ref
    from heartzoo.recording import external
    from heartzoo.site.card_external import false_call_classes
    from heartzoo.zoo.hub import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="comma-separated NAME@VERSION [default: every beat model <= 64 KB]")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument(
        "--rhythm", help="the af-4 model of `annotate --rhythm` [default: the recommended one]; none"
    )
    ap.add_argument(
        "--data-dir", help="folder holding icentia11k_sample/ and cinc2017/ [default: $HEARTZOO_DATA_DIR]"
    )
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    rhythm = args.rhythm
    if rhythm is None:
        from heartzoo.site.pages import recommended_refs

        rhythm = recommended_refs(json.loads((args.zoo / "index.json").read_text()), args.zoo).get("af-4")
    rhythm = None if rhythm == "none" else rhythm
    scans: dict = {}  # each recording's detection, gate and rhythm, made once for every model
    for ref in args.models.split(",") if args.models else published(args.zoo):
        t0 = time.perf_counter()
        loaded = load_model(*check_ref(ref), format="tflite", zoo=args.zoo)
        line = {
            "model": ref,
            "runtime": "int8, LiteRT reference kernels (bit-exact with TFLM)",
            "icentia11k": external.icentia11k(loaded, data_dir, scans),
            "cinc2017": external.cinc2017(loaded, data_dir, rhythm=rhythm, zoo=args.zoo, scans=scans),
            "seconds": None,
        }
        line["seconds"] = round(time.perf_counter() - t0, 1)
        c, i = line["cinc2017"], line["icentia11k"]
        s, v = false_call_classes(c["classes"])
        print(
            f"{ref}: CinC AF beats called {s} {100 * c['A']['share'][s]:.1f} % "
            f"({c['A']['records_with_any'][s]} of {c['A']['records_with_beats']} records); "
            f"NSR beats called {v} {100 * c['N']['share'][v]:.1f} %; "
            + (
                f"with {rhythm}: AF beats called {s} {100 * c['A']['with_rhythm']['share'][s]:.1f} %; "
                if rhythm
                else ""
            )
            + "Icentia11k detected "
            f"QRS Se {100 * i['detected']['qrs_se']:.2f} VEB Se {100 * (i['detected']['veb_se'] or 0):.1f} "
            f"+P {100 * (i['detected']['veb_pp'] or 0):.1f}; {line['seconds']} s",
            flush=True,
        )
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
