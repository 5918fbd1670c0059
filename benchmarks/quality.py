"""Sample quality of each model's default training run, with its time: the figures of the README's table.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/quality.py [--seeds 0 1 2] [--models dcgan gan]
        [--recipe default|seed] [--out runs/quality] [--pictures docs/images]

Each run is exactly ``tinygen train MODEL --seed S`` (the defaults of ``--recipe``), into OUT/MODEL-seedS. The
scores are those of its last epoch, by tinygen's own judge on the 1,000 held-out digits: Frechet distance (lower
is better; 1,000 training digits drawn at random score about 20), inception-style score (at most 10), digit
classes covered, and for the VAEs the held-out -ELBO in nats per image. Time: the wall-clock of the run (training,
the per-epoch scores, pictures and checkpoints) and its process CPU time (user + system, all threads). On a busy
machine the wall-clock grows with the load; run on a quiet one for the README. ``--pictures DIR`` copies the first
seed's sample grids there as MODEL-samples.png.
"""
import argparse
import os
import shutil
import time

from harness import setup, tinygen  # noqa: F401  (the checkout's tinygen)

from tinygen.training import TrainConfig, train

MODELS = ("dcgan", "gan", "wgan-gp", "vae", "conv-vae")
#: the issue's targets, printed beside the figures
TARGETS = {
    "dcgan": "FD <= 80, IS >= 8, 10 classes, <= 4 min",
    "gan": "FD <= 200, 10 classes, <= 1 min",
    "wgan-gp": "FD <= 100, <= 5 min",
    "vae": "-ELBO <= 105 nats",
    "conv-vae": "-ELBO <= 95 nats, <= 3 min",
}


def run(model, seed, recipe, out):
    """Train one default run; its last epoch's scores and its times."""
    config = TrainConfig(model, seed=seed, recipe=recipe, out=os.path.join(out, f"{model}-seed{seed}"),
                         progress=False)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    history = train(config, log=lambda line: None)
    last = dict(history[-1])
    last.update(wall=time.perf_counter() - started_wall, cpu=time.process_time() - started_cpu, out=config.out)
    return last


def describe(model, last):
    parts = []
    if "frechet_distance" in last:
        parts.append(f"FD {last['frechet_distance']:6.1f}  IS {last['inception_score']:4.2f}  "
                     f"classes {last['classes_covered']:2d}")
    if "eval_loss" in last:
        parts.append(f"-ELBO {last['eval_loss']:6.1f} nats")
    minutes, seconds = divmod(last["wall"], 60)
    parts.append(f"{int(minutes)} min {seconds:4.1f} s wall, {last['cpu']:6.1f} s CPU")
    return f"{model:<9} seed {last['seed']}  " + "  ".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--recipe", default="default", choices=("default", "seed"))
    parser.add_argument("--out", default="runs/quality")
    parser.add_argument("--pictures", help="copy the first seed's samples.png here as MODEL-samples.png")
    args = parser.parse_args()
    setup()
    for model in args.models:
        print(f"{model}: target {TARGETS[model]}", flush=True)
        for seed in args.seeds:
            last = run(model, seed, args.recipe, args.out)
            last["seed"] = seed
            print("  " + describe(model, last), flush=True)
            if args.pictures and seed == args.seeds[0]:
                os.makedirs(args.pictures, exist_ok=True)
                shutil.copyfile(os.path.join(last["out"], "samples.png"),
                                os.path.join(args.pictures, f"{model}-samples.png"))


if __name__ == "__main__":
    main()
