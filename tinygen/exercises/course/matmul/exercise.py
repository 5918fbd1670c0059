"""matmul: the backward of Y = A @ B, batched."""
from tinygen.exercises.grading import Hints, check_op_backward, describe, random_tensor

SUMMARY = "backward of batched A @ B"
READING = "docs/derivations/matmul.md"
AFTER = ("mul",)
REPLACES = {"MatMul": "tinygen.ops.linalg:MatMul"}
WRITES = {"MatMul": ("backward",)}

HINTS = {
    "A": Hints(
        what="dL/dA has wrong values (dL/dB is checked separately)",
        direction="write dL/dA_ip = sum over j of G_ij dY_ij/dA_ip for plain matrices, then recognise a matrix "
                  "product",
        step="Y_ij = sum_p A_ip B_pj, so dL/dA_ip = sum_j G_ij B_pj: G (n, m) times B transposed (m, k)",
        answer="sum_to(matmul(g, b.mT), a.shape)",
    ),
    "B": Hints(
        what="dL/dB has wrong values (dL/dA is checked separately)",
        direction="write dL/dB_pj = sum over i of G_ij dY_ij/dB_pj for plain matrices, then recognise a matrix "
                  "product",
        step="Y_ij = sum_p A_ip B_pj, so dL/dB_pj = sum_i A_ip G_ij: A transposed (k, n) times G (n, m)",
        answer="sum_to(matmul(a.mT, g), b.shape)",
    ),
}
for _name in "AB":
    HINTS[f"shape {_name}"] = Hints(
        what=f"dL/d{_name} has the wrong shape: check each product's shape, and whether {_name}'s batch "
             "dimensions were broadcast",
        direction="a matrix gradient has its matrix's shape (n, k) or (k, m); a batch dimension that was "
                  "broadcast is summed back, as for any broadcast",
        step="(n, m) @ (m, k) is (n, k); sum_to(t, shape) sums the broadcast batch dimensions away",
        answer=HINTS[_name].answer,
    )
CASES = [((3, 3), (3, 3)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2))]


def grade(student, reference):
    for seed, (a_shape, b_shape) in enumerate(CASES):
        a, b = random_tensor(a_shape, 2 * seed), random_tensor(b_shape, 2 * seed + 1)
        check_op_backward(f"matmul of {describe('AB', [a, b])}", lambda a, b: student.MatMul()(a, b),
                          lambda a, b: reference.MatMul()(a, b), [a, b], ["A", "B"], HINTS, seed=seed)
