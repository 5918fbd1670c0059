"""Version counters: how a backward notices that a tensor it saved was changed in place after the forward.

Every tensor carries a counter, ``tensor._version``: a one-item list, which the views of its memory share
(``Tensor._make(..., version=base._version)``), so a change made through any of them counts for all. Whatever
changes a tensor's values in place calls ``bump``: the in-place methods, an optimizer step, ``Module.to``,
``load_state_dict``, batch norm's running statistics. An op that saves tensors for its backward keeps their
versions at forward time (``versions_of``); reading them back compares (``check_unchanged``), so a stale
value is an error that names the op, never a silently wrong gradient.
Tests: tests/test_autograd.py and tests/pitfalls/test_autograd_bookkeeping.py.
"""


def bump(tensor):
    """Record that ``tensor``'s values changed in place (and so those of every view sharing its memory)."""
    tensor._version[0] += 1


def versions_of(tensors):
    """The tensors' versions now, to be checked later with ``check_unchanged``."""
    return tuple([tensor._version[0] for tensor in tensors])


def check_unchanged(op_name, tensors, versions):
    """Raise if an input that ``op_name`` saved for backward was changed in place since ``versions_of``."""
    for position, (tensor, version) in enumerate(zip(tensors, versions)):
        if tensor._version[0] != version:
            raise RuntimeError(
                f"{op_name}: input {position} (shape {tuple(tensor.shape)}), saved for backward, was "
                f"modified in place after the forward pass (version {version} -> {tensor._version[0]}); "
                "its gradient would be wrong. Use an out-of-place op (x = x + 1, not x += 1), or clone() first"
            )


def check_output_unchanged(op_name, shape, counter, version):
    """Raise if the output that ``op_name`` saved for backward (its ``counter`` was at ``version``) was changed."""
    if counter[0] != version:
        raise RuntimeError(
            f"{op_name}: its output (shape {tuple(shape)}), saved for backward, was modified in place "
            f"(version {version} -> {counter[0]}); its gradient would be wrong. Clone it before changing it"
        )
