"""Parameters and multiply-accumulates, counted from the layers of a built model (not estimated)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _shape(t) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape[1:])


def layer_macs(layer) -> int:
    """MACs of one inference through `layer` (batch 1). Element-wise ops, pooling and batch norm
    (folded into the convolution at export) count zero."""
    kind = type(layer).__name__
    if kind in ("Conv2D", "Conv1D"):
        out = _shape(layer.output)
        cin = _shape(layer.input)[-1]
        k = int(np.prod(layer.kernel_size))
        return int(np.prod(out[:-1])) * out[-1] * k * cin // layer.groups
    if kind in ("DepthwiseConv2D", "DepthwiseConv1D"):
        out = _shape(layer.output)
        return int(np.prod(out)) * int(np.prod(layer.kernel_size))
    if kind == "Dense":
        inp = _shape(layer.input)
        return int(np.prod(inp[:-1] or (1,))) * inp[-1] * layer.units
    if kind in ("LSTM", "GRU"):
        steps, features = _shape(layer.input)
        gates = 4 if kind == "LSTM" else 3
        return steps * gates * (features * layer.units + layer.units * layer.units)
    return 0


def _leaf_layers(model) -> list:
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            out.extend(_leaf_layers(layer))
        else:
            out.append(layer)
    return out


def count_macs(model) -> int:
    return sum(layer_macs(layer) for layer in _leaf_layers(model))


def count_params(model) -> int:
    return int(model.count_params())


def describe(model) -> dict[str, Any]:
    """Parameters (all and trainable) and MACs of a built model."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return {"params": count_params(model), "trainable_params": trainable, "macs": count_macs(model)}
