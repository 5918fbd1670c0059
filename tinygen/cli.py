"""The ``tinygen`` command.

    tinygen train dcgan                      train on the bundled MNIST digits, pictures in runs/dcgan
    tinygen train vae --latent-dim 2 --epochs 10
    tinygen train dcgan --resume             continue from runs/dcgan/checkpoint.npz
    tinygen train dcgan --overwrite          start again in runs/dcgan, replacing the run there
    tinygen sample runs/dcgan/checkpoint.npz --out grid.png      (or .jpg; --gif walk.gif)
    tinygen info                             version, backends, devices
    tinygen exercises start my-exercises     coursework: write stubs to fill in, then `exercises check`
    tinygen graph dcgan --out graphs         one training step's graphs (SVG) and a page to step through its backward

Exit status: 0 done; 1 ``exercises check`` found an exercise that does not pass; 2 an error (bad input, a file
that cannot be read or written, a directory that holds another run or is in use, not enough memory), reported
in one line that names the setting or file, never as a traceback; 3 training stopped because a loss or a
parameter turned nan or inf (the last finite checkpoint is kept); 130 interrupted (Ctrl-C), with a line that
says what was saved. ``--debug`` (before or after the command) adds the traceback of an error.
"""
import argparse
import contextlib
import os
import sys
import traceback
import warnings

import tinygen
from tinygen.exercises.command import add_exercises_parser, run_exercises
from tinygen.interrupts import stop_signals_interrupt
from tinygen.training import MODELS, RECIPES, TrainConfig, build_recipe, load_checkpoint, train
from tinygen.training.run_directory import run_owning
from tinygen.training.stops import Interrupted, OutOfMemory, TrainingDiverged, memory_for

#: the most samples ``tinygen sample`` draws into one grid (100 x 100 pictures), and into one latent walk
MAX_SAMPLES = 10_000
MAX_WALK_SAMPLES = 64
#: exit statuses (see the module docstring)
ERROR, DIVERGED, INTERRUPTED = 2, 3, 130
#: errors that carry a message written for the user; any other exception is a bug, reported as unexpected
USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError, MemoryError)
BUGS = (RecursionError, NotImplementedError)


def user_path(text):
    """A path option with a leading ``~`` expanded: the shell leaves ``--out=~/runs`` as it is, and a directory
    named ``~`` in the current one is never what was meant (the run would seem lost from ``~/runs``)."""
    return os.path.expanduser(text)


def _add_train(commands):
    parser = commands.add_parser("train", help="train a model on the bundled data and write pictures",
                                 description="Train a generative model; defaults depend on the model.")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--recipe", choices=RECIPES, default="default",
                        help="seed: the first release's networks and settings, for comparison (default: default)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--betas", type=float, nargs=2, metavar=("BETA1", "BETA2"),
                        help="Adam's betas, two numbers in [0, 1) (default: the recipe's)")
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda", "strict"), help="default: $TINYGEN_DEVICE or cpu")
    parser.add_argument("--out", type=user_path, help="output directory (default runs/MODEL)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoint.npz, to the epochs it was started for (or --epochs)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run already in OUT (its checkpoint, metrics and pictures); without it, "
                             "a fresh run into a directory that holds one stops before any work")
    parser.add_argument("--subset", type=int, help="train on the first N training samples only")
    parser.add_argument("--n-critic", type=int, help="WGAN-GP: critic steps per generator step (default: the recipe's)")
    parser.add_argument("--lr-decay", type=float, metavar="FRACTION",
                        help="decay the learning rate linearly to 0 over this last fraction of the run, 0 to 1 "
                             "(default: the recipe's; 0.5 for the VAE and the conv VAE, 0 for the others)")
    parser.add_argument("--discriminator-features", type=int, metavar="N",
                        help="DCGAN: channels of D's first convolution (default: the recipe's, 32; seed recipe 64)")
    parser.add_argument("--average-decay", type=float, metavar="DECAY",
                        help="default recipes of gan, dcgan, wgan-gp: samples come from an average of G's weights "
                             "that keeps this share of itself per step, in [0, 1) (default: 0.99; 0.999 for gan)")
    parser.add_argument("--augment-shift", type=int, metavar="PIXELS",
                        help="vae, conv-vae: half the training images move by up to this many pixels each way, 0 "
                             "for none (default: the recipe's; 1 for the vae and conv-vae, 0 for the vae's seed "
                             "recipe)")
    parser.add_argument("--activation", metavar="NAME",
                        help="vae: the hidden layers' activation, relu or silu (default: the recipe's; silu, relu "
                             "for its seed recipe)")
    parser.add_argument("--critic-norm", metavar="NAME",
                        help="wgan-gp: layer (a layer norm after the critic's second convolution) or none (default: "
                             "the recipe's; layer, none for its seed recipe)")
    parser.add_argument("--decoder", metavar="NAME",
                        help="conv-vae: autoregressive (each pixel's logit also reads the pixels before it) or plain "
                             "(default: autoregressive)")
    parser.add_argument("--clusters", type=int, metavar="K",
                        help="dcgan: G and D are conditioned on K k-means clusters of the training images, 0 for "
                             "none; clusters beyond the distinct images (a small --subset) stay empty (default: "
                             "80; the seed recipe has none)")
    parser.add_argument("--gp-lambda", type=float, default=10.0, help="WGAN-GP: gradient penalty weight")
    parser.add_argument("--beta", type=float, default=1.0, help="VAE: weight of the KL term")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--ops", metavar="DIR", type=user_path,
                        help="train on your own ops: every exercise in the workspace DIR that passes the grader "
                             "(default output runs/MODEL-ops)")


