"""External tests of the published af-4 models (`heartzoo.recording.external_rhythm`): MIT-BIH's AF/flutter and
normal-sinus windows (AF F1), the windows of every other MIT-BIH rhythm but paced (the share called AF,
all false), aftdb's AF recordings (AF sensitivity), the Icentia11k segments (false AF
calls per hour), each in windows of the model's own length, int8 as published. Never used to train or
select. The cards of af-4 read the latest line of each model ("On other databases").

Run: `python studies/af_external.py [--models NAME@VERSION,...] [--record FILE]`; one JSON line a model.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def af4_command(doc: str) -> tuple[argparse.Namespace, dict, list[str]]:
    """The command line of a study of the published af-4 models (`--models`, `--zoo`, `--record`): its
    arguments, the zoo's validated index, and the models, `--models` (NAME@VERSION,...) or every af-4 one."""
    from heartzoo.zoo.index import read_index

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--models", help="NAME@VERSION,... [default: every published af-4 model]")
    ap.add_argument("--zoo", type=Path, default=REPO / "zoo")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    index = read_index(args.zoo)
    if args.models:
        return args, index, args.models.split(",")
    return args, index, [f"{m['name']}@{m['version']}" for m in index["models"] if m["task"] == "af-4"]


def main() -> None:
    from heartzoo.io import append_json_line
    from heartzoo.meta import check_ref
    from heartzoo.recording import external_rhythm
    from heartzoo.zoo.hub import load_model

    args, _, refs = af4_command(__doc__)
    for ref in refs:
        loaded = load_model(*check_ref(ref), format="tflite", zoo=args.zoo)
        t0 = time.perf_counter()
        line = {
            "benchmark": "af_external",
            "model": ref,
            "runtime": "int8 (LiteRT reference kernels)",
            "mitdb": external_rhythm.mitdb(loaded),
            "aftdb": external_rhythm.aftdb(loaded),
            "icentia11k": external_rhythm.icentia11k(loaded),
        }
        line["seconds"] = round(time.perf_counter() - t0, 1)
        m, a, i = line["mitdb"], line["aftdb"], line["icentia11k"]
        print(
            f"{ref}: MIT-BIH AF F1 {m['af_f1']:.3f} (Se {m['af_se']:.3f}, +P {m['af_pp']:.3f}); aftdb AF Se "
            f"{a['af_se_records']:.3f} of recordings, {a['af_se_windows']:.3f} of windows; Icentia11k "
            f"{i['false_af_per_hour']:.1f} false AF windows per hour",
            flush=True,
        )
        append_json_line(args.record, line)


if __name__ == "__main__":
    main()
