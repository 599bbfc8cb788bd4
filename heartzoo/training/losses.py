"""The training loss a config names (`train.loss`), and the partial-label loss of unlabelled AF beats.

A row of targets is one-hot for a labelled beat and multi-hot for a beat known only to be in one of
several classes (a beat in atrial fibrillation: any class but S, `data.af_beats`). The loss of such a row
is -log(sum of the probabilities of its allowed classes): for a one-hot row that is the cross-entropy,
so one loss serves both; its gradient moves probability off the excluded classes and leaves how it is
shared among the allowed ones to the model (Cour et al. 2011, "Learning from partial labels").
"""

from __future__ import annotations


def loss_of(config, ks=None):
    """The loss of `config.train.loss` (logits in): cross-entropy, focal, or the allowed-set
    cross-entropy when training also reads partially labelled beats. `ks` is the Keras to build it in:
    Keras 3 by default, tf_keras for the tfmot stages, which fine-tune on the same loss."""
    if ks is None:
        import keras as ks

    lc = config.train.loss
    if config.data.af_beats is not None:
        return allowed_set_crossentropy(ks)
    if lc.name == "focal":
        return ks.losses.CategoricalFocalCrossentropy(
            gamma=lc.gamma, from_logits=True, label_smoothing=lc.label_smoothing
        )
    return ks.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=lc.label_smoothing)


def allowed_set_crossentropy(ks=None):
    """-log(sum_c y_c * softmax(logits)_c) per row: targets mark the classes a beat may be in."""
    if ks is None:
        import keras as ks
    # Keras 3's ops act on TensorFlow tensors too: the tfmot stages (tf_keras) run on its TF backend.
    from keras import ops

    class AllowedSetCrossentropy(ks.losses.Loss):
        def __init__(self, name: str = "allowed_set_crossentropy", **kw) -> None:
            super().__init__(name=name, **kw)

        def call(self, y_true, y_pred):
            log_p = ops.log_softmax(y_pred, axis=-1)
            masked = ops.where(ops.cast(y_true, "bool"), log_p, ops.full_like(log_p, -1e9))
            return -ops.logsumexp(masked, axis=-1)

    return AllowedSetCrossentropy()
