"""Building blocks written with Conv2D/DepthwiseConv2D and (1, k) kernels on (1, T, C) tensors.

That one graph converts to 14-op TFLite models (Conv1D adds EXPAND_DIMS/RESHAPE around every layer)
and tfmot can wrap its layers for pruning and QAT.
"""

from __future__ import annotations

from typing import Any


def conv(ks: Any, x, filters: int, k: int, stride: int = 1, *, name: str, use_bias: bool = False):
    return ks.layers.Conv2D(
        filters, (1, k), strides=(1, stride), padding="same", use_bias=use_bias, name=name
    )(x)


def conv_bn_act(ks: Any, x, filters: int, k: int, stride: int = 1, *, act: str | None = "relu", name: str):
    x = conv(ks, x, filters, k, stride, name=f"{name}_conv")
    x = ks.layers.BatchNormalization(name=f"{name}_bn")(x)
    if act:
        x = ks.layers.Activation(act, name=f"{name}_act")(x)
    return x


def depthwise_bn_act(ks: Any, x, k: int, stride: int = 1, *, act: str | None = "relu", name: str):
    x = ks.layers.DepthwiseConv2D(
        (1, k), strides=(1, stride), padding="same", use_bias=False, name=f"{name}_dwconv"
    )(x)
    x = ks.layers.BatchNormalization(name=f"{name}_bn")(x)
    if act:
        x = ks.layers.Activation(act, name=f"{name}_act")(x)
    return x


def squeeze_excite(ks: Any, x, channels: int, ratio: float, *, act: str = "relu", name: str):
    """Channel gates from the time-averaged features (SE, Hu et al. 2018)."""
    squeezed = max(1, int(channels * ratio))
    s = ks.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_squeeze")(x)
    s = ks.layers.Conv2D(squeezed, 1, activation=act, name=f"{name}_reduce")(s)
    s = ks.layers.Conv2D(channels, 1, activation="sigmoid", name=f"{name}_expand")(s)
    return ks.layers.Multiply(name=f"{name}_excite")([x, s])


def head(ks: Any, x, num_classes: int, dropout: float, *, name: str = "head"):
    x = ks.layers.GlobalAveragePooling2D(name=f"{name}_pool")(x)
    if dropout:
        x = ks.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return ks.layers.Dense(num_classes, name=f"{name}_logits")(x)
