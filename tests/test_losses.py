"""Binary cross-entropy (probabilities and logits), MSE, L1, smooth L1 and Huber: gradients first, then values, edge
cases, errors."""
import numpy as np
import pytest
from hypothesis import given

import tinygen as tg
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck
from tinygen.testing import strategies as tst
from tinygen.testing.strategies import move_off_kinks

REDUCTIONS = ["mean", "sum", "none"]


def uniform(shape, low, high, seed, requires_grad=False, dtype=tg.float64):
    generator = tg.Generator(tg.get_default_device(), seed)
    values = low + (high - low) * tg.rand(*shape, generator=generator, dtype=dtype)
    return values.detach().requires_grad_(requires_grad)


def values_of(t):
    return t.detach().numpy()


# --- gradients -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_gradcheck(reduction):
    p = uniform((3, 4), 0.05, 0.95, 0, requires_grad=True)
    t = uniform((3, 4), 0.0, 1.0, 1, requires_grad=True)
    weight = uniform((4,), 0.5, 2.0, 2, requires_grad=True)
    gradcheck(lambda p, t, w: F.binary_cross_entropy(p, t, weight=w, reduction=reduction), [p, t, weight])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_gradcheck(reduction):
    x = uniform((3, 4), -4.0, 4.0, 0, requires_grad=True)
    t = uniform((3, 4), 0.0, 1.0, 1, requires_grad=True)
    weight = uniform((3, 1), 0.5, 2.0, 2, requires_grad=True)
    pos_weight = uniform((4,), 0.5, 3.0, 3, requires_grad=True)
    gradcheck(
        lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=pw),
        [x, t, weight, pos_weight],
    )


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_gradcheck(loss, reduction):
    x = uniform((2, 3, 2), -2.0, 2.0, 0, requires_grad=True)
    side = (uniform((2, 3, 2), 0, 1, 1) > 0.5).double() * 2 - 1
    t = x.detach() + side * uniform((2, 3, 2), 0.1, 1.0, 2)  # at least 0.1 from x: away from |x - t|'s kink
    gradcheck(lambda x, t: loss(x, t, reduction=reduction), [x, t.requires_grad_()])


def test_binary_cross_entropy_gradgradcheck():
    p = uniform((2, 3), 0.1, 0.9, 0, requires_grad=True)
    t = uniform((2, 3), 0.0, 1.0, 1, requires_grad=True)
    gradgradcheck(lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"), [p, t])


def test_binary_cross_entropy_with_logits_gradgradcheck():
    x = uniform((2, 3), -3.0, 3.0, 0, requires_grad=True)
    t = uniform((2, 3), 0.0, 1.0, 1, requires_grad=True)
    pos_weight = uniform((3,), 0.5, 2.0, 2, requires_grad=True)
    gradgradcheck(lambda x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw), [x, t, pos_weight])


def test_mse_loss_gradgradcheck():
    x = uniform((3, 2), -1.0, 1.0, 0, requires_grad=True)
    t = uniform((3, 2), -1.0, 1.0, 1, requires_grad=True)
    gradgradcheck(lambda x, t: F.mse_loss(x, t, reduction="none"), [x, t])


@given(tst.tensors(tst.shapes(min_dims=1, max_dims=3), low=-6.0, high=6.0, requires_grad=True))
def test_binary_cross_entropy_with_logits_gradcheck_drawn_shapes(x):
    t = uniform(x.shape, 0.0, 1.0, 7)
    gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t, reduction="none"), [x])


# --- values --------------------------------------------------------------------------------------------

