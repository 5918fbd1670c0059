"""``tinygen.nn.parallel``: PyTorch's multi-GPU helpers, for scripts that use them (the DCGAN example's
``nn.parallel.data_parallel(self.main, input, range(ngpu))``). tinygen runs a model on one device, so each runs
its module as it is; ``DataParallel`` keeps PyTorch's ``.module`` and its ``module.`` prefix in ``state_dict``."""
from tinygen.nn.module import Module

__all__ = ["DataParallel", "data_parallel"]


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """``module(inputs)`` (one device: nothing to split or gather)."""
    return module(inputs, **(module_kwargs or {}))


class DataParallel(Module):
    """Wraps ``module`` and calls it (one device)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
