"""Autograd bookkeeping pitfalls: accumulation, zeroing, shared nodes, deep graphs, constants, broadcasting,
in-place changes and views."""
import numpy as np
import pytest

import tinygen

from helpers import host, random_tensor


# --- in-place changes of what the backward reads ---------------------------------------------------------

def _clean_and_mutated_gradients(forward, make_constant, mutate):
    """x.grad for ``forward(x, constant)``, once untouched and once with ``mutate(constant)`` run between the
    forward and the backward. The mutated run may raise instead (that is the other correct outcome)."""
    grads = []
    for change in (False, True):
        x = random_tensor((4,), seed=3)
        constant = make_constant()
        y = forward(x, constant)
        if change:
            mutate(constant)
        y.backward(tinygen.tensor([1.0, 2.0, 3.0, 4.0], dtype=tinygen.float64)[:y.shape[0]])
        grads.append(host(x.grad))
    return grads


def _mask():
    return tinygen.tensor([True, False, True, False])


def _index():
    return tinygen.tensor([0, 1, 2, 3])


@pytest.mark.parametrize("forward, make_constant, mutate", [
    (lambda x, mask: tinygen.where(mask, x, 0.0), _mask, lambda mask: mask.fill_(False)),
    (lambda x, mask: x.masked_fill(mask, 0.0), _mask, lambda mask: mask.fill_(False)),
    (lambda x, index: x.gather(0, index), _index, lambda index: index.fill_(0)),
    (lambda x, index: x[index], _index, lambda index: index.fill_(0)),
], ids=["where-condition", "masked_fill-mask", "gather-index", "advanced-index"])
def test_changing_a_mask_or_index_in_place_after_the_forward_cannot_corrupt_the_gradient(forward, make_constant,
                                                                                          mutate):
    """An engine that keeps a reference to the caller's mask or index array (not a copy, and no version check)
    routes the gradient by whatever the array holds at backward time: reuse the mask buffer for the next batch
    and the gradient silently goes to the wrong entries. tinygen's where, masked_fill, gather and advanced
    indexing keep private copies, so the gradient is the one of the forward that ran."""
    clean, mutated = _clean_and_mutated_gradients(forward, make_constant, mutate)
    np.testing.assert_array_equal(mutated, clean)
