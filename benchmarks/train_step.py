"""One training step of the DCGAN, the MLP GAN and the MLP VAE at batch 64, in tinygen and in PyTorch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/train_step.py [--repeats 20] [--device cuda]

A GAN step is what `tinygen train` runs: D on real and detached fake, Adam step; G through a frozen D,
Adam step (non-saturating losses on logits). A VAE step: encode, reparameterize, decode, -ELBO, Adam step.
The same architectures are built from the same code in both libraries (tinygen follows PyTorch's API), in
float32, timed in alternation after a warm-up; the median is reported with the ratio tinygen / PyTorch,
the achieved GFLOP/s and its share of NumPy's sgemm speed measured in the same run, and the peak memory of a step
(growth of the resident set over the set-up, each library in a fresh subprocess).
Goals (issue 6): DCGAN <= 1.2x, MLP GAN <= 1.1x, MLP VAE <= 1.1x PyTorch CPU; memory <= 1.5x; on a GPU, DCGAN
with CuPy <= 2x PyTorch CUDA.
"""
import argparse
import math
import os
import subprocess
import sys

from harness import add_timing_option, median_seconds, row, setup, sgemm_gflops, tinygen, torch

BATCH = 64
LATENT = 100


# --- the architectures, as (layer name, arguments) so both libraries build them from one description ------

DCGAN_GENERATOR = [
    ("Linear", (LATENT, 128 * 7 * 7), dict(bias=False)), ("BatchNorm1d", (128 * 7 * 7,)), ("ReLU", ()),
    ("Unflatten", (1, (128, 7, 7))),
    ("ConvTranspose2d", (128, 64, 4), dict(stride=2, padding=1, bias=False)), ("BatchNorm2d", (64,)), ("ReLU", ()),
    ("ConvTranspose2d", (64, 1, 4), dict(stride=2, padding=1)), ("Tanh", ()),
]
DCGAN_DISCRIMINATOR = [
    ("Conv2d", (1, 64, 4), dict(stride=2, padding=1)), ("LeakyReLU", (0.2,)), ("Dropout", (0.3,)),
    ("Conv2d", (64, 128, 4), dict(stride=2, padding=1, bias=False)), ("BatchNorm2d", (128,)), ("LeakyReLU", (0.2,)),
    ("Dropout", (0.3,)), ("Flatten", ()), ("Linear", (128 * 7 * 7, 1)),
]
MLP_GENERATOR = [
    ("Linear", (LATENT, 256)), ("LeakyReLU", (0.2,)), ("Linear", (256, 512)), ("LeakyReLU", (0.2,)),
    ("Linear", (512, 784)), ("Tanh", ()), ("Unflatten", (1, (1, 28, 28))),
]
MLP_DISCRIMINATOR = [
    ("Flatten", ()), ("Linear", (784, 512)), ("LeakyReLU", (0.2,)), ("Linear", (512, 256)), ("LeakyReLU", (0.2,)),
    ("Linear", (256, 1)),
]
VAE_ENCODER = [("Flatten", ()), ("Linear", (784, 400)), ("ReLU", ()), ("Linear", (400, 2 * 16))]
VAE_DECODER = [("Linear", (16, 400)), ("ReLU", ()), ("Linear", (400, 784)), ("Unflatten", (1, (1, 28, 28)))]

MODELS = {
    "DCGAN": ("gan", DCGAN_GENERATOR, DCGAN_DISCRIMINATOR, (0.5, 0.999), 2e-4),
    "MLP GAN": ("gan", MLP_GENERATOR, MLP_DISCRIMINATOR, (0.5, 0.999), 2e-4),
    "MLP VAE": ("vae", VAE_ENCODER, VAE_DECODER, (0.9, 0.999), 1e-3),
}


def build(library, layers, device):
    modules = [getattr(library.nn, name)(*args, **(options[0] if options else {})) for name, args, *options in layers]
    return library.nn.Sequential(*modules).to(device)


def multiply_adds(layers, input_shape):
    """Multiply-adds of one forward pass of one sample (for the GFLOP/s figure)."""
    shape, total = input_shape, 0
    for name, args, *options in layers:
        options = options[0] if options else {}
        if name == "Linear":
            total += args[0] * args[1]
            shape = (args[1],)
        elif name in ("Conv2d", "ConvTranspose2d"):
            channels_in, channels_out, kernel = args
            stride, padding = options.get("stride", 1), options.get("padding", 0)
            height = shape[1]
            if name == "Conv2d":
                size = (height + 2 * padding - kernel) // stride + 1
                total += channels_in * kernel * kernel * channels_out * size * size
            else:
                size = (height - 1) * stride - 2 * padding + kernel
                total += channels_in * kernel * kernel * channels_out * height * height
            shape = (channels_out, size, size)
        elif name == "Unflatten":
            shape = args[1]
        elif name == "Flatten":
            shape = (math.prod(shape),)
    return total


