"""The one place that imports tensorflow-model-optimization and tf_keras (Keras 2).

tfmot only wraps tf_keras models, and importing it sets TF_USE_LEGACY_KERAS=1 for the process, so
`tf.keras` becomes tf_keras afterwards: the rest of the package always uses `import keras` (Keras 3).
"""

from __future__ import annotations


def tfmot_and_tf_keras():
    import tensorflow_model_optimization as tfmot
    import tf_keras

    return tfmot, tf_keras


def keras2_twin(model, arch: str, params: dict, input_shape, num_classes: int, rr: int):
    """(tfmot, the tf_keras twin of the Keras 3 `model`, with its weights): what tfmot wraps; compile the
    wrapped twin with `compile_logits`."""
    from ..models import build_model

    tfmot, tf_keras = tfmot_and_tf_keras()
    twin = build_model(arch, input_shape, num_classes, ks=tf_keras, rr_inputs=rr, **params)
    twin.set_weights(model.get_weights())
    return tfmot, twin


def compile_logits(wrapped, learning_rate: float, loss=None) -> None:
    """Compile a tfmot-wrapped twin as training compiles: Adam on `loss` over the logits, a tf_keras loss
    (the line passes its config's, `training.losses.loss_of(config, tf_keras)`), else cross-entropy."""
    import tf_keras

    wrapped.compile(
        optimizer=tf_keras.optimizers.Adam(learning_rate),
        loss=loss if loss is not None else tf_keras.losses.CategoricalCrossentropy(from_logits=True),
    )
