"""Structured channel pruning: remove whole filters, rebuild a thinner dense model, copy the kept
weights across. Fewer channels save MACs, flash and arena on a microcontroller; zeros do not.

Supported: the compact residual family (cnn1..cnn5, resnet-compact). In each residual block the
channels between its two convolutions are free to go (nothing else reads them); the block outputs are
tied to the shortcut and stay.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError

FAMILIES = ("resnet-compact",)


def prune_plan(model, keep: float, criterion: str) -> dict[str, np.ndarray]:
    """For each block j, the sorted indices of the inner channels to keep."""
    plan: dict[str, np.ndarray] = {}
    j = 0
    while True:
        try:
            conv = model.get_layer(f"res{j}_a_conv")
            bn = model.get_layer(f"res{j}_a_bn")
        except ValueError:
            break
        if criterion == "bn_scale":
            score = np.abs(bn.get_weights()[0])
        else:  # l1 norm of each output filter
            score = np.abs(conv.get_weights()[0]).sum(axis=(0, 1, 2))
        k = max(1, round(keep * len(score)))
        plan[f"res{j}"] = np.sort(np.argsort(-score, kind="stable")[:k])
        j += 1
    if not plan:
        raise ConfigError("channel pruning found no residual blocks (res0_a_conv, ...) to thin")
    return plan


def _sliced(layer, name: str, plan: dict[str, np.ndarray]) -> list[np.ndarray] | None:
    block, _, role = name.partition("_")
    if block not in plan:
        return None
    keep = plan[block]
    w = layer.get_weights()
    if role == "a_conv":  # output filters
        return [w[0][..., keep], *(b[keep] for b in w[1:])]
    if role == "a_bn":  # gamma, beta, moving mean, moving variance
        return [v[keep] for v in w]
    if role == "b_conv":  # input channels
        return [w[0][:, :, keep, :], *w[1:]]
    return None


def check_channel_prunable(arch: str, where: str | None = None) -> None:
    """A ConfigError (naming the config's file, `where`) for an architecture whose family cannot be thinned."""
    from ..models import get_architecture

    if get_architecture(arch).family not in FAMILIES:
        raise ConfigError(
            (f"{where}: " if where else "")
            + f"field 'compress.channel_prune': {arch} is not prunable by channels; supported families: "
            f"{', '.join(FAMILIES)} (cnn1..cnn5, resnet-compact)"
        )


def thin_model(
    model,
    arch: str,
    params: dict[str, Any],
    input_shape,
    num_classes: int,
    rr: int,
    keep: float,
    criterion: str,
):
    """(thinner model with the kept weights, the params that rebuild it)."""
    from ..models import build_model

    check_channel_prunable(arch)
    plan = prune_plan(model, keep, criterion)
    new_params = {**params, "inner": tuple(len(plan[f"res{j}"]) for j in range(len(plan)))}
    thin = build_model(arch, input_shape, num_classes, rr_inputs=rr, **new_params)
    for layer in thin.layers:
        if not layer.weights:
            continue
        source = model.get_layer(layer.name)
        sliced = _sliced(source, layer.name, plan)
        layer.set_weights(sliced if sliced is not None else source.get_weights())
    return thin, new_params