def _add_sample(commands):
    parser = commands.add_parser("sample", help="draw samples from a checkpoint")
    parser.add_argument("checkpoint", type=user_path)
    parser.add_argument("--out", default="samples.png", type=user_path,
                        help="the grid to write; .png or .jpg, as the name says (default samples.png)")
    parser.add_argument("--gif", type=user_path, help="also write a latent-walk animation to this .gif")
    parser.add_argument("--n", type=int, default=64, help=f"number of samples in the grid (1 to {MAX_SAMPLES})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda", "strict"), help="default: $TINYGEN_DEVICE or cpu")


def _add_graph(commands):
    parser = commands.add_parser("graph", help="draw one training step's graphs and step through its backward passes",
                                 description="Trace one training step and write each backward walk's graph (SVG) "
                                             "and backward.html, a page that steps through the walks.")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--out", type=user_path, help="output directory (default runs/MODEL/graph)")
    parser.add_argument("--batch-size", type=int, default=4, help="samples in the traced step (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda", "strict"), help="default: $TINYGEN_DEVICE or cpu")


def run_graph(args):
    from tinygen.training.traced_step import draw_training_step

    if args.out == "":
        raise ValueError("--out is empty: name a directory for the pictures, e.g. 'graphs'")
    out = args.out or os.path.join("runs", args.model, "graph")
    written = draw_training_step(args.model, out, batch_size=args.batch_size, seed=args.seed, device=args.device)
    print(f"wrote {', '.join(written)}")
    print(f"open {written[-1]} in a browser: buttons or the arrow keys step through the backward passes")


def _planned_epochs(model, out):
    """The epochs a run in ``out`` was started for (its checkpoint's ``epochs``), or None when there is no readable
    checkpoint of ``model`` there (``train`` then says what is wrong)."""
    path = os.path.join(out or os.path.join("runs", model), "checkpoint.npz")
    try:
        checkpoint = load_checkpoint(path, model=model, device="cpu")
    except (OSError, ValueError):
        return None
    epochs = checkpoint["config"].get("epochs")
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0 else None


