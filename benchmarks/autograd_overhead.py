"""Autograd overhead: the per-op cost on small tensors, and a 2-layer MLP training step, beside PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/autograd_overhead.py [--repeats 30]
        [--cpu-time --threads 1]   (on a machine other work keeps busy)

Goals (issue 3): per-op overhead within 3x of PyTorch eager; the MLP step within 1.1x. Issue 18: the first row
(numbers as operands, ``x * 1.0001``) within 1.2x. The second row has tensors as operands (``x * w``), where
tinygen's op has two inputs to check and route and PyTorch's tensor-tensor kernels are its quickest.
"""
import argparse

import numpy

from harness import add_timing_option, median_seconds, row, setup, tinygen, torch


def chain_step(library, length, tensor_operands=False):
    """``length`` rounds of (x * c).tanh() + c on 1,000 numbers, then backward: 3 elementwise ops a round. ``c`` is
    the Python number 1.0001, or with ``tensor_operands`` two tensors of 1,000 numbers that need no gradient."""
    x = library.randn(1000, requires_grad=True)
    scale, shift = (library.randn(1000), library.randn(1000)) if tensor_operands else (1.0001, 1.0001)

    def step():
        y = x
        for _ in range(length):
            y = (y * scale).tanh() + shift
        y.sum().backward()
        x.grad = None
    return step


def mlp_step(library, batch, sizes, lr=1e-3, seed=0):
    """One SGD step of relu(x W1 + b1) W2 + b2 with a mean-squared-error loss, written with raw tensor ops."""
    rng = numpy.random.default_rng(seed)
    arrays = [rng.standard_normal((batch, sizes[0])), rng.standard_normal((batch, sizes[2])),
              rng.standard_normal(sizes[:2]) / numpy.sqrt(sizes[0]), numpy.zeros(sizes[1]),
              rng.standard_normal(sizes[1:]) / numpy.sqrt(sizes[1]), numpy.zeros(sizes[2])]
    x, target, *params = [library.tensor(a.astype(numpy.float32)) for a in arrays]
    for p in params:
        p.requires_grad_()
    w1, b1, w2, b2 = params

    def step():
        loss = (((x @ w1 + b1).relu() @ w2 + b2 - target) ** 2).mean()
        loss.backward()
        with library.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch's threads (default: the cores NumPy's BLAS uses). On a busy machine, "
                             "--threads 1 --cpu-time keeps its pool threads' spinning out of the per-op row (a small "
                             "op runs on one thread); the MLP rows then set one PyTorch thread against NumPy's BLAS "
                             "on every core")
    add_timing_option(parser)
    args = parser.parse_args()
    setup(thread_count=args.threads, cpu_time=args.cpu_time)
    length = 100
    ops = 3 * length
    for label, tensor_operands in (("per elementwise op, forward+backward (1000 el.)", False),
                                   ("  the same with tensor operands", True)):
        ours, theirs = median_seconds([chain_step(tinygen, length, tensor_operands),
                                       chain_step(torch, length, tensor_operands) if torch else None], args.repeats)
        row(label, ours / ops, theirs / ops if theirs else None, 1e6, "us")
    for batch, sizes in ((64, (784, 512, 784)), (64, (100, 256, 784))):
        ours, theirs = median_seconds([mlp_step(tinygen, batch, sizes), mlp_step(torch, batch, sizes) if torch else None],
                                      args.repeats)
        row(f"MLP step {sizes[0]}-{sizes[1]}-{sizes[2]}, batch {batch}", ours, theirs)


if __name__ == "__main__":
    main()
