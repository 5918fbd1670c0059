"""Fair grading: expected values come from the grader's own copies of the inputs (a forward that changes its input is
told so, and still gets the right expected value), algebraically equal forms pass, and a failure says how far off
it is relative to the tolerance."""
import os
import re
import sys

import numpy as np

import pytest

from tinygen.exercises import FAIL, PASS
from tinygen.exercises.grading import FLOAT64, ExerciseFailure, compare, random_tensor
import tinygen

from .workspaces import grade, solution_text, workspace, write_solution  # noqa: F401

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


# --- honest solutions the grader failed (a probe of student-style variants) -------------------------------------

def test_a_dataclass_under_postponed_annotations_loads(workspace):
    """`from __future__ import annotations` with a @dataclass crashed every exercise: dataclasses looks the class's
    module up in sys.modules, where the student's file was not."""
    text = ("from __future__ import annotations\n\nimport dataclasses\n\n\n@dataclasses.dataclass(frozen=True)\n"
            "class Slope:\n    one: float = 1.0\n\n\n") + solution_text("tanh").replace(
        "return g * (1.0 - y * y)", "return g * (Slope().one - y * y)")
    write_solution(workspace, "tanh", text=text)
    assert grade(workspace, "tanh").status == PASS


def test_a_file_that_imports_another_of_the_workspace_passes_from_any_directory(workspace, tmp_path, monkeypatch):
    """Graded from its own folder it passed; from elsewhere (`tinygen exercises check ws mul`) it failed with
    ModuleNotFoundError: the grading process had the current directory on its path."""
    (workspace / "my_helpers.py").write_text("def square(y):\n    return y * y\n")
    write_solution(workspace, "tanh", ("from tinygen.exercises.given import TanhForward\n",
                                       "from tinygen.exercises.given import TanhForward\n"
                                       "from my_helpers import square\n"))
    (workspace / "tanh.py").write_text((workspace / "tanh.py").read_text().replace("(1.0 - y * y)",
                                                                                   "(1.0 - square(y))"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert grade(workspace, "tanh", isolate=True).status == PASS
    assert grade(workspace, "tanh").status == PASS


def test_a_fix_of_the_same_size_made_within_the_second_is_what_is_graded(workspace, monkeypatch):
    """With Python caching bytecode (as it does unless told not to), a wrong file fixed by one character and graded
    again within the same second ran as it was: the cached copy beside it matched the file's size and time. The
    student's file is compiled from its source each time, and nothing is written beside it."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    wrong = ("sum_to(g * a, b.shape)", "sum_to(g * b, b.shape)")
    assert len(wrong[0]) == len(wrong[1])
    write_solution(workspace, "mul", wrong)
    written = os.stat(workspace / "mul.py").st_mtime_ns
    assert grade(workspace, "mul").status == FAIL
    write_solution(workspace, "mul")
    os.utime(workspace / "mul.py", ns=(written, written))
    assert grade(workspace, "mul").status == PASS
    assert sorted(path.name for path in workspace.iterdir()) == ["mul.py"]


def test_numpy_errors_raised_by_the_students_settings_are_the_students_only(workspace):
    """`np.seterr(all="raise")` in a softmax made the grader's own expected values raise an underflow (a crash in
    the grader); now the student's code meets it, on the student's line, and a setting that harms nothing passes."""
    write_solution(workspace, "softmax", text="import numpy\nnumpy.seterr(all='raise')\n" + solution_text("softmax"))
    result = grade(workspace, "softmax")
    assert result.status == FAIL and "FloatingPointError: underflow" in result.message, result
    assert "(in softmax.py, line" in result.message
    write_solution(workspace, "softmax", text="import numpy\nnumpy.seterr(divide='raise', invalid='raise')\n"
                   + solution_text("softmax"))
    assert grade(workspace, "softmax").status == PASS


def test_a_self_test_run_while_the_file_loads_is_told_where_to_go(workspace):
    """A check at the end of the file ran x.tanh() at import time, when tinygen's name still runs tinygen's own op:
    it fails as delegation, and the message says why and what to do."""
    write_solution(workspace, "tanh", text=solution_text("tanh") + "\n\nimport tinygen\n_x = tinygen.randn(3, "
                   "requires_grad=True)\n_x.tanh().sum().backward()\n")
    result = grade(workspace, "tanh")
    assert (result.status, result.check) == (FAIL, "delegation")
    assert "while your file was being imported" in result.message
    assert 'if __name__ == "__main__":' in result.message
    write_solution(workspace, "tanh", text=solution_text("tanh") + "\n\nif __name__ == \"__main__\":\n    import "
                   "tinygen\n    tinygen.randn(3, requires_grad=True).tanh().sum().backward()\n")
    assert grade(workspace, "tanh").status == PASS


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # exp(1000) overflows to inf, on purpose
def test_a_bce_backward_exact_in_first_order_at_extreme_logits_passes(workspace):
    """1 / (1 + exp(-x)) is sigmoid, exact at +-1000 (1 / inf = 0): the extreme logits' case checks first order only
    (this form's own derivative is inf / inf there; second order is checked at moderate logits)."""
    write_solution(workspace, "bce_with_logits", ("grad_x = g * (sigmoid(x) - t)",
                                                  "grad_x = g * (1.0 / (1.0 + (-x).exp()) - t)"))
    assert grade(workspace, "bce_with_logits").status == PASS


def test_a_backward_that_writes_into_its_own_copy_of_g_passes(workspace):
    """The check of what a backward leaves alone looks at the caller's tensors, not at a copy the backward made."""
    write_solution(workspace, "max_pool2d", ("        (height, width), (pad_h, pad_w) = self.input_size, ",
                                             "        g = g.copy()\n        g *= 1.0\n"
                                             "        (height, width), (pad_h, pad_w) = self.input_size, "))
    assert grade(workspace, "max_pool2d").status == PASS


def test_a_file_in_another_encoding_is_graded(workspace):
    """A Latin-1 file with its coding line is valid Python, but the grader read it as UTF-8 and the whole `check`
    stopped with a UnicodeDecodeError (exit status 2, no verdict for any exercise)."""
    text = "# -*- coding: latin-1 -*-\n# auteur : Ren\u00e9\n" + solution_text("tanh")
    (workspace / "tanh.py").write_bytes(text.encode("latin-1"))
    assert grade(workspace, "tanh", isolate=True).status == PASS
    assert grade(workspace, "tanh").status == PASS


def test_the_graders_inputs_are_the_same_numbers_on_every_device():
    """A submission gets the same verdict and the same message on a laptop and on a GPU: the grader draws its inputs
    on the host and moves them to the device (a GPU's own generator draws other numbers from the same seed)."""
    x = random_tensor((3, 4), seed=5, low=-2.0, high=3.0)
    assert x.device == tinygen.get_default_device() and x.requires_grad
    expected = np.random.default_rng(5).random((3, 4)) * 5.0 - 2.0  # the CPU generator's stream from that seed
    np.testing.assert_array_equal(x.detach().cpu().numpy(), expected)
