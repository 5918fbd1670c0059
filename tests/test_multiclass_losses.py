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
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\)"):
        F.cross_entropy(logits, tinygen.tensor([0, 3]))