def step_flops(kind, first, second):
    """FLOPs of one step: forward multiply-adds x 2 flops, x 3 for forward + backward (both gradients)."""
    if kind == "gan":
        generator, discriminator = multiply_adds(first, (LATENT,)), multiply_adds(second, (1, 28, 28))
        passes = generator + 2 * discriminator + discriminator  # G; D on real and fake; D again in the G step
    else:
        passes = multiply_adds(first, (1, 28, 28)) + multiply_adds(second, (16,))
    return 2 * 3 * passes * BATCH


def make_step(library, model, device, seed=0):
    kind, first_layers, second_layers, betas, lr = MODELS[model]
    library.manual_seed(seed)
    first, second = build(library, first_layers, device), build(library, second_layers, device)
    first_optimizer = library.optim.Adam(first.parameters(), lr=lr, betas=betas)
    second_optimizer = library.optim.Adam(second.parameters(), lr=lr, betas=betas)
    F = library.nn.functional
    real = library.rand(BATCH, 1, 28, 28, device=device) * 2 - 1

    def gan_step():
        generator, discriminator = first, second
        fake = generator(library.randn(BATCH, LATENT, device=device))
        loss_d = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()
        second_optimizer.zero_grad()
        loss_d.backward()
        second_optimizer.step()
        for parameter in discriminator.parameters():
            parameter.requires_grad_(False)
        loss_g = F.softplus(-discriminator(fake)).mean()
        for parameter in discriminator.parameters():
            parameter.requires_grad_(True)
        first_optimizer.zero_grad()
        loss_g.backward()
        first_optimizer.step()
        return loss_d

    def vae_step():
        encoder, decoder = first, second
        images = (real + 1) / 2
        statistics = encoder(images)
        mu, logvar = statistics[:, :16], statistics[:, 16:]
        z = mu + (0.5 * logvar).exp() * library.randn(BATCH, 16, device=device)
        reconstruction = F.binary_cross_entropy_with_logits(decoder(z), images, reduction="sum") / BATCH
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / BATCH
        loss = reconstruction + kl
        first_optimizer.zero_grad()
        second_optimizer.zero_grad()
        loss.backward()
        first_optimizer.step()
        second_optimizer.step()
        return loss

    step = gan_step if kind == "gan" else vae_step
    if device == "cuda":
        synchronize = (lambda: torch.cuda.synchronize()) if library is torch else library.backend.get_backend("cuda").synchronize

        def synchronized_step():
            step()
            synchronize()

        return synchronized_step
    return step


def peak_memory_mb(library_name, model, device, steps=3):
    """How far the resident set rises above its level between steps, during a step (activations, the graph,
    temporaries), measured in a fresh subprocess after two warm-up steps have allocated gradients and
    optimizer state. Linux: the peak is reset through /proc/self/clear_refs and read from VmHWM. glibc is
    told to map every block over 64 KiB separately and to return freed memory at once, so that the
    resident set follows the live memory of both libraries (instead of the heap each one happened to keep)."""
    probe = f"""
import sys
sys.path.insert(0, 'benchmarks')
import train_step as bench

def status(field):
    with open('/proc/self/status') as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith(field + ':'))

step = bench.make_step(bench.{library_name}, {model!r}, {device!r})
step(); step()
baseline = status('VmRSS')
with open('/proc/self/clear_refs', 'w') as handle:
    handle.write('5')
for _ in range({steps}):
    step()
print((status('VmHWM') - baseline) / 1024)
"""
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment)
    return float(result.stdout) if result.returncode == 0 else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS,
                        help="which steps to time (default: all); quote the names with a space, e.g. \"MLP GAN\"")
    parser.add_argument("--no-memory", action="store_true")
    add_timing_option(parser)
    args = parser.parse_args()
    setup(cpu_time=args.cpu_time)
    limit = sgemm_gflops() if args.device == "cpu" else None
    if limit:
        print(f"NumPy sgemm (1024^3, float32): {limit:.0f} GFLOP/s")
    for model in args.models:
        kind, first, second, *_ = MODELS[model]
        ours, theirs = median_seconds([
            make_step(tinygen, model, args.device),
            make_step(torch, model, args.device) if torch is not None else None,
        ], args.repeats)
        row(f"{model} step, batch {BATCH} ({args.device})", ours, theirs)
        flops = step_flops(kind, first, second)
        speeds = {"tinygen": flops / ours / 1e9}
        if theirs is not None:
            speeds["torch"] = flops / theirs / 1e9
        line = f"    {flops / 1e9:.2f} GFLOP/step: " + ", ".join(
            f"{name} {gflops:.0f} GFLOP/s" + (f" ({100 * gflops / limit:.0f}% of sgemm)" if limit else "")
            for name, gflops in speeds.items()
        )
        print(line)
        if not args.no_memory and args.device == "cpu":
            ours_mb = peak_memory_mb("tinygen", model, args.device)
            theirs_mb = peak_memory_mb("torch", model, args.device) if torch is not None else None
            memory = f"    peak memory of a step: tinygen {ours_mb:.1f} MB"
            if theirs_mb:
                memory += f", torch {theirs_mb:.1f} MB, ratio {ours_mb / theirs_mb:.2f}x"
            print(memory, flush=True)


if __name__ == "__main__":
    main()
