"""Moving values to PyTorch for the comparisons that use it as an oracle (import only after importorskip)."""
import torch

from helpers import host


def to_torch(tensor, requires_grad=False):
    """A torch tensor holding a copy of ``tensor``'s values (same dtype)."""
    return torch.tensor(host(tensor), requires_grad=requires_grad)


def copy_parameters(ours, theirs):
    """Copy every parameter and buffer of tinygen module ``ours`` into torch module ``theirs`` (same names)."""
    state = {key: torch.tensor(host(value)) for key, value in ours.state_dict().items()}
    theirs.load_state_dict(state)
