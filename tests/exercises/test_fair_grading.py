"""Fair grading: expected values come from the grader's own copies of the inputs (a forward that changes its input is
told so, and still gets the right expected value), algebraically equal forms pass, and a failure says how far off
it is relative to the tolerance."""
import re

import pytest

from tinygen.exercises import FAIL, PASS
from tinygen.exercises.grading import FLOAT64, ExerciseFailure, compare
import tinygen

from .workspaces import grade, workspace, write_solution  # noqa: F401

ADAM_EFFICIENT = '''
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=new_state_tensor(param), exp_avg_sq=new_state_tensor(param))
        state["step"] += 1
        t = state["step"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.array
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        step_size = group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)  # Kingma and Ba, section 2
        param.array -= step_size * m / (param.backend.xp.sqrt(v) + group["eps"])
'''

BATCH_NORM_STEP_BY_STEP = '''
        x = self.saved_inputs[0]
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.numel() // x.shape[1]
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        mean = x.sum(dim=axes, keepdim=True) / count
        centered = x - mean
        variance = (centered * centered).sum(dim=axes, keepdim=True) / count
        invstd = (variance + self.eps) ** -0.5
        xhat = centered * invstd
        grad_xhat = g * self.saved_inputs[1].reshape(per_channel) if self.has_weight else g
        grad_variance = (grad_xhat * centered).sum(dim=axes, keepdim=True) * -0.5 * invstd ** 3
        grad_mean = -(grad_xhat * invstd).sum(dim=axes, keepdim=True)
        grad_x = grad_xhat * invstd + grad_variance * 2.0 * centered / count + grad_mean / count
        grads = [grad_x]
        if self.has_weight:
            grads.append((g * xhat).sum(dim=axes))
        if self.has_bias:
            grads.append(g.sum(dim=axes))
        return tuple(grads)
'''


def _replace_block(text, new_block):
    start = text.index("        # solution: begin\n") + len("        # solution: begin\n")
    return text[:start] + new_block.lstrip("\n") + text[text.index("        # solution: end\n"):]


def test_adam_in_kingma_and_bas_efficient_form_passes(workspace):
    from .workspaces import solution_text

    write_solution(workspace, "adam", text=_replace_block(solution_text("adam"), ADAM_EFFICIENT))
    result = grade(workspace, "adam")
    assert result.status == PASS, result


def test_batch_norm_step_by_step_passes_like_the_fused_form(workspace):
    from .workspaces import solution_text

    write_solution(workspace, "batch_norm", text=_replace_block(solution_text("batch_norm"), BATCH_NORM_STEP_BY_STEP))
    result = grade(workspace, "batch_norm")
    assert result.status == PASS, result


def test_a_forward_that_changes_its_input_is_told_so_and_gets_the_right_expected_value(workspace):
    loss = "xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))"
    write_solution(workspace, "bce_with_logits", (f"        return {loss}",
                                                  f"        loss = {loss}\n        x[...] = 0\n        return loss"))
    result = grade(workspace, "bce_with_logits")
    assert (result.status, result.check) == (FAIL, "forward changed x")
    assert "your forward changed its input x in place" in result.message
    assert "computed by the grader from its own copy of the original" in result.message
    assert "is wrong" not in result.message  # the loss itself was right: it was compared with the right value


def test_a_kl_forward_that_changes_logvar_is_told_so(workspace):
    write_solution(workspace, "gaussian_kl", ("        return -0.5 * (1.0 + logvar - mu * mu - xp.exp(logvar))",
                                              "        kl = -0.5 * (1.0 + logvar - mu * mu - xp.exp(logvar))\n"
                                              "        xp.exp(logvar, out=logvar)\n        return kl"))
    result = grade(workspace, "gaussian_kl")
    assert (result.status, result.check) == (FAIL, "forward changed logvar")
    assert "changed its input logvar in place" in result.message


def test_a_failure_says_how_far_off_it_is_relative_to_the_tolerance():
    expected = tinygen.tensor([1.0, -2.0, 4.0], dtype=tinygen.float64)
    compare("case", expected + 1e-12, expected, "dL/dx", None, "check")  # rounding-sized differences pass
    got = expected + tinygen.tensor([0.0, 0.0, 1e-3], dtype=tinygen.float64)
    try:
        compare("case", got, expected, "dL/dx", None, "check")
    except ExerciseFailure as failure:
        message = failure.message
    else:
        raise AssertionError("a difference of 1e-3 must fail")
    bound = 4.0 * FLOAT64.rtol + 4.0 * FLOAT64.atol
    assert message.startswith("case: dL/dx is wrong at index (2,): expected 4, got 4.001; off by 0.001")
    ratio = float(re.search(r"off by [0-9.e-]+, ([0-9.e+]+) times the tolerance", message).group(1))
    assert abs(ratio - 1e-3 / bound) < 1e-2 * ratio
    assert "1 of 3 entries are wrong" in message


@pytest.mark.parametrize("wrong, message", [
    (lambda y: y * (1 + 1e-5), "case: y is wrong at index (2,)"),  # float32 rounding in a float64 answer
    (lambda y: y.float(), "case: y has dtype float32, expected float64"),  # right values, wrong dtype
], ids=["near miss", "float32"])
def test_a_near_miss_and_a_float32_answer_to_a_float64_question_fail(wrong, message):
    expected = tinygen.tensor([1.0, -2.0, 4.0], dtype=tinygen.float64)
    with pytest.raises(ExerciseFailure) as failure:
        compare("case", wrong(expected), expected, "y", None, "check")
    assert failure.value.message.startswith(message)


def test_nan_where_nan_is_expected_matches_and_nan_elsewhere_does_not():
    nan = float("nan")
    expected = tinygen.tensor([nan, 1.0], dtype=tinygen.float64)
    compare("case", tinygen.tensor([nan, 1.0], dtype=tinygen.float64), expected, "y", None, "check")
    try:
        compare("case", tinygen.tensor([nan, nan], dtype=tinygen.float64), expected, "y", None, "check")
    except ExerciseFailure as failure:
        assert "index (1,): expected 1, got nan" in failure.message
    else:
        raise AssertionError("nan for 1 must fail")
