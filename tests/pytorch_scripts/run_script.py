"""Run one script of this folder with PyTorch or tinygen, drawing every random number from one shared stream.

    python run_script.py {torch,tinygen} {float32,float64} SEED SCRIPT [script arguments...]

Two libraries seeded alike still draw different numbers (their generators differ), so comparing a script's
losses across them needs one source of randomness: here both draw from the same NumPy stream, through the
few entry points a training script reaches (PyTorch: randn/rand/randn_like/rand_like/randperm,
Tensor.uniform_/normal_ behind nn.init, F.dropout/dropout2d; tinygen: its default Generator). Each entry point
turns the stream's float64 uniforms / normals into values exactly as the other library does (u * (b - a) + a,
n * std + mean, a dropout mask u >= p scaled by 1 / (1 - p)), so equal scripts consume the stream identically.
``float64`` also makes float64 the default float dtype of the library. NumPy's global generator (which some
scripts use for noise) is seeded with SEED too.

Without an importable torchvision, the PyTorch run uses the small stand-in in ``standin/`` (MNIST from the same
files, torchvision's ToTensor / Normalize / Resize rules); the data pipeline is checked against torchvision's
documented rules in tests/test_vision.py, and the comparison here is about the training math.
"""
import runpy
import sys
from pathlib import Path

import numpy

HERE = Path(__file__).resolve().parent


def install_torch(stream, dtype_name):
    import torch

    try:
        import torchvision  # noqa: F401
    except Exception:  # missing, or built for another PyTorch
        for name in [name for name in sys.modules if name.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        sys.path.insert(0, str(HERE / "standin"))
    if dtype_name == "float64":
        torch.set_default_dtype(torch.float64)

    def numpy_dtype(dtype):
        return torch.empty((), dtype=dtype).numpy().dtype

    def shape_of(size):
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else tuple(size)

    def made(values, dtype, device, requires_grad):
        dtype = dtype or torch.get_default_dtype()
        values = numpy.asarray(values).astype(numpy_dtype(dtype))
        return torch.tensor(values, device=device).requires_grad_(requires_grad)

    def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **unused):
        return made(stream.standard_normal(shape_of(size)), dtype, device, requires_grad)

    def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **unused):
        return made(stream.random(shape_of(size)), dtype, device, requires_grad)

    def randn_like(input, dtype=None, device=None, requires_grad=False, **unused):
        return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                     requires_grad=requires_grad)

    def rand_like(input, dtype=None, device=None, requires_grad=False, **unused):
        return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)

    def randperm(n, generator=None, dtype=torch.int64, device=None, **unused):
        return torch.tensor(stream.permutation(n), dtype=dtype, device=device)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        values = numpy.asarray(stream.random(tuple(self.shape))).astype(numpy_dtype(self.dtype)) * (b - a) + a
        with torch.no_grad():
            self.copy_(torch.from_numpy(numpy.asarray(values)))
        return self

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        values = numpy.asarray(stream.standard_normal(tuple(self.shape))).astype(numpy_dtype(self.dtype)) * std + mean
        with torch.no_grad():
            self.copy_(torch.from_numpy(numpy.asarray(values)))
        return self

    def mask(shape, p, dtype):
        keep = (numpy.asarray(stream.random(shape)).astype(numpy_dtype(dtype)) >= p).astype(numpy_dtype(dtype))
        keep *= 1.0 / (1.0 - p)
        return torch.from_numpy(keep)

    def dropout(input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        return input * (torch.zeros_like(input) if p == 1 else mask(tuple(input.shape), p, input.dtype))

    def dropout2d(input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        planes = tuple(input.shape[:-2])
        return input * mask(planes, p, input.dtype).reshape(planes + (1, 1))

    torch.randn, torch.rand, torch.randn_like, torch.rand_like = randn, rand, randn_like, rand_like
    torch.randperm = randperm
    torch.Tensor.uniform_, torch.Tensor.normal_ = uniform_, normal_
    torch.nn.functional.dropout, torch.nn.functional.dropout2d = dropout, dropout2d


def install_tinygen(stream, dtype_name):
    import tinygen
    from tinygen import random as tg_random
    from tinygen.backend import dtypes

    if dtype_name == "float64":  # tinygen has no set_default_dtype: switch the module constants it reads
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] == "tinygen" and getattr(module, "default_float_dtype", None) is dtypes.float32:
                module.default_float_dtype = dtypes.float64

    device = tinygen.get_default_device()
    xp = tinygen.backend.get_backend(device).xp

    class SharedStreamGenerator(tg_random.Generator):
        def __init__(self):
            self.device, self._seed = device, 0

        def manual_seed(self, seed):
            return self  # the shared stream is seeded once, by the runner

        def standard_normal(self, shape, dtype):
            return xp.asarray(numpy.asarray(stream.standard_normal(shape)).astype(dtype))

        def random(self, shape, dtype):
            return xp.asarray(numpy.asarray(stream.random(shape)).astype(dtype))

        def permutation(self, n):
            return stream.permutation(n)

        def integers(self, low, high, size):
            return stream.integers(low, high, size=size)

    tg_random._default_generators[device] = SharedStreamGenerator()


def main():
    library, dtype_name, seed, script, *arguments = sys.argv[1:]
    numpy.random.seed(int(seed))
    stream = numpy.random.default_rng(int(seed))
    (install_torch if library == "torch" else install_tinygen)(stream, dtype_name)
    sys.argv = [script] + arguments
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
