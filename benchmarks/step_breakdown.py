"""Where a tinygen training step's time goes: each op's forward and backward, the optimizer, and the rest.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/step_breakdown.py [--model DCGAN] [--steps 20]

Runs ``train_step.py``'s step (the same model, batch and losses) with a clock around every op: its forward (a
``Function`` call) and its backward (the engine's call of it), outermost calls only, so an op's backward includes
the ops it calls (a convolution's backward: a transposed convolution and a weight gradient). Rows are grouped by
op and the shape of its first input (an op's backward by the shape of its upstream gradient). The optimizers'
steps are a row of their own; what none of these holds (random draws for noise and dropout masks, the Python
between ops, the engine's bookkeeping) is the last row.

The floor: the matrix products the step runs (convolutions, linear layers and products, counted from their
shapes; gradients that are not needed are not computed, so not counted) at the speed of NumPy's sgemm on
1024 x 1024 matrices, measured in the same run (a DCGAN step's product shapes run at 80-95% of it). The rest of
the step is what the ops do around their products, and the ops that have none.
"""
import argparse
import collections
import math
import time

from harness import setup, sgemm_gflops, tinygen
from train_step import MODELS, make_step

from tinygen.autograd import engine
from tinygen.autograd.function import Function
from tinygen.ops.activation import Linear
from tinygen.ops.conv import Conv2d, Conv2dWeightGrad, ConvTranspose2d
from tinygen.ops.linalg import MatMul
from tinygen.optim import Optimizer


def product_flops(function, inputs, output):
    """Floating-point operations of the matrix product inside an op call (2 per multiply-add), 0 for other ops:
    a convolution is (output numbers) x (C kH kW) multiply-adds; its transpose and weight gradient likewise."""
    kind, shapes = type(function), [tensor.shape for tensor in inputs]
    if kind is Conv2d:
        return 2 * math.prod(output.shape) * math.prod(shapes[1][1:])
    if kind is ConvTranspose2d:  # every input number spreads onto Co kH kW outputs
        return 2 * math.prod(shapes[0]) * math.prod(shapes[1][1:])
    if kind is Conv2dWeightGrad:  # every number of g meets a window of C kH kW inputs
        return 2 * math.prod(shapes[1]) * math.prod(output.shape[1:])
    if kind is Linear:
        return 2 * math.prod(shapes[0]) * shapes[1][0]
    if kind is MatMul:
        return 2 * math.prod(output.shape) * shapes[0][-1]
    return 0


class StepClock:
    """Wraps ``Function.__call__``, the engine's backward call and ``Optimizer.step`` with a clock (outermost
    calls only) and counts the product flops of every op call (nested ones too); ``restore`` puts them back."""

    def __init__(self):
        self.seconds, self.calls, self.flops, self.depth = collections.Counter(), collections.Counter(), 0, 0
        self.originals = Function.__call__, engine._call_backward, Optimizer.step
        clock = self

        def timed_call(function, *inputs):
            return clock.timed(("forward", type(function).__name__, tuple(inputs[0].shape)),
                               lambda: clock.counted(function, inputs, clock.originals[0](function, *inputs)))

        def timed_backward(node, grad, wanted=None):
            return clock.timed(("backward", type(node).__name__, tuple(grad.shape)),
                               lambda: clock.originals[1](node, grad, wanted))

        def timed_step(optimizer, closure=None):
            return clock.timed(("step", type(optimizer).__name__, ()), lambda: clock.originals[2](optimizer, closure))

        Function.__call__, engine._call_backward, Optimizer.step = timed_call, timed_backward, timed_step

    def timed(self, key, call):
        self.depth += 1
        start = time.perf_counter()
        try:
            return call()
        finally:
            self.depth -= 1
            if self.depth == 0:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1

    def counted(self, function, inputs, output):
        self.flops += product_flops(function, inputs, output)
        return output

    def clear(self):
        self.seconds.clear()
        self.calls.clear()
        self.flops = 0

    def restore(self):
        Function.__call__, engine._call_backward, Optimizer.step = self.originals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="DCGAN", choices=MODELS)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--top", type=int, default=25, help="how many op rows to print (the slowest first)")
    args = parser.parse_args()
    if args.steps < 1 or args.top < 0:
        parser.error(f"--steps must be at least 1 and --top at least 0, got --steps {args.steps} --top {args.top}")
    setup()
    sgemm = sgemm_gflops()
    step = make_step(tinygen, args.model, "cpu")
    clock = StepClock()
    try:
        for _ in range(3):
            step()
        clock.clear()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        total = (time.perf_counter() - start) / args.steps
    finally:
        clock.restore()
    per_step = {key: seconds / args.steps for key, seconds in clock.seconds.items()}
    timed = sum(per_step.values())
    print(f"{args.model} step, batch 64: {total * 1e3:.1f} ms (mean of {args.steps} steps, each op clocked)")
    print(f"{'ms':>8}  {'calls':>5}  op")
    rows = sorted(per_step.items(), key=lambda item: -item[1])
    for key, seconds in rows[:args.top]:
        direction, name, shape = key
        print(f"{seconds * 1e3:8.2f}  {clock.calls[key] / args.steps:5.0f}  {name} {direction} {shape or ''}")
    if len(rows) > args.top:
        print(f"{sum(seconds for _, seconds in rows[args.top:]) * 1e3:8.2f}         {len(rows) - args.top} more rows")
    print(f"{(total - timed) * 1e3:8.2f}         outside these (random draws, the Python between ops)")
    flops = clock.flops / args.steps
    floor = flops / (sgemm * 1e9)
    print(f"floor: {flops / 1e9:.2f} GFLOP of matrix products a step, {floor * 1e3:.1f} ms at NumPy's sgemm speed "
          f"({sgemm:.0f} GFLOP/s): {100 * floor / total:.0f}% of the step; the rest, {(total - floor) * 1e3:.1f} ms, "
          "is copies, elementwise passes and Python")


if __name__ == "__main__":
    main()
