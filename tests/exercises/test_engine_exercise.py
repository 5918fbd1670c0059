"""The engine exercise: the student's topological order and backward walk, graded on graphs the grader builds and by
tinygen's own autograd checks; a wrong order fails on a diamond with a message saying so; and a correct student
engine passes tinygen's own autograd test files."""
import os
import pathlib
import subprocess
import sys

import pytest

import tinygen
from tinygen.exercises import FAIL, use_student_ops

from .workspaces import SOLUTIONS, grade, solution_text, workspace, write_solution  # noqa: F401

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECURSIVE_ORDER = '''    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for edge in node.next_edges:
            if isinstance(edge, Function):
                visit(edge)
        order.append(node)

    for root in roots:
        visit(root)
    return order[::-1]
'''
PER_PATH_WALK = '''    def visit(node, gradient):
        for edge, input_grad in zip(node.next_edges, call_backward(node, gradient)):
            if edge is None or input_grad is None:
                continue
            if isinstance(edge, Function):
                visit(edge, input_grad)
            else:
                grads[edge] = grads[edge] + input_grad if edge in grads else input_grad

    for root in [node for node in order if node in grads]:
        visit(root, grads.pop(root))
'''
PLAIN_DFS = '''    order, visited, stack = [], set(), list(roots)
    while stack:
        node = stack.pop()
        if node in visited:
            continue
        visited.add(node)
        order.append(node)
        stack += [edge for edge in node.next_edges if isinstance(edge, Function)]
    return order
'''


def _engine(workspace, order=None, walk=None):
    """The reference engine with the body of topological_order and/or backward_walk replaced."""
    text = solution_text("engine")
    blocks = text.split("    # solution: begin\n")
    head, order_part, walk_part = blocks
    order_body, order_tail = order_part.split("    # solution: end\n", 1)
    walk_body, walk_tail = walk_part.split("    # solution: end\n", 1)
    text = (head + "    # solution: begin\n" + (order or order_body) + "    # solution: end\n" + order_tail
            + "    # solution: begin\n" + (walk or walk_body) + "    # solution: end\n" + walk_tail)
    write_solution(workspace, "engine", text=text)
    return workspace


def test_a_plain_depth_first_order_fails_on_a_diamond_and_says_why(workspace):
    result = grade(_engine(workspace, order=PLAIN_DFS), "engine")
    assert (result.status, result.check) == (FAIL, "order")
    assert result.message.startswith("topological_order on a diamond graph (y = x * 2 feeds both a = exp(y) and "
                                     "b = y * 3, which meet in c = a + b): it puts y = x * 2 before ")
    assert "which consumes its output" in result.message and "before its gradient is complete" in result.message


def test_a_recursive_order_fails_on_a_deep_chain(workspace):
    result = grade(_engine(workspace, order=RECURSIVE_ORDER), "engine")
    assert (result.status, result.check) == (FAIL, "deep")
    assert "a chain of 10,000 ops" in result.message and "RecursionError" in result.message
    assert "keep your own stack" not in result.hint and "recurses" in result.hint


def test_a_walk_along_every_path_runs_a_backward_twice_and_is_stopped(workspace):
    result = grade(_engine(workspace, walk=PER_PATH_WALK), "engine")
    assert (result.status, result.check) == (FAIL, "engine: once")
    assert "a diamond: y = x * 2 feeds exp(y) and y * 3, on your engine" in result.message
    assert "backward was called a second time" in result.message


def test_the_walk_is_checked_with_the_students_order_and_a_late_gradient_is_named(workspace):
    """An order that is complete but wrong reaches the walk's checks too: a gradient arriving after the node's
    backward is named as an order problem."""
    from tinygen.exercises.engine_harness import EngineMistake, GradientTable

    x = tinygen.randn(2, requires_grad=True)
    node = (x * 2.0).grad_fn
    table = GradientTable({node})
    with pytest.raises(EngineMistake, match="after its backward had run: the order visits a node before all"):
        table[node] = x


def test_tinygen_trains_on_the_students_engine(workspace):
    write_solution(workspace, "engine")

    def fit():
        generator = tinygen.Generator(None, 0)
        x, w = tinygen.randn(16, 3, generator=generator), tinygen.randn(3, 1, generator=generator, requires_grad=True)
        target = (x @ tinygen.tensor([[1.0], [-2.0], [0.5]])).tanh()
        for _ in range(10):
            loss = (((x @ w).tanh() - target) ** 2).sum()
            loss.backward()
            w = (w - 0.05 * w.grad).detach().requires_grad_()
        return loss.item()

    with use_student_ops(workspace, ["engine"], isolate=False) as swapped:
        assert swapped == ["engine"]
        assert tinygen.autograd.api.run_backward.__qualname__.startswith("student_run_backward")
        student = fit()
    assert tinygen.autograd.api.run_backward is tinygen.autograd.engine.run_backward
    assert student == pytest.approx(fit(), rel=1e-12)


def _run_autograd_tests(workspace, tmp_path):
    count = tmp_path / "walks"
    environment = dict(os.environ, TINYGEN_ENGINE_WORKSPACE=str(workspace), TINYGEN_ENGINE_COUNT=str(count),
                       PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "exercises.engine_plugin", "-n", "0", "-p",
               "no:cacheprovider", "tests/test_autograd.py", "tests/pitfalls/test_autograd_bookkeeping.py"]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    return done, int(count.read_text())


@pytest.mark.slow
def test_a_correct_student_engine_passes_tinygens_own_autograd_tests_and_a_wrong_one_does_not(tmp_path):
    done, walks = _run_autograd_tests(SOLUTIONS, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert walks > 100  # the tests ran on the student's walk
    wrong = _engine(tmp_path / "wrong", order=PLAIN_DFS) if (tmp_path / "wrong").mkdir() is None else None
    done, walks = _run_autograd_tests(wrong, tmp_path)
    assert done.returncode == 1 and walks > 0
    assert "failed" in done.stdout.splitlines()[-1]
