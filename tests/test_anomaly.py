"""Anomaly mode (``tinygen.detect_anomaly``): a NaN or Inf made by an op's forward or by a node's backward, first or
second order, inside a model too, raises naming the op and the line of the test that created it; division by
zero gives NumPy's IEEE values, gradients and (on NumPy-backed devices) warnings, as documented in
``tinygen.autograd.anomaly``; and with the mode off, no check runs."""
import inspect
import re
import warnings

import numpy as np
import pytest

import tinygen
from tinygen import nn
from tinygen.autograd import AnomalyError

from helpers import host


def here(offset=0):
    """``test_anomaly.py:<line>`` of the caller's line plus ``offset``, as a regex."""
    line = inspect.currentframe().f_back.f_lineno + offset
    return re.escape(f"test_anomaly.py:{line}")


def test_nan_and_inf_in_a_forward_name_the_op_and_the_line():
    x = tinygen.tensor([1.0, -1.0, 0.0], requires_grad=True)
    with tinygen.detect_anomaly():
        with pytest.raises(AnomalyError, match=rf"Log produced NaN in its forward \(shape \(3,\)\); .*{here(1)}$"):
            x.log()
        with pytest.raises(AnomalyError, match=rf"Div produced Inf in its forward .*{here(1)}$"):
            tinygen.tensor([1.0]) / tinygen.tensor([0.0])
        with pytest.raises(AnomalyError, match=rf"Exp produced Inf in its forward .*{here(1)}$"):
            (x * 1000.0).exp()


def test_an_infinite_gradient_names_the_op_and_the_line_that_created_it():
    x = tinygen.tensor([4.0, 0.0], requires_grad=True)
    with tinygen.detect_anomaly():
        y = x.sqrt()  # finite forward; the derivative 1 / (2 sqrt x) is inf at 0
        expected = here(-1)
        with pytest.raises(AnomalyError, match=rf"Sqrt produced Inf in its backward \(shape \(2,\)\); .*{expected}$"):
            (y * 3.0).sum().backward()


def test_a_nan_gradient_from_a_finite_forward_is_caught():
    x = tinygen.tensor([0.0, 1.0], requires_grad=True)
    with tinygen.detect_anomaly():
        y = x.sqrt() * 0.0  # forward 0; backward 0 * inf = NaN in Sqrt's gradient
        with pytest.raises(AnomalyError, match=rf"Sqrt produced NaN in its backward .*{here(-1)}$"):
            y.sum().backward()


class LogOfLinear(nn.Module):
    """A user's model whose forward takes the log of a linear layer's output (negative for these weights)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        with tinygen.no_grad():
            self.linear.weight.fill_(-1.0)
            self.linear.bias.fill_(0.0)

    def forward(self, x):
        return self.linear(x).log()


FORWARD_LOG_LINE = inspect.getsourcelines(LogOfLinear.forward)[1] + 1


def test_inside_a_model_the_line_is_in_the_users_forward_not_in_tinygen():
    model = LogOfLinear()
    with tinygen.detect_anomaly():
        with pytest.raises(AnomalyError, match=rf"Log produced NaN in its forward .*:{FORWARD_LOG_LINE}$"):
            model(tinygen.ones(4, 3))


def test_inside_a_tinygen_layer_the_line_is_the_users_call():
    layer = nn.Linear(2, 2)
    with tinygen.no_grad():
        layer.weight.fill_(1e38)
    with tinygen.detect_anomaly():
        with pytest.raises(AnomalyError, match=rf"Linear produced Inf in its forward .*{here(1)}$"):
            layer(tinygen.full((1, 2), 1e38))


def test_second_order_anomalies_name_the_backward_that_recorded_the_op():
    """x ** 1.5 at 0: the first derivative 1.5 sqrt(x) is 0, the second 0.75 / sqrt(x) is inf."""
    x = tinygen.tensor([0.0, 1.0], requires_grad=True)
    with tinygen.detect_anomaly():
        y = x ** 1.5
        created = here(-1)
        (first,) = tinygen.grad(y.sum(), x, create_graph=True)
        assert host(first).tolist() == [0.0, 1.5]
        with pytest.raises(AnomalyError, match=rf"PowConstant produced Inf in its backward .*{created}, "
                                               r"in the backward of PowConstant$"):
            first.sum().backward()


class FlatCritic(nn.Module):
    """|W x|^1.5 with W = 0: its input gradient 1.5 |Wx|^0.5 W is 0 where it is evaluated (finite), but the
    second derivative 0.75 |Wx|^-0.5 is infinite there, so a gradient penalty's backward meets 0 * inf."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        with tinygen.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.zero_()

    def forward(self, x):
        return self.linear(x).abs() ** 1.5


CRITIC_POW_LINE = inspect.getsourcelines(FlatCritic.forward)[1] + 1


