"""conv2d: the backward of a 2-D convolution, its input and weight gradients."""
from tinygen.exercises.convolutions import grade_convolution
from tinygen.exercises.grading import Hints

SUMMARY = "backward of conv2d: input and weight gradients"
READING = "docs/derivations/conv.md"
AFTER = ("matmul",)
REPLACES = {"Conv2d": "tinygen.ops.conv:Conv2d"}
WRITES = {"Conv2d": ("backward",)}
HELPERS = ("tinygen.ops.conv:Conv2dWeightGrad",)

BIAS = Hints(
    what="dL/dbias has wrong values",
    direction="each bias[o] is added to every y[n, o, i, j]",
    step="so dL/dbias[o] adds up g over the batch and every output position of channel o",
    answer="g.sum(dim=(0, 2, 3))",
)
CORRELATION = ("conv2d(x.transpose(0, 1), g.transpose(0, 1), stride=dilation, padding=padding, dilation=stride), "
               "cropped to [:, :, :kH, :kW] and transposed back with .transpose(0, 1)")
HINTS = {
    "x": Hints(
        what="dL/dx has wrong values (its shape is right)",
        direction="every x_pad pixel was multiplied by w[o, c, a, b] into y[n, o, i, j]: sending g back along those "
                  "same edges is a transposed convolution",
        step="conv_transpose2d(g, w, stride=s, padding=p, dilation=d, output_padding=...) spreads each g[n, o, i, j]"
             ", weighted by w, back onto the pixels its window read",
        answer="conv_transpose2d(g, w, stride=stride, padding=padding, dilation=dilation, output_padding=H - "
               "((Ho - 1)s - 2p + d(kH - 1) + 1) for each axis)",
    ),
    "shape x": Hints(
        what="dL/dx does not come out with x's size: with a stride above 1, several input sizes give the same "
             "output size",
        direction="conv_transpose2d has an argument that chooses which of those input sizes it makes",
        step="conv_transpose2d makes (Ho - 1)s - 2p + d(kH - 1) + 1 + output_padding rows; choose output_padding "
             "so that this is H (and likewise for W)",
        answer="output_padding = H - ((Ho - 1)s - 2p + d(kH - 1) + 1) per axis",
    ),
    "w": Hints(
        what="dL/dw has wrong values (dL/dx is checked separately)",
        direction="dW[o, c, a, b] = sum over n, i, j of g[n, o, i, j] x_pad[n, c, i s + a d, j s + b d] is itself a "
                  "convolution: of x (batch and channels swapped) by g",
        step="in conv2d's pattern x_pad[n, c, i s + a d] the output index i is multiplied by the stride and the "
             "kernel index a by the dilation; in dW, a is the output index and i the kernel index, so their "
             "stride and dilation trade places",
        answer=CORRELATION,
    ),
    "bias": BIAS,
}
HINTS["shape w"] = Hints(
    what="dL/dw has the wrong shape: it must be (O, C, kH, kW)",
    direction="the correlation computing dW can produce a few more than kH x kW positions",
    step="keep the first kH x kW of them, and check the order of the dimensions (transpose(0, 1))",
    answer=CORRELATION,
)


def grade(student, reference):
    grade_convolution(student.Conv2d, reference.Conv2d, False, HINTS)
