"""``BatchNorm1d`` and ``BatchNorm2d``: batch normalization with learnable scale/shift and running statistics.

State (names as PyTorch's, so state_dict keys match): parameters ``weight`` (gamma, ones) and ``bias``
(beta, zeros) when ``affine`` (``bias=False`` leaves out beta); buffers ``running_mean`` (zeros),
``running_var`` (ones) and ``num_batches_tracked`` (int64) when ``track_running_stats``. In training mode the batch's statistics
normalize and the running ones are updated; in evaluation mode the running ones normalize.
"""
from tinygen.backend.dtypes import int64
from tinygen.creation import zeros
from tinygen.nn import init
from tinygen.nn.module import Module, check_size, zeros_parameter
from tinygen.ops.normalization import batch_norm

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class BatchNorm(Module):
    """The shared body of BatchNorm1d/2d; subclasses say which input ranks they accept."""

    accepted_ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = check_size(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", zeros_parameter((num_features,), device, dtype) if affine else None)
        self.register_parameter("bias", zeros_parameter((num_features,), device, dtype) if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", zeros((), dtype=int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self.accepted_ranks:
            ranks = " or ".join(f"{rank}D" for rank in self.accepted_ranks)
            raise ValueError(
                f"{type(self).__name__}: expected {ranks} input, got {input.ndim}D input of shape {input.shape}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.num_features} channels on dim 1 (num_features), "
                f"got input of shape {input.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average of all batches so far
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # Evaluation without running statistics (track_running_stats=False) uses the batch's, as PyTorch.
        use_batch_stats = self.training or self.running_mean is None
        pass_running = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if pass_running else None,
            self.running_var if pass_running else None,
            self.weight, self.bias, use_batch_stats, momentum, self.eps,
        )

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs: statistics per feature C over N (and L)."""

    accepted_ranks = (2, 3)


class BatchNorm2d(BatchNorm):
    """Batch norm over (N, C, H, W) inputs: statistics per channel C over N, H and W."""

    accepted_ranks = (4,)
