"""``Embedding``: a table of vectors looked up by index (a conditional GAN's class embedding).

y[..., :] = weight[index[...], :]: the lookup is advanced indexing, so the backward adds each g row into the
row it came from (rows picked twice get both). ``padding_idx`` marks a row that stays zero and gets no gradient.
Tests: tests/test_embedding.py.
"""
from tinygen.autograd.grad_mode import no_grad
from tinygen.nn import init
from tinygen.nn.module import Module, check_size, zeros_parameter
from tinygen.ops import checks

__all__ = ["Embedding", "embedding"]


def embedding(input, weight, padding_idx=None):
    """``weight[input]``: (*) integer indices and a (num, dim) table -> (*, dim); ``padding_idx``'s entries are
    zeros with no gradient to the table."""
    checks.require_tensor("embedding", input)
    checks.require_tensor("embedding", weight, "weight")
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, got dtype {input.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be a (num_embeddings, embedding_dim) table, got shape {weight.shape}")
    if input.backend is not weight.backend:
        raise checks.device_error("embedding", input, weight)
    rows = weight.shape[0]
    if input.numel() and (int(input.array.min()) < 0 or int(input.array.max()) >= rows):
        raise IndexError(f"embedding: indices must be in [0, {rows}) for a table of {rows} rows, got values outside")
    output = weight[input]
    if padding_idx is None:
        return output
    kept = (input != padding_idx).unsqueeze(-1).to(weight.dtype)
    return output * kept


class Embedding(Module):
    """``num_embeddings`` vectors of ``embedding_dim`` numbers, drawn from N(0, 1) as in PyTorch (the row
    ``padding_idx``, if given, zero)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        unsupported = [name for name, value in (("max_norm", max_norm), ("scale_grad_by_freq", scale_grad_by_freq),
                                                ("sparse", sparse), ("_weight", _weight), ("_freeze", _freeze))
                       if value not in (None, False)]
        if unsupported:
            raise ValueError(f"Embedding: tinygen supports num_embeddings, embedding_dim and padding_idx only, got "
                             f"{', '.join(unsupported)}")
        self.num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, {num_embeddings}), got "
                                 f"{padding_idx}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.weight = zeros_parameter((num_embeddings, embedding_dim), device, dtype)
        self.reset_parameters()

    def reset_parameters(self, generator=None):
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