def test_a_gradient_penalty_with_an_anomaly_in_the_double_backward_names_the_critics_line():
    import tinygen.nn.functional as F

    critic = FlatCritic()
    real, fake = tinygen.randn(3, 2), tinygen.randn(3, 2)
    with tinygen.detect_anomaly():
        penalty = F.gradient_penalty(critic, real, fake)  # forward and first backward are finite
        assert np.isfinite(penalty.item())
        with pytest.raises(AnomalyError, match=rf"PowConstant produced NaN in its backward .*"
                                               rf"test_anomaly.py:{CRITIC_POW_LINE}, in the backward of PowConstant$"):
            penalty.backward()


def test_a_graph_recorded_outside_the_mode_is_still_checked_in_backward():
    x = tinygen.tensor([0.0], requires_grad=True)
    y = x.sqrt()
    with tinygen.detect_anomaly():
        with pytest.raises(AnomalyError, match="Sqrt produced Inf in its backward .*recorded outside detect_anomaly"):
            y.sum().backward()


def test_the_mode_is_restored_after_the_block_and_after_an_error():
    assert not tinygen.autograd.is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        with tinygen.detect_anomaly():
            assert tinygen.autograd.is_anomaly_enabled()
            tinygen.tensor([-1.0]).log()
    assert not tinygen.autograd.is_anomaly_enabled()
    assert tinygen.autograd.anomaly._AnomalyMode.backward_of is None


def test_off_it_runs_no_check(monkeypatch):
    """Disabled, anomaly mode costs one flag test per op: no finiteness check, no stack walk, no wrapper."""
    def refuse(*arguments):
        raise AssertionError("an anomaly check ran while the mode was off")

    monkeypatch.setattr(tinygen.autograd.function, "check_forward", refuse)
    monkeypatch.setattr(tinygen.autograd.engine, "check_finite", refuse)
    monkeypatch.setattr(tinygen.autograd.engine, "_backward_in_anomaly_mode", refuse)
    monkeypatch.setattr(tinygen.autograd.anomaly, "creation_site", refuse)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = tinygen.tensor([[1.0, 0.0, -1.0]], requires_grad=True)
    (gradient,) = tinygen.grad((model(x) / 0.0).sum(), x, create_graph=True)  # inf everywhere: not checked
    gradient.sum().backward()


# --- division by zero ------------------------------------------------------------------------------------------

def test_division_by_zero_gives_numpys_values_gradients_and_warnings(device):
    a = tinygen.tensor([1.0, -1.0, 0.0, 2.0], dtype=tinygen.float64, requires_grad=True)
    b = tinygen.tensor([0.0, 0.0, 0.0, 4.0], dtype=tinygen.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quotient = a / b
        quotient.backward(tinygen.ones(4, dtype=tinygen.float64))
        integers = tinygen.tensor([1, 0]) / tinygen.tensor([0, 0])
        logs = tinygen.log(tinygen.tensor([0.0, -1.0]))
    messages = {str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)}
    if device in ("cpu", "strict"):  # NumPy underneath warns, as it does for arrays; CuPy does not
        assert {"divide by zero encountered in divide", "invalid value encountered in divide",
                "divide by zero encountered in log", "invalid value encountered in log"} <= messages
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(host(quotient), np.array([1.0, -1.0, 0.0, 2.0]) / np.array([0.0, 0.0, 0.0, 4.0]))
    np.testing.assert_array_equal(host(a.grad), [np.inf, np.inf, np.inf, 0.25])  # d(a/b)/da = 1/b
    np.testing.assert_array_equal(host(b.grad), [-np.inf, np.inf, np.nan, -0.125])  # -a/b^2 (0/0 = nan)
    assert integers.dtype == tinygen.float32 and host(integers).tolist()[0] == np.inf and np.isnan(host(integers)[1])
    assert host(logs)[0] == -np.inf and np.isnan(host(logs)[1])


def test_numpy_errstate_silences_or_raises_inside_tinygen_too():
    x = tinygen.ones(2)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        x / 0.0
    assert not caught
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError, match="divide by zero"):
        x / 0.0


@pytest.mark.torch
def test_division_by_zero_matches_pytorch():
    import torch

    values_a, values_b = [1.0, -1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 4.0]
    a = tinygen.tensor(values_a, dtype=tinygen.float64, requires_grad=True)
    b = tinygen.tensor(values_b, dtype=tinygen.float64, requires_grad=True)
    (a / b).sum().backward()
    ta = torch.tensor(values_a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(values_b, dtype=torch.float64, requires_grad=True)
    (ta / tb).sum().backward()
    np.testing.assert_array_equal(host(a.grad), ta.grad.numpy())
    np.testing.assert_array_equal(host(b.grad), tb.grad.numpy())


def test_anomaly_mode_catches_a_division_by_zero_in_forward_and_in_backward():
    with tinygen.detect_anomaly():
        with pytest.raises(AnomalyError, match=rf"Div produced Inf in its forward .*{here(1)}$"):
            tinygen.ones(2) / tinygen.zeros(2)
        x = tinygen.tensor([0.0, 1.0], requires_grad=True)
        y = x ** 0.5  # finite forward; its gradient 0.5 * x ** -0.5 divides by zero at 0
        with pytest.raises(AnomalyError, match=rf"PowConstant produced Inf in its backward .*{here(-1)}$"):
            y.sum().backward()
