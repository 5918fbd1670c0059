"""The ``tinygen`` command.

    tinygen train dcgan                      train on the bundled MNIST digits, pictures in runs/dcgan
    tinygen train vae --latent-dim 2 --epochs 10
    tinygen train dcgan --resume             continue from runs/dcgan/checkpoint.npz
    tinygen sample runs/dcgan/checkpoint.npz --out grid.png      (or --gif walk.gif)
    tinygen info                             version, backends, devices
    tinygen exercises start my-exercises     coursework: write stubs to fill in, then `exercises check`
    tinygen graph dcgan --out graphs         one training step's graphs (SVG) and a page to step through its backward
"""
import argparse
import os
import sys

import tinygen
from tinygen.exercises.command import add_exercises_parser, run_exercises
from tinygen.serialization import CheckpointError
from tinygen.training import MODELS, TrainConfig, build_recipe, load_checkpoint, train


def _add_train(commands):
    parser = commands.add_parser("train", help="train a model on the bundled data and write pictures",
                                 description="Train a generative model; defaults depend on the model.")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda", "strict"), help="default: $TINYGEN_DEVICE or cpu")
    parser.add_argument("--out", help="output directory (default runs/MODEL)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    parser.add_argument("--subset", type=int, help="train on the first N training samples only")
    parser.add_argument("--n-critic", type=int, default=5, help="WGAN-GP: critic steps per generator step")
    parser.add_argument("--gp-lambda", type=float, default=10.0, help="WGAN-GP: gradient penalty weight")
    parser.add_argument("--beta", type=float, default=1.0, help="VAE: weight of the KL term")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--ops", metavar="DIR", help="train on your own ops: every exercise in the workspace DIR that "
                                                     "passes the grader (default output runs/MODEL-ops)")


def _add_sample(commands):
    parser = commands.add_parser("sample", help="draw samples from a checkpoint")
    parser.add_argument("checkpoint")
    parser.add_argument("--out", default="samples.png", help="PNG grid to write (default samples.png)")
    parser.add_argument("--gif", help="also write a latent-walk animation to this GIF")
    parser.add_argument("--n", type=int, default=64, help="number of samples in the grid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda", "strict"), help="default: $TINYGEN_DEVICE or cpu")


def _add_graph(commands):
    parser = commands.add_parser("graph", help="draw one training step's graphs and step through its backward passes",
                                 description="Trace one training step and write each backward walk's graph (SVG) "
                                             "and backward.html, a page that steps through the walks.")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--out", help="output directory (default runs/MODEL/graph)")
    parser.add_argument("--batch-size", type=int, default=4, help="samples in the traced step (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda", "strict"), help="default: $TINYGEN_DEVICE or cpu")


def run_graph(args):
    from tinygen.viz.training_step import draw_training_step

    out = args.out or os.path.join("runs", args.model, "graph")
    written = draw_training_step(args.model, out, batch_size=args.batch_size, seed=args.seed, device=args.device)
    print(f"wrote {', '.join(written)}")
    print(f"open {written[-1]} in a browser: buttons or the arrow keys step through the backward passes")


def run_train(args):
    out = args.out if args.out is not None or args.ops is None else f"runs/{args.model}-ops"
    config = TrainConfig(
        model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, latent_dim=args.latent_dim,
        seed=args.seed, device=args.device, out=out, subset=args.subset, n_critic=args.n_critic,
        gp_lambda=args.gp_lambda, beta=args.beta, progress=not args.no_progress, resume=args.resume,
    )
    print(f"tinygen {tinygen.__version__}: training {config.model} for {config.epochs} epochs on {config.device}, "
          f"batch {config.batch_size}, lr {config.lr}; output in {config.out}/")
    if args.ops is None:
        train(config)
    else:
        from tinygen.exercises.swap import train_on_student_ops

        train_on_student_ops(config, args.ops)
    print(f"done: see {os.path.join(config.out, 'samples.png')}, losses.png, latent_walk.gif and metrics.csv")


def run_sample(args):
    from tinygen.creation import randn
    from tinygen.random import Generator
    from tinygen.training.pictures import save_latent_walk, save_samples

    device = tinygen.backend.normalize_device(args.device)
    checkpoint = load_checkpoint(args.checkpoint, device=device)
    config = TrainConfig.from_dict(dict(checkpoint["config"], device=device, progress=False))
    recipe = build_recipe(config)
    recipe.load_state_dict(checkpoint["state"])
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    noise = randn(args.n, recipe.latent_dim, generator=Generator(device, seed=args.seed), device=device)
    save_samples(recipe, noise, args.out)
    print(f"wrote {args.out}")
    if args.gif:
        if recipe.sample_kind != "image":
            raise ValueError("--gif: a latent walk is drawn for image models only")
        half = max(1, args.n // 2)
        save_latent_walk(recipe, noise[:half], noise[half:2 * half] if args.n > 1 else -noise, args.gif)
        print(f"wrote {args.gif}")


def run_info(args):
    import numpy

    print(f"tinygen {tinygen.__version__} (python {sys.version.split()[0]}, numpy {numpy.__version__})")
    print(f"default device: {tinygen.get_default_device()} (set TINYGEN_DEVICE to change it)")
    from tinygen.backend.cupy_backend import cuda_unavailable_reason

    reason = cuda_unavailable_reason()
    if reason is None:
        import cupy

        print(f"cuda: available (cupy {cupy.__version__}, {cupy.cuda.runtime.getDeviceCount()} device(s))")
    else:
        print(f"cuda: not available: {reason}")
    print("devices: cpu (NumPy), cuda (CuPy), strict (CPU stand-in enforcing CuPy's rules, for tests)")


def build_parser():
    parser = argparse.ArgumentParser(prog="tinygen", description="tinygen: train and sample small generative models")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train(commands)
    _add_sample(commands)
    commands.add_parser("info", help="version, backends and devices")
    add_exercises_parser(commands)
    _add_graph(commands)
    return parser


COMMANDS = {"train": run_train, "sample": run_sample, "info": run_info, "exercises": run_exercises}
COMMANDS["graph"] = run_graph


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        status = COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError, CheckpointError, RuntimeError) as error:
        print(f"tinygen {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the last checkpoint written is intact; continue with --resume", file=sys.stderr)
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