def run_train(args):
    out = args.out if args.out is not None or args.ops is None else f"runs/{args.model}-ops"
    if args.resume and args.epochs is None:  # the run's own length, not a default changed since
        args.epochs = _planned_epochs(args.model, out)
    config = TrainConfig(
        model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        betas=tuple(args.betas) if args.betas else None, latent_dim=args.latent_dim, seed=args.seed,
        device=args.device, out=out, subset=args.subset, n_critic=args.n_critic,
        gp_lambda=args.gp_lambda, beta=args.beta, progress=not args.no_progress, resume=args.resume,
        recipe=args.recipe, overwrite=args.overwrite, lr_decay=args.lr_decay,
        discriminator_features=args.discriminator_features, average_decay=args.average_decay,
        augment_shift=args.augment_shift, activation=args.activation, critic_norm=args.critic_norm,
        decoder=args.decoder, clusters=args.clusters,
    )
    epochs = f"{config.epochs} epoch{'' if config.epochs == 1 else 's'}"
    print(f"tinygen {tinygen.__version__}: training {config.model} for {epochs} on {config.device}, "
          f"batch {config.batch_size}, lr {config.lr}; output in {config.out}/")
    if args.ops is None:
        train(config)
    else:
        from tinygen.exercises.swap import train_on_student_ops

        train_on_student_ops(config, args.ops)
    pictures = [name for name in ("losses.png", "latent_walk.gif", "latent_space.png")
                if os.path.exists(os.path.join(config.out, name))]
    print(f"done: see {os.path.join(config.out, 'samples.png')}, {', '.join(pictures + ['metrics.csv'])}")


