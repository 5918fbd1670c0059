"""What the exercises give a student: tinygen's own classes with the part to write cut out.

Each class here is one of tinygen's ops (or Adam) with the methods of its exercise replaced by a stub that
raises ``NotGiven``. A student's class subclasses it and gets the rest from tinygen (the constructor, the
forward when only the backward is asked for, the optimizer's bookkeeping), but nothing of what it must
write: ``super().backward(g)`` reaches this stub, not tinygen's implementation.

    MulForward = without(arithmetic.Mul, "backward")      # Mul's forward; backward is the student's
"""
from tinygen.losses import classification
from tinygen.ops import arithmetic, dropout, elementwise, linalg, normalization, pooling, reduction, shape
from tinygen.ops import activation, conv
from tinygen.optim import adam


class NotGiven(NotImplementedError):
    """A student's code called the part of tinygen's class that the exercise cut out (e.g. through ``super()``)."""


def without(reference, *methods):
    """A subclass of ``reference`` whose ``methods`` raise ``NotGiven``: everything else is tinygen's."""

    def not_given(name):
        def method(self, *args, **kwargs):
            raise NotGiven(
                f"{reference.__name__}.{name} is not given in this exercise: `super().{name}(...)` has no "
                f"implementation to call; write {name} yourself"
            )

        method.__name__ = method.__qualname__ = name
        return method

    namespace = {name: not_given(name) for name in methods}
    namespace.update(
        __module__=__name__,
        __doc__=f"tinygen's {reference.__name__} without {', '.join(methods)}: that is what the exercise asks for.",
        exercise_reference=reference,
        exercise_cut=methods,
    )
    suffix = "Forward" if methods == ("backward",) else "Base"
    return type(f"{reference.__name__}{suffix}", (reference,), namespace)


TanhForward = without(elementwise.Tanh, "backward")
MulForward = without(arithmetic.Mul, "backward")
SumToBase = without(shape.SumTo, "forward", "backward")
SumForward = without(reduction.Sum, "backward")
MatMulForward = without(linalg.MatMul, "backward")
ReLUBase = without(elementwise.ReLU, "forward", "backward")
LeakyReLUBase = without(elementwise.LeakyReLU, "forward", "backward")
SoftmaxBase = without(activation.Softmax, "forward", "backward")
LogSoftmaxBase = without(activation.LogSoftmax, "forward", "backward")
BinaryCrossEntropyWithLogitsBase = without(classification.BinaryCrossEntropyWithLogits, "forward", "backward")
MaxPool2dBase = without(pooling.MaxPool2d, "forward")
ScatterToWindowsBase = without(pooling.ScatterToWindows, "forward")
DropoutForward = without(dropout.Dropout, "backward")
Conv2dForward = without(conv.Conv2d, "backward")
ConvTranspose2dForward = without(conv.ConvTranspose2d, "backward")
BatchNormTrainingForward = without(normalization.BatchNormTraining, "backward")
AdamBase = without(adam.Adam, "_update")
