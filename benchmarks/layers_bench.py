"""Layer speed: forward + backward of BatchNorm and Linear at DCGAN (MNIST) sizes, beside PyTorch CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/layers_bench.py [--repeats 30]

Goal (issue 4): each within 1.5x of PyTorch with the same number of threads (set OPENBLAS_NUM_THREADS=1
for steadier numbers on a busy machine; PyTorch then gets one thread too).
"""
import argparse

import numpy as np

from harness import add_timing_option, median_seconds, row, setup, tinygen, torch

CASES = [
    ("BatchNorm2d(64), input (64, 64, 14, 14)", "BatchNorm2d", (64,), (64, 64, 14, 14)),
    ("BatchNorm2d(128), input (64, 128, 7, 7)", "BatchNorm2d", (128,), (64, 128, 7, 7)),
    ("BatchNorm1d(6272), input (64, 6272)", "BatchNorm1d", (6272,), (64, 6272)),
    ("Linear(100, 6272), input (64, 100)", "Linear", (100, 6272), (64, 100)),
]


def layer_step(library, layer_name, layer_args, input_shape, seed=0):
    """One training-mode forward and backward (random upstream gradient) through a fresh layer."""
    rng = np.random.default_rng(seed)
    layer = getattr(library.nn, layer_name)(*layer_args)
    x = library.tensor(rng.standard_normal(input_shape).astype(np.float32)).requires_grad_()
    upstream = library.tensor(rng.standard_normal(layer(x).shape).astype(np.float32))

    def step():
        layer(x).backward(upstream)
        x.grad = None
        for parameter in layer.parameters():
            parameter.grad = None
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    add_timing_option(parser)
    args = parser.parse_args()
    setup(cpu_time=args.cpu_time)
    for title, layer_name, layer_args, input_shape in CASES:
        ours, theirs = median_seconds([
            layer_step(tinygen, layer_name, layer_args, input_shape),
            layer_step(torch, layer_name, layer_args, input_shape) if torch else None,
        ], args.repeats)
        row(f"{title}, fwd+bwd", ours, theirs, width=56)


if __name__ == "__main__":
    main()
