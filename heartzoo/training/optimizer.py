"""The optimizer every Keras stage trains with: AdamW on a cosine schedule after a linear warm-up."""

from __future__ import annotations


def optimizer_for(tc, steps_per_epoch: int):
    """AdamW for the `train` section `tc` of a config, its schedule spanning `tc.epochs` epochs."""
    import keras

    total = tc.epochs * steps_per_epoch
    warmup = min(int(tc.warmup_epochs * steps_per_epoch), max(total - 1, 0))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=tc.learning_rate / 10 if warmup else tc.learning_rate,
        decay_steps=max(total - warmup, 1),
        alpha=0.01,
        warmup_target=tc.learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    ema = {} if tc.ema is None else {"use_ema": True, "ema_momentum": tc.ema}
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=tc.weight_decay, **ema)
    _decay_at_one_rate(optimizer)
    return optimizer


def _decay_at_one_rate(optimizer) -> None:
    """Keras' TensorFlow optimizer reads the scheduled learning rate once per variable for the weight
    decay, which builds the schedule's graph into the training step once per variable: on a short run,
    much of its time goes to tracing that. Here the rate is read once per step, which gives
    the same numbers bit for bit (tests/test_optimizer.py); the optimizer's class and config are Keras'
    own. On another backend, or a Keras without that method, the optimizer is left as it is."""
    import keras

    if keras.backend.backend() != "tensorflow" or not hasattr(optimizer, "_apply_weight_decay"):
        return
    import tensorflow as tf

    def apply_weight_decay(variables) -> None:
        if optimizer.weight_decay is None:
            return

        def decay(distribution, variables) -> None:
            tf_variables = [v.value if isinstance(v, keras.Variable) else v for v in variables]
            rates = {
                dtype: (tf.cast(optimizer.weight_decay, dtype), tf.cast(optimizer.learning_rate, dtype))
                for dtype in {v.dtype for v in tf_variables}
            }

            def decay_one(variable) -> None:
                if optimizer._use_weight_decay(variable):
                    wd, lr = rates[variable.dtype]
                    variable.assign_sub(variable * wd * lr)  # Keras' order of operations

            for variable in tf_variables:
                distribution.extended.update(variable, decay_one, group=False)

        tf.__internal__.distribute.interim.maybe_merge_call(
            decay, optimizer._distribution_strategy, variables
        )

    optimizer._apply_weight_decay = apply_weight_decay
