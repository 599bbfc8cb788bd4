"""The architectures other ECG projects publish, rebuilt here so they can be compared on one honest
protocol (inter-patient DS2, natural prevalence). Each follows its description; where a description
leaves a choice open, the choice is a parameter.
"""

from __future__ import annotations

from typing import Any

from .blocks import conv, conv_bn_act, head
from .registry import register


def baseline_cnn(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    filters: int = 32,
    kernel: int = 5,
    pool: int = 2,
    dense: int = 64,
    dropout: float = 0.0,
):
    """Two convolutions, a max-pool and two dense layers: the plain CNN of many tutorials."""
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = ks.layers.Conv2D(filters, (1, kernel), padding="same", activation="relu", name="conv1")(inputs)
    x = ks.layers.Conv2D(filters, (1, kernel), padding="same", activation="relu", name="conv2")(x)
    x = ks.layers.MaxPooling2D((1, pool), name="pool")(x)
    x = ks.layers.Flatten(name="flatten")(x)
    x = ks.layers.Dense(dense, activation="relu", name="dense1")(x)
    if dropout:
        x = ks.layers.Dropout(dropout, name="dropout")(x)
    return ks.Model(inputs, ks.layers.Dense(num_classes, name="head_logits")(x), name="baseline_cnn")


def enhanced_cnn(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    widths: tuple[int, int, int, int] = (32, 64, 128, 256),
    kernels: tuple[int, int] = (5, 7),
    dropout: float = 0.45,
):
    """Two conv blocks (32 -> 256 channels; kernels 5 then 7) with batch norm, adaptive pooling, dropout."""
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = inputs
    for b, k in enumerate(kernels):
        for c in range(2):
            x = conv_bn_act(ks, x, widths[2 * b + c], k, name=f"block{b}_conv{c}")
        x = ks.layers.MaxPooling2D((1, 2), name=f"block{b}_pool")(x)
    return ks.Model(inputs, head(ks, x, num_classes, dropout), name="enhanced_cnn")


def dual_path_resnet(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    stem: int = 32,
    widths: tuple[int, ...] = (64, 128, 256),
    local_kernel: int = 3,
    global_kernel: int = 7,
    dropout: float = 0.3,
):
    """Residual blocks with a local (3-tap) and a global (7-tap) path, summed, and temporal attention:
    a 1x1 convolution scores every time step and a sigmoid gate re-weights the features."""
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = conv_bn_act(ks, inputs, stem, 7, 2, name="stem")
    cin = stem
    for i, w in enumerate(widths):
        name = f"dp{i}"
        local = conv_bn_act(ks, x, w, local_kernel, 2, name=f"{name}_local")
        glob = conv_bn_act(ks, x, w, global_kernel, 2, name=f"{name}_global")
        y = ks.layers.Add(name=f"{name}_paths")([local, glob])
        y = conv_bn_act(ks, y, w, local_kernel, act=None, name=f"{name}_fuse")
        score = ks.layers.Conv2D(1, 1, activation="sigmoid", name=f"{name}_attention")(y)
        y = ks.layers.Multiply(name=f"{name}_attend")([y, score])
        shortcut = conv_bn_act(ks, x, w, 1, 2, act=None, name=f"{name}_proj") if cin != w else x
        x = ks.layers.Activation("relu", name=f"{name}_out")(ks.layers.Add(name=f"{name}_add")([shortcut, y]))
        cin = w
    return ks.Model(inputs, head(ks, x, num_classes, dropout), name="dual_path_resnet")


def nin_encoder(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    widths: tuple[int, ...] = (32, 64, 128),
    kernel: int = 7,
    dropout: float = 0.2,
):
    """Network-in-Network blocks: a k-wide convolution then two 1x1 convolutions (the 'micro network'),
    batch norm and GELU, each followed by pooling."""
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = inputs
    for i, w in enumerate(widths):
        x = conv_bn_act(ks, x, w, kernel, act="gelu", name=f"nin{i}_conv")
        x = conv_bn_act(ks, x, w, 1, act="gelu", name=f"nin{i}_mlp1")
        x = conv_bn_act(ks, x, w, 1, act="gelu", name=f"nin{i}_mlp2")
        x = ks.layers.MaxPooling2D((1, 2), name=f"nin{i}_pool")(x)
    return ks.Model(inputs, head(ks, x, num_classes, dropout), name="nin_encoder")


def recurrent(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    cell: str = "lstm",
    units: int = 64,
    frontend: int = 32,
    downsample: int = 4,
    dropout: float = 0.2,
):
    """A strided convolution shortens the frame (`downsample`x), then an LSTM or GRU reads it; its last
    state feeds the classifier."""
    if cell not in ("lstm", "gru"):
        raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = conv(ks, inputs, frontend, 2 * downsample - 1, downsample, name="frontend", use_bias=True)
    x = ks.layers.Activation("relu", name="frontend_act")(x)
    steps = -(-input_shape[1] // downsample)
    x = ks.layers.Reshape((steps, frontend), name="to_sequence")(x)
    rnn = ks.layers.LSTM if cell == "lstm" else ks.layers.GRU
    x = rnn(units, name=cell)(x)
    if dropout:
        x = ks.layers.Dropout(dropout, name="dropout")(x)
    return ks.Model(inputs, ks.layers.Dense(num_classes, name="head_logits")(x), name=f"recurrent_{cell}")


_REF = "as published by other open ECG beat-classification projects"
register(
    "baseline-cnn", baseline_cnn, family="baseline", description=baseline_cnn.__doc__.strip(), reference=_REF
)
register(
    "enhanced-cnn", enhanced_cnn, family="baseline", description=enhanced_cnn.__doc__.strip(), reference=_REF
)
register(
    "dual-path-resnet",
    dual_path_resnet,
    family="baseline",
    description=dual_path_resnet.__doc__.strip().split("\n")[0],
    reference=_REF,
)
register(
    "nin-encoder", nin_encoder, family="baseline", description=nin_encoder.__doc__.strip(), reference=_REF
)
register("recurrent-lstm", recurrent, family="recurrent", description=recurrent.__doc__.strip(), cell="lstm")
register("recurrent-gru", recurrent, family="recurrent", description=recurrent.__doc__.strip(), cell="gru")
