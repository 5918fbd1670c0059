"""max_pool2d: max pooling's forward (which entry of each window wins) and its backward (the route back)."""
from tinygen import creation
from tinygen.backend.dtypes import float64
from tinygen.exercises.grading import Hints, check_forward, check_op_backward, random_tensor
from tinygen.ops.im2col import WindowGeometry

SUMMARY = "max pooling: each window's maximum, and the gradient routed back to it"
READING = "docs/derivations/conv.md"
AFTER = ("relu",)
REPLACES = {"MaxPool2d": "tinygen.ops.pooling:MaxPool2d", "ScatterToWindows": "tinygen.ops.pooling:ScatterToWindows"}
WRITES = {"MaxPool2d": ("forward",), "ScatterToWindows": ("forward",)}

FORWARD = Hints(
    what="the output is not each window's maximum (look at the failing case's padding, dilation, ties or NaN)",
    direction="for each kernel offset in turn, padded[:, :, rows, columns] holds that offset's entry of every "
              "window: keep a running maximum over the offsets, and which offset gave it",
    step="start from the first offset's entries and choice 0; for each later offset, where its entries are larger "
         "(or NaN), take them and its offset number; pad with -inf so that padding never wins",
    answer="best = first offset's entries; for offset, (rows, columns): entries = padded[:, :, rows, columns]; "
           "better = (entries > best) | isnan(entries); best = where(better, entries, best); choice = where(better, "
           "offset, choice)",
)
BACKWARD = Hints(
    what="dL/dx is wrong: each window's gradient must reach exactly the pixel its maximum came from (and add up "
         "where windows overlap)",
    direction="max pooling picks one entry per window, so its gradient is g put back at the picked pixels: for "
              "each offset, add g where choice == offset into that offset's slice of a padded zero array",
    step="padded[:, :, rows, columns] += where(choice == offset, g, 0) for every offset (the += adds overlapping "
         "windows' shares), then crop the padding away",
    answer="zeros of the padded size; for offset, (rows, columns) in enumerate(window_slices(geometry, g.shape[2:])):"
           " padded[:, :, rows, columns] += xp.where(self.choice == offset, g, 0); return the cropped copy",
)
#: (case, input shape, kernel, stride, padding, dilation, value range, integer values for ties)
CASES = [
    ("kernel 2, stride 2", (2, 2, 6, 6), (2, 2), (2, 2), (0, 0), (1, 1), (-2.0, 2.0), False),
    ("kernel 3, stride 2, padding 1 (overlapping windows)", (1, 2, 7, 6), (3, 3), (2, 2), (1, 1), (1, 1), (-2.0, 2.0),
     False),
    ("kernel 2, stride 1, dilation 2", (1, 1, 6, 7), (2, 2), (1, 1), (0, 0), (2, 2), (-2.0, 2.0), False),
    ("kernel 2, stride 1, ties (repeated values)", (1, 2, 4, 5), (2, 2), (1, 1), (0, 0), (1, 1), (-2.0, 2.0), True),
    ("kernel 3, stride 2, padding 1, every value negative (padding never wins)", (1, 1, 5, 5), (3, 3), (2, 2),
     (1, 1), (1, 1), (-2.0, -1.0), False),
]


def grade(student, reference):
    for seed, (what, shape, kernel, stride, padding, dilation, (low, high), ties) in enumerate(CASES):
        x = random_tensor(shape, seed, low=low, high=high, requires_grad=not ties)
        if ties:  # values in {-3, ..., 3}: many windows hold their maximum twice
            rounded = [float(round(1.5 * value)) for value in x.reshape(-1).tolist()]
            x = creation.tensor(rounded, dtype=x.dtype).reshape(shape).requires_grad_()
        geometry = WindowGeometry(kernel, stride, padding, dilation)
        output_size = geometry.output_size(shape[2:])
        case = f"max_pool2d of x {shape}, {what}"
        pool = (lambda g, o: lambda module: lambda x: module.MaxPool2d(g, o)(x))(geometry, output_size)
        check_forward(case, pool(student), pool(reference), [x], ["x"], FORWARD)
        check_op_backward(case, pool(student), pool(reference), [x], ["x"], {"x": BACKWARD}, seed=seed)
    values = random_tensor((16,), 9, requires_grad=False).tolist()
    values[3] = values[12] = float("nan")
    x = creation.tensor(values, dtype=float64).reshape(1, 1, 4, 4)
    geometry = WindowGeometry((2, 2), (2, 2), (0, 0), (1, 1))
    check_forward("max_pool2d of x (1, 1, 4, 4) holding NaN, kernel 2, stride 2 (a NaN wins, as in PyTorch)",
                  lambda x: student.MaxPool2d(geometry, (2, 2))(x), lambda x: reference.MaxPool2d(geometry, (2, 2))(x),
                  [x], ["x"], FORWARD)
