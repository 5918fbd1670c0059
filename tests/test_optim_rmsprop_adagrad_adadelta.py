"""RMSprop, Adagrad and Adadelta: PyTorch's update rules, equal to PyTorch's values over 100 steps (float64),
for every option; state saving; option checks."""
import numpy as np
import pytest

import tinygen
from tinygen import optim

from helpers import assert_close

CASES = [
    ("RMSprop", {}), ("RMSprop", dict(momentum=0.9)), ("RMSprop", dict(centered=True, weight_decay=0.1)),
    ("RMSprop", dict(momentum=0.5, centered=True, lr=0.003, alpha=0.9, eps=1e-6)), ("RMSprop", dict(maximize=True)),
    ("Adagrad", {}), ("Adagrad", dict(lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adagrad", dict(eps=1e-3, maximize=True)),
    ("Adadelta", {}), ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)), ("Adadelta", dict(eps=1e-3)),
]


def run(library, name, options, steps):
    """``steps`` updates of a (4, 3) weight whose gradient, 2 c (w - t) + 0.4 w^3 (a convex loss with curvature that
    changes as w moves), is computed with NumPy and handed to the optimizer as ``.grad``: both libraries then get
    bit-identical gradients, so any difference comes from the update rule alone (the libraries' own autograd
    rounds differently in the last bit, and adaptive steps can amplify that over 100 steps)."""
    rng = np.random.default_rng(0)
    start, goal, curvature = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.5, 3.0, (4, 3))
    weight = library.tensor(start, requires_grad=True)
    optimizer = getattr(library.optim, name)([weight], **options)
    for _ in range(steps):
        optimizer.zero_grad()
        values = weight.detach().numpy()
        weight.grad = library.tensor(2 * curvature * (values - goal) + 0.4 * values**3)
        optimizer.step()
    return weight.detach().numpy(), start


@pytest.mark.parametrize("name, options", CASES)
def test_one_step_moves_against_the_gradient(name, options):
    if options.get("maximize"):
        pytest.skip("maximize moves along the gradient")
    after, before = run(tinygen, name, options, 1)
    assert not np.allclose(after, before)


START = np.array([1.0, -0.5, 2.0, 0.25])
GRADIENT = np.array([0.5, -2.0, 1e-10, 3.0])  # one entry far below eps: where eps sits shows there
CLOSED_FORMS = {  # (optimizer, options, steps with GRADIENT, the weight after them written out)
    "RMSprop": ("RMSprop", dict(lr=0.1, alpha=0.9), 1,  # v = 0.1 g^2
                START - 0.1 * GRADIENT / (np.sqrt(0.1) * np.abs(GRADIENT) + 1e-8)),
    "RMSprop centered": ("RMSprop", dict(lr=0.1, alpha=0.9, centered=True), 1,  # v - m^2 = 0.1 g^2 - 0.01 g^2
                         START - 0.1 * GRADIENT / (np.sqrt(0.09) * np.abs(GRADIENT) + 1e-8)),
    "RMSprop maximize": ("RMSprop", dict(lr=0.1, alpha=0.9, maximize=True), 1,
                         START + 0.1 * GRADIENT / (np.sqrt(0.1) * np.abs(GRADIENT) + 1e-8)),
    "Adagrad": ("Adagrad", dict(lr=0.1, lr_decay=0.5), 2,  # s = t g^2; step t has lr / (1 + (t - 1) lr_decay)
                START - 0.1 * GRADIENT / (np.abs(GRADIENT) + 1e-10)
                - 0.1 / 1.5 * GRADIENT / (np.sqrt(2) * np.abs(GRADIENT) + 1e-10)),
    "Adadelta": ("Adadelta", dict(lr=0.5, rho=0.9), 1,  # u = 0: the step is sqrt(eps) / sqrt(v + eps) g
                 START - 0.5 * np.sqrt(1e-6) / np.sqrt(0.1 * GRADIENT**2 + 1e-6) * GRADIENT),
}


@pytest.mark.parametrize("name, options, steps, expected", CLOSED_FORMS.values(), ids=CLOSED_FORMS.keys())
def test_first_steps_in_closed_form(name, options, steps, expected):
    weight = tinygen.tensor(START, requires_grad=True)
    optimizer = getattr(optim, name)([weight], **options)
    for _ in range(steps):
        weight.grad = tinygen.tensor(GRADIENT)
        optimizer.step()
    assert_close(weight, expected, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, options", CASES)
def test_hundred_steps_equal_pytorch(name, options):
    torch = pytest.importorskip("torch")
    ours, start = run(tinygen, name, options, 100)
    theirs, _ = run(torch, name, options, 100)
    assert not np.allclose(theirs, start)
    assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adadelta"])
def test_state_dict_round_trip_continues_identically(name):
    rng = np.random.default_rng(1)
    values = rng.standard_normal(5)

    def make():
        weight = tinygen.tensor(values, requires_grad=True)
        return weight, getattr(optim, name)([weight], lr=0.1)

    def step(weight, optimizer):
        optimizer.zero_grad()
        ((weight - 1) ** 4).sum().backward()
        optimizer.step()

    first, first_optimizer = make()
    step(first, first_optimizer)
    second, second_optimizer = make()
    with tinygen.no_grad():
        second.copy_(first)
    second_optimizer.load_state_dict(first_optimizer.state_dict())
    step(first, first_optimizer)
    step(second, second_optimizer)
    assert_close(first, second)


@pytest.mark.parametrize("name, option", [("RMSprop", "alpha"), ("RMSprop", "momentum"), ("Adagrad", "lr_decay"),
                                          ("Adagrad", "eps"), ("Adadelta", "eps"), ("Adadelta", "rho")])
def test_invalid_options_are_refused(name, option):
    weight = tinygen.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=f"{name}: invalid {option}"):
        getattr(optim, name)([weight], **{option: -1.0})
