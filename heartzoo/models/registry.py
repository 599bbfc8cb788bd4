"""One registry for every architecture, in the manner of timm: build any model by name and parameters.

Builders take `ks`, the Keras namespace to build with: `keras` (Keras 3) by default, or `tf_keras`
for the tfmot pruning/QAT twin of the same architecture (weights move across with get/set_weights).
Every model maps (1, T, C) frames to class *logits*, its last layer a Dense named `HEAD` (where RR features
join and distillation reads); softmax is added for export and prediction.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Builder = Callable[..., Any]
#: the name of every builder's last layer, a Dense giving the logits: the architecture's contract
HEAD = "head_logits"
#: a parameter every architecture takes with RR features: a hidden layer joining them to the waveform's
RR_HEAD = "rr_head"
#: a parameter every architecture takes with RR features: the odds of S against N read from them alone
S_TIMING = "s_timing"


@dataclass(frozen=True)
class Architecture:
    name: str
    builder: Builder
    family: str
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)
    reference: str = ""

    def params(self) -> dict[str, Any]:
        """Every parameter the builder takes, with this preset's defaults applied."""
        sig = inspect.signature(self.builder)
        out = {
            k: p.default
            for k, p in sig.parameters.items()
            if k not in ("input_shape", "num_classes", "ks") and p.default is not inspect.Parameter.empty
        }
        out.update(self.defaults)
        return out


_REGISTRY: dict[str, Architecture] = {}


def register(
    name: str, builder: Builder, *, family: str, description: str, reference: str = "", **defaults: Any
):
    if name in _REGISTRY:
        raise ValueError(f"architecture {name!r} is registered twice")
    _REGISTRY[name] = Architecture(name, builder, family, description, dict(defaults), reference)
    return builder


def list_architectures() -> list[str]:
    return sorted(_REGISTRY)


def get_architecture(name: str) -> Architecture:
    if name not in _REGISTRY:
        import difflib

        hint = difflib.get_close_matches(name, _REGISTRY, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise KeyError(f"unknown architecture {name!r}{extra}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def build_model(
    name: str,
    input_shape: tuple[int, int, int] = (1, 512, 1),
    num_classes: int = 3,
    *,
    ks: Any = None,
    model_name: str | None = None,
    rr_inputs: int = 0,
    **params: Any,
):
    """Build architecture `name`; unknown parameters are an error naming the ones allowed.

    With `rr_inputs` > 0, the model takes a second input `rr` (that many RR features,
    `Preprocessor.rr_inputs`) that joins the pooled waveform features before the classifier; with the
    parameter `rr_head` > 0, through a hidden layer of that many units; with `s_timing` > 0 the odds of S
    against N come from the RR features alone (`add_rr_input`).
    """
    arch = get_architecture(name)
    params = dict(params)
    rr_head = int(params.pop(RR_HEAD, 0) or 0)
    s_timing = int(params.pop(S_TIMING, 0) or 0)
    if rr_head and not rr_inputs:
        raise TypeError(f"{RR_HEAD} joins the RR features to the waveform's: the model takes none")
    if s_timing and not rr_inputs:
        raise TypeError(
            f"{S_TIMING} reads the odds of S against N from the RR features: the model takes none"
        )
    if s_timing and num_classes < 3:
        raise TypeError(f"{S_TIMING} needs classes N and S first, then others: the task has {num_classes}")
    allowed = arch.params()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(
            f"{name}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    if ks is None:
        import keras as ks
    merged = {**arch.defaults, **params}
    model = arch.builder(tuple(input_shape), int(num_classes), ks=ks, **merged)
    if model.layers[-1].name != HEAD:  # a contributor's builder: said before any RR input reads it
        from ..errors import ConfigError

        raise ConfigError(
            f"architecture {name!r}: its builder's last layer is {model.layers[-1].name!r}, not a Dense named "
            f"{HEAD!r}, every builder's contract (README, 'Add an architecture')"
        )
    if rr_inputs:
        model = add_rr_input(model, num_classes, ks, rr_inputs, rr_head, s_timing)
    if model_name:
        model.name = model_name  # type: ignore[misc]
    return model


def add_rr_input(model, num_classes: int, ks: Any, n_rr: int = 4, hidden: int = 0, s_timing: int = 0):
    """Rebuild the classifier of `model` on [pooled waveform features, a small embedding of RR features].

    The classifier is linear in the two: each adds its own evidence to the logits, so a shape the
    convolutions score as N outvotes any timing. With `hidden` > 0 a ReLU layer of that many units joins
    them first, where the timing can change what a shape means (an early beat shaped like the patient's
    normal ones is S, not N).

    With `s_timing` > 0 (tasks whose first classes are N and S: beat-3, aami-5) the classifier scores N and
    S together as one supraventricular class, and a branch of that many ReLU units reads the RR features
    alone for t, the log-odds of S against N: logit N = sv - relu(t), logit S = sv - relu(-t), so
    softmax gives P(S) / P(N) = exp(t) whatever the beat's shape. AAMI defines S by origin and timing; a
    premature beat conducted with the patient's own bundle-branch block (DS2's record 232) can then not be
    called N for its shape. relu stands for softplus (exact within log 2) so the graph stays int8."""
    features = model.get_layer(HEAD).input
    rr = ks.Input(shape=(n_rr,), name="rr")
    r = ks.layers.Dense(16, activation="relu", name="rr_embed")(rr)
    z = ks.layers.Concatenate(name="features")([features, r])
    if hidden:
        z = ks.layers.Dense(hidden, activation="relu", name="rr_joint")(z)
    if not s_timing:
        logits = ks.layers.Dense(num_classes, name="logits")(z)
        return ks.Model({"ecg": model.input, "rr": rr}, logits, name=f"{model.name}_rr")
    sv = ks.layers.Dense(1, name="logit_sv")(z)
    rest = ks.layers.Dense(num_classes - 2, name="logits_rest")(z)
    h = ks.layers.Dense(s_timing, activation="relu", name="timing_hidden")(rr)
    t = ks.layers.Dense(1, name="timing_odds")(h)
    t_pos = ks.layers.ReLU(name="timing_pos")(t)
    n = ks.layers.Subtract(name="logit_n")([sv, t_pos])
    s = ks.layers.Add(name="logit_s")([n, t])  # sv - relu(t) + t = sv - relu(-t)
    logits = ks.layers.Concatenate(name="logits")([n, s, rest])
    return ks.Model({"ecg": model.input, "rr": rr}, logits, name=f"{model.name}_rr")
