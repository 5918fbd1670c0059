"""cross_entropy and nll_loss: gradients (first and second order), PyTorch parity, bad input."""
import numpy as np
import pytest

import tinygen
import tinygen.nn.functional as F
from tinygen.testing import gradcheck, gradgradcheck

from helpers import assert_close, host, random_tensor

TARGETS = [0, 2, 2, 1]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradients(reduction):
    logits = random_tensor((4, 3), seed=1)
    target = tinygen.tensor(TARGETS)
    gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), [logits])
    gradgradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), [logits])


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    logits = random_tensor((4, 3), seed=2)
    F.cross_entropy(logits, tinygen.tensor(TARGETS), reduction="sum").backward()
    x = host(logits)
    softmax = np.exp(x - x.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    assert_close(logits.grad, softmax - np.eye(3)[TARGETS])


def test_cross_entropy_is_finite_for_huge_logits():
    logits = tinygen.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, tinygen.tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2e4) and np.all(np.isfinite(host(logits.grad)))


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(size=(5, 4))
    target = np.array([0, 3, 1, 1, 2])
    ours = tinygen.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(ours, tinygen.tensor(target))
    reference = torch.nn.functional.cross_entropy(theirs, torch.tensor(target))
    loss.backward()
    reference.backward()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-12)
    assert_close(ours.grad, theirs.grad.numpy())
    log_probabilities = F.log_softmax(ours.detach(), dim=1)
    assert F.nll_loss(log_probabilities, tinygen.tensor(target), reduction="sum").item() == pytest.approx(
        torch.nn.functional.nll_loss(torch.tensor(host(log_probabilities)), torch.tensor(target), reduction="sum").item())


def test_bad_targets_are_clear_errors():
    logits = tinygen.zeros(2, 3)
    with pytest.raises(ValueError, match=r"expected input \(N, C\) and target \(N,\)"):
        F.cross_entropy(logits, tinygen.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(logits, tinygen.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\) or be ignore_index \(-100\)"):
        F.cross_entropy(logits, tinygen.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must hold one number per class, shape \(3,\)"):
        F.cross_entropy(logits, tinygen.tensor([0, 1]), weight=tinygen.ones(2))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(logits, tinygen.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="cross_entropy: label_smoothing must be a real number, got str"):
        F.cross_entropy(logits, tinygen.tensor([0, 1]), label_smoothing="0.1")


#: samples 2 and 5 carry the default ignore_index -100 (padding); the class weights are uneven
WEIGHTED_TARGETS, CLASS_WEIGHT = [0, 2, -100, 1, 2, -100], [0.5, 2.0, 3.0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_weights_and_ignored_targets_gradients(reduction, weighted):
    """Probe: targets of -100 (PyTorch's default ignore_index, for padding) were refused as out of range, and weight=
    raised a TypeError."""
    logits = random_tensor((12, 3), seed=5)[::2].detach().requires_grad_()  # (6, 3), not contiguous
    target, weight = tinygen.tensor(WEIGHTED_TARGETS), tinygen.tensor(CLASS_WEIGHT) if weighted else None
    gradcheck(lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction), [logits])
    gradgradcheck(lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction), [logits])


def test_class_weights_and_ignored_targets_values():
    x = np.random.default_rng(6).normal(size=(6, 3))
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    kept = [n for n, y in enumerate(WEIGHTED_TARGETS) if y != -100]
    terms = {n: -CLASS_WEIGHT[WEIGHTED_TARGETS[n]] * log_p[n, WEIGHTED_TARGETS[n]] for n in kept}
    args = (tinygen.tensor(x), tinygen.tensor(WEIGHTED_TARGETS))
    weight = tinygen.tensor(CLASS_WEIGHT)
    assert F.cross_entropy(*args, weight=weight).item() == pytest.approx(
        sum(terms.values()) / sum(CLASS_WEIGHT[WEIGHTED_TARGETS[n]] for n in kept), rel=1e-12)
    assert host(F.cross_entropy(*args, weight=weight, reduction="none")).tolist() == pytest.approx(
        [terms.get(n, 0.0) for n in range(6)], rel=1e-12)
    assert F.cross_entropy(*args).item() == pytest.approx(
        sum(-log_p[n, WEIGHTED_TARGETS[n]] for n in kept) / len(kept), rel=1e-12)
    assert np.isnan(F.cross_entropy(tinygen.tensor(x[:1]), tinygen.tensor([-100])).item())  # nothing left: 0 / 0
    other = tinygen.tensor([0, 2, 1, 2])  # ignore_index=2: only samples 0 and 2 count
    assert F.nll_loss(tinygen.tensor(log_p[:4]), other, ignore_index=2, reduction="sum").item() == pytest.approx(
        -log_p[0, 0] - log_p[2, 1], rel=1e-12)


def test_class_weights_and_ignored_targets_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).normal(size=(6, 3))
    for weight in (None, CLASS_WEIGHT):
        for reduction in ("mean", "sum", "none"):
            ours = F.cross_entropy(tinygen.tensor(x), tinygen.tensor(WEIGHTED_TARGETS), reduction=reduction,
                                   weight=None if weight is None else tinygen.tensor(weight))
            theirs_weight = None if weight is None else torch.tensor(weight, dtype=torch.float64)
            theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(WEIGHTED_TARGETS),
                                                       reduction=reduction, weight=theirs_weight)
            assert_close(ours, theirs.numpy())


