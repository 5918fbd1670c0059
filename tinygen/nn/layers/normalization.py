"""Normalization layers: ``BatchNorm1d/2d``, ``InstanceNorm1d/2d``, ``LayerNorm`` and ``GroupNorm``.

State (names as PyTorch's, so state_dict keys match): parameters ``weight`` (gamma, ones) and ``bias``
(beta, zeros) when ``affine`` (``elementwise_affine`` for LayerNorm; ``bias=False`` leaves out beta); for batch
and instance norm, buffers ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64)
when ``track_running_stats``. In training mode the input's statistics normalize and the running ones are updated;
in evaluation mode the running ones normalize (the input's own, where there are none).
See docs/derivations/batch-norm.md and layer-norm.md.
"""
import warnings

from tinygen.backend.dtypes import int64
from tinygen.creation import zeros
from tinygen.nn import init
from tinygen.nn.module import Module, check_size, zeros_parameter
from tinygen.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, normalized_shape_tuple

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm"]


def _affine_parameters(module, shape, affine, bias, device, dtype):
    """Register ``weight`` (and ``bias`` unless ``bias=False``) of ``shape`` when ``affine``, else both None."""
    module.register_parameter("weight", zeros_parameter(shape, device, dtype) if affine else None)
    module.register_parameter("bias", zeros_parameter(shape, device, dtype) if affine and bias else None)


def _reset_affine(module):
    """weight = 1 and bias = 0: the layer starts as the plain standardization."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class RunningStatsNorm(Module):
    """The state shared by batch and instance norm (PyTorch's ``_NormBase``): per-channel affine parameters and
    running statistics. Not a base of LayerNorm or GroupNorm, which keep no running statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = check_size(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, (num_features,), affine, bias, device, dtype)
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
        _reset_affine(self)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm(RunningStatsNorm):
    """The shared body of BatchNorm1d/2d; subclasses say which input ranks they accept."""

    accepted_ranks = ()

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


class BatchNorm1d(BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs: statistics per feature C over N (and L)."""

    accepted_ranks = (2, 3)


class BatchNorm2d(BatchNorm):
    """Batch norm over (N, C, H, W) inputs: statistics per channel C over N, H and W."""

    accepted_ranks = (4,)


class InstanceNorm(RunningStatsNorm):
    """The shared body of InstanceNorm1d/2d: ``instance_norm`` on batched (N, C, *) or unbatched (C, *) input.

    As in PyTorch, ``affine`` and ``track_running_stats`` are off by default, ``num_batches_tracked`` is not
    counted (``momentum=None`` leaves the running statistics as they are), and a channel count that differs
    from ``num_features`` is an error where parameters or running statistics need it, else a warning.
    """

    unbatched_rank = 0  # the rank of one sample, (C, L) or (C, H, W)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        name, rank = type(self).__name__, self.unbatched_rank
        if input.ndim not in (rank, rank + 1):
            raise ValueError(f"{name}: expected {rank}D (unbatched) or {rank + 1}D input, got {input.ndim}D input "
                             f"of shape {input.shape}")
        channel_dim = input.ndim - rank
        if input.shape[channel_dim] != self.num_features:
            message = (f"{name}: expected {self.num_features} channels on dim {channel_dim} (num_features), "
                       f"got input of shape {input.shape}")
            if self.affine or self.track_running_stats:
                raise ValueError(message)
            warnings.warn(message + "; num_features is not used, as affine=False and track_running_stats=False",
                          stacklevel=3)
        batched = input if channel_dim == 1 else input.unsqueeze(0)
        output = instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               0.0 if self.momentum is None else self.momentum, self.eps)
        return output if channel_dim == 1 else output.squeeze(0)


class InstanceNorm1d(InstanceNorm):
    """Instance norm over (N, C, L) or (C, L) inputs: statistics per sample and channel, over L."""

    unbatched_rank = 2


class InstanceNorm2d(InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W) inputs: statistics per sample and channel, over H and W."""

    unbatched_rank = 3


class LayerNorm(Module):
    """``layer_norm`` over the last dims, which must be ``normalized_shape`` (an int: the last dim's size), with
    ``weight`` and ``bias`` of that shape when ``elementwise_affine``. Statistics per sample: none are kept."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """``group_norm`` of (N, C, *) inputs in ``num_groups`` groups of consecutive channels, with per-channel
    ``weight`` and ``bias`` (num_channels,) when ``affine``. Statistics per sample: none are kept."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_groups = check_size("GroupNorm", "num_groups", num_groups)
        self.num_channels = check_size("GroupNorm", "num_channels", num_channels)
        if num_groups == 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.eps, self.affine = eps, affine
        _affine_parameters(self, (num_channels,), affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        if self.affine and input.ndim >= 2 and input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected {self.num_channels} channels on dim 1 (num_channels), got input "
                             f"of shape {input.shape}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
