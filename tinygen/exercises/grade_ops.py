"""Graders of the core-op exercises: tanh, mul, sum, matmul. Each takes the student's module and raises
``ExerciseFailure`` at the first wrong answer; the cases go from the plainest to the broadcast ones."""
from tinygen.exercises.grading import check_gradients, describe, random_tensor


def grade_tanh(module):
    hint = "d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2, times g; y is self.saved_output"
    for seed, shape in enumerate([(5,), (2, 3, 4)]):
        x = random_tensor(shape, seed, low=-2.0, high=2.0)
        check_gradients(f"tanh of {describe([x])}", lambda x: module.Tanh()(x), [x], hint)


def grade_mul(module):
    hint = ("dL/da = g * b, then summed over the dimensions along which a was broadcast: did you sum the "
            "gradient over the broadcast dimensions (sum_to(g * b, a.shape))?")
    for seed, (a_shape, b_shape) in enumerate([((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((), (2, 3))]):
        a, b = random_tensor(a_shape, 2 * seed), random_tensor(b_shape, 2 * seed + 1)
        check_gradients(f"mul of {describe([a, b])}", lambda a, b: module.Mul()(a, b), [a, b], hint)


def grade_sum(module):
    hint = ("dL/dx is g copied back along the summed dimensions: reshape g to the input's rank (1 in every "
            "summed dim of self.dims), then broadcast_to(self.input_shape); keepdim changes only the reshape")
    cases = [((2, 3, 4), (0, 1, 2), False), ((2, 3, 4), (1,), False), ((2, 3, 4), (0, 2), True),
             ((3, 1, 2), (2,), False)]
    for seed, (shape, dims, keepdim) in enumerate(cases):
        x = random_tensor(shape, seed)
        check_gradients(f"sum over dims {dims} (keepdim={keepdim}) of {describe([x])}",
                        lambda x: module.Sum(dims, keepdim)(x), [x], hint)


def grade_matmul(module):
    hint = ("with G = dL/dY (n, m): dL/dA = G @ B^T (n, k) and dL/dB = A^T @ G (k, m); transpose with .mT, check "
            "that each product has its operand's shape, and sum_to a broadcast batch dimension back")
    cases = [((3, 3), (3, 3)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2))]
    for seed, (a_shape, b_shape) in enumerate(cases):
        a, b = random_tensor(a_shape, 2 * seed), random_tensor(b_shape, 2 * seed + 1)
        check_gradients(f"matmul of {describe([a, b])}", lambda a, b: module.MatMul()(a, b), [a, b], hint)
