"""Making models: `train` (one stage), `runs` (a recipe's whole line: teacher, distillation, pruning,
QAT, publication), `callbacks` (what each epoch keeps, for an exact resume) and `checkpoints` (reading
it back), `distribute` (tf.distribute workers), `crossval`, `tune` with `search_space` and
`tune_report`, `retrain` (a published version trained again and checked),
`af_beats` (unlabelled AF beats as "not S"), `losses`, `tracking`, `threads` (TensorFlow's thread
pool, pinned so that a recipe makes the same model on another machine) and `machine` (the processor and
libraries a stage trained on, recorded beside its commit).

The layer below the site and the CLI: it imports the zoo (teachers, publication), recordings (the
detector, for AF beats), evaluation, export, compression, the models and the data."""
