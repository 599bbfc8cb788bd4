"""How short a lost stretch may be for the beats around it to be classified (issue 45: never refuse good data).

A stretch the file marks missing is bridged by a straight line (`heartzoo.recording.missing`); no beat is
detected within 0.15 s of it, and `label_beats` classifies no beat whose frame holds one of its samples:
half the model's frame either side, 5.12 s of beats for beat-3 however short the stretch. A chest strap
over Bluetooth loses a packet (73 samples, 0.56 s, on a Polar H10) now and then; a logger drops a few
samples. At a loss every 20 s a quarter of the beats go unclassified, for losses the model may read
through. Is the bridge, inside a beat's frame, read as the beat would be read without the loss?

The measure, on the training side only (MIT-BIH DS1's 22 records, MLII, 360 Hz; never DS2): every record
through `scan` and `label_beats` with the recommended `beat-3-cnn3-student@v6` (default detector,
quality gate, int8), once whole and once with a stretch of L seconds missing (NaN) every 20 s, at a seeded
offset of 0-10 s within each 20 s (the same offsets for every L). The beats the current rule drops and a
rule that reads through stretches of at most L would classify (their frame holds a stretch of at most L,
and they lie more than 0.15 s from it, as detection already asks) are compared with the same beats of the
whole record: the share whose class changes. Their RR inputs and running templates change too where the
stretch hid a beat, and that counts (a diagnosis beside the rule, added after its first run, which
chooses nothing: how many of the changed beats are next to a beat the stretch hid from detection).

The rule, fixed before any run: L in (0.02, 0.05, 0.1, 0.2, 0.5, 1.0) s; the largest L for which it and
every shorter L change the class of at most 1 % of those beats (over DS1, pooled) becomes
`missing.BRIDGE_S`, the longest stretch `label_beats` reads through; if 0.02 s fails, nothing changes.
The rhythm model's windows are not changed by this study.

First round (results/missing_bridge.jsonl, its first row): at 0.02 s 1.46 % of the 12,218 newly
classified beats change class, so no L passed and nothing changed; 162 of the 178 changed beats are next to
a beat the stretch hid, whose RR inputs then span two intervals (a pause, or an early beat).

Second round, its rule written after the first and before it ran: a beat next to a stretch it may be
hiding a beat in (its RR interval before or after overlaps the stretch widened by the detector's 0.15 s
margin) is never classified, since its RR inputs may span a hidden beat; the rest of the beats whose frame
holds a stretch of at most L are, judged by the same 1 % over the same L and the same draws, now over
the beats this rule classifies.

Second round's result (its row `"round": 2`): 0.14 % at 0.02 s, 0.48 % at 0.1 s, 1.06 % at 0.2 s: 0.1 s
is adopted (`missing.BRIDGE_S`). Measured again with the detector as it now is (the last round-2 row):
0.17 %, 0.49 % and 1.09 %, the same choice.

`--rhythm`, its rule written after the second round and before it ran: should the rhythm model read
through the same stretches? A whole recording's af-4 class (`rhythm_annotation.recording_class`) leaves out
every window that holds a missing sample, so a short recording with a few samples lost in each window gets
no class. On the validation recordings of `af-4-cnn4-student` v1 (the recommended af-4 model; its
config's validation draw of the CinC 2017 training split, never the test split), one stretch of
`BRIDGE_S` missing (NaN) at a seeded place inside each window, bridged and read through: the share of
windows whose class changes against the whole recording, and of recordings whose class changes. Adopted
(the windows of a recording's class read through stretches of at most `BRIDGE_S`) if both are at most 1 %.
Result: 77 of 4,267 windows (1.8 %) and 33 of 1,364 recordings (2.4 %) change class: not adopted, a
recording's class still leaves out every window that holds a missing sample (`bridge_s` 0).

Run: `python studies/missing_bridge.py [--record results/missing_bridge.jsonl]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

MODEL = "beat-3-cnn3-student@v6"
RHYTHM_MODEL = "af-4-cnn4-student@v1"
LENGTHS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
EVERY_S = 20.0
LIMIT = 0.01


def gap_starts(n: int, fs: float, seed: int) -> np.ndarray:
    """A stretch's first sample in every EVERY_S, 0-10 s into it (seeded)."""
    rng = np.random.default_rng(seed)
    k = np.arange(int(n / fs // EVERY_S))
    return np.round((k * EVERY_S + rng.uniform(0, 10, len(k))) * fs).astype(np.int64)


def changed(
    x: np.ndarray, fs: float, starts: np.ndarray, length_s: float, loaded, whole
) -> tuple[int, int, int]:
    """(beats newly classified when stretches of `length_s` are read through, of them a changed class, of
    those a beat next to one the stretch hid: its RR inputs span the hidden beat)."""
    from heartzoo.recording.annotation import label_beats
    from heartzoo.recording.missing import covered, fill
    from heartzoo.recording.scan import scan

    width = max(1, round(length_s * fs))
    y = np.array(x, dtype=np.float32)
    for s in starts:
        y[s : s + width] = np.nan
    y, spans = fill(y)
    found = scan(y, fs, missing=spans)
    read = label_beats(found, loaded, bridge_s=length_s)
    now = covered(read.samples, spans, loaded.config.input.half_frame_samples(fs))
    new = read.samples[now]
    j = np.minimum(np.searchsorted(whole.samples, new), len(whole.samples) - 1)
    # a newly classified beat the whole record did not keep (another detection) counts as changed
    differs = (whole.samples[j] != new) | (whole.classes[j] != read.classes[now])
    # the whole record's neighbours of each new beat, and whether the stretch hid them from detection
    seen = np.isin(whole.samples, found.peaks)
    hid = ~seen[np.maximum(j - 1, 0)] | ~seen[np.minimum(j + 1, len(whole.samples) - 1)]
    return int(now.sum()), int(differs.sum()), int((differs & hid).sum())


def rhythm_changes(model_name: str, length_s: float) -> dict:
    """af-4's windows and recording classes, whole and with a stretch of `length_s` lost in each window."""
    from heartzoo.data.cinc2017 import held_out_records
    from heartzoo.data.databases import get_database
    from heartzoo.data.recording_windows import recording_window_starts, split_recordings
    from heartzoo.paths import data_dir
    from heartzoo.recording.missing import fill
    from heartzoo.recording.rhythm_annotation import recording_class, window_probabilities
    from heartzoo.zoo.hub import resolve_model

    loaded = resolve_model(model_name, zoo="zoo")
    db = get_database("cinc2017")
    folder = db.folder(data_dir())
    spec = loaded.config.input
    rng = np.random.default_rng(0)
    windows = changed_windows = recordings = changed_recordings = 0
    v = loaded.config.data.validation
    for record in split_recordings(db.labels(), held_out_records(), v.fraction, v.seed)["val"]:
        sig = db.read_signal(folder, record, spec.lead)
        x, fs = np.asarray(sig.values, np.float32), float(sig.fs)
        n, width = spec.frame_samples(fs), max(1, round(length_s * fs))
        whole = window_probabilities(loaded, x, fs)
        y = x.copy()
        for start in recording_window_starts(len(x), n):
            at = min(max(int(start) + int(rng.integers(0, n - width)), 0), len(x) - width)
            y[at : at + width] = np.nan
        y, spans = fill(y)
        lost = window_probabilities(loaded, y, fs, spans, bridge_s=length_s)
        windows += len(whole)
        changed_windows += int((whole.argmax(1) != lost.argmax(1)).sum())
        a = recording_class(x, fs, loaded)
        b = recording_class(y, fs, loaded, spans, bridge_s=length_s)
        recordings += 1
        changed_recordings += int(a["class"] != b["class"])
    return {
        "study": "missing_bridge",
        "part": "rhythm",
        "model": model_name,
        "length_s": length_s,
        "recordings": recordings,
        "recordings_changed": changed_recordings,
        "windows": windows,
        "windows_changed": changed_windows,
        "adopted": changed_windows <= LIMIT * windows and changed_recordings <= LIMIT * recordings,
    }


def main() -> None:
    import json

    import wfdb

    from heartzoo.data.splits import DS1
    from heartzoo.io import append_json_line
    from heartzoo.paths import data_dir
    from heartzoo.recording.annotation import label_beats
    from heartzoo.recording.scan import scan
    from heartzoo.zoo.hub import resolve_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, help="append the result as one JSON line to this file")
    ap.add_argument("--rhythm", action="store_true", help="the af-4 model's windows (see above)")
    args = ap.parse_args()
    if args.rhythm:
        from heartzoo.recording.missing import BRIDGE_S

        row = rhythm_changes(RHYTHM_MODEL, BRIDGE_S)
        print(json.dumps(row))
        append_json_line(args.record, row)
        return
    loaded = resolve_model(MODEL, zoo="zoo")
    totals = {length: [0, 0, 0] for length in LENGTHS}
    for i, record in enumerate(DS1):
        rec = wfdb.rdrecord(str(data_dir() / "mitdb" / record))
        x = rec.p_signal[:, rec.sig_name.index("MLII")].astype(np.float32)
        whole = label_beats(scan(x, rec.fs), loaded)
        starts = gap_starts(len(x), rec.fs, seed=i)
        for length in LENGTHS:
            for k, v in enumerate(changed(x, rec.fs, starts, length, loaded, whole)):
                totals[length][k] += v
        print(record, {k: v[:] for k, v in totals.items()}, flush=True)
    share = {str(k): round(d / n, 4) if n else None for k, (n, d, _) in totals.items()}
    passing = [k for k in LENGTHS if all(totals[j][1] <= LIMIT * totals[j][0] for j in LENGTHS if j <= k)]
    row = {
        "study": "missing_bridge",
        "model": MODEL,
        "records": "DS1",
        "every_s": EVERY_S,
        "newly_classified": {str(k): v[0] for k, v in totals.items()},
        "changed_class": {str(k): v[1] for k, v in totals.items()},
        "changed_share": share,
        "changed_next_to_a_hidden_beat": {str(k): v[2] for k, v in totals.items()},
        "round": 2,
        "adopted_bridge_s": max(passing) if passing else 0.0,
    }
    print(json.dumps(row))
    append_json_line(args.record, row)


if __name__ == "__main__":
    main()
