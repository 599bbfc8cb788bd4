"""No S beat in atrial fibrillation: the rhythm model's AF episodes relabel the beat model's S calls (issue 46).

Why: AAMI defines no S beat in atrial fibrillation, yet the recommended beat-3 model calls about a fifth
of the beats of CinC 2017's AF records S, and 47-72 % of its S false alarms on DS2 are normal beats in AF
or flutter (the error map of issue 46). Every lever that taught the beat model this itself (AF beats as
negatives, the RR irregularity) either missed the external bar or cost DS2's S beats. The line already
holds a rhythm model (af-4, `heartzoo annotate --rhythm`) that finds AF episodes on a wearable lead; this
asks whether the line, not the beat model, should apply AAMI's definition: inside an episode the rhythm
model calls AF, a beat's S probability goes to N (the rhythm's own beats are N by AAMI), nothing else
changes.

Rule, written before any run. Rhythm model `af-4-cnn3-student@v2` (recommended for af-4), int8; beat
models the recommended beat-3 (`beat-3-cnn3-student@v6`) and aami-5 (`aami-5-cnn3-student@v3`), int8, each
through `heartzoo annotate`'s path. The validation side, which the rule reads:
- CinC 2017: the AF records of af-4's validation split (recordings the rhythm model was selected on and
  never trained on; none of the committed test split), default detector and quality gate: the pooled
  share of beats called S, with and without the relabelling;
- MIT-BIH's validation patients (119, 203, 205, 209, 223) on their reference R peaks, every beat the task
  scores: S F1 and macro-F1, with and without.
The relabelling is adopted (on by default in `heartzoo annotate --rhythm`; the external benchmark gets a
column with it) if, for beat-3 v6, the CinC share falls by at least half and the validation patients' S
F1 falls by at most 0.01. aami-5 v3 is reported beside, not chosen on. Read after the rule, never chosen
on: DS2 on reference R peaks (S F1, macro-F1), the CinC 2017 test split's AF records (share called S) and
normal-rhythm records (share called S and V).

Run: `python studies/af_s_gate.py [--record results/af_s_gate.jsonl] [--test]`.
"""
