"""EfficientNetV2 for one-lead ECG frames (Tan & Le 2021), written with (1, k) kernels.

Early stages use Fused-MBConv (one k-wide expansion conv, then a 1x1 projection), later stages MBConv
(1x1 expansion, depthwise k conv, squeeze-excite, 1x1 projection), with a residual connection where
stride is 1 and widths match. Sizes xs / sm / md scale widths and depth; every field of a stage can be
overridden from a config.
"""

from __future__ import annotations

from typing import Any

from .blocks import conv, conv_bn_act, depthwise_bn_act, head, squeeze_excite
from .registry import register

# Each stage: block type, expansion ratio, output channels, kernel, stride, repeats, SE ratio.
Stage = dict[str, Any]

SIZES: dict[str, dict[str, Any]] = {
    "xs": {
        "stem": 16,
        "stages": [
            {"type": "fused", "expand": 1, "filters": 16, "kernel": 3, "stride": 2, "repeats": 1, "se": 0.0},
            {"type": "fused", "expand": 2, "filters": 24, "kernel": 3, "stride": 2, "repeats": 1, "se": 0.0},
            {"type": "mb", "expand": 2, "filters": 32, "kernel": 5, "stride": 2, "repeats": 1, "se": 0.25},
            {"type": "mb", "expand": 2, "filters": 48, "kernel": 5, "stride": 2, "repeats": 1, "se": 0.25},
        ],
        "head_filters": 64,
    },
    "sm": {
        "stem": 16,
        "stages": [
            {"type": "fused", "expand": 1, "filters": 16, "kernel": 3, "stride": 2, "repeats": 1, "se": 0.0},
            {"type": "fused", "expand": 2, "filters": 24, "kernel": 3, "stride": 2, "repeats": 1, "se": 0.0},
            {"type": "mb", "expand": 3, "filters": 32, "kernel": 5, "stride": 2, "repeats": 2, "se": 0.25},
            {"type": "mb", "expand": 3, "filters": 48, "kernel": 5, "stride": 2, "repeats": 2, "se": 0.25},
        ],
        "head_filters": 80,
    },
    "md": {
        "stem": 24,
        "stages": [
            {"type": "fused", "expand": 1, "filters": 24, "kernel": 3, "stride": 2, "repeats": 2, "se": 0.0},
            {"type": "fused", "expand": 3, "filters": 32, "kernel": 3, "stride": 2, "repeats": 2, "se": 0.0},
            {"type": "mb", "expand": 3, "filters": 48, "kernel": 5, "stride": 2, "repeats": 3, "se": 0.25},
            {"type": "mb", "expand": 3, "filters": 72, "kernel": 5, "stride": 2, "repeats": 3, "se": 0.25},
        ],
        "head_filters": 128,
    },
}


def _block(ks: Any, x, cin: int, st: Stage, stride: int, act: str, name: str):
    hidden = int(cin * st["expand"])
    shortcut = x
    if st["type"] == "fused":
        if st["expand"] != 1:
            x = conv_bn_act(ks, x, hidden, st["kernel"], stride, act=act, name=f"{name}_expand")
            if st["se"]:
                x = squeeze_excite(ks, x, hidden, st["se"] / st["expand"], name=f"{name}_se")
            x = conv_bn_act(ks, x, st["filters"], 1, act=None, name=f"{name}_project")
        else:
            x = conv_bn_act(ks, x, st["filters"], st["kernel"], stride, act=act, name=f"{name}_conv")
    elif st["type"] == "mb":
        if st["expand"] != 1:
            x = conv_bn_act(ks, x, hidden, 1, act=act, name=f"{name}_expand")
        x = depthwise_bn_act(ks, x, st["kernel"], stride, act=act, name=f"{name}_dw")
        if st["se"]:
            x = squeeze_excite(ks, x, hidden, st["se"] / st["expand"], name=f"{name}_se")
        x = conv_bn_act(ks, x, st["filters"], 1, act=None, name=f"{name}_project")
    else:
        raise ValueError(f"stage type must be 'fused' or 'mb', got {st['type']!r}")
    if stride == 1 and cin == st["filters"]:
        x = ks.layers.Add(name=f"{name}_add")([shortcut, x])
    return x


def efficientnetv2(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    ks: Any,
    size: str = "sm",
    stem: int | None = None,
    stages: list[Stage] | None = None,
    head_filters: int | None = None,
    stem_kernel: int = 7,
    activation: str = "relu6",
    dropout: float = 0.2,
):
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    preset = SIZES[size]
    stem = stem or preset["stem"]
    stages = stages or preset["stages"]
    head_filters = head_filters or preset["head_filters"]
    inputs = ks.Input(shape=input_shape, name="ecg")
    x = conv_bn_act(ks, inputs, stem, stem_kernel, 2, act=activation, name="stem")
    cin = stem
    for i, st in enumerate(stages):
        for j in range(int(st["repeats"])):
            x = _block(ks, x, cin, st, st["stride"] if j == 0 else 1, activation, f"s{i}b{j}")
            cin = st["filters"]
    x = conv(ks, x, head_filters, 1, name="top_conv")
    x = ks.layers.BatchNormalization(name="top_bn")(x)
    x = ks.layers.Activation(activation, name="top_act")(x)
    out = head(ks, x, num_classes, dropout)
    return ks.Model(inputs, out, name=f"efficientnetv2_{size}")


for _size in SIZES:
    register(
        f"efficientnetv2-{_size}",
        efficientnetv2,
        family="efficientnetv2",
        description=f"EfficientNetV2 ({_size}): Fused-MBConv then MBConv with squeeze-excite, (1, k) kernels.",
        reference="Tan & Le, EfficientNetV2: Smaller Models and Faster Training, ICML 2021",
        size=_size,
    )
