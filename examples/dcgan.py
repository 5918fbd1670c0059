"""DCGAN on MNIST (Radford et al. 2016): convolutional G and D, batch norm, N(0, 0.02) initialization.

    python examples/dcgan.py [--epochs 15] [--out runs/example_dcgan]

The networks are tinygen.models.DCGANGenerator / DCGANDiscriminator (read them: about 40 lines); this
script is the training loop the `tinygen train dcgan` command runs, without its bookkeeping.
"""
import argparse
import os

import tinygen as tg
from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist
from tinygen.losses import discriminator_loss, generator_loss
from tinygen.models import DCGANDiscriminator, DCGANGenerator
from tinygen.viz import image_grid, save_png

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--steps", type=int, help="stop each epoch after this many steps (quick runs)")
parser.add_argument("--out", default="runs/example_dcgan")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
tg.manual_seed(0)

images, _ = load_mnist()
loader = DataLoader(TensorDataset(ScalePixels(-1.0, 1.0)(images)), batch_size=64, shuffle=True, drop_last=True)

G, D = DCGANGenerator(latent_dim=100), DCGANDiscriminator()
opt_G = tg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = tg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
fixed_noise = tg.randn(64, 100)

for epoch in range(args.epochs):
    for step, (real,) in enumerate(loader):
        if args.steps is not None and step == args.steps:
            break
        fake = G(tg.randn(real.shape[0], 100))

        loss_D = discriminator_loss(D(real), D(fake.detach()))   # non-saturating, on logits
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()

        loss_G = generator_loss(D(fake))
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()

    print(f"epoch {epoch + 1}: loss_D {loss_D.item():.3f}, loss_G {loss_G.item():.3f}")
    G.eval()  # sample with batch norm's running statistics: a sample must not depend on its batch
    with tg.no_grad():
        save_png(image_grid(G(fixed_noise)), os.path.join(args.out, f"epoch_{epoch + 1:03d}.png"))
    G.train()
    tg.save({"generator": G.state_dict()}, os.path.join(args.out, "generator.npz"))
