"""Graders of the layer exercises: conv2d, conv_transpose2d, batch_norm, and the adam update."""
from tinygen.autograd.api import grad
from tinygen.exercises.grading import ExerciseFailure, check_close, check_gradients, describe, random_tensor
from tinygen.ops.im2col import WindowGeometry
from tinygen.optim import Adam

#: (input shape, weight shape, with bias, stride, padding, dilation, output_padding, second order)
CONV_CASES = [
    ((2, 2, 5, 5), (3, 2, 3, 3), True, (1, 1), (0, 0), (1, 1), (0, 0), True),
    ((2, 2, 6, 5), (2, 2, 3, 2), False, (2, 2), (1, 1), (1, 1), (1, 1), False),
    ((1, 2, 7, 6), (2, 1, 2, 3), True, (2, 1), (1, 0), (2, 2), (1, 0), True),
]


def _conv_operands(case, transposed, seed):
    input_shape, weight_shape, with_bias = case[:3]
    if transposed:  # conv_transpose2d's weight is (C_in, C_out, kH, kW), and its input is smaller
        weight_shape = (weight_shape[1], weight_shape[0]) + weight_shape[2:]
        input_shape = input_shape[:1] + (weight_shape[0], 3, 3)
    else:
        weight_shape = (weight_shape[0], input_shape[1]) + weight_shape[2:]
    operands = [random_tensor(input_shape, seed), random_tensor(weight_shape, seed + 1)]
    if with_bias:
        operands.append(random_tensor(weight_shape[1] if transposed else weight_shape[0], seed + 2))
    return operands


def _grade_convolution(op_class, transposed, hint):
    for seed, case in enumerate(CONV_CASES):
        operands = _conv_operands(case, transposed, 10 * seed)
        stride, padding, dilation, output_padding, second_order = case[3:]
        geometry = WindowGeometry(tuple(operands[1].shape[2:]), stride, padding, dilation)
        size = operands[0].shape[2:]
        if transposed:
            output_size = geometry.transposed_output_size(size, output_padding)
            what = f"conv_transpose2d of {describe(operands)}, "
        else:
            output_size = geometry.output_size(size)
            what = f"conv2d of {describe(operands)}, "
        what += f"stride {stride}, padding {padding}, dilation {dilation}"
        what += f", output_padding {output_padding}" if transposed else ""
        check_gradients(what, lambda *operands: op_class(geometry, output_size)(*operands), operands, hint,
                        second_order=second_order)


def grade_conv2d(module):
    hint = ("dL/dx = conv_transpose2d(g, w) with the same stride, padding, dilation, and output_padding = H - "
            "((Ho - 1)s - 2p + d(kH - 1) + 1) to get x's size back; dL/dw[o,c,a,b] = sum over n,i,j of g[n,o,i,j] "
            "x_pad[n,c,i s + a d, j s + b d] = conv2d(x^T, g^T, stride=d, padding=p, dilation=s) with batch and "
            "channels swapped, cropped to (kH, kW); dL/dbias = g summed over N, Ho, Wo")
    _grade_convolution(module.Conv2d, False, hint)


def grade_conv_transpose2d(module):
    hint = ("dL/dx = conv2d(g, w) with the same stride, padding and dilation; dL/dw[ci,co,a,b] = sum over n,i,j "
            "of x[n,ci,i,j] g_pad[n,co,i s + a d, j s + b d], conv2d's weight-gradient correlation with g in the "
            "place of x (its result is (Ci, Co, kH, kW)); dL/dbias = g summed over N, Hout, Wout")
    _grade_convolution(module.ConvTranspose2d, True, hint)


#: (input shape, with gamma, with beta, second order)
BATCH_NORM_CASES = [((6, 3), True, True, True), ((3, 2, 2, 3), True, True, False), ((5, 2, 3), False, True, True),
                    ((4, 2), False, False, False)]


def grade_batch_norm(module):
    student = module.BatchNormTraining
    hint = ("dL/dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)), means per channel over N, H, W; "
            "dL/dgamma = sum(g * xhat), dL/dbeta = sum(g), per channel")
    for seed, (shape, has_weight, has_bias, second_order) in enumerate(BATCH_NORM_CASES):
        x = random_tensor(shape, 10 * seed, low=-2.0, high=2.0)
        affine = [random_tensor((shape[1],), 10 * seed + k, low=0.5, high=1.5) for k in (1, 2)]
        operands = [x] + [a for a, used in zip(affine, (has_weight, has_bias)) if used]
        affine_names = [name for name, used in (("gamma", has_weight), ("beta", has_bias)) if used]
        what = f"batch norm of x {tuple(shape)}" + "".join(f" with {name}" for name in affine_names)
        _check_input_gradient_sums_to_zero(what, student(1e-5, has_weight, has_bias), operands, 10 * seed + 3)
        check_gradients(what, lambda *operands: student(1e-5, has_weight, has_bias)(*operands), operands, hint,
                        second_order=second_order)


def _check_input_gradient_sums_to_zero(what, op, operands, seed):
    """Shifting a channel's inputs by a constant leaves y unchanged, so dL/dx sums to zero over each channel."""
    x = operands[0]
    upstream = random_tensor(x.shape, seed, requires_grad=False)
    (grad_x,) = grad(op(*operands), [x], upstream)
    sums = grad_x.sum(dim=(0,) + tuple(range(2, x.ndim)))
    if float(sums.abs().amax()) > 1e-8 * (1.0 + float(upstream.abs().sum())):
        raise ExerciseFailure(
            f"{what}: dL/dx does not sum to zero over each channel (sums {[round(v, 6) for v in sums.tolist()]}), "
            "for a random upstream gradient",
            "batch norm's input gradient has three terms: did you include the mean term, -mean(g) per channel? "
            "(y does not change when all x of a channel shift by one constant, so dL/dx must sum to zero over it)",
        )


ADAM_SETTINGS = [dict(), dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, eps=1e-6)]


def grade_adam(module):
    hint = ("for t = 1, 2, ...: g = g + wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  "
            "p = p - lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections m_hat = m / (1 - b1^t) and "
            "v_hat = v / (1 - b2^t): did you include both, with t counting the steps from 1?")
    for number, settings in enumerate(ADAM_SETTINGS):
        shapes = [(3, 4), (5,)]
        mine = [random_tensor(shape, 50 + k) for k, shape in enumerate(shapes)]
        reference = [p.detach().clone().requires_grad_() for p in mine]
        student_optimizer, reference_optimizer = module.Adam(mine, **settings), Adam(reference, **settings)
        for step in range(1, 6):
            for k, (p, q) in enumerate(zip(mine, reference)):
                p.grad = random_tensor(p.shape, 100 * step + k, requires_grad=False)
                q.grad = p.grad.clone()
            student_optimizer.step()
            reference_optimizer.step()
            for k, (p, q) in enumerate(zip(mine, reference)):
                check_close(f"Adam({', '.join(f'{key}={value}' for key, value in settings.items())}), "
                            f"parameter {k} {tuple(p.shape)} after step {step}", p, q, hint, rtol=1e-9, atol=1e-12)
