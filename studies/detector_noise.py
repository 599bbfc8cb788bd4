"""Two noise clauses for the default detector, screened on the development side (issue 45).

Why: the default Pan-Tompkins misses issue 45's bar on the Icentia11k patch p01001_s00 (Se 98.91 %, +P
98.18 % against 99.0 %; results/detector.jsonl), and there most of its false detections fall in bursts of
muscle noise and in motion artifacts, where a noise peak in the 5-15 Hz band is as large as a QRS. Two
clauses a microcontroller can afford, each a classic observation about what a QRS is not:
- `muscle K`: muscle (EMG) noise is broadband, a QRS has little energy above 25 Hz. A candidate whose
  25-45 Hz energy within 100 ms exceeds K times its 5-15 Hz energy is noise; it lowers no threshold and
  search-back never takes it. Only from 100 Hz up (below, the band does not exist).
- `early R S`: an ectopic beat comes early but is no smaller than the beats around it in the 5-15 Hz band
  (a PVC is larger, a PAC alike); a motion spike between two beats is both early and small. A candidate
  sooner than R median RR intervals after the last QRS, whose band-passed peak is below S times the median
  of the last 8 QRS complexes', is noise (search-back may still take it).
K and (R, S) come from one look at the development side's false detections (DS1 with channel 0's noise,
before this rule was written): K in {2, 4}, (R, S) = (0.6, 0.4).

The development side, which the rule reads: MIT-BIH DS1 (22 records, MLII, from the 5-minute mark) clean
and with NSTDB `em` and `ma` from channel 1 at 12 and 6 dB (channel 0 is the stress noise of the test
corpora), and svdb (78 records, 128 Hz, its training side). Never read to decide: mitdb's 44, DS2 and its
stress corpora (channel 0), and the Icentia11k segments (studies/detector.py, after the rule).

Rule, written before any run: a candidate passes if (a) on DS1 clean and on svdb its gross Se is at most
0.02 point below Pan-Tompkins' and it makes no more false detections; (b) on each noisy DS1 corpus its
gross Se is at most 0.05 point below; (c) summed over the four noisy corpora it makes at least 10 % fewer
false detections. Of several, the one with the fewest false detections over all six corpora becomes the
default's clause; with none, the default stays as it is.

Result (results/detector_noise.jsonl): none passes, so the default stays as it is. Summed over the four
noisy corpora Pan-Tompkins makes 2,705 false detections; the best candidate, `muscle 4 + early 0.6 0.4`,
makes 2,514 (7 % fewer; clause (c) asks 10 %), nearly all of the gain in muscle noise at 6 dB (1,127
against 1,309). `muscle 2` cuts that to 1,001 but misses 110 more beats there (Se -0.26 point) and 29 more
on svdb. Electrode motion is untouched by either clause (em 6 dB: 915 against 919).
Read after the rule (`--test`, the Icentia11k segments from their first sample): no candidate meets issue
45's bar on p01001_s00 either; the muscle clauses trade its false detections for missed beats.

The second round, written after the first and before any of it ran. The first round's clauses left
electrode motion untouched; a motion artifact is a shift of the baseline, which Hamilton & Tompkins tested
for (IEEE TBME 33(12):1157-1165, 1986; their OSEA detector's `BLSCheck`): a QRS swings both ways, so its
slope holds a rise and a fall, each more than an eighth of the other, less than 150 ms apart. Candidates,
with the published constants and nothing chosen on data: `baseline 8 0.15` (a candidate failing that test
within 110 ms either side is noise, never searched back), and `baseline 8 0.15 + muscle 4` (the first
round's best muscle clause with it, since the two target different noise). The rule is the first round's,
unchanged, on the same development side; the Icentia11k segments are read after it (`--test`).
Result: none passes, the default stays as it is. Electrode motion is untouched again (em 6 dB: 919 false
detections with the check, as without; em 12 dB: 223 and 223): the motion artifacts that pass for beats
swing both ways within 150 ms, as a QRS does. Summed over the four noisy corpora `baseline 8 0.15` makes
2,696 false detections against 2,705 (clause (c) asks at most 2,434); with `muscle 4`, 2,594 (4 % fewer),
its gain in muscle noise at 6 dB again, for 23 more missed beats there. Read after (`--test`, both
Icentia11k segments): 63 missed and 113 false against 61 and 117; with `muscle 4`, 71 and 97.

The third round, written after the second and before any of it ran. Where the first two rounds judged a
candidate alone, this one reads the rhythm around it, ahead too: a false detection in noise splits one
RR interval in two, where a premature beat is followed by a pause. Lipponen & Tarvainen's "extra beat"
(J Med Eng Technol 43(3):173-181, 2019; Kubios' artefact correction): a detection less than half the local
median RR from a neighbour, whose two intervals add up to the local median within 20 % (the median of the 9
intervals around it), is noise: `extra 0.5 0.2`; and `extra 0.5 0.2 smaller`, only where its band-passed
peak is also below both neighbours' (an interpolated PVC is larger). The constants are the plain reading of
the criterion (half an RR, a fifth of one), chosen on no data. The rule is the first round's, unchanged.

Result: none passes. The clause is the first to move electrode motion: `extra 0.5 0.2 smaller` cuts the
four noisy corpora's false detections from 2,705 to 1,890 (em 6 dB 919 to 667, ma 6 dB 1,309 to 778), but
it removes true beats where the rhythm itself splits an interval: clean DS1 loses 26 (couplets of APCs in
220, 201's aberrated APCs, 203's AF and ventricular runs; Se -0.06 point, clause (a) allows 0.02), svdb 89
(73 of them 805's interpolated PVCs). Without `smaller`, more (DS1 67, svdb 306).

The fourth round, written after the third's development numbers and before any of it ran. What the third
round's lost beats share, and noise does not, is that they recur: an interpolated PVC looks like the
patient's other PVCs, an APC of a couplet like the patient's beats, where a motion artifact or a burst of
muscle looks like nothing before or after it. `extra 0.5 0.2 match 0.9`: the third round's clause (without
`smaller`), except where the candidate's shape (the lead within 60 ms, less its linear trend) correlates
at least 0.9 with one of the 16 detections either side; and `extra 0.5 0.2 smaller match 0.9`, with
`smaller` too. 0.9 is the usual floor of a beat-shape cluster in Holter software, chosen on no data here.
The rule is the first round's, unchanged.
Result: `extra 0.5 0.2 smaller match 0.9` passes and is the default's clause (`detect.EXTRA_BEAT`). On the
development side it removes 782 of the noisy corpora's 2,705 false detections (29 %; em 6 dB 919 to 695,
ma 6 dB 1,309 to 778) and 92 on clean DS1 and svdb, for 51 missed beats more over all six (Se at most
0.02 point lower on each). `extra 0.5 0.2 match 0.9` removes a few more false detections in noise but
misses more beats than clause (a) allows. Read after (`--test`, both Icentia11k segments): 67 missed and
86 false against 61 and 117; p01001_s00 alone Se 98.81 % and +P 98.52 % (98.91 % and 98.18 % before),
p00000_s00 Se 100 % and +P 99.96 % (99.80 %). In this study "pan-tompkins" stays the detector the rounds
compared against, with no clause.

Run: `python studies/detector_noise.py [--round 2|3|4] [--test] [--record results/detector_noise.jsonl]`.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from heartzoo.io import append_json_line

#: the default detector as the rounds found it ("pan-tompkins": no clause, as before the fourth round
#: adopted one), and each candidate: the clauses `detect._pan_tompkins` takes
CANDIDATES: dict[str, dict] = {
    "pan-tompkins": {},
    "muscle 2": {"muscle": 2.0},
    "muscle 4": {"muscle": 4.0},
    "early 0.6 0.4": {"early": (0.6, 0.4)},
    "muscle 4 + early 0.6 0.4": {"muscle": 4.0, "early": (0.6, 0.4)},
}
#: the second round's candidates (module docstring)
SECOND: dict[str, dict] = {
    "pan-tompkins": {},
    "baseline 8 0.15": {"baseline": (8.0, 0.15)},
    "baseline 8 0.15 + muscle 4": {"baseline": (8.0, 0.15), "muscle": 4.0},
}
#: the third round's candidates (module docstring)
THIRD: dict[str, dict] = {
    "pan-tompkins": {},
    "extra 0.5 0.2": {"extra": (0.5, 0.2, False)},
    "extra 0.5 0.2 smaller": {"extra": (0.5, 0.2, True)},
}
#: the fourth round's candidates (module docstring)
FOURTH: dict[str, dict] = {
    "pan-tompkins": {},
    "extra 0.5 0.2 match 0.9": {"extra": (0.5, 0.2, False, 0.9)},
    "extra 0.5 0.2 smaller match 0.9": {"extra": (0.5, 0.2, True, 0.9)},
}
ROUNDS = {1: CANDIDATES, 2: SECOND, 3: THIRD, 4: FOURTH}
#: every round's candidates by name
CLAUSES = {name: clauses for cands in ROUNDS.values() for name, clauses in cands.items()}
NOISY = tuple(f"ds1+{kind}{db}" for kind in ("em", "ma") for db in (12, 6))
CORPORA = ("ds1", *NOISY, "svdb")
#: NSTDB's channel 1: the test corpora's stress noise is channel 0
CHANNEL = 1


def detector(name: str) -> str:
    """The registered detector of candidate `name` (each candidate runs as `detect` runs the default)."""
    from heartzoo.detect import _pan_tompkins, register

    clauses = CLAUSES[name]
    label = f"pan-tompkins {name}" if clauses else "pan-tompkins, no clause"
    register(label, "a noise clause (studies/detector_noise.py)")(partial(_pan_tompkins, **clauses))
    return label


def gross(name: str, items) -> dict:
    """Gross EC57 QRS counts of candidate `name` on `items` (`detector.records`)."""
    from detector import gross_counts, scored

    return gross_counts(*scored(detector(name), items)[:2])


def verdict(scores: dict[str, dict[str, dict]]) -> dict:
    """The rule (module docstring) on {candidate: {corpus: counts}}."""
    base = scores["pan-tompkins"]
    passing = {}
    for name, s in scores.items():
        if name == "pan-tompkins":
            continue
        clean = all(
            s[c]["se"] >= base[c]["se"] - 0.0002 and s[c]["fp"] <= base[c]["fp"] for c in ("ds1", "svdb")
        )
        noisy_se = all(s[c]["se"] >= base[c]["se"] - 0.0005 for c in NOISY)
        fewer = sum(s[c]["fp"] for c in NOISY) <= 0.9 * sum(base[c]["fp"] for c in NOISY)
        if clean and noisy_se and fewer:
            passing[name] = sum(s[c]["fp"] for c in CORPORA)
    return {"passing": sorted(passing), "chosen": min(passing, key=passing.get) if passing else None}


def main() -> None:
    from detector import records

    from heartzoo import paths

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", help="folder holding mitdb/, svdb/, nstdb/ [default: $HEARTZOO_DATA_DIR]")
    ap.add_argument("--test", action="store_true", help="the Icentia11k segments, read after the rule")
    ap.add_argument("--round", type=int, choices=sorted(ROUNDS), default=1, help="the candidates' round")
    ap.add_argument("--record", type=Path, help="append the JSON lines to this file")
    args = ap.parse_args()
    data_dir = paths.data_dir(args.data_dir)
    candidates = ROUNDS[args.round]
    scores: dict[str, dict[str, dict]] = {name: {} for name in candidates}
    for c in ("icentia11k",) if args.test else CORPORA:
        items = list(records(c, data_dir, channel=CHANNEL))
        for name in candidates:
            scores[name][c] = s = gross(name, items)
            print(
                f"{c:10s} {name:26s} Se {100 * s['se']:.2f} +P {100 * s['pp']:.2f} FN {s['fn']} FP {s['fp']}"
            )
    if args.test:
        line = {"study": "detector_noise", "round": args.round, "side": "test", "scores": scores}
    else:
        line = {
            "study": "detector_noise",
            "round": args.round,
            "side": "development",
            "scores": scores,
            **verdict(scores),
        }
        print(line["passing"], "->", line["chosen"])
    append_json_line(args.record, line)


if __name__ == "__main__":
    main()