def test_losses_match_their_formulas():
    p, t = uniform((5, 3), 0.01, 0.99, 0), uniform((5, 3), 0.0, 1.0, 1)
    p_, t_ = values_of(p), values_of(t)
    bce = -(t_ * np.log(p_) + (1 - t_) * np.log(1 - p_))
    np.testing.assert_allclose(values_of(F.binary_cross_entropy(p, t, reduction="none")), bce, rtol=1e-12)
    logits = tg.log(p / (1 - p))
    np.testing.assert_allclose(values_of(F.binary_cross_entropy_with_logits(logits, t)), bce.mean(), rtol=1e-10)
    np.testing.assert_allclose(values_of(F.mse_loss(p, t, reduction="sum")), ((p_ - t_) ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(values_of(F.l1_loss(p, t)), np.abs(p_ - t_).mean(), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_give_pytorch_shapes(reduction):
    x, t = uniform((4, 2, 3), -1, 1, 0), uniform((4, 2, 3), 0, 1, 1)
    for loss in (F.binary_cross_entropy_with_logits, F.mse_loss, F.l1_loss):
        out = loss(x, t, reduction=reduction)
        assert out.shape == ((4, 2, 3) if reduction == "none" else ())
    full = values_of(F.mse_loss(x, t, reduction="none"))
    reduced = values_of(F.mse_loss(x, t, reduction=reduction))
    expected = {"mean": full.mean(), "sum": full.sum(), "none": full}[reduction]
    np.testing.assert_allclose(reduced, expected, rtol=1e-12)


def test_float32_stays_float32():
    x, t = uniform((3, 2), 0.1, 0.9, 0, dtype=tg.float32), uniform((3, 2), 0, 1, 1, dtype=tg.float32)
    for loss in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss, F.l1_loss):
        assert loss(x, t).dtype == tg.float32
    weighted = F.binary_cross_entropy_with_logits(x, t, pos_weight=tg.tensor([2.0, 3.0]), weight=tg.ones(2))
    assert weighted.dtype == tg.float32


def test_integer_targets_are_converted():
    x = tg.tensor([[-2.0, 3.0], [0.5, 1.0]], dtype=tg.float64)
    labels = tg.tensor([[0, 1], [1, 0]])
    expected = F.binary_cross_entropy_with_logits(x, labels.double())
    assert F.binary_cross_entropy_with_logits(x, labels).item() == pytest.approx(expected.item(), rel=1e-15)


def test_mean_of_an_empty_loss_is_nan():
    empty = tg.zeros(0, 3)
    assert np.isnan(F.mse_loss(empty, empty).item())
    assert F.mse_loss(empty, empty, reduction="sum").item() == 0.0


# --- numerical edge cases ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_binary_cross_entropy_at_probabilities_zero_and_one(dtype):
    p = tg.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype, requires_grad=True)
    t = tg.tensor([0.0, 1.0, 1.0, 0.0], dtype=dtype, requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_allclose(values_of(loss), [0.0, 0.0, 100.0, 100.0])  # logs clamped at -100, as PyTorch
    grad_p, grad_t = tg.grad(loss.sum(), [p, t])
    assert np.isfinite(grad_p.numpy()).all() and np.isfinite(grad_t.numpy()).all()
    np.testing.assert_allclose(grad_p.numpy(), [0.0, 0.0, -1e12, 1e12], rtol=1e-6)  # (p - t) / max(p(1-p), 1e-12)
    np.testing.assert_allclose(grad_t.numpy(), [100.0, -100.0, 100.0, -100.0])


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_binary_cross_entropy_with_logits_at_huge_logits(dtype):
    x = tg.tensor([1e4, 1e4, -1e4, -1e4], dtype=dtype, requires_grad=True)
    t = tg.tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=tg.tensor([3.0], dtype=dtype))
    np.testing.assert_allclose(values_of(loss), [0.0, 1e4, 3e4, 0.0])
    grad_x, grad_t = tg.grad(loss.sum(), [x, t])
    np.testing.assert_allclose(grad_x.numpy(), [0.0, 1.0, -3.0, 0.0])
    assert np.isfinite(grad_t.numpy()).all()
    second = tg.grad(tg.grad(F.binary_cross_entropy_with_logits(x, t), x, create_graph=True)[0].sum(), x)[0]
    np.testing.assert_allclose(second.numpy(), 0.0, atol=1e-30)


def test_binary_cross_entropy_with_logits_keeps_tiny_losses_exact():
    """log(1 + e^-30) ~ 9.36e-14: the stable form has no cancellation (x + softplus(-x) would lose it)."""
    x = tg.tensor([-30.0, 30.0], dtype=tg.float64)
    loss = F.binary_cross_entropy_with_logits(x, tg.tensor([0.0, 1.0], dtype=tg.float64), reduction="none")
    np.testing.assert_allclose(values_of(loss), np.log1p(np.exp(-30.0)), rtol=1e-12)


# --- errors --------------------------------------------------------------------------------------------

ELEMENTWISE_LOSSES = [F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss, F.l1_loss,
                      F.smooth_l1_loss, F.huber_loss]


@pytest.mark.parametrize("loss", ELEMENTWISE_LOSSES)
def test_shape_mismatch_is_an_error_naming_both_shapes(loss):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(tg.full((4, 1), 0.5), tg.full((4,), 0.5))


@pytest.mark.parametrize("loss", ELEMENTWISE_LOSSES)
def test_bad_arguments_are_errors(loss):
    x = tg.full((2, 2), 0.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss(x, x, reduction="average")
    with pytest.raises(TypeError, match="expected input to be a Tensor"):
        loss(np.ones((2, 2)), x)
    with pytest.raises(TypeError, match="expected target to be a Tensor"):
        loss(x, 0.5)
    with pytest.raises(TypeError, match="floating-point.*int64"):
        loss(tg.ones(2, 2, dtype=tg.int64), x)


def test_smooth_l1_beta_and_huber_delta_out_of_range_are_errors():
    x = tg.zeros(2)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative, got -0.5"):
        F.smooth_l1_loss(x, x, beta=-0.5)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        F.huber_loss(x, x, delta=0)


def test_device_mismatch_is_an_error():
    other = "strict" if tg.get_default_device() != "strict" else "cpu"
    with pytest.raises(RuntimeError, match="device"):
        F.mse_loss(tg.zeros(3), tg.zeros(3, device=other))


def test_binary_cross_entropy_rejects_non_probabilities():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), tg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="NaN"):
        F.binary_cross_entropy(tg.tensor([0.5, float("nan")]), tg.tensor([0.0, 1.0]))