# --- label smoothing --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_label_smoothing_gradients(reduction, weighted):
    logits = random_tensor((12, 3), seed=8)[::2].detach().requires_grad_()  # (6, 3), not contiguous
    target, weight = tinygen.tensor(WEIGHTED_TARGETS), tinygen.tensor(CLASS_WEIGHT) if weighted else None
    smoothed = lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction, label_smoothing=0.2)  # noqa
    gradcheck(smoothed, [logits])
    gradgradcheck(smoothed, [logits])


def test_label_smoothing_is_the_loss_against_the_smoothed_target():
    """Without weights or ignored samples: the cross-entropy against (1 - e) onehot(y) + e / C, whose gradient is
    softmax(x) minus that target."""
    x = np.random.default_rng(9).normal(size=(4, 5))
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    onehot = np.eye(5)[[0, 2, 2, 1]]
    smoothed_target = 0.9 * onehot + 0.1 / 5
    logits = tinygen.tensor(x, requires_grad=True)
    loss = F.cross_entropy(logits, tinygen.tensor([0, 2, 2, 1]), label_smoothing=0.1, reduction="sum")
    assert loss.item() == pytest.approx(-(smoothed_target * log_p).sum(), rel=1e-12)
    loss.backward()
    assert_close(logits.grad, np.exp(log_p) - smoothed_target)


@pytest.mark.torch
def test_label_smoothing_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(10).normal(size=(6, 3))
    for weight in (None, CLASS_WEIGHT):
        for reduction in ("mean", "sum", "none"):
            for smoothing in (0.1, 1.0):
                ours = F.cross_entropy(tinygen.tensor(x), tinygen.tensor(WEIGHTED_TARGETS), reduction=reduction,
                                       weight=None if weight is None else tinygen.tensor(weight),
                                       label_smoothing=smoothing)
                theirs = torch.nn.functional.cross_entropy(
                    torch.tensor(x), torch.tensor(WEIGHTED_TARGETS), reduction=reduction, label_smoothing=smoothing,
                    weight=None if weight is None else torch.tensor(weight, dtype=torch.float64))
                assert_close(ours, theirs.numpy(), rtol=1e-12, atol=1e-14)
    module = tinygen.nn.CrossEntropyLoss(label_smoothing=0.1)
    assert_close(module(tinygen.tensor(x), tinygen.tensor(TARGETS + [0, 1])),
                 torch.nn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor(x), torch.tensor(TARGETS + [0, 1])))
