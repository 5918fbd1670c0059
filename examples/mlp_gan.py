"""A GAN with fully connected networks on MNIST (Goodfellow et al. 2014), written out top to bottom.

    python examples/mlp_gan.py [--epochs 30] [--out runs/example_mlp_gan]

G maps noise z ~ N(0, I) to an image; D maps an image to a logit (the log-odds that it is real).
Each step trains D to tell real from fake, then G to fool D (the non-saturating loss -log D(G(z))).
"""
import argparse
import os

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn
from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist
from tinygen.viz import image_grid, save_png

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--steps", type=int, help="stop each epoch after this many steps (quick runs)")
parser.add_argument("--out", default="runs/example_mlp_gan")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
tg.manual_seed(0)

# Data: the bundled MNIST digits, scaled to [-1, 1] to match G's tanh output.
images, _ = load_mnist()
loader = DataLoader(TensorDataset(ScalePixels(-1.0, 1.0)(images)), batch_size=64, shuffle=True, drop_last=True)

# The networks: 100 -> 256 -> 512 -> 784 and back down to one logit, LeakyReLU(0.2) in between.
latent = 100
G = nn.Sequential(
    nn.Linear(latent, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
    nn.Linear(512, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)),
)
D = nn.Sequential(
    nn.Flatten(), nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1),
)
opt_G = tg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = tg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
fixed_noise = tg.randn(64, latent)

for epoch in range(args.epochs):
    for step, (real,) in enumerate(loader):
        if args.steps is not None and step == args.steps:
            break
        n = real.shape[0]
        fake = G(tg.randn(n, latent))

        # D: push D(real) up and D(fake) down. fake is detached: this step must not train G.
        loss_D = (F.binary_cross_entropy_with_logits(D(real), tg.ones(n, 1))
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), tg.zeros(n, 1)))
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()

        # G: make D call the fakes real (-log D(G(z)): strong gradients even while D wins).
        loss_G = F.binary_cross_entropy_with_logits(D(fake), tg.ones(n, 1))
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()

    print(f"epoch {epoch + 1}: loss_D {loss_D.item():.3f}, loss_G {loss_G.item():.3f}")
    with tg.no_grad():
        save_png(image_grid(G(fixed_noise)), os.path.join(args.out, f"epoch_{epoch + 1:03d}.png"))