def test_weights_must_broadcast_to_the_input():
    x, t = tg.zeros(2, 3), tg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\(2, 3, 1\).*\(2, 3\)"):
        F.binary_cross_entropy_with_logits(x, t, weight=tg.ones(2, 3, 1))
    with pytest.raises(ValueError, match=r"pos_weight.*\(2,\)"):
        F.binary_cross_entropy_with_logits(x, t, pos_weight=tg.ones(2))
    with pytest.raises(TypeError, match="weight to be a Tensor"):
        F.binary_cross_entropy(x + 0.5, t, weight=[1.0, 2.0, 3.0])


# --- against PyTorch -----------------------------------------------------------------------------------

def _compare_with_torch(ours, theirs, inputs, torch, differentiable=2, rtol=1e-10, atol=1e-12):
    """Values and gradients w.r.t. the first ``differentiable`` inputs (PyTorch has no gradient for weights)."""
    ours_inputs = [x.detach().requires_grad_(i < differentiable) for i, x in enumerate(inputs)]
    torch_inputs = [torch.tensor(values_of(x), requires_grad=i < differentiable) for i, x in enumerate(inputs)]
    out, expected = ours(*ours_inputs), theirs(*torch_inputs)
    np.testing.assert_allclose(values_of(out), expected.detach().numpy(), rtol=rtol, atol=atol)
    upstream = uniform(out.shape, -1.0, 1.0, 99)
    grads = tg.grad(out, ours_inputs[:differentiable], upstream)
    expected_grads = torch.autograd.grad(expected, torch_inputs[:differentiable], torch.tensor(values_of(upstream)))
    for got, want in zip(grads, expected_grads):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=rtol, atol=atol)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    inputs = [uniform((4, 3), 0.01, 0.99, 0), uniform((4, 3), 0, 1, 1), uniform((3,), 0.5, 2.0, 2)]
    _compare_with_torch(
        lambda p, t, w: F.binary_cross_entropy(p, t, weight=w, reduction=reduction),
        lambda p, t, w: torch.nn.functional.binary_cross_entropy(p, t, weight=w, reduction=reduction),
        inputs, torch,
    )


@pytest.mark.torch
def test_binary_cross_entropy_input_gradient_matches_torch_at_zero_and_one():
    torch = pytest.importorskip("torch")
    inputs = [tg.tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=tg.float64),
              tg.tensor([0.0, 1.0, 1.0, 0.0, 0.2], dtype=tg.float64)]
    p = inputs[0].requires_grad_()
    ours = tg.grad(F.binary_cross_entropy(p, inputs[1], reduction="sum"), p)[0]
    tp = torch.tensor(values_of(p), requires_grad=True)
    theirs = torch.autograd.grad(torch.nn.functional.binary_cross_entropy(tp, torch.tensor(values_of(inputs[1])),
                                                                           reduction="sum"), tp)[0]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-8)  # PyTorch's 1e-12 floor is a float32 constant


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    inputs = [uniform((4, 3), -8, 8, 0), uniform((4, 3), 0, 1, 1), uniform((4, 1), 0.5, 2.0, 2),
              uniform((3,), 0.5, 4, 3)]
    _compare_with_torch(
        lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, reduction, pos_weight=pw),
        lambda x, t, w, pw: torch.nn.functional.binary_cross_entropy_with_logits(
            x, t, w, reduction=reduction, pos_weight=pw),
        inputs, torch,
    )


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(name, reduction):
    torch = pytest.importorskip("torch")
    inputs = [uniform((3, 2, 2), -2, 2, 0), uniform((3, 2, 2), -2, 2, 1)]
    _compare_with_torch(
        lambda x, t: getattr(F, name)(x, t, reduction=reduction),
        lambda x, t: getattr(torch.nn.functional, name)(x, t, reduction=reduction),
        inputs, torch,
    )


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_of_float32_and_float64_are_float64_as_pytorch(name):
    low = uniform((3, 2), -2, 2, 0, requires_grad=True, dtype=tg.float32)
    high = uniform((3, 2), -2, 2, 1, requires_grad=True, dtype=tg.float64)
    for input, target in ((low, high), (high, low)):
        loss = getattr(F, name)(input, target)
        assert loss.dtype == tg.float64
        wide = getattr(F, name)(input.to(dtype=tg.float64), target.to(dtype=tg.float64))
        assert loss.item() == wide.item()
        loss.backward()
    assert low.grad.dtype == tg.float32 and high.grad.dtype == tg.float64


