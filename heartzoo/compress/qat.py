"""Quantization-aware fine-tuning with tfmot on the tf_keras twin.

`quantize_model` inserts fake quantization (int8 weights per channel, int8 activations) into the twin;
a few epochs of training let the weights settle where int8 rounding costs least. After magnitude pruning
it is tfmot's pruning-preserving QAT, which keeps the pruned weights at zero. The fine-tuned float
weights come back into the Keras 3 model, which then goes through the same int8 conversion and
LiteRT/TFLM verification as every other model (its ranges calibrated on DS1 frames): one export path,
so the int8 model that is verified is the one that ships.
"""

from __future__ import annotations

from typing import Any


def fake_quantized(tfmot, twin, preserve_sparsity: bool):
    """The tf_keras `twin` with fake int8 quantization, as the QAT stage trains it: tfmot's
    pruning-preserving scheme after magnitude pruning, else `quantize_model` (`checks` tries the same)."""
    if not preserve_sparsity:
        return tfmot.quantization.keras.quantize_model(twin)
    qk = tfmot.quantization.keras
    scheme = tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    return qk.quantize_apply(qk.quantize_annotate_model(twin), scheme)


def quantization_aware_finetune(
    model,
    arch: str,
    params: dict[str, Any],
    input_shape,
    num_classes: int,
    rr: int,
    dataset,
    steps: int,
    epochs: int,
    learning_rate: float,
    preserve_sparsity: bool = False,
    loss=None,
):
    """`model` fine-tuned with fake int8 quantization on `loss` (a tf_keras loss; cross-entropy if None);
    `preserve_sparsity` (after magnitude pruning) keeps its zero weights zero, as plain `quantize_model`
    does not (a 60 % sparse model came back 0.5 %)."""
    from ..models import build_model
    from .legacy import compile_logits, keras2_twin

    tfmot, twin = keras2_twin(model, arch, params, input_shape, num_classes, rr)
    qat = fake_quantized(tfmot, twin, preserve_sparsity)
    compile_logits(qat, learning_rate, loss)
    qat.fit(dataset, epochs=epochs, steps_per_epoch=steps, verbose=0)
    # The wrappers keep the original variables under their original names ("stem_conv/kernel:0"),
    # next to their own quantizer state (min/max, step), which the float model does not need.
    trained = {v.name.split(":")[0]: v.numpy() for v in qat.weights}
    out = build_model(arch, input_shape, num_classes, rr_inputs=rr, **params)
    for w in out.weights:
        w.assign(trained[w.path])
    return out
