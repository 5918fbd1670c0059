"""What every benchmark script shares: importing the checkout's tinygen, the optional PyTorch oracle, thread
settings, alternating timing, and printing a row with the ratio.

Timing takes turns between the contenders in blocks of calls, so load from other processes hits both
alike, and reports the median after a warm-up. On a machine other people are using, ``--cpu-time`` times by
the CPU time of this process (all its threads) instead of the wall clock: waiting for a core no longer counts,
so runs compare across changing load (spinning BLAS and OpenMP threads do count, in both libraries).
"""
import os
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the checkout's tinygen, installed or not

import numpy  # noqa: E402

import tinygen  # noqa: E402
from tinygen.cores import blas_threads  # noqa: E402

try:
    import torch  # noqa: E402
except ImportError:  # PyTorch is an optional oracle
    torch = None


_clock = time.perf_counter


def add_timing_option(parser):
    """The ``--cpu-time`` option every benchmark script takes (pass ``args.cpu_time`` to ``setup``)."""
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by this process's CPU time instead of the wall clock (for a busy machine)")
    return parser


def setup(thread_count=None, cpu_time=False):
    """Give PyTorch as many threads as NumPy's BLAS uses, choose the clock, and print what is being compared."""
    global _clock
    _clock = time.process_time if cpu_time else time.perf_counter
    count = thread_count or blas_threads()
    if torch is not None:
        torch.set_num_threads(count)
    print(f"tinygen {tinygen.__version__}, numpy {numpy.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}, {count} threads, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
          f"timed by {'CPU time' if cpu_time else 'wall clock'}")
    if os.environ.get("OPENBLAS_CORETYPE"):
        print("note: OPENBLAS_CORETYPE is set; run under `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` "
              "for a user machine's NumPy speed")
    return count


def median_seconds(steps, repeats, warmup=5, block=5):
    """Median seconds of one call of each step function (``None`` entries give ``None``).

    The contenders take turns, a block of ``block`` calls each, ``repeats`` times: turns spread the load of
    other processes over both, and blocks keep one library's idle threads (OpenMP and OpenBLAS spin for a
    while after their work) from eating into the first calls of the other.
    """
    active = [step for step in steps if step is not None]
    for step in active:
        for _ in range(warmup):
            step()
    times = {id(step): [] for step in active}
    for _ in range(repeats):
        for step in active:
            start = _clock()
            for _ in range(block):
                step()
            times[id(step)].append((_clock() - start) / block)
    return [statistics.median(times[id(step)]) if step is not None else None for step in steps]


def row(name, ours, theirs, scale=1e3, unit="ms", width=46):
    """One line: tinygen's time, PyTorch's, and the ratio tinygen / PyTorch."""
    line = f"{name:<{width}} tinygen {ours * scale:9.3f} {unit}"
    if theirs is not None:
        line += f"   torch {theirs * scale:9.3f} {unit}   ratio {ours / theirs:5.2f}x"
    print(line, flush=True)
    return None if theirs is None else ours / theirs


def sgemm_gflops(size=1024, repeats=20):
    """The machine's float32 matrix-multiply speed through NumPy (the practical limit for these models)."""
    a = numpy.random.default_rng(0).standard_normal((size, size), dtype=numpy.float32)
    b = numpy.random.default_rng(1).standard_normal((size, size), dtype=numpy.float32)
    (seconds,) = median_seconds([lambda: a @ b], repeats)
    return 2 * size ** 3 / seconds / 1e9
