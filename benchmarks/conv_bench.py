"""Forward and forward+backward time of conv2d / conv_transpose2d at DCGAN sizes, beside PyTorch on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py [--repeats 30]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py --threads 1 --cpu-time
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_bench.py --profile D2

Batch 64, float32, kernel 4, stride 2, padding 1 (the layers of a DCGAN on 28x28 images). Every input,
weight and bias requires grad, so the backward computes all three gradients. tinygen and PyTorch (when
importable) use the same number of threads (default: every core) and are timed in alternation, so a busy
machine slows both alike; each figure is the median over the repeats, after a warm-up. Goal: ratios within 1.5.

Where page faults are costly (a virtual machine), glibc's habit of handing freed memory back to the system
makes every large temporary fault in afresh, in both libraries; keeping it in the process
(``MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000`` in the environment, both needed)
removes that cost.
"""
import argparse
import cProfile
import os
import pathlib
import pstats
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the checkout's tinygen, installed or not

CASES = [
    # name, function, input shape, weight shape
    ("D1 conv 1->64, 28x28", "conv2d", (64, 1, 28, 28), (64, 1, 4, 4)),
    ("D2 conv 64->128, 14x14", "conv2d", (64, 64, 14, 14), (128, 64, 4, 4)),
    ("G1 convT 128->64, 7x7", "conv_transpose2d", (64, 128, 7, 7), (128, 64, 4, 4)),
    ("G2 convT 64->1, 14x14", "conv_transpose2d", (64, 64, 14, 14), (64, 1, 4, 4)),
]


def bias_size(function_name, weight_shape):
    return weight_shape[0] if function_name == "conv2d" else weight_shape[1]


def steps(library, function_name, input_shape, weight_shape):
    """(forward, forward+backward) closures; ``library`` is ``tinygen`` or ``torch`` (they share these names)."""
    function = getattr(library.nn.functional, function_name)
    x = library.randn(*input_shape, requires_grad=True)
    weight = library.randn(*weight_shape, requires_grad=True)
    bias = library.randn(bias_size(function_name, weight_shape), requires_grad=True)
    with library.no_grad():
        upstream = library.randn(*function(x, weight, bias, stride=2, padding=1).shape)

    def forward():
        with library.no_grad():
            function(x, weight, bias, stride=2, padding=1)

    def forward_backward():
        x.grad = weight.grad = bias.grad = None
        function(x, weight, bias, stride=2, padding=1).backward(upstream)

    return forward, forward_backward


def median_ms(steps, repeats, warmup, clock):
    """Run the steps in alternation (warm-up first); the median time of each in milliseconds."""
    for _ in range(warmup):
        for step in steps:
            step()
    times = [[] for _ in steps]
    for _ in range(repeats):
        for step, record in zip(steps, times):
            start = clock()
            step()
            record.append(clock() - start)
    return [1e3 * statistics.median(record) for record in times]


def profile(tinygen, function_name, input_shape, weight_shape, repeats):
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
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, help="threads for NumPy's BLAS and PyTorch (default: every core)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the CPU seconds this process uses instead of the wall clock (steadier on a busy "
                             "machine; meant for --threads 1)")
    parser.add_argument("--profile", metavar="CASE",
                        help="cProfile tinygen's forward+backward of one case (D1, D2, G1 or G2)")
    arguments = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = arguments.threads or cores
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)  # read when NumPy loads, which happens after this
    import tinygen
    import tinygen.nn.functional  # noqa: F401  (steps() reaches it as tinygen.nn.functional, as torch's)

    if arguments.profile:
        case = next(case for case in CASES if case[0].startswith(arguments.profile))
        profile(tinygen, *case[1:], arguments.repeats)
        return

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)
    clock = time.process_time if arguments.cpu_time else time.perf_counter
    print(f"batch 64, float32, kernel 4, stride 2, padding 1; {threads} threads; median of {arguments.repeats} "
          f"{'CPU' if arguments.cpu_time else 'wall-clock'} times; ms")
    print(f"{'case':26} {'pass':9} {'tinygen':>8} {'torch':>8} {'ratio':>6}")
    for name, function_name, input_shape, weight_shape in CASES:
        ours = steps(tinygen, function_name, input_shape, weight_shape)
        theirs = steps(torch, function_name, input_shape, weight_shape) if torch is not None else (None, None)
        for label, mine, reference in zip(("forward", "fwd+bwd"), ours, theirs):
            timed = [mine] if reference is None else [mine, reference]
            times = median_ms(timed, arguments.repeats, arguments.warmup, clock)
            if reference is None:
                print(f"{name:26} {label:9} {times[0]:8.2f} {'-':>8} {'-':>6}")
            else:
                print(f"{name:26} {label:9} {times[0]:8.2f} {times[1]:8.2f} {times[0] / times[1]:6.2f}")


if __name__ == "__main__":
    main()
