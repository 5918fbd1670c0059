"""WGAN-GP on MNIST (Gulrajani et al. 2017): a critic instead of a discriminator, and a gradient penalty.

    python examples/wgan_gp.py [--epochs 15] [--out runs/example_wgan_gp]

The critic C outputs a raw score (no sigmoid) and is trained on
    mean C(G(z)) - mean C(x) + 10 * mean (||grad_x C(x_hat)||_2 - 1)^2
where x_hat mixes real and fake images. The penalty's gradient needs the gradient of a gradient: tinygen's
ops are all twice differentiable. G steps once every 5 critic steps.
"""
import argparse
import os

import tinygen as tg
from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist
from tinygen.losses import gradient_penalty
from tinygen.models import DCGANGenerator, WGANCritic
from tinygen.viz import image_grid, save_png

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--steps", type=int, help="stop each epoch after this many steps (quick runs)")
parser.add_argument("--out", default="runs/example_wgan_gp")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
tg.manual_seed(0)

images, _ = load_mnist()
loader = DataLoader(TensorDataset(ScalePixels(-1.0, 1.0)(images)), batch_size=64, shuffle=True, drop_last=True)

G, C = DCGANGenerator(latent_dim=100), WGANCritic()
opt_G = tg.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
opt_C = tg.optim.Adam(C.parameters(), lr=1e-4, betas=(0.5, 0.9))
fixed_noise = tg.randn(64, 100)
n_critic, lambda_ = 5, 10.0

for epoch in range(args.epochs):
    for step, (real,) in enumerate(loader):
        if args.steps is not None and step == args.steps:
            break
        with tg.no_grad():
            fake = G(tg.randn(real.shape[0], 100))
        loss_C = C(fake).mean() - C(real).mean() + gradient_penalty(C, real, fake, lambda_=lambda_)
        opt_C.zero_grad()
        loss_C.backward()
        opt_C.step()

        if step % n_critic == n_critic - 1:
            loss_G = -C(G(tg.randn(real.shape[0], 100))).mean()
            opt_G.zero_grad()
            loss_G.backward()
            opt_G.step()

    print(f"epoch {epoch + 1}: loss_C {loss_C.item():.3f}")
    G.eval()
    with tg.no_grad():
        save_png(image_grid(G(fixed_noise)), os.path.join(args.out, f"epoch_{epoch + 1:03d}.png"))
    G.train()
