"""Module.apply visits modules in PyTorch's order (children in order, each subtree before its parent), which
decides what ``model.apply(weights_init)`` draws for which layer."""
import pytest

from tinygen import nn


def network(library_nn):
    inner = library_nn.Sequential(library_nn.Linear(2, 3), library_nn.ReLU())
    return library_nn.Sequential(library_nn.Linear(1, 2), inner, library_nn.Tanh(), library_nn.Linear(3, 1))


def visit_order(model):
    order = []
    model.apply(lambda module: order.append(type(module).__name__ + str(getattr(module, "in_features", ""))))
    return order


def test_children_in_order_then_the_parent():
    assert visit_order(network(nn)) == ["Linear1", "Linear2", "ReLU", "Sequential", "Tanh", "Linear3", "Sequential"]


def test_a_shared_module_is_visited_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert visit_order(model) == ["Linear2", "ReLU", "Sequential"]


@pytest.mark.torch
def test_order_matches_pytorch():
    torch = pytest.importorskip("torch")
    assert visit_order(network(nn)) == visit_order(network(torch.nn))
