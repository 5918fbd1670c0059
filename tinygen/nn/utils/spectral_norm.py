"""Spectral normalization (Miyato et al. 2018): a layer's weight divided by its largest singular value.

    W_sn = W / sigma(W),    sigma(W) = max_{||v|| = 1} ||W v||        W seen as a matrix (rows = the ``dim`` axis)

A discriminator made of such layers is 1-Lipschitz per layer, which keeps its gradients to the generator
informative (no batch norm needed). sigma is estimated by power iteration with vectors u (rows,) and v (cols,)
kept as buffers between calls: every training-mode forward runs ``n_power_iterations`` of

    v <- W^T u / ||W^T u||,    u <- W v / ||W v||                      and then  sigma = u^T W v

u and v are constants to the gradient (as in the paper and PyTorch), so d sigma / dW = u v^T and

    dL/dW = (G - <G, W_sn> u v^T) / sigma          with G = dL/dW_sn,

which the chain rule through sigma's two differentiable ops (matrix-vector product, dot) produces by itself; so
does the double backward a gradient penalty needs. In evaluation mode u and v are used as they are. See
docs/derivations/spectral-norm.md.
"""
from tinygen.autograd.grad_mode import no_grad
from tinygen.creation import randn
from tinygen.nn.module import Module, Parameter

__all__ = ["divide_by_sigma", "spectral_norm", "weight_matrix"]

#: power iterations run when the layer is wrapped, so sigma is accurate from the first forward on
INITIAL_POWER_ITERATIONS = 15


def _normalize(vector, eps):
    """vector / max(||vector||_2, eps), PyTorch's ``F.normalize`` of a 1-D tensor."""
    return vector / (vector * vector).sum().sqrt().clamp(min=eps)


def weight_matrix(weight, dim=0):
    """The weight as a (rows, cols) matrix: axis ``dim`` first, the other axes flattened."""
    if dim != 0:
        weight = weight.permute(dim, *[axis for axis in range(weight.ndim) if axis != dim])
    return weight.reshape(weight.shape[0], -1)


def divide_by_sigma(weight, u, v, dim=0):
    """W / sigma with sigma = u^T W v (W as ``weight_matrix(weight, dim)``): differentiable in W, u and v taken
    as given. This is the forward of a spectrally normalized layer's weight."""
    return weight / (u @ (weight_matrix(weight, dim) @ v))


class SpectralNorm:
    """Computes one layer's normalized weight from ``<name>_orig`` and the buffers ``<name>_u``, ``<name>_v``."""

    def __init__(self, name, n_power_iterations, eps, dim):
        self.name, self.n_power_iterations, self.eps, self.dim = name, n_power_iterations, eps, dim

    def power_iteration(self, module, iterations):
        """Refine u and v; they become new buffer tensors, so a graph that saved the old ones stays valid."""
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        with no_grad():
            matrix = weight_matrix(getattr(module, self.name + "_orig"), self.dim)
            for _ in range(iterations):
                v = _normalize(matrix.T @ u, self.eps)
                u = _normalize(matrix @ v, self.eps)
        setattr(module, self.name + "_u", u)
        setattr(module, self.name + "_v", v)

    def normalized_weight(self, module):
        """W / sigma(W), after ``n_power_iterations`` more power iterations in training mode."""
        if module.training:
            self.power_iteration(module, self.n_power_iterations)
        return divide_by_sigma(getattr(module, self.name + "_orig"), getattr(module, self.name + "_u"),
                               getattr(module, self.name + "_v"), self.dim)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparameterize ``module.<name>`` as W / sigma(W) in place and return ``module`` (PyTorch's
    ``torch.nn.utils.spectral_norm``): the parameter becomes ``<name>_orig``, the power-iteration vectors are
    buffers ``<name>_u`` and ``<name>_v``, and every forward first sets ``module.<name>`` to W / sigma(W) (kept,
    detached, after the call).

    ``dim``: the weight's axis of output units, rows of the matrix (default 1 for ``ConvTranspose2d``, whose weight
    is (in, out, kH, kW), else 0). u and v start random (from the default generator) and take a few power
    iterations at once, so sigma is close from the first forward on.
    """
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm: expected a Module, got {type(module).__name__}")
    if isinstance(name, str) and isinstance(getattr(module, name + "_orig", None), Parameter):
        raise RuntimeError(f"spectral_norm: {type(module).__name__}.{name} is already spectrally normalized")
    weight = getattr(module, name, None) if isinstance(name, str) else None
    if not isinstance(weight, Parameter):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r} to normalize")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"spectral_norm: n_power_iterations must be a positive integer, got {n_power_iterations!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    if weight.ndim < 2 or not -weight.ndim <= dim < weight.ndim:
        raise ValueError(f"spectral_norm: {name!r} of shape {weight.shape} has no matrix with rows on dim {dim}")
    normalization = SpectralNorm(name, n_power_iterations, eps, dim % weight.ndim)
    rows, cols = weight_matrix(weight, normalization.dim).shape
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", _normalize(randn(rows, dtype=weight.dtype, device=weight.device), eps))
    module.register_buffer(name + "_v", _normalize(randn(cols, dtype=weight.dtype, device=weight.device), eps))
    normalization.power_iteration(module, INITIAL_POWER_ITERATIONS)
    with no_grad():
        setattr(module, name, divide_by_sigma(weight, getattr(module, name + "_u"), getattr(module, name + "_v"),
                                              normalization.dim))
    layer_forward = module.forward

    def forward(*args, **kwargs):
        setattr(module, name, normalization.normalized_weight(module))
        try:
            return layer_forward(*args, **kwargs)
        finally:  # keep the values to look at, not the graph (the output holds what backward needs)
            setattr(module, name, getattr(module, name).detach())

    module.forward = forward
    return module
