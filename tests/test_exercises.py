"""Exercise mode: the stubs are "not started", the reference solutions pass, subtly wrong answers fail with
a message that says what is wrong, and a student's ops plug into the engine and come back out."""
import pytest

import tinygen
from tinygen.exercises import (
    EXERCISES,
    FAIL,
    NOT_STARTED,
    PASS,
    check_workspace,
    format_results,
    start_workspace,
    use_student_ops,
)
from tinygen.exercises.catalog import lookup
from tinygen.exercises.workspace import BEGIN, solution_source, stub_source
from tinygen.losses import gan
from tinygen.nn import functional
from tinygen.ops import arithmetic


def write_solution(directory, name, replace=None):
    """Put the reference solution of ``name`` in the workspace, with ``replace = (old, new)`` applied once."""
    text = solution_source(lookup(name))
    if replace is not None:
        old, new = replace
        assert text.count(old) == 1, f"{old!r} should occur once in the solution of {name}"
        text = text.replace(old, new)
    (directory / f"{name}.py").write_text(text)


@pytest.fixture
def workspace(tmp_path):
    start_workspace(tmp_path)
    return tmp_path


# --- wrong answers are caught, with a message that helps ----------------------------------------------

WRONG = {
    "mul without the broadcast reduction": (
        "mul", ("sum_to(g * b, a.shape)", "g * b"),
        ["mul of shapes (3, 1), (1, 4)", "returned a gradient of shape (3, 4)", "input of shape (3, 1)"],
        "did you sum the gradient over the broadcast dimensions"),
    "matmul with a wrong transpose": (
        "matmul", ("matmul(g, b.mT)", "matmul(g.mT, b).mT"),
        ["matmul of shapes (3, 3), (3, 3)", "gradient mismatch for input 0", "analytic", "numeric"],
        "dL/dA = G @ B^T"),
    "sum that ignores the summed dims": (
        "sum", ("reshape(g, kept)", "g"),
        ["sum over dims (1,)", "cannot be broadcast"],
        "reshape g to the input's rank"),
    "tanh on raw arrays (no second derivative)": (
        "tanh", ("g * (1.0 - y * y)", "g * y._wrap_like(1.0 - y.data * y.data)"),
        ["second derivative", "gradgradcheck: gradient mismatch"],
        "not on raw arrays"),
    "bce_with_logits in the naive form": (
        "bce_with_logits", ("xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))",
                            "-(t * xp.log(1 / (1 + xp.exp(-x))) + (1 - t) * xp.log(1 - 1 / (1 + xp.exp(-x))))"),
        ["forward at logits", "wrong value at index (0,)", "got nan"],
        "max(x, 0) - x t + log(1 + exp(-|x|))"),
    "gaussian_kl with a wrong logvar gradient": (
        "gaussian_kl", ("g * (0.5 * (logvar.exp() - 1.0))", "g * (0.5 * logvar.exp())"),
        ["gradient mismatch for input 1"],
        "dKL/dlogvar = (exp(logvar) - 1) / 2"),
    "batch_norm without the mean term": (
        "batch_norm", ("(g - g.mean(dim=axes, keepdim=True) - xhat", "(g - xhat"),
        ["batch norm of x (6, 3)", "dL/dx does not sum to zero over each channel"],
        "did you include the mean term"),
    "batch_norm on the forward's arrays (no second derivative)": (
        "batch_norm", ("invstd = ((centered * centered).mean(dim=axes, keepdim=True) + self.eps) ** -0.5",
                       "invstd = x._wrap_like(self.invstd.reshape((1, -1) + (1,) * (x.ndim - 2)))"),
        ["second derivative"],
        "not on raw arrays"),
    "adam without bias correction": (
        "adam", ("m_hat = m / (1 - beta1 ** step)", "m_hat = m"),
        ["Adam(), parameter 0 (3, 4) after step 1: wrong value at index", "expected", "got"],
        "did you include both"),
    "conv2d without output_padding": (
        "conv2d", ("output_padding=extra, ", ""),
        ["stride (2, 2), padding (1, 1)", "returned a gradient of shape (2, 2, 5, 4)", "input of shape (2, 2, 6, 5)"],
        "output_padding = H - ((Ho - 1)s - 2p + d(kH - 1) + 1)"),
    "conv2d with stride and dilation not exchanged": (
        "conv2d", ("stride=geometry.dilation, padding=geometry.padding,\n" + " " * 21 + "dilation=geometry.stride",
                   "stride=geometry.stride, padding=geometry.padding,\n" + " " * 21 + "dilation=geometry.dilation"),
        ["stride (2, 2)", "gradient mismatch for input 1"],
        "conv2d(x^T, g^T, stride=d, padding=p, dilation=s)"),
    "conv_transpose2d with the correlation's arguments in conv2d's order": (
        "conv_transpose2d", ("correlate(g, x, geometry)", "correlate(x, g, geometry)"),
        ["conv_transpose2d of shapes (2, 2, 3, 3)", "ValueError: conv2d: the kernel", "in conv_transpose2d.py, line"],
        "conv2d's weight-gradient correlation with g in the place of x"),
    "gradient_penalty without create_graph": (
        "gradient_penalty", (", create_graph=True", ""),
        ["does not depend on the critic's weights"],
        "create_graph=True"),
    "gradient_penalty that reaches the generator": (
        "gradient_penalty", ("(1.0 - eps) * fake.detach()", "(1.0 - eps) * fake"),
        ["sends a gradient into `fake`"],
        "detach real and fake"),
}


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # the naive BCE overflows, on purpose
@pytest.mark.parametrize("case", list(WRONG), ids=list(WRONG))
def test_subtly_wrong_answers_fail_with_a_clear_message(workspace, case):
    name, replace, message_parts, hint_part = WRONG[case]
    write_solution(workspace, name, replace)
    (result,) = check_workspace(workspace, name)
    assert result.status == FAIL
    for part in message_parts:
        assert part in result.message
    assert hint_part in result.hint


