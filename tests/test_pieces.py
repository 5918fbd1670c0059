"""split, chunk and unbind (PyTorch's names): the pieces' sizes follow PyTorch's rules, each piece is a view whose
gradient lands at its place, and gradients of several pieces add up (probe: a VAE's `mu, logvar = h.chunk(2, 1)`
raised an AttributeError)."""
import numpy as np
import pytest

import tinygen
from tinygen.testing import gradcheck, gradgradcheck

from helpers import host, random_tensor

#: (call, the pieces' sizes along dim 1 of a (2, 7, 3) tensor), as PyTorch gives them
SIZES = {
    "split(3, 1)": [3, 3, 1], "split(7, 1)": [7], "split(10, 1)": [7], "split([2, 0, 5], 1)": [2, 0, 5],
    "chunk(2, 1)": [4, 3], "chunk(3, 1)": [3, 3, 1], "chunk(7, 1)": [1] * 7, "chunk(6, 1)": [2, 2, 2, 1],
    "chunk(9, 1)": [1] * 7, "split(2, -2)": [2, 2, 2, 1],
}


@pytest.mark.parametrize("call", sorted(SIZES))
def test_the_pieces_sizes_and_values(call):
    values = np.arange(2 * 7 * 3, dtype=np.float64).reshape(2, 7, 3)
    pieces = eval(f"x.{call}", {"x": tinygen.tensor(values)})
    assert [piece.shape[1] for piece in pieces] == SIZES[call]
    assert np.array_equal(np.concatenate([host(piece) for piece in pieces], axis=1), values)


def test_the_sizes_are_pytorchs():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 7, 3)
    for call, sizes in SIZES.items():
        assert [piece.shape[1] for piece in eval(f"x.{call}", {"x": x})] == sizes, call


def test_unbind_and_the_functions():
    x = tinygen.tensor(np.arange(6.0).reshape(2, 3))
    assert [host(row).tolist() for row in tinygen.unbind(x)] == [[0, 1, 2], [3, 4, 5]]
    assert [host(column).tolist() for column in x.unbind(dim=-1)] == [[0, 3], [1, 4], [2, 5]]
    assert [p.shape for p in tinygen.split(x, 2, dim=1)] == [(2, 2), (2, 1)]
    assert [p.shape for p in tinygen.chunk(x, 2)] == [(1, 3), (1, 3)]


@pytest.mark.parametrize("pieces", [lambda x: x.split([1, 3], dim=1), lambda x: x.chunk(3, dim=0),
                                    lambda x: x.unbind(dim=2)])
def test_gradients_of_pieces_land_at_their_place_and_add_up(pieces):
    x = random_tensor((6, 4, 6), seed=1)[::2, :, ::2].detach().requires_grad_()  # (3, 4, 3), not contiguous

    def weighted(x):  # every piece used, with different weights, so a misplaced gradient shows
        return tinygen.cat([(piece * (k + 2.0)).reshape(-1) for k, piece in enumerate(pieces(x))])

    gradcheck(weighted, [x])
    gradgradcheck(weighted, [x])


@pytest.mark.parametrize("call, message", [
    (lambda x: x.split(0), "split: split_size must be positive, got 0"),
    (lambda x: x.split([1, 1]), r"split: sections \[1, 1\] must be non-negative ints that sum to the size 3"),
    (lambda x: x.chunk(0), "chunk: chunks must be a positive int, got 0"),
    (lambda x: x.unbind(2), "unbind"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, IndexError), match=message):
        call(tinygen.zeros(3, 2))
