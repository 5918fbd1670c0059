"""Forward and forward+backward time of conv2d / conv_transpose2d at DCGAN sizes, beside PyTorch on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py [--repeats 30]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py --profile D2

Batch 64, float32, kernel 4, stride 2, padding 1 (the layers of a DCGAN on 28x28 images). Every input,
weight and bias requires grad, so the backward computes all three gradients. Goal (issue 4): ratios within 1.5.
"""
import argparse
import cProfile
import pstats

from harness import add_timing_option, median_seconds, row, setup, tinygen, torch

CASES = [
    # name, function, input shape, weight shape
    ("D1 conv 1->64, 28x28", "conv2d", (64, 1, 28, 28), (64, 1, 4, 4)),
    ("D2 conv 64->128, 14x14", "conv2d", (64, 64, 14, 14), (128, 64, 4, 4)),
    ("G1 convT 128->64, 7x7", "conv_transpose2d", (64, 128, 7, 7), (128, 64, 4, 4)),
    ("G2 convT 64->1, 14x14", "conv_transpose2d", (64, 64, 14, 14), (64, 1, 4, 4)),
]


def steps(library, function_name, input_shape, weight_shape):
    """(forward, forward+backward) closures; ``library`` is ``tinygen`` or ``torch`` (they share these names)."""
    function = getattr(library.nn.functional, function_name)
    x = library.randn(*input_shape, requires_grad=True)
    weight = library.randn(*weight_shape, requires_grad=True)
    bias = library.randn(weight_shape[0] if function_name == "conv2d" else weight_shape[1], requires_grad=True)
    with library.no_grad():
        upstream = library.randn(*function(x, weight, bias, stride=2, padding=1).shape)

    def forward():
        with library.no_grad():
            function(x, weight, bias, stride=2, padding=1)

    def forward_backward():
        x.grad = weight.grad = bias.grad = None
        function(x, weight, bias, stride=2, padding=1).backward(upstream)

    return forward, forward_backward


def profile(function_name, input_shape, weight_shape, repeats):
    _, forward_backward = steps(tinygen, function_name, input_shape, weight_shape)
    forward_backward()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        forward_backward()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--profile", metavar="CASE", choices=[case[0].split()[0] for case in CASES],
                        help="cProfile tinygen's forward+backward of one case (D1 ... G2)")
    add_timing_option(parser)
    arguments = parser.parse_args()
    if arguments.profile:
        case = next(case for case in CASES if case[0].split()[0] == arguments.profile)
        profile(*case[1:], arguments.repeats)
        return
    setup(cpu_time=arguments.cpu_time)
    for name, function_name, input_shape, weight_shape in CASES:
        ours = steps(tinygen, function_name, input_shape, weight_shape)
        theirs = steps(torch, function_name, input_shape, weight_shape) if torch is not None else (None, None)
        for label, mine, reference in zip(("forward", "fwd+bwd"), ours, theirs):
            row(f"{name}, {label}", *median_seconds([mine, reference], arguments.repeats))


if __name__ == "__main__":
    main()
