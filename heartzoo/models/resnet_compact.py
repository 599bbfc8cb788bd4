"""Compact residual CNNs for microcontrollers, after "A compressed deep learning model to detect
cardiac arrhythmias": a stem convolution with `filters` channels, then residual blocks j = 1..J whose
width is `filters * scales[j]` (the s_j of the paper), each two k-wide convolutions with batch norm
and a 1x1 projection on the shortcut where width or stride change, then global pooling and a dense
layer. Presets cnn1..cnn5 span the paper's range of sizes (4.5K to 73K parameters); the exact counts
at our input size are printed by `heartzoo models`.
"""

from __future__ import annotations

from typing import Any

from .blocks import conv_bn_act, head
from .registry import register


def _residual(ks: Any, x, cin: int, filters: int, k: int, stride: int, name: str, inner: int | None = None):
    shortcut = x
    y = conv_bn_act(ks, x, inner or filters, k, stride, name=f"{name}_a")
    y = conv_bn_act(ks, y, filters, k, 1, act=None, name=f"{name}_b")
    if stride != 1 or cin != filters:
        shortcut = conv_bn_act(ks, x, filters, 1, stride, act=None, name=f"{name}_proj")
    y = ks.layers.Add(name=f"{name}_add")([shortcut, y])
    return ks.layers.Activation("relu", name=f"{name}_out")(y)


def resnet_compact(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    filters: int = 8,
    scales: tuple[float, ...] = (1, 2, 2, 4),
    kernel: int = 5,
    stem_kernel: int = 7,
    stem_stride: int = 2,
    block_stride: int = 2,
    dropout: float = 0.1,
    inner: tuple[int, ...] | None = None,
    strides: tuple[int, ...] | None = None,
):
    """`inner`: the width inside each block (between its two convolutions); channel pruning thins it.
    `strides`: each block's stride (default `block_stride` for all), so a deeper net can repeat a block
    at one resolution instead of halving the signal at every block."""
    if inner is not None and len(inner) != len(scales):
        raise ValueError(f"inner needs one width per block ({len(scales)}), got {len(inner)}")
    if strides is not None and len(strides) != len(scales):
        raise ValueError(f"strides needs one stride per block ({len(scales)}), got {len(strides)}")
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = conv_bn_act(ks, inputs, filters, stem_kernel, stem_stride, name="stem")
    cin = filters
    for j, s in enumerate(scales):
        width = max(1, round(filters * s))
        stride = int(strides[j]) if strides else block_stride
        x = _residual(ks, x, cin, width, kernel, stride, f"res{j}", inner[j] if inner else None)
        cin = width
    return ks.Model(inputs, head(ks, x, num_classes, dropout), name="resnet_compact")


PRESETS: dict[str, dict[str, Any]] = {
    "cnn1": {"filters": 4, "scales": (1, 2, 2, 4)},
    "cnn2": {"filters": 6, "scales": (1, 2, 2, 3)},
    "cnn3": {"filters": 8, "scales": (1, 1.5, 2, 3)},
    "cnn4": {"filters": 8, "scales": (1, 2, 3, 4)},
    "cnn5": {"filters": 16, "scales": (1, 2, 3, 4)},
}
for _name, _preset in PRESETS.items():
    register(
        _name,
        resnet_compact,
        family="resnet-compact",
        description=f"Compact residual CNN preset {_name}: filters={_preset['filters']}, s_j={_preset['scales']}.",
        reference="A compressed deep learning model to detect cardiac arrhythmias (compact residual CNNs)",
        **_preset,
    )
register(
    "resnet-compact",
    resnet_compact,
    family="resnet-compact",
    description="Compact residual CNN with configurable blocks, initial filters and width scales s_j.",
    reference="A compressed deep learning model to detect cardiac arrhythmias (compact residual CNNs)",
)
