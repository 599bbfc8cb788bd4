"""From a raw recording to labelled beats and rhythm: `read` (WFDB, CSV, .npy files; `edf` for EDF, EDF+
and BDF, `ishne` for Holter files, `apple_watch` for the Health app's ECG exports, `polar` for a Polar
chest strap's ECG files), `quality` (the signal-quality gate and its warnings; the R-peak detectors are
`heartzoo.detect`), `scan` (what a recording holds before any beat model: peaks, quality windows, rhythm
episodes), `annotation` and `rhythm_annotation` (beats and rhythm classified; `annotation_files` writes
them as WFDB, CSV and JSON, each class by its `beat_codes`), `hours` (the hourly table and heart rate variability), `ventricular_runs`
(runs of V beats, possible VT), `af_burden` (AF burden and episodes), `batch` (many recordings in one
call, with a summary table), `plot` (the picture a reviewer looks at), and the tests of that whole path:
`end_to_end` (detector, gate and model against the reference beats), `external` and `external_rhythm`
(databases and devices no model trained on).

Imports the zoo (models by name), evaluation (EC57), the data and the foundation modules; nothing but
training, the site and the CLI imports it. `heartzoo.recording.read_recording` and the other names of
0.1's `heartzoo.recording` still work, with a DeprecationWarning: they live in `read`."""

from __future__ import annotations

from ..legacy import names_moved_to

__getattr__ = names_moved_to(__name__, "read")
