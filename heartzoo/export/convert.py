"""Keras -> int8 TFLite: the model rewritten into layers TFLM runs, with a batch of 1 and softmax out,
quantized on class-stratified training frames (never the test records)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import HeartzooConfig
from ..errors import ExportError, HeartzooError
from ..preprocess import Preprocessor, input_count, input_rows
from ..tasks import get_task


def microcontroller_layers(model):
    """The same function in layers whose int8 kernels TFLM has and computes like LiteRT's reference.

    - Dense -> 1x1 Conv2D (same weights, same MACs): TFLite's reference FULLY_CONNECTED kernel and
      TFLM's differ by one int8 step on rare inputs (seen on 2 of 1,000 DS2 frames), while their CONV_2D
      kernels agree bit for bit.
    - GELU -> x * sigmoid(1.5958 (x + 0.044715 x^3)), the tanh form of GELU written with LOGISTIC and
      MUL (within 1e-3 of the erf form the model trained with): TFLM has no GELU kernel.
    - GRU, LSTM -> the same recurrence written out step by step with 1x1 convolutions (the input
      projection of all steps is one convolution): the int8 calibrator crashes on the recurrent loop,
      and an unrolled Keras layer brings back FULLY_CONNECTED, whose one-step differences an LSTM's 32
      steps grew to 31 int8 steps on 98 of 200 DS2 frames (beat-3-recurrent-lstm).
    """
    import keras

    class DenseAsConv(keras.layers.Layer):
        def __init__(self, dense, **kw):
            super().__init__(name=f"{dense.name}_as_conv", **kw)
            self.dense = dense
            self.conv = keras.layers.Conv2D(
                dense.units, 1, activation=dense.activation, use_bias=dense.use_bias, name=f"{dense.name}_1x1"
            )

        def build(self, input_shape):
            self.conv.build((None, 1, 1, input_shape[-1]))
            kernel, *rest = self.dense.get_weights()
            self.conv.set_weights([kernel.reshape(1, 1, *kernel.shape), *rest])

        def call(self, x):
            y = self.conv(keras.ops.reshape(x, (-1, 1, 1, x.shape[-1])))
            return keras.ops.reshape(y, (-1, self.dense.units))

    class SigmoidGelu(keras.layers.Layer):
        def call(self, x):
            # sigmoid(2z) = (1 + tanh z) / 2; no pattern of the converter turns this back into GELU
            return x * keras.ops.sigmoid(1.5957691 * (x + 0.044715 * x * x * x))

    class RecurrentAsConv(keras.layers.Layer):
        """A Keras recurrent layer's weights and activations, for a step-by-step rewrite of its call."""

        def __init__(self, rnn, **kw):
            super().__init__(name=f"{rnn.name}_as_conv", **kw)
            if rnn.go_backwards or rnn.return_sequences or not rnn.use_bias:
                raise ExportError(
                    f"{rnn.name}: only a forward {type(rnn).__name__} with a bias can be exported"
                )
            self.units = rnn.units
            self.act, self.gate = rnn.cell.activation, rnn.cell.recurrent_activation
            self.kernel, self.recurrent, self.bias = (np.asarray(w) for w in rnn.get_weights())

    class GruAsConv(RecurrentAsConv):
        def __init__(self, gru, **kw):
            if not gru.reset_after:
                raise ExportError(f"{gru.name}: only a GRU with reset_after=True can be exported")
            super().__init__(gru, **kw)

        def call(self, x, mask=None, training=None):  # the GRU's signature; no mask, no dropout here
            ops, u = keras.ops, self.units
            # (B, T, in) -> gates' input part of every step: (B, 1, T, 3u)
            xp = ops.conv(ops.expand_dims(x, 1), self.kernel[None, None]) + self.bias[0]
            h = ops.zeros_like(xp[:, :, :1, :u])
            for t in range(x.shape[1]):
                xt = xp[:, :, t : t + 1, :]
                hp = ops.conv(h, self.recurrent[None, None]) + self.bias[1]
                z = self.gate(xt[..., :u] + hp[..., :u])
                r = self.gate(xt[..., u : 2 * u] + hp[..., u : 2 * u])
                h = z * h + (1 - z) * self.act(xt[..., 2 * u :] + r * hp[..., 2 * u :])
            return ops.reshape(h, (-1, u))

    class LstmAsConv(RecurrentAsConv):
        def call(self, x, mask=None, training=None):  # the LSTM's signature; no mask, no dropout here
            ops, u = keras.ops, self.units
            # (B, T, in) -> gates' input part of every step, bias included: (B, 1, T, 4u) in Keras'
            # gate order input, forget, cell, output
            xp = ops.conv(ops.expand_dims(x, 1), self.kernel[None, None]) + self.bias
            h = c = ops.zeros_like(xp[:, :, :1, :u])
            for t in range(x.shape[1]):
                g = xp[:, :, t : t + 1, :] + ops.conv(h, self.recurrent[None, None])
                i, f = self.gate(g[..., :u]), self.gate(g[..., u : 2 * u])
                c = f * c + i * self.act(g[..., 2 * u : 3 * u])
                h = self.gate(g[..., 3 * u :]) * self.act(c)
            return ops.reshape(h, (-1, u))

    def swap(layer):
        if isinstance(layer, keras.layers.Dense):
            return DenseAsConv(layer)
        if isinstance(layer, keras.layers.Activation) and getattr(layer.activation, "__name__", "") == "gelu":
            return SigmoidGelu(name=layer.name)
        if isinstance(layer, keras.layers.GRU):
            return GruAsConv(layer)
        if isinstance(layer, keras.layers.LSTM):
            return LstmAsConv(layer)
        return layer

    # recursive: the members of a seed ensemble are nested models, their layers are swapped too
    return keras.models.clone_model(model, clone_function=swap, recursive=True)


