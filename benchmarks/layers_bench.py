"""Layer speed: forward + backward of BatchNorm and Linear at DCGAN (MNIST) sizes, beside PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/layers_bench.py

Goal (issue 4): each within 1.5x of PyTorch with the same number of threads. Prints milliseconds
(median of repeats after warm-up) and the ratio tinygen / PyTorch. PyTorch gets as many threads as
NumPy's BLAS: ``OPENBLAS_NUM_THREADS`` if set (e.g. 1, for steadier numbers on a busy machine), else all cores.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's tinygen
import tinygen  # noqa: E402
from tinygen import nn  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None

CASES = [
    ("BatchNorm2d(64), input (64, 64, 14, 14)", "BatchNorm2d", (64,), (64, 64, 14, 14)),
    ("BatchNorm2d(128), input (64, 128, 7, 7)", "BatchNorm2d", (128,), (64, 128, 7, 7)),
    ("BatchNorm1d(6272), input (64, 6272)", "BatchNorm1d", (6272,), (64, 6272)),
    ("Linear(100, 6272), input (64, 100)", "Linear", (100, 6272), (64, 100)),
]


def median_seconds(steps, repeats, warmup=5):
    """Median wall time of each step, timed alternately so that load from other processes hits both alike."""
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


def layer_step(library, layer_name, layer_args, input_shape, seed=0):
    """One training-mode forward and backward (random upstream gradient) through a fresh layer."""
    rng = np.random.default_rng(seed)
    x_values = rng.standard_normal(input_shape).astype(np.float32)
    module = nn if library == "tinygen" else torch.nn
    layer = getattr(module, layer_name)(*layer_args)
    make = tinygen.tensor if library == "tinygen" else torch.tensor
    x = make(x_values).requires_grad_()
    upstream = make(rng.standard_normal(layer(x).shape).astype(np.float32))

    def step():
        layer(x).backward(upstream)
        x.grad = None
        for parameter in layer.parameters():
            parameter.grad = None
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", len(os.sched_getaffinity(0))))
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"tinygen {tinygen.__version__}, numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, "
          f"{threads} threads, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    for title, layer_name, layer_args, input_shape in CASES:
        ours, theirs = median_seconds([
            layer_step("tinygen", layer_name, layer_args, input_shape),
            layer_step("torch", layer_name, layer_args, input_shape) if torch else None,
        ], args.repeats)
        line = f"{title + ', forward+backward':<60} tinygen {ours * 1e3:8.3f} ms"
        if theirs is not None:
            line += f"   torch {theirs * 1e3:8.3f} ms   ratio {ours / theirs:5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
