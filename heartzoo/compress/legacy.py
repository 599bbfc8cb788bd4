"""The one place that imports tensorflow-model-optimization and tf_keras (Keras 2).

tfmot only wraps tf_keras models, and importing it sets TF_USE_LEGACY_KERAS=1 for the process, so
`tf.keras` becomes tf_keras afterwards: the rest of the package always uses `import keras` (Keras 3).
"""

from __future__ import annotations


def tfmot_and_tf_keras():
    import tensorflow_model_optimization as tfmot
    import tf_keras

    return tfmot, tf_keras