def firmware_model(model, config: HeartzooConfig):
    """The model with a fixed batch of 1 (no SHAPE/PACK ops in the graph), in layers TFLM runs
    (`microcontroller_layers`), and softmax probabilities out."""
    import keras

    model = microcontroller_layers(model)
    shapes = Preprocessor.of(config).input_shapes
    named = {k: keras.Input(shape, batch_size=1, name=k) for k, shape in shapes.items()}
    inputs: Any = named if "rr" in named else named["ecg"]
    logits = model(inputs)
    probs = keras.layers.Softmax(name="probs")(logits)
    return keras.Model(inputs, probs, name=f"{model.name}_firmware")


def calibration_inputs(
    config: HeartzooConfig, *, n: int = 600, seed: int = 0, data_dir=None, cache_dir=None, classes=None
):
    """A small class-stratified calibration set from the training records (DS1, never DS2).

    `classes` restricts it to some task classes (the tests use one class to show what a bad calibration
    set does to the int8 model).
    """
    from ..data.prepare import load_task_split

    ws, y = load_task_split(config, "train", data_dir=data_dir, cache_dir=cache_dir)
    rng = np.random.default_rng(seed)
    wanted = list(range(get_task(config.task).num_classes)) if classes is None else list(classes)
    per = max(1, n // len(wanted))
    idx = np.sort(
        np.concatenate(
            [rng.choice(np.flatnonzero(y == c), min(per, int((y == c).sum())), replace=False) for c in wanted]
        )
    )
    return ws.subset(idx).model_inputs(Preprocessor.of(config))


def calibration_source(config: HeartzooConfig, leaky: bool) -> str:
    """Where `calibration_inputs` drew its frames: the training split of the run's protocol, named by
    the sources it trains on (versions before this said "DS1" whatever they trained on)."""
    if leaky:
        return "train (LEAKY random-beat split: beats of every record)"
    held = "recordings" if get_task(config.task).per_recording else "patients"
    return f"train ({', '.join(config.data.train)} less the validation {held})"


def published_int8(model, config: HeartzooConfig, calibration) -> bytes:
    """The int8 .tflite that `heartzoo export` publishes for `model`: its firmware model converted with
    `calibration`, then shrunk where `export.shrink` says (every check and size is of these bytes)."""
    from .shrink import shrink_tflite

    buf = convert_int8(firmware_model(model, config), calibration)
    return shrink_tflite(buf) if config.export.shrink else buf


def calibrated_int8(model, config: HeartzooConfig, inputs) -> bytes:
    """A per-patient firmware model: the int8 .tflite of the copy calibrated on `inputs` (one patient's
    unlabelled beats, `heartzoo.models.adapt`, at least its `MIN_BEATS`), whose activation ranges are drawn
    from the same beats, shrunk as `published_int8` shrinks. Its input scales and zero points are its own,
    not those of the published `configuration.json` and `heartzoo_contract.h`: firmware quantises a beat
    with the ones this .tflite holds."""
    from ..models.adapt import MIN_BEATS, calibrated_copy
    from .shrink import shrink_tflite

    if (n := input_count(inputs)) < MIN_BEATS:
        raise HeartzooError(f"{n} beat(s) to calibrate on: calibration needs at least {MIN_BEATS}")
    buf = convert_int8(firmware_model(calibrated_copy(model, inputs), config), inputs)
    return shrink_tflite(buf) if config.export.shrink else buf


def convert_int8(fw_model, calibration) -> bytes:
    """Full-integer post-training quantization: int8 ops only, int8 input and output.

    What the converter prints (a `TensorSpec` line per variable of the saved artifact, the MLIR
    quantizer's settings, warnings) is held back unless verbose (`heartzoo.quiet`). Every MUL's output
    scale is then moved to one LiteRT and TFLM turn into the same multiplier (`rescale`)."""
    import tensorflow as tf

    from ..quiet import silenced
    from .rescale import agreeing_mul_scales

    def representative():
        for i in range(input_count(calibration)):
            row = input_rows(calibration, slice(i, i + 1))
            yield row if isinstance(row, dict) else [row]

    conv = tf.lite.TFLiteConverter.from_keras_model(fw_model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    try:
        with silenced():
            buf = bytes(conv.convert())
    except Exception as exc:  # the converter raises ConverterError with the op that has no int8 kernel
        raise ExportError(f"int8 conversion failed (an op without a built-in int8 kernel?): {exc}") from None
    return agreeing_mul_scales(buf)
