"""A Wasserstein GAN with gradient penalty on MNIST (multilayer perceptrons), in the style of the widely copied
PyTorch-GAN scripts, for tinygen's tests: ``autograd.grad`` with ``create_graph`` for the penalty,
``gradients.norm(2, dim=1)``, and (with ``--clip_value``) the original WGAN's ``p.data.clamp_`` weight clipping.

The tinygen_ twin of this file differs only in its import lines (tests/test_pytorch_scripts.py checks that).
"""
import argparse
import os

import numpy as np
import torch
import torch.autograd as autograd
import torch.nn as nn
import torchvision.transforms as transforms
from torchvision import datasets
from torchvision.utils import save_image

parser = argparse.ArgumentParser()
parser.add_argument("--n_epochs", type=int, default=200, help="number of epochs of training")
parser.add_argument("--batch_size", type=int, default=64, help="size of the batches")
parser.add_argument("--lr", type=float, default=0.0002, help="adam: learning rate")
parser.add_argument("--b1", type=float, default=0.5, help="adam: decay of first order momentum of gradient")
parser.add_argument("--b2", type=float, default=0.999, help="adam: decay of first order momentum of gradient")
parser.add_argument("--latent_dim", type=int, default=100, help="dimensionality of the latent space")
parser.add_argument("--img_size", type=int, default=28, help="size of each image dimension")
parser.add_argument("--n_critic", type=int, default=5, help="number of training steps for discriminator per iter")
parser.add_argument("--clip_value", type=float, default=0.0, help="weight clipping of the critic (0: none)")
parser.add_argument("--lambda_gp", type=float, default=10.0, help="weight of the gradient penalty")
parser.add_argument("--sample_interval", type=int, default=400, help="interval betwen image samples")
parser.add_argument("--dataroot", default="../../data/mnist", help="where MNIST is")
parser.add_argument("--out", default="images", help="where the samples go")
parser.add_argument("--max_batches", type=int, default=None, help="stop each epoch after this many batches")
opt = parser.parse_args()
print(opt)
os.makedirs(opt.out, exist_ok=True)

img_shape = (1, opt.img_size, opt.img_size)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(opt.latent_dim, 128, normalize=False),
            *block(128, 256),
            nn.Linear(256, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        return img.view(img.shape[0], *img_shape)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), 256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(256, 128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(128, 1),
        )

    def forward(self, img):
        return self.model(img.view(img.shape[0], -1))


generator = Generator().to(device)
discriminator = Discriminator().to(device)

dataloader = torch.utils.data.DataLoader(
    datasets.MNIST(
        opt.dataroot,
        train=True,
        download=True,
        transform=transforms.Compose(
            [transforms.Resize(opt.img_size), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]
        ),
    ),
    batch_size=opt.batch_size,
    shuffle=True,
)

optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))


def compute_gradient_penalty(D, real_samples, fake_samples):
    """(||grad D(x_hat)||_2 - 1)^2 on random interpolates x_hat between real and fake samples."""
    alpha = torch.rand(real_samples.size(0), 1, 1, 1, device=device)
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    fake = torch.ones(real_samples.shape[0], 1, device=device)
    gradients = autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=fake,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


batches_done = 0
for epoch in range(opt.n_epochs):
    for i, (imgs, _) in enumerate(dataloader):
        if opt.max_batches is not None and i >= opt.max_batches:
            break
        real_imgs = imgs.to(device)

        #  Train Discriminator
        optimizer_D.zero_grad()
        z = torch.randn(imgs.data.size(0), opt.latent_dim, device=device)
        fake_imgs = generator(z)
        real_validity = discriminator(real_imgs)
        fake_validity = discriminator(fake_imgs)
        gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data, fake_imgs.data)
        d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + opt.lambda_gp * gradient_penalty
        d_loss.backward()
        optimizer_D.step()
        if opt.clip_value > 0:  # the original WGAN's constraint, kept as an option
            for p in discriminator.parameters():
                p.data.clamp_(-opt.clip_value, opt.clip_value)

        optimizer_G.zero_grad()
        if i % opt.n_critic == 0:
            #  Train Generator every n_critic steps
            fake_imgs = generator(z)
            fake_validity = discriminator(fake_imgs)
            g_loss = -torch.mean(fake_validity)
            g_loss.backward()
            optimizer_G.step()
            print("[Epoch %d/%d] [Batch %d/%d] d_loss=%r g_loss=%r gp=%r"
                  % (epoch, opt.n_epochs, i, len(dataloader), d_loss.item(), g_loss.item(), gradient_penalty.item()))
            if batches_done % opt.sample_interval == 0:
                save_image(fake_imgs[:25], os.path.join(opt.out, "%d.png" % batches_done), nrow=5, normalize=True)
            batches_done += opt.n_critic
