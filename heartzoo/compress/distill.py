"""Knowledge distillation (Hinton et al. 2015) as a Keras model that trains its student.

The loss is alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * the task loss
on the labels. It overrides `compute_loss`, the Keras 3 hook that `train_step` calls on every backend,
so the same class trains under TensorFlow here and JAX on an accelerator.
"""

from __future__ import annotations


def make_distiller(student, teacher, temperature: float, alpha: float, task_loss):
    import keras

    class Distiller(keras.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.student = student
            self.teacher = teacher
            self.teacher.trainable = False
            self.temperature = float(temperature)
            self.alpha = float(alpha)
            self.task_loss = task_loss
            self.kl = keras.losses.KLDivergence(reduction="none")

        def call(self, inputs, training=False):
            return self.student(inputs, training=training)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            t = self.temperature
            soft_teacher = keras.ops.softmax(self.teacher(x, training=False) / t, axis=-1)
            soft_student = keras.ops.softmax(y_pred / t, axis=-1)
            distill = self.kl(soft_teacher, soft_student) * (t * t)
            if sample_weight is not None:
                distill = distill * sample_weight
            hard = self.task_loss(y, y_pred, sample_weight=sample_weight)
            return self.alpha * keras.ops.mean(distill) + (1.0 - self.alpha) * hard

    return Distiller(name=f"distill_{student.name}")


def check_compatible(student_config, teacher_config) -> None:
    """The teacher must see exactly the student's input: same task and input spec (RR features too)."""
    from ..errors import ConfigError

    problems = []
    if teacher_config.task != student_config.task:
        problems.append(f"task {teacher_config.task} vs {student_config.task}")
    t, s = teacher_config.input.model_dump(), student_config.input.model_dump()
    problems += [f"{k} {t[k]} vs {s[k]}" for k in t if t[k] != s[k]]
    if problems:
        raise ConfigError(
            f"{student_config.where}: field 'compress.distill.teacher' ({teacher_config.name}) does not fit the "
            f"student: {'; '.join(problems)}"
        )
    if teacher_config.fold_ensemble:
        # its members trained on every fold, the student's validation side included: the student's choice
        # of epoch and its validation numbers would read what its teacher learnt from them
        raise ConfigError(
            f"{student_config.where}: field 'compress.distill.teacher' ({teacher_config.name}) is a fold ensemble, "
            "trained on the student's validation side too; distil from a seed ensemble or a single model"
        )
