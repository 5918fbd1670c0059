"""Autograd overhead: per-op cost on small tensors, and a 2-layer MLP training step, beside PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/autograd_overhead.py

Goals (issue 3): per-op overhead within 3x of PyTorch eager; the MLP step within 1.1x.
Prints milliseconds (median of repeats after warm-up) and the ratio tinygen / PyTorch.
"""
import argparse
import os
import statistics
import time

import numpy as np

import tinygen

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None


def median_seconds(steps, repeats, warmup=10):
    """Median wall time of each step function, timed alternately (a, b, a, b, ...) so that load from other
    processes hits every contender alike. ``None`` entries are skipped."""
    active = [step for step in steps if step is not None]
    for step in active:
        for _ in range(warmup):
            step()
    times = {id(step): [] for step in active}
    for _ in range(repeats):
        for step in active:
            start = time.perf_counter()
            step()
            times[id(step)].append(time.perf_counter() - start)
    return [statistics.median(times[id(step)]) if step is not None else None for step in steps]


def chain_step(x, constant, length):
    """``length`` rounds of (x * c).tanh() + c, then backward: 3 elementwise ops per round."""
    def step():
        y = x
        for _ in range(length):
            y = (y * constant).tanh() + constant
        y.sum().backward()
        x.grad = None
    return step


def mlp_step(library, batch, sizes, lr, seed=0):
    """One SGD step of y = relu(x W1 + b1) W2 + b2 with a mean-squared-error loss."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((batch, sizes[0])).astype(np.float32),
              rng.standard_normal((batch, sizes[2])).astype(np.float32),
              (rng.standard_normal(sizes[:2]) / np.sqrt(sizes[0])).astype(np.float32),
              np.zeros(sizes[1], np.float32),
              (rng.standard_normal(sizes[1:]) / np.sqrt(sizes[1])).astype(np.float32),
              np.zeros(sizes[2], np.float32)]
    if library == "tinygen":
        x, target, *params = [tinygen.tensor(a) for a in arrays]
        for p in params:
            p.requires_grad_()
        no_grad = tinygen.no_grad
    else:
        x, target, *params = [torch.tensor(a) for a in arrays]
        for p in params:
            p.requires_grad_()
        no_grad = torch.no_grad
    w1, b1, w2, b2 = params

    def step():
        hidden = (x @ w1 + b1).relu()
        loss = ((hidden @ w2 + b2 - target) ** 2).mean()
        loss.backward()
        with no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return step


def report(name, ours, theirs, unit_scale=1e3, unit="ms"):
    line = f"{name:<44} tinygen {ours * unit_scale:9.3f} {unit}"
    if theirs is not None:
        line += f"   torch {theirs * unit_scale:9.3f} {unit}   ratio {ours / theirs:5.2f}x"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"tinygen {tinygen.__version__}, numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, "
          f"{threads} threads, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")

    length = 100
    ours, theirs = median_seconds([
        chain_step(tinygen.randn(1000, requires_grad=True), 1.0001, length),
        chain_step(torch.randn(1000, requires_grad=True), 1.0001, length) if torch else None,
    ], args.repeats)
    ops = 3 * length
    report("per elementwise op, forward+backward (1000 el.)", ours / ops, theirs / ops if theirs else None, 1e6, "us")

    for batch, sizes in ((64, (784, 512, 784)), (64, (100, 256, 784))):
        ours, theirs = median_seconds([
            mlp_step("tinygen", batch, sizes, 1e-3),
            mlp_step("torch", batch, sizes, 1e-3) if torch else None,
        ], args.repeats)
        report(f"MLP step {sizes[0]}-{sizes[1]}-{sizes[2]}, batch {batch}", ours, theirs)


if __name__ == "__main__":
    main()