def run_sample(args):
    from tinygen.creation import randn
    from tinygen.random import Generator
    from tinygen.training.pictures import save_latent_walk, save_samples

    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    if args.n > MAX_SAMPLES:
        raise ValueError(f"--n must be at most {MAX_SAMPLES} (a grid of 100 x 100 pictures), got {args.n}")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    _check_sample_outputs(args)
    written = []
    try:
        device = tinygen.backend.normalize_device(args.device)
        checkpoint = load_checkpoint(args.checkpoint, device=device)
        with memory_for("the checkpoint's latent_dim", checkpoint["config"].get("latent_dim"),
                        advice="the file is damaged or was not written for this machine"):
            config = TrainConfig.from_dict(dict(checkpoint["config"], device=device, progress=False))
            recipe = build_recipe(config)
        recipe.load_state_dict(checkpoint["state"])
        if args.gif and recipe.sample_kind != "image":
            raise ValueError(f"--gif: a latent walk is drawn for image models only, and {args.checkpoint} holds a "
                             f"{config.model!r} run")
        with memory_for("n", args.n):
            noise = randn(args.n, recipe.latent_dim, generator=Generator(device, seed=args.seed), device=device)
        save_samples(recipe, noise, args.out)
        written.append(args.out)
        print(f"wrote {args.out}")
        if args.gif:
            half = max(1, min(args.n // 2, MAX_WALK_SAMPLES))
            save_latent_walk(recipe, noise[:half], noise[half:2 * half] if args.n > 1 else -noise, args.gif)
            print(f"wrote {args.gif}")
    except KeyboardInterrupt:
        done = f"{written[0]} was written, {args.gif} was not" if written else "nothing was written"
        raise Interrupted(f"interrupted: {done}") from None


def _check_sample_outputs(args):
    """Before the checkpoint is read: no output may be the checkpoint, a training run's picture (``run_owning``) or
    the other output, and each must be a file name whose suffix gives a format tinygen writes, in a directory that
    exists."""
    from tinygen.viz.images import ANIMATION_FORMATS, image_format

    outputs = {"--out": args.out, **({"--gif": args.gif} if args.gif is not None else {})}
    for option, path in outputs.items():
        if _same_file(path, args.checkpoint):
            raise ValueError(f"{option} {path} is the checkpoint being read: writing there would destroy it; "
                             "choose another file name")
        run = run_owning(path)
        if run is not None and os.path.lexists(path):
            stem, suffix = os.path.splitext(os.path.basename(path))
            raise ValueError(f"{option} {path} is one of the outputs of the training run in {run}: writing there "
                             f"would replace it; choose another name, e.g. {stem + '-new' + suffix!r}")
    if args.gif is not None and _same_file(args.out, args.gif):
        raise ValueError(f"--out and --gif both name {args.out}: one would replace the other; give two names")
    for option, path in outputs.items():
        name = "walk.gif" if option == "--gif" else "samples.png"
        if not path:
            raise ValueError(f"{option} is empty: name a file, e.g. {name!r}")
        if path.endswith(("/", os.sep)) or os.path.isdir(path):
            example = os.path.join(path, name)
            raise ValueError(f"{option} {path!r} is a directory: name a file, e.g. {example!r}")
        image_format(path, ANIMATION_FORMATS if option == "--gif" else None, what=f"{option}")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"{option} {path}: the directory {directory} does not exist")


def _same_file(first, second):
    if os.path.abspath(first) == os.path.abspath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False  # one of them does not exist (yet)


def run_info(args):
    import numpy

    print(f"tinygen {tinygen.__version__} (python {sys.version.split()[0]}, numpy {numpy.__version__})")
    print(f"default device: {tinygen.get_default_device()} (set TINYGEN_DEVICE to change it)")
    print(f"cpu threads: {tinygen.get_num_threads()} (NumPy's BLAS; samples are drawn a batch per thread; "
          "OMP_NUM_THREADS changes it)")
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
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train(commands)
    _add_sample(commands)
    commands.add_parser("info", help="version, backends and devices")
    add_exercises_parser(commands)
    _add_graph(commands)
    _accept_debug_everywhere(parser)
    return parser


def _accept_debug_everywhere(parser):
    """``--debug`` after a (sub)command too: every subparser accepts it, without overriding one given before."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                subparser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                       help="show the traceback of an error")
                _accept_debug_everywhere(subparser)


COMMANDS = {"train": run_train, "sample": run_sample, "info": run_info, "exercises": run_exercises}
COMMANDS["graph"] = run_graph


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        with _quiet_numerics(args), stop_signals_interrupt():
            return COMMANDS[args.command](args) or 0
    except KeyboardInterrupt as interrupt:
        _say(args, _interrupted(args, interrupt), prefix="\n")
        return INTERRUPTED
    except TrainingDiverged as stop:
        _say(args, f"tinygen {args.command}: {stop}")
        return DIVERGED
    except Exception as error:  # the one place every error becomes a line: see USER_ERRORS
        _say(args, f"tinygen {args.command}: error: {_describe(args, error)}")
        return ERROR


@contextlib.contextmanager
def _quiet_numerics(args):
    """NumPy's overflow and invalid-value warnings stay out of the output (a run that turns nan or inf stops with
    its own line, naming the epoch, step and loss); ``--debug`` shows them."""
    with warnings.catch_warnings():
        if not args.debug:
            warnings.filterwarnings("ignore", r"(overflow|invalid value|divide by zero) encountered", RuntimeWarning)
        yield


def _say(args, message, prefix=""):
    if args.debug:
        traceback.print_exc()
    print(prefix + message, file=sys.stderr)


def _describe(args, error):
    notes = [note for note in getattr(error, "__notes__", ()) if isinstance(note, str)]  # what a run kept
    message = "; ".join([str(error) or type(error).__name__, *notes])
    message = " ".join(line.strip() for line in message.splitlines())  # one line
    if isinstance(error, MemoryError) and not isinstance(error, OutOfMemory):
        settings = {"train": "--batch-size or --latent-dim", "sample": "--n"}.get(args.command, "settings")
        return f"not enough memory ({message}); smaller {settings} need less"
    if isinstance(error, USER_ERRORS) and not isinstance(error, BUGS):
        return message
    hint = "" if args.debug else "; run with --debug for the traceback"
    return f"unexpected {type(error).__name__}: {message} (a bug in tinygen: please report it{hint})"


def _interrupted(args, interrupt):
    """A true line about what an interruption left: from the command when it knows (train, sample)."""
    if isinstance(interrupt, Interrupted) and str(interrupt):
        return str(interrupt)
    if args.command == "exercises" and getattr(args, "action", None) == "check":
        return "interrupted: grading stopped before it finished, so no result was given; run the check again"
    return f"interrupted: tinygen {args.command} stopped before it finished"


if __name__ == "__main__":
    sys.exit(main())
