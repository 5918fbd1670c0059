"""conv_transpose2d: the backward of a transposed convolution (conv2d's adjoint)."""
from tinygen.exercises.convolutions import grade_convolution
from tinygen.exercises.grading import Hints

SUMMARY = "backward of conv_transpose2d"
READING = "docs/derivations/conv-transpose.md"
AFTER = ("conv2d",)
REPLACES = {"ConvTranspose2d": "tinygen.ops.conv:ConvTranspose2d"}
WRITES = {"ConvTranspose2d": ("backward",)}
HELPERS = ("tinygen.ops.conv:Conv2dWeightGrad",)

HINTS = {
    "x": Hints(
        what="dL/dx has wrong values (its shape is right)",
        direction="conv_transpose2d is the adjoint of conv2d, and the adjoint of an adjoint is the original map",
        step="so dL/dx is a plain convolution of g by w, with the same stride, padding and dilation",
        answer="conv2d(g, w, stride=stride, padding=padding, dilation=dilation)",
    ),
    "w": Hints(
        what="dL/dw has wrong values (dL/dx is checked separately)",
        direction="dW[ci, co, a, b] = sum over n, i, j of x[n, ci, i, j] g_pad[n, co, i s + a d, j s + b d]: "
                  "conv2d's weight-gradient correlation with the roles of x and g exchanged",
        step="in your conv2d exercise, correlate(x, g) computed sum g[.., i, j] x_pad[.., i s + a d, ..]; here g is "
             "the padded one, read through the windows",
        answer="correlate(g, x, geometry), with correlate as in conv2d (its result is (Ci, Co, kH, kW))",
    ),
    "bias": Hints(
        what="dL/dbias has wrong values",
        direction="each bias[co] is added to every y[n, co, i, j]",
        step="so dL/dbias[co] adds up g over the batch and every output position of channel co",
        answer="g.sum(dim=(0, 2, 3))",
    ),
}
HINTS["shape x"] = HINTS["x"]
HINTS["shape w"] = Hints(what="dL/dw has the wrong shape: it must be (C_in, C_out, kH, kW), like w",
                         direction=HINTS["w"].direction, step=HINTS["w"].step, answer=HINTS["w"].answer)


def grade(student, reference):
    grade_convolution(student.ConvTranspose2d, reference.ConvTranspose2d, True, HINTS)
