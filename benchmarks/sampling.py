"""Drawing 10,000 digits from the DCGAN generator, in tinygen and in PyTorch: what ``tinygen sample`` costs.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/sampling.py [--repeats 5] [--n 10000]

Both libraries build the same generator (``train_step.DCGAN_GENERATOR``) in float32, switch it to evaluation
mode (batch norm uses its running statistics) and map the same codes to images without a graph, 256 codes at
a time and concatenated (``tinygen.training.pictures.generate``, which ``tinygen sample`` calls). The median
time of the whole draw is reported with the ratio tinygen / PyTorch. Goal (issue 18): within 1.2x.
A last line times ``tinygen sample --n N`` end to end (loading a checkpoint, the draw, the PNG grid).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

from harness import add_timing_option, median_seconds, row, setup, tinygen, torch
from train_step import DCGAN_GENERATOR, LATENT, build

from tinygen.cores import map_on_cores
from tinygen.training.pictures import GENERATE_BATCH


def make_draw(library, count, seed=0):
    """A function that maps ``count`` fixed codes to images in eval mode, ``GENERATE_BATCH`` at a time; tinygen's
    batches are spread over the cores as ``tinygen.training.pictures.generate`` spreads them (``map_on_cores``),
    PyTorch's run one after another, each on all cores (its own intra-op threads)."""
    library.manual_seed(seed)
    generator = build(library, DCGAN_GENERATOR, "cpu").eval()
    codes = library.randn(count, LATENT)
    spread = map_on_cores if library is tinygen else (lambda function, items: [function(item) for item in items])

    def draw():
        with library.no_grad():
            return library.cat(spread(lambda start: generator(codes[start:start + GENERATE_BATCH]),
                                      range(0, count, GENERATE_BATCH)))

    return draw


def command_seconds(count):
    """Wall seconds of ``tinygen sample --n count`` on a freshly written DCGAN checkpoint (one run)."""
    with tempfile.TemporaryDirectory() as scratch:
        train = [sys.executable, "-m", "tinygen", "train", "dcgan", "--epochs", "1", "--subset", "64",
                 "--no-progress", "--out", os.path.join(scratch, "run")]
        subprocess.run(train, check=True, capture_output=True)
        sample = [sys.executable, "-m", "tinygen", "sample", os.path.join(scratch, "run", "checkpoint.npz"),
                  "--n", str(count), "--out", os.path.join(scratch, "samples.png")]
        started = time.perf_counter()
        subprocess.run(sample, check=True, capture_output=True)
        return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--no-command", action="store_true", help="skip timing the `tinygen sample` command")
    add_timing_option(parser)
    args = parser.parse_args()
    if args.n < 1 or args.repeats < 1:
        parser.error(f"--n and --repeats must be at least 1, got --n {args.n} --repeats {args.repeats}")
    setup(cpu_time=args.cpu_time)
    ours, theirs = median_seconds([
        make_draw(tinygen, args.n),
        make_draw(torch, args.n) if torch is not None else None,
    ], args.repeats, warmup=1, block=1)
    row(f"DCGAN generator, {args.n} samples, eval mode", ours, theirs, scale=1.0, unit="s")
    if not args.no_command:
        print(f"`tinygen sample --n {args.n}` end to end (checkpoint, draw, PNG): {command_seconds(args.n):.2f} s")


if __name__ == "__main__":
    main()