def test_a_crash_in_the_students_code_is_reported_with_its_line(workspace):
    write_solution(workspace, "mul", ("a, b = self.saved_inputs", "a, b = self.saved_input"))
    (result,) = check_workspace(workspace, "mul")
    assert result.status == FAIL
    assert "AttributeError" in result.message and "in mul.py, line" in result.message


# --- stubs, solutions, workspace ------------------------------------------------------------------------

def test_fresh_stubs_are_not_started(workspace):
    results = check_workspace(workspace)
    assert [r.name for r in results] == [e.name for e in EXERCISES]
    assert all(r.status == NOT_STARTED for r in results), format_results(results)
    assert "Mul.backward: not written yet" in results[[e.name for e in EXERCISES].index("mul")].message


def test_reference_solutions_pass(workspace):
    for exercise in EXERCISES:
        write_solution(workspace, exercise.name)
    results = check_workspace(workspace)
    assert all(r.status == PASS for r in results), format_results(results)


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_each_stub_keeps_the_docstring_and_drops_the_solution(exercise):
    solution = solution_source(exercise)
    stub = stub_source(solution)
    assert BEGIN in solution and BEGIN not in stub and "solution: end" not in stub
    assert "NotImplementedError" in stub and '"""' in stub
    compile(stub, exercise.filename, "exec")


def test_start_keeps_existing_files_and_a_missing_file_is_not_started(workspace):
    (workspace / "mul.py").write_text("# my work\n")
    (workspace / "tanh.py").unlink()
    written, kept = start_workspace(workspace)
    assert written == ["tanh.py"] and "mul.py" in kept
    assert (workspace / "mul.py").read_text() == "# my work\n"
    (workspace / "sum.py").unlink()
    (result,) = check_workspace(workspace, "sum")
    assert result.status == NOT_STARTED and "missing" in result.message


def test_check_names_an_unknown_exercise_and_a_missing_workspace(workspace, tmp_path):
    with pytest.raises(ValueError, match="unknown exercise 'mull'.*mul"):
        check_workspace(workspace, "mull")
    with pytest.raises(ValueError, match="tinygen exercises start"):
        check_workspace(tmp_path / "nowhere")


def test_the_report_is_a_table_with_hints(workspace):
    write_solution(workspace, "tanh")
    write_solution(workspace, "mul", ("sum_to(g * b, a.shape)", "g * b"))
    report = format_results(check_workspace(workspace))
    lines = report.splitlines()
    assert lines[0].split() == ["exercise", "status", "message"]
    assert lines[1].split()[:2] == ["tanh", "pass"] and lines[2].split()[:2] == ["mul", "fail"]
    assert "hint: each gradient must have exactly the shape of its input" in report
    assert report.endswith(f"{len(EXERCISES)} checked: 1 passed, 1 failed, {len(EXERCISES) - 2} not started")


# --- the student's ops plug into the engine -------------------------------------------------------------

