"""Data: the databases (mitdb, svdb, icentia11k, cinc2017; one module each), beats and AAMI labels, WFDB
signal files read where they lie, splits, frames, cache, noise and augmentation."""
