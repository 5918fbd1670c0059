"""The exercises: what each asks for, what it replaces in the engine, and how it is graded.

This list is the only registry of the exercise mode. An exercise names, for every object the student's file
defines that plugs into tinygen, the engine object it stands in for ("module:attribute"); ``use_student_ops``
swaps them in and back, and the engine itself knows nothing about exercises.
"""
import dataclasses
import importlib

from tinygen.exercises import grade_layers, grade_losses, grade_ops


@dataclasses.dataclass(frozen=True)
class Exercise:
    name: str        # the file is NAME.py in the workspace; ``tinygen exercises check DIR NAME``
    summary: str     # one line for ``tinygen exercises list``
    reading: str     # the docs page that derives it
    replaces: tuple  # ((attribute in the student's file, "module:attribute" of the engine object it replaces), ...)
    grade: object    # grade(student_module): returns, or raises ExerciseFailure

    @property
    def filename(self):
        return f"{self.name}.py"

    def references(self):
        """``{attribute in the student's file: the engine object it replaces}``."""
        found = {}
        for attribute, target in self.replaces:
            module_name, name = target.split(":")
            found[attribute] = getattr(importlib.import_module(module_name), name)
        return found


EXERCISES = (
    Exercise("tanh", "backward of tanh, from its saved output", "docs/derivations/elementwise.md",
             (("Tanh", "tinygen.ops.elementwise:Tanh"),), grade_ops.grade_tanh),
    Exercise("mul", "backward of a * b with broadcasting", "docs/derivations/broadcasting.md",
             (("Mul", "tinygen.ops.arithmetic:Mul"),), grade_ops.grade_mul),
    Exercise("sum", "backward of a sum over dimensions, broadcast back", "docs/derivations/reductions.md",
             (("Sum", "tinygen.ops.reduction:Sum"),), grade_ops.grade_sum),
    Exercise("matmul", "backward of batched A @ B", "docs/derivations/matmul.md",
             (("MatMul", "tinygen.ops.linalg:MatMul"),), grade_ops.grade_matmul),
    Exercise("bce_with_logits", "stable forward and backward of BCE on logits", "docs/derivations/losses.md",
             (("BinaryCrossEntropyWithLogits", "tinygen.losses.classification:BinaryCrossEntropyWithLogits"),),
             grade_losses.grade_bce_with_logits),
    Exercise("gaussian_kl", "KL(N(mu, sigma^2) || N(0, 1)) and its gradient", "docs/derivations/vae.md",
             (("gaussian_kl", "tinygen.losses.vae:gaussian_kl"),), grade_losses.grade_gaussian_kl),
    Exercise("adam", "the update rule of Adam, with bias correction", "docs/derivations/adam.md",
             (("Adam", "tinygen.optim.adam:Adam"),), grade_layers.grade_adam),
    Exercise("batch_norm", "training-mode backward of batch norm", "docs/derivations/batch-norm.md",
             (("BatchNormTraining", "tinygen.ops.normalization:BatchNormTraining"),), grade_layers.grade_batch_norm),
    Exercise("conv2d", "backward of conv2d: input and weight gradients", "docs/derivations/conv.md",
             (("Conv2d", "tinygen.ops.conv:Conv2d"),), grade_layers.grade_conv2d),
    Exercise("conv_transpose2d", "backward of conv_transpose2d", "docs/derivations/conv-transpose.md",
             (("ConvTranspose2d", "tinygen.ops.conv:ConvTranspose2d"),), grade_layers.grade_conv_transpose2d),
    Exercise("gradient_penalty", "WGAN-GP's gradient penalty (double backward)", "docs/derivations/gan-losses.md",
             (("gradient_penalty", "tinygen.losses.gan:gradient_penalty"),), grade_losses.grade_gradient_penalty),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def lookup(name):
    """The exercise called ``name``; a clear error listing the names otherwise."""
    if name not in BY_NAME:
        raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(BY_NAME)}")
    return BY_NAME[name]
