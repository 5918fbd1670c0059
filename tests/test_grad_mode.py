"""Grad mode (tinygen/autograd/grad_mode.py): no_grad, enable_grad and set_grad_enabled as context managers and
decorators, the previous mode restored after an exception, and one mode per thread."""
import threading

import pytest

import tinygen
from tinygen import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

from helpers import random_tensor


class Planted(Exception):
    pass


@pytest.mark.parametrize("switch, inside", [(no_grad, False), (enable_grad, True)])
@pytest.mark.parametrize("outside", [True, False])
def test_the_previous_mode_comes_back_after_an_exception_in_the_block(switch, inside, outside):
    with set_grad_enabled(outside):
        with pytest.raises(Planted):
            with switch():
                assert is_grad_enabled() is inside
                raise Planted()
        assert is_grad_enabled() is outside
    assert is_grad_enabled()


@pytest.mark.parametrize("outside", [True, False])
def test_set_grad_enabled_restores_the_previous_mode_after_an_exception(outside):
    with set_grad_enabled(outside):
        with pytest.raises(Planted):
            with set_grad_enabled(not outside):
                assert is_grad_enabled() is (not outside)
                raise Planted()
        assert is_grad_enabled() is outside


def test_set_grad_enabled_called_plainly_sets_the_mode_from_there_on():
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled()
        assert not (random_tensor((2,)) * 2).requires_grad
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()


def test_decorators_with_and_without_parentheses_and_after_an_exception():
    x = random_tensor((3,), seed=1)

    @no_grad()
    def evaluate(tensor):
        return tensor * 2

    @no_grad
    def evaluate_bare(tensor):
        """Doubles its input."""
        return tensor * 2

    @enable_grad
    def record(tensor):
        return tensor * 2

    @set_grad_enabled(False)
    def fails():
        assert not is_grad_enabled()
        raise Planted()

    assert is_grad_enabled()  # decorating changed nothing
    assert not evaluate(x).requires_grad and not evaluate_bare(x).requires_grad
    assert evaluate_bare.__name__ == "evaluate_bare" and evaluate_bare.__doc__ == "Doubles its input."
    with no_grad():
        assert record(x).requires_grad
        assert not is_grad_enabled()
    with pytest.raises(Planted):
        fails()
    assert is_grad_enabled() and (x * 2).requires_grad


def test_a_decorated_function_may_call_itself():
    depth_modes = []

    @enable_grad()
    def nested(depth):
        depth_modes.append(is_grad_enabled())
        with no_grad():
            if depth:
                nested(depth - 1)
            depth_modes.append(is_grad_enabled())

    with no_grad():
        nested(2)
        assert not is_grad_enabled()
    assert depth_modes == [True, True, True, False, False, False]


def test_each_thread_has_its_own_mode():
    """One thread samples under no_grad while another records a graph: neither sees the other's mode, and a new
    thread starts with recording on whatever the thread that started it has."""
    x = random_tensor((3,), seed=2)
    inside_no_grad, recorded = threading.Event(), threading.Event()
    seen = {}

    def sampler():
        with no_grad():
            inside_no_grad.set()
            recorded.wait(timeout=30)
            seen["sampler"] = (is_grad_enabled(), (x * 2).requires_grad)

    def trainer():
        inside_no_grad.wait(timeout=30)
        y = (x * x).sum()
        seen["trainer"] = (is_grad_enabled(), y.requires_grad)
        y.backward()
        recorded.set()

    threads = [threading.Thread(target=sampler), threading.Thread(target=trainer)]
    with no_grad():  # the main thread's mode is not inherited
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert seen == {"sampler": (False, False), "trainer": (True, True)}
    assert tinygen.allclose(x.grad, 2 * x.detach())
    assert is_grad_enabled()
