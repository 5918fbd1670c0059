"""A student's ops plug into the engine and come back out: ``use_student_ops`` and ``tinygen train MODEL --ops DIR``."""
import pytest

import tinygen
from tinygen.exercises import use_student_ops
from tinygen.exercises.swap import train_on_student_ops
from tinygen.losses import gan
from tinygen.nn import functional
from tinygen.ops import arithmetic

from .workspaces import SOLUTIONS, workspace, write_solution  # noqa: F401


def test_use_student_ops_swaps_passing_exercises_in_and_back_out(workspace):
    write_solution(workspace, "mul")
    write_solution(workspace, "gradient_penalty")
    original_mul, original_penalty = arithmetic.Mul, gan.gradient_penalty
    with use_student_ops(workspace, isolate=False) as swapped:
        assert swapped == ["mul", "gradient_penalty"]
        x = tinygen.randn(3, requires_grad=True)
        node = (x * x).grad_fn
        assert type(node).__module__ == "tinygen_workspace_mul" and isinstance(node, original_mul)
        for module in (gan, tinygen.losses, functional):
            assert module.gradient_penalty is not original_penalty
    assert arithmetic.Mul is original_mul
    assert tinygen.losses.gradient_penalty is gan.gradient_penalty is functional.gradient_penalty is original_penalty


def test_use_student_ops_refuses_an_exercise_that_does_not_pass(workspace):
    with pytest.raises(ValueError, match="'tanh' does not pass the grader \\(not started\\)"):
        with use_student_ops(workspace, ["tanh"], isolate=False):
            pass
    write_solution(workspace, "mul", ("sum_to(g * b, a.shape)", "g * b"))
    with use_student_ops(workspace, "mul", check=False) as swapped:  # on purpose: watch the wrong op run
        assert swapped == ["mul"]
        with pytest.raises(RuntimeError, match="Mul.backward returned a gradient of shape"):
            (tinygen.ones(3, 1, requires_grad=True) * tinygen.ones(1, 4)).sum().backward()
    assert arithmetic.Mul.__module__ == "tinygen.ops.arithmetic"


@pytest.mark.slow
def test_a_dcgan_trains_on_the_students_ops():
    """With every reference solution swapped in (convolutions, batch norm, Adam, leaky relu, dropout, tanh, the
    engine ...), two DCGAN training steps give the losses that tinygen's own ops give."""
    from tinygen.training import TrainConfig, build_recipe

    real = tinygen.rand(4, 1, 28, 28, generator=tinygen.Generator(None, 0)) * 2 - 1

    def two_steps():
        tinygen.manual_seed(0)
        recipe = build_recipe(TrainConfig("dcgan", latent_dim=8, progress=False, device=tinygen.get_default_device()))
        recipe.prepare(real)  # the DCGAN's clusters
        return [recipe.train_step(real) for _ in range(2)]

    with use_student_ops(SOLUTIONS, isolate=False) as swapped:
        assert {"conv2d", "conv_transpose2d", "batch_norm", "adam", "relu", "dropout", "engine", "tanh"} <= set(swapped)
        assert "wgan_gp_critic_step" not in swapped  # it replaces nothing in tinygen
        student = two_steps()
    reference = two_steps()
    for got, expected in zip(student, reference):
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_training_on_no_passing_op_is_a_clear_error(workspace, tmp_path):
    from tinygen.training import TrainConfig

    config = TrainConfig("toy", epochs=1, out=str(tmp_path / "run"), progress=False)
    with pytest.raises(ValueError, match="no exercise there passes the grader yet"):
        train_on_student_ops(config, workspace)
    with pytest.raises(ValueError, match="no such workspace"):
        train_on_student_ops(config, tmp_path / "nowhere")


@pytest.mark.slow
def test_train_dcgan_on_your_ops_from_the_command_line(tmp_path, monkeypatch, capsys):
    from tinygen.cli import main

    monkeypatch.chdir(tmp_path)
    workspace = tmp_path / "work"
    workspace.mkdir()
    for name in ("conv2d", "conv_transpose2d", "tanh"):
        write_solution(workspace, name)
    status = main(["train", "dcgan", "--ops", str(workspace), "--epochs", "1", "--subset", "64", "--batch-size", "32",
                   "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"training on your ops from {workspace}: tanh, conv2d, conv_transpose2d (tinygen's own for everything " \
           "else)" in out
    assert (tmp_path / "runs" / "dcgan-ops" / "checkpoint.npz").exists()
    assert not (tmp_path / "runs" / "dcgan").exists()
