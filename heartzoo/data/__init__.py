"""Data: the databases (mitdb, svdb; one module each), beats and AAMI labels, splits, frames, cache,
noise and augmentation."""
