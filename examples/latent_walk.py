"""Walk through a generator's latent space and save the walk as an animated GIF.

    python examples/latent_walk.py runs/dcgan/checkpoint.npz [--out walk.gif]

A straight line from z_a to z_b passes through codes much shorter than typical N(0, I) samples (whose
length is about sqrt(latent_dim)), so the images in the middle fade. The walk follows great circles instead:
z(t) = cos(t) z_a + sin(t) z_b keeps the length, and every frame looks like a sample.
"""
import argparse
import math

import tinygen as tg
from tinygen.training import TrainConfig, build_recipe, load_checkpoint
from tinygen.viz import image_grid, save_gif

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("checkpoint", help="a checkpoint written by `tinygen train` (gan, dcgan, wgan-gp or vae)")
parser.add_argument("--out", default="walk.gif")
parser.add_argument("--frames", type=int, default=48)
args = parser.parse_args()

checkpoint = load_checkpoint(args.checkpoint)
recipe = build_recipe(TrainConfig.from_dict(dict(checkpoint["config"], progress=False)))
recipe.load_state_dict(checkpoint["state"])

generator = tg.Generator(seed=1)
start, end = (tg.randn(16, recipe.latent_dim, generator=generator) for _ in range(2))
frames = []
for frame in range(args.frames):
    t = 2 * math.pi * frame / args.frames
    frames.append(image_grid(recipe.generate(start * math.cos(t) + end * math.sin(t)), nrow=4))
save_gif(frames, args.out)
print(f"wrote {args.out} ({args.frames} frames)")
