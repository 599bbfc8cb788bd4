"""The zoo: `index` (the versioned folder and its index.json: read, find, write), `publish` (a run
becomes a version: int8 export, scores, checks, the folder written whole or not at all), `hub` (download,
verify and load a published model; predict), `patient_calibration` (a beat model calibrated to one
patient without labels), `mirror` (a static copy to serve), `recommend`
(the model recommended per task, by its rule), `published` (what one version's files say), `manifest`
(what a run records of its stages) and `retrain_checks` (a version trained again: the record).

Imports evaluation, export, the models, the data and the foundation modules; recordings, training, the
site and the CLI import it. The names of 0.1's `heartzoo.zoo` module (`read_index`, `publish`, ...) still
work from here, with a DeprecationWarning: they live in `index`."""

from __future__ import annotations

from ..legacy import names_moved_to

__getattr__ = names_moved_to(__name__, "index")
