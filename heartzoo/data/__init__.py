"""Data: MIT-BIH records, beats and AAMI labels, splits, frames, cache, noise and augmentation."""
