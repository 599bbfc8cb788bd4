"""TensorFlow's intra-op thread pool, pinned for training. Its size changes a run's numbers: TensorFlow
splits its reductions by it, and sizes it by the cores it sees, so a recipe made another model on a machine
with other cores (`python studies/first_epoch.py`: af-4-cnn3-student v2's recipe starts from another
first-epoch loss with each size from 1 to 16). Training pins it, so a recipe makes the same model on a
machine with more cores. 2 is the pool of the 2-core machines the beat lines' versions are made again on."""

from __future__ import annotations

import warnings

TRAINING_THREADS = 2


def pin_threads(n: int = TRAINING_THREADS) -> int | None:
    """Pin TensorFlow's intra-op pool to `n` threads, which only holds before TensorFlow has run anything;
    the pool in effect: `n`, or None where it could not be pinned (another Keras backend, or TensorFlow
    already running unpinned, which is warned of: that run's numbers follow this machine's cores)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
    except RuntimeError:  # the runtime has started: its pool is whatever it started with
        now = tf.config.threading.get_intra_op_parallelism_threads()
        if now == n:
            return n
        warnings.warn(
            f"TensorFlow started before training could pin its thread pool to {n}: this run's numbers "
            "follow this machine's cores (heartzoo.training.threads)",
            stacklevel=2,
        )
        return None
    return n
