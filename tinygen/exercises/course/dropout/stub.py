"""Exercise dropout: inverted dropout, its random mask and its backward.    Read: docs/exercises.md (dropout)"""
import numbers

from tinygen.creation import as_tensor, rand
from tinygen.exercises.given import DropoutForward


class Dropout(DropoutForward):
    """y = x * mask for a fixed mask (``self.mask``, a raw array drawn once by ``dropout`` below, holding 0 for a
    dropped entry and 1 / (1 - p) for a kept one). The constructor and the forward are given.

    Write ``backward(g)``: dL/dx as a Tensor. The mask is a constant; ``as_tensor(self.mask, device=g.device)``
    (imported) makes it a Tensor without a copy.
    """

    def backward(self, g):
        raise NotImplementedError("Dropout.backward: not written yet (read its docstring)")


def dropout(input, p=0.5, training=True, generator=None):
    """Zero each entry of ``input`` with probability ``p`` during training and scale the kept ones by 1 / (1 - p)
    ("inverted dropout": every entry keeps its expected value, so evaluation needs no change).

    Given: the check of p. Write the rest:
      - ``training=False`` or ``p == 0``: return ``input`` itself.
      - ``p == 1``: every entry is dropped (mind the division by 1 - p).
      - Otherwise draw uniform numbers EXACTLY as ``rand(input.shape, generator=generator, dtype=input.dtype,
        device=input.device)`` (imported; the grader draws the same ones from the same generator), keep an entry
        where its number is >= p, and return ``Dropout(mask)(input)`` with ``mask`` a raw array of input's dtype
        (a Tensor's ``.array``).
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    raise NotImplementedError("dropout: not written yet (read its docstring)")
