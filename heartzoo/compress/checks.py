"""The compression a config asks for, checked against its model before any stage trains: a step that
cannot apply (channel pruning of a family it cannot thin, tfmot's pruning or QAT of a layer it does not
wrap, a GRU) was refused after the first stage had trained, without naming the config's file."""

from __future__ import annotations

from typing import Any


def check_compressible(config: Any) -> None:
    """A ConfigError naming `config`'s file and the `compress.*` field whose step cannot apply to its
    model; tfmot's wrappers are tried on the model's tf_keras twin, untrained (seconds)."""
    from ..errors import ConfigError
    from ..models import build_model
    from ..preprocess import Preprocessor
    from ..tasks import get_task
    from .prune_channels import check_channel_prunable

    c = config.compress
    if config.model is None:
        return
    arch, params = config.model.arch, config.model.params
    if c.channel_prune is not None:
        check_channel_prunable(arch, config.where)
    steps = [s for s in ("magnitude_prune", "qat") if getattr(c, s) is not None]
    if not steps:
        return
    from .legacy import tfmot_and_tf_keras
    from .qat import fake_quantized

    tfmot, tf_keras = tfmot_and_tf_keras()
    pre = Preprocessor.of(config)
    twin = build_model(
        arch, pre.ecg_shape, get_task(config.task).num_classes, ks=tf_keras, rr_inputs=pre.rr_inputs, **params
    )
    for step in steps:
        try:
            if step == "magnitude_prune":
                tfmot.sparsity.keras.prune_low_magnitude(twin)
            else:  # as the stage runs it: keeping magnitude pruning's zeros where it ran first
                fake_quantized(tfmot, twin, "magnitude_prune" in steps)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{config.where}: field 'compress.{step}': tfmot cannot apply it to {arch}: {exc}"
            ) from None