def test_use_student_ops_swaps_passing_exercises_in_and_back_out(workspace):
    write_solution(workspace, "mul")
    write_solution(workspace, "gradient_penalty")
    original_mul, original_penalty = arithmetic.Mul, gan.gradient_penalty
    with use_student_ops(workspace) as swapped:
        assert swapped == ["mul", "gradient_penalty"]
        x = tinygen.randn(3, requires_grad=True)
        node = (x * x).grad_fn
        assert type(node) is not original_mul and isinstance(node, original_mul)
        assert type(node).__module__ == "tinygen_workspace_mul"
        for module in (gan, tinygen.losses, functional):
            assert module.gradient_penalty is not original_penalty
    assert arithmetic.Mul is original_mul
    assert tinygen.losses.gradient_penalty is gan.gradient_penalty is functional.gradient_penalty
    assert gan.gradient_penalty is original_penalty


def test_use_student_ops_refuses_an_exercise_that_does_not_pass(workspace):
    with pytest.raises(ValueError, match="'tanh' does not pass the grader \\(not started\\)"):
        with use_student_ops(workspace, ["tanh"]):
            pass
    write_solution(workspace, "mul", ("sum_to(g * b, a.shape)", "g * b"))
    with use_student_ops(workspace, "mul", check=False) as swapped:  # on purpose: watch the wrong op run
        assert swapped == ["mul"]
        with pytest.raises(RuntimeError, match="Mul.backward returned a gradient of shape"):
            (tinygen.ones(3, 1, requires_grad=True) * tinygen.ones(1, 4)).sum().backward()
    assert arithmetic.Mul.__module__ == "tinygen.ops.arithmetic"


def test_a_dcgan_trains_on_the_students_ops(workspace):
    """With every exercise's solution swapped in (convolutions, batch norm, Adam, tanh ...), two DCGAN training
    steps give the losses that tinygen's own ops give."""
    from tinygen.training import TrainConfig, build_recipe

    for exercise in EXERCISES:
        write_solution(workspace, exercise.name)
    real = tinygen.rand(4, 1, 28, 28, generator=tinygen.Generator(None, 0)) * 2 - 1

    def two_steps():
        tinygen.manual_seed(0)
        recipe = build_recipe(TrainConfig("dcgan", latent_dim=8, progress=False, device=tinygen.get_default_device()))
        return [recipe.train_step(real) for _ in range(2)]

    with use_student_ops(workspace) as swapped:
        assert {"conv2d", "conv_transpose2d", "batch_norm", "adam"} <= set(swapped)
        student = two_steps()
    reference = two_steps()
    for got, expected in zip(student, reference):
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_a_students_ops_train_a_model(workspace):
    """With the student's mul, sum, matmul and tanh swapped in, gradient descent on a tiny regression still
    matches the same descent on tinygen's own ops."""
    for name in ("mul", "sum", "matmul", "tanh"):
        write_solution(workspace, name)

    def fit():
        generator = tinygen.Generator(None, 0)
        x, w = tinygen.randn(16, 3, generator=generator), tinygen.randn(3, 1, generator=generator, requires_grad=True)
        target = (x @ tinygen.tensor([[1.0], [-2.0], [0.5]])).tanh()
        for _ in range(20):
            loss = (((x @ w).tanh() - target) ** 2).sum()
            (gradient,) = tinygen.grad(loss, [w])
            w = (w - 0.05 * gradient).detach().requires_grad_()
        return loss.item()

    with use_student_ops(workspace, ["mul", "sum", "matmul", "tanh"]):
        student_loss = fit()
    assert student_loss == pytest.approx(fit(), rel=1e-6)


# --- the command line -------------------------------------------------------------------------------------

def test_command_line_list_start_check(tmp_path, capsys):
    from tinygen.cli import main

    assert main(["exercises", "list"]) == 0
    listing = capsys.readouterr().out
    assert all(exercise.name in listing for exercise in EXERCISES)

    workspace = tmp_path / "work"
    assert main(["exercises", "start", str(workspace)]) == 0
    assert "wrote README.md, tanh.py" in capsys.readouterr().out
    assert (workspace / "README.md").exists() and (workspace / "conv2d.py").exists()

    assert main(["exercises", "check", str(workspace)]) == 1
    report = capsys.readouterr().out
    assert "not started" in report and f"{len(EXERCISES)} checked: 0 passed" in report

    write_solution(workspace, "mul")
    assert main(["exercises", "check", str(workspace), "mul"]) == 0
    assert "1 checked: 1 passed, 0 failed, 0 not started" in capsys.readouterr().out

    write_solution(workspace, "mul", ("sum_to(g * b, a.shape)", "g * b"))
    assert main(["exercises", "check", str(workspace), "mul"]) == 1
    assert "hint: each gradient must have exactly the shape of its input" in capsys.readouterr().out

    assert main(["exercises", "check", str(workspace), "mull"]) == 2
    assert "unknown exercise 'mull'" in capsys.readouterr().err
