"""Magnitude pruning with tfmot's polynomial sparsity schedule, on the tf_keras twin of the model.

Our builders take the Keras namespace to build with, so the same architecture is built in tf_keras,
the Keras 3 weights are copied in, tfmot prunes and fine-tunes it, and the stripped weights come back
into the Keras 3 model. Every layer tfmot supports is wrapped (Conv2D, DepthwiseConv2D and Dense
here); the rest (batch norm, activations, pooling) hold no prunable kernels.

Batch norm's moving statistics (momentum 0.99) trail the weights by about a hundred steps, and the
schedule zeroes weights until 80 % of the fine-tune: over a short one they describe the model before
its last pruning steps, so they are estimated again on the training stream at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: frames of the training stream batch norm's statistics are estimated on after pruning
RECALIBRATION_FRAMES = 8192


def sparsity_of(model) -> float:
    """Share of zeros among the kernels of the convolution and dense layers."""
    zeros = total = 0
    for layer in model.layers:
        for w in layer.weights:
            if "kernel" in w.path:
                arr = np.asarray(w)
                zeros += int((arr == 0).sum())
                total += arr.size
    return zeros / max(total, 1)


def magnitude_prune(
    model,
    arch: str,
    params: dict[str, Any],
    input_shape,
    num_classes: int,
    rr: int,
    dataset,
    steps: int,
    epochs: int,
    sparsity: float,
    learning_rate: float,
    loss=None,
):
    """Prune `model` to `sparsity` over `epochs` x `steps` training steps, fine-tuning on `loss` (a tf_keras
    loss; cross-entropy if None); returns the Keras 3 model, its batch-norm statistics estimated again on
    `RECALIBRATION_FRAMES` of `dataset`."""
    from ..models import build_model
    from ..models.adapt import calibrated_copy
    from .legacy import compile_logits, keras2_twin

    tfmot, twin = keras2_twin(model, arch, params, input_shape, num_classes, rr)
    total = epochs * steps
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=sparsity,
        begin_step=0,
        end_step=max(1, int(total * 0.8)),
        frequency=max(1, min(50, total // 10)),  # must be below the step count, or nothing is pruned
    )
    pruned = tfmot.sparsity.keras.prune_low_magnitude(twin, pruning_schedule=schedule)
    compile_logits(pruned, learning_rate, loss)
    pruned.fit(
        dataset,
        epochs=epochs,
        steps_per_epoch=steps,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
        verbose=0,
    )
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    out = build_model(arch, input_shape, num_classes, rr_inputs=rr, **params)
    out.set_weights(stripped.get_weights())
    return calibrated_copy(out, stream_inputs(dataset, RECALIBRATION_FRAMES))


def stream_inputs(dataset, frames: int):
    """The model inputs of the first batches of `dataset` ((inputs, targets) pairs) holding `frames`
    frames or more: an array, or a dict of them for a model that reads RR intervals."""
    batches = []
    for element in dataset:
        batches.append(element[0])
        held = batches[-1]["ecg"] if isinstance(batches[-1], dict) else batches[-1]
        frames -= int(held.shape[0])
        if frames <= 0:
            break
    if isinstance(batches[0], dict):
        return {k: np.concatenate([np.asarray(b[k]) for b in batches]) for k in batches[0]}
    return np.concatenate([np.asarray(b) for b in batches])
