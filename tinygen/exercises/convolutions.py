"""The cases and the check shared by the conv2d and conv_transpose2d exercises: three geometries (stride,
padding, dilation, output_padding), each input's gradient compared with tinygen's."""
from tinygen.exercises.grading import check_op_backward, describe, random_tensor
from tinygen.ops.im2col import WindowGeometry

#: (input shape, weight shape, with bias, stride, padding, dilation, output_padding, second order)
CASES = [
    ((2, 2, 5, 5), (3, 2, 3, 3), True, (1, 1), (0, 0), (1, 1), (0, 0), True),
    ((2, 2, 6, 5), (2, 2, 3, 2), False, (2, 2), (1, 1), (1, 1), (1, 1), False),
    ((1, 2, 7, 6), (2, 1, 2, 3), True, (2, 1), (1, 0), (2, 2), (1, 0), True),
]


def operands(case, transposed, seed):
    """x, w (and bias) for a case of CASES; conv_transpose2d's weight is (C_in, C_out, kH, kW), its x smaller."""
    input_shape, weight_shape, with_bias = case[:3]
    if transposed:
        weight_shape = (weight_shape[1], weight_shape[0]) + weight_shape[2:]
        input_shape = input_shape[:1] + (weight_shape[0], 3, 3)
    else:
        weight_shape = (weight_shape[0], input_shape[1]) + weight_shape[2:]
    made = [random_tensor(input_shape, seed), random_tensor(weight_shape, seed + 1)]
    if with_bias:
        made.append(random_tensor((weight_shape[1] if transposed else weight_shape[0],), seed + 2))
    return made


def grade_convolution(student_class, reference_class, transposed, hints):
    for seed, case in enumerate(CASES):
        inputs = operands(case, transposed, 10 * seed)
        stride, padding, dilation, output_padding, second_order = case[3:]
        geometry = WindowGeometry(tuple(inputs[1].shape[2:]), stride, padding, dilation)
        size = inputs[0].shape[2:]
        names = ["x", "w", "bias"][:len(inputs)]
        if transposed:
            output_size = geometry.transposed_output_size(size, output_padding)
            what = f"conv_transpose2d of {describe(names, inputs)}, "
        else:
            output_size = geometry.output_size(size)
            what = f"conv2d of {describe(names, inputs)}, "
        what += f"stride {stride}, padding {padding}, dilation {dilation}"
        what += f", output_padding {output_padding}" if transposed else ""
        check_op_backward(what, lambda *xs: student_class(geometry, output_size)(*xs),
                          lambda *xs: reference_class(geometry, output_size)(*xs), inputs, names, hints, seed=seed,
                          second_order=second_order)
