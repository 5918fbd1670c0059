"""A variational autoencoder on MNIST (Kingma and Welling 2014), with its 2-D latent space plotted.

    python examples/vae.py [--epochs 40] [--latent-dim 2] [--out runs/example_vae]

The encoder gives a Gaussian q(z|x) = N(mu, exp(logvar)); z = mu + exp(logvar / 2) * eps (the
reparameterization trick) keeps the sampling differentiable; the decoder gives Bernoulli logits of the
pixels. The loss is -ELBO: reconstruction + KL(q(z|x) || N(0, I)), in nats per image.
"""
import argparse
import os

import tinygen as tg
from tinygen.data import DataLoader, ScalePixels, TensorDataset, load_mnist
from tinygen.losses import elbo
from tinygen.models import VAE
from tinygen.viz import image_grid, plot_latent_space, save_png

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=40)
parser.add_argument("--latent-dim", type=int, default=2)
parser.add_argument("--steps", type=int, help="stop each epoch after this many steps (quick runs)")
parser.add_argument("--out", default="runs/example_vae")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
tg.manual_seed(0)

images, labels = load_mnist()
pixels = ScalePixels(0.0, 1.0)(images)           # Bernoulli probabilities in [0, 1]
train, held_out, held_out_labels = pixels[:9000], pixels[9000:], labels[9000:]
loader = DataLoader(TensorDataset(train), batch_size=128, shuffle=True, drop_last=True)

vae = VAE(latent_dim=args.latent_dim)
optimizer = tg.optim.Adam(vae.parameters(), lr=1e-3)

for epoch in range(args.epochs):
    for step, (x,) in enumerate(loader):
        if args.steps is not None and step == args.steps:
            break
        logits, mu, logvar = vae(x)
        loss = elbo(logits, x, mu, logvar).loss   # summed over pixels and latent dims, averaged over the batch
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with tg.no_grad():
        logits, mu, logvar = vae(held_out)
        terms = elbo(logits, held_out, mu, logvar)
    print(f"epoch {epoch + 1}: held-out -ELBO {terms.loss.item():.1f} nats "
          f"(reconstruction {terms.reconstruction.item():.1f}, KL {terms.kl.item():.1f})")

with tg.no_grad():
    samples = vae.decode(tg.randn(64, args.latent_dim)).sigmoid()
    save_png(image_grid(samples, value_range=(0.0, 1.0)), os.path.join(args.out, "samples.png"))
    if args.latent_dim == 2:
        mu, _ = vae.encode(held_out)
        plot_latent_space(mu.numpy(), held_out_labels.numpy(), os.path.join(args.out, "latent_space.png"))