# --- smooth L1 and Huber: one table, each loss at a width where its pieces meet -------------------------

QUADRATIC_THEN_LINEAR = [("smooth_l1_loss", "beta", 1.0), ("smooth_l1_loss", "beta", 0.5),
                         ("smooth_l1_loss", "beta", 0.0), ("huber_loss", "delta", 1.0), ("huber_loss", "delta", 2.0)]


def _quadratic_then_linear_call(module, name, argument, width, reduction):
    return lambda x, t: getattr(module, name)(x, t, reduction=reduction, **{argument: width})


@pytest.mark.parametrize("name, argument, width", QUADRATIC_THEN_LINEAR)
def test_smooth_l1_and_huber_gradients_first_and_second_order(name, argument, width):
    """Differences on both pieces, at least 0.05 from |d| = width (where the second derivative jumps) and from 0
    when the loss is l1 there (beta = 0); the input is a non-contiguous (transposed) view, the upstream random."""
    difference = uniform((3, 4), -2.5, 2.5, 3).numpy()
    difference = move_off_kinks(np, difference, (0.0,) if width == 0 else (-width, width), 0.05)
    t = uniform((3, 4), -1, 1, 4, requires_grad=True)
    x = (t.detach() + tg.tensor(difference)).T.contiguous().T.detach().requires_grad_(True)
    assert not x.is_contiguous()
    call = _quadratic_then_linear_call(F, name, argument, width, "none")
    gradcheck(call, [x, t])
    gradgradcheck(call, [x, t])


@pytest.mark.torch
@pytest.mark.parametrize("name, argument, width", QUADRATIC_THEN_LINEAR)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1_and_huber_match_torch_where_the_pieces_meet_too(name, argument, width, reduction):
    torch = pytest.importorskip("torch")
    t = uniform((2, 5), -1, 1, 5)
    difference = tg.tensor([[width, -width, 0.0, 0.3, -3.0], [2.5, -0.7, width / 2, 1.1, -1.6]], dtype=tg.float64)
    _compare_with_torch(_quadratic_then_linear_call(F, name, argument, width, reduction),
                        _quadratic_then_linear_call(torch.nn.functional, name, argument, width, reduction),
                        [t + difference, t], torch)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_weight_matches_torch_and_gets_a_gradient(reduction):
    torch = pytest.importorskip("torch")
    inputs = [uniform((3, 4), -3, 3, 8), uniform((3, 4), -3, 3, 9), uniform((3, 4), 0, 2, 10)]
    _compare_with_torch(lambda x, t, w: F.huber_loss(x, t, reduction, 0.8, w),
                        lambda x, t, w: torch.nn.functional.huber_loss(x, t, reduction, 0.8, w), inputs, torch, 3)
    gradcheck(lambda x, t, w: F.huber_loss(x, t, reduction, 0.8, w), [x.requires_grad_() for x in inputs])
    with pytest.raises(ValueError, match=r"huber_loss: input shape \(3, 4\) and weight shape \(4,\) differ"):
        F.huber_loss(inputs[0], inputs[1], weight=inputs[2][0])


@pytest.mark.torch
def test_smooth_l1_and_huber_modules_match_torch():
    torch = pytest.importorskip("torch")
    x, t = uniform((4, 3), -3, 3, 6), uniform((4, 3), -3, 3, 7)
    for ours, theirs in ((tg.nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5)),
                         (tg.nn.HuberLoss(reduction="sum", delta=2.0), torch.nn.HuberLoss(reduction="sum", delta=2.0))):
        expected = theirs(torch.tensor(values_of(x)), torch.tensor(values_of(t))).item()
        assert ours(x, t).item() == pytest.approx(expected, rel=1e-12)
