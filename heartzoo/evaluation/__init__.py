"""Scoring: `evaluate` (a model on a split: float or int8, with noise, per patient), `metrics` (F1,
confusion, per-recording aggregation) and `ec57` (WFDB annotations against a reference, AAMI EC57).

Imports the data, the models, the export runtimes and the foundation modules at heartzoo's top; never
the zoo, training, recordings or the site (they use it)."""
