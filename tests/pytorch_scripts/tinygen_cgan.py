"""A conditional GAN on MNIST in the style of the PyTorch-GAN cgan script, with the habits of newer training loops:
labels embedded and concatenated to the noise and the image, an AMP-ready loop (autocast and GradScaler, enabled
on a GPU only), a linear learning-rate warm-up, gradient clipping, the discriminator's first layer frozen for the
first steps (its optimizer made over all parameters), a forward hook recording a hidden layer's activity, and a
checkpoint saved and loaded mid-run. Written for tinygen's tests (third PyTorch probe).

The tinygen_ twin of this file differs only in its import lines (tests/test_pytorch_scripts.py checks that).
"""
import argparse
import io

import numpy as np
import tinygen as torch
import tinygen.nn as nn
from tinygen.cuda.amp import GradScaler, autocast
from tinygen.optim.lr_scheduler import LinearLR
from tinygen.utils.data import DataLoader
from tinygen.vision import datasets, transforms

parser = argparse.ArgumentParser()
parser.add_argument("--n_epochs", type=int, default=200)
parser.add_argument("--batch_size", type=int, default=64)
parser.add_argument("--lr", type=float, default=0.0002)
parser.add_argument("--latent_dim", type=int, default=100)
parser.add_argument("--n_classes", type=int, default=10)
parser.add_argument("--img_size", type=int, default=32)
parser.add_argument("--freeze_steps", type=int, default=2, help="steps with D's first layer frozen")
parser.add_argument("--dataroot", default="../../data/mnist")
parser.add_argument("--max_batches", type=int, default=None, help="stop each epoch after this many batches")
opt = parser.parse_args()

img_shape = (1, opt.img_size, opt.img_size)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
use_amp = device.type == "cuda"


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_emb = nn.Embedding(opt.n_classes, opt.n_classes)

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(opt.latent_dim + opt.n_classes, 64, normalize=False),
            *block(64, 128),
            nn.Linear(128, int(np.prod(img_shape))),
            nn.Tanh(),
        )

    def forward(self, noise, labels):
        gen_input = torch.cat((self.label_emb(labels), noise), -1)
        img = self.model(gen_input)
        return img.view(img.size(0), *img_shape)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_embedding = nn.Embedding(opt.n_classes, opt.n_classes)
        self.model = nn.Sequential(
            nn.Linear(opt.n_classes + int(np.prod(img_shape)), 128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(128, 64),
            nn.Dropout(0.4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(64, 1),
        )

    def forward(self, img, labels):
        d_in = torch.cat((img.view(img.size(0), -1), self.label_embedding(labels)), -1)
        return self.model(d_in)


adversarial_loss = nn.MSELoss()
generator, discriminator = Generator().to(device), Discriminator().to(device)
print("generator_parameters=%r" % sum(p.numel() for p in generator.parameters() if p.requires_grad))

activity = {}
hook = discriminator.model[1].register_forward_hook(
    lambda module, args, output: activity.__setitem__("active", (output > 0).float().mean().item()))

for p in discriminator.model[0].parameters():
    p.requires_grad = False

dataloader = DataLoader(
    datasets.MNIST(opt.dataroot, train=True, download=True, transform=transforms.Compose(
        [transforms.Resize(opt.img_size), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])),
    batch_size=opt.batch_size, shuffle=True)

optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(0.5, 0.999))
warmup = LinearLR(optimizer_G, start_factor=0.25, total_iters=4)
scaler = GradScaler(enabled=use_amp)

step = 0
for epoch in range(opt.n_epochs):
    for i, (imgs, labels) in enumerate(dataloader):
        if opt.max_batches is not None and i >= opt.max_batches:
            break
        if step == opt.freeze_steps:
            for p in discriminator.model[0].parameters():
                p.requires_grad_(True)
        batch_size = imgs.shape[0]
        valid = torch.ones(batch_size, 1, device=device)
        fake = torch.zeros(batch_size, 1, device=device)
        real_imgs, labels = imgs.to(device), labels.to(device)

        optimizer_G.zero_grad()
        z = torch.tensor(np.random.normal(0, 1, (batch_size, opt.latent_dim)), dtype=torch.float, device=device)
        gen_labels = torch.tensor(np.random.randint(0, opt.n_classes, batch_size), device=device)
        with autocast(enabled=use_amp):
            gen_imgs = generator(z, gen_labels)
            g_loss = adversarial_loss(discriminator(gen_imgs, gen_labels), valid)
        scaler.scale(g_loss).backward()
        scaler.unscale_(optimizer_G)
        g_norm = nn.utils.clip_grad_norm_(generator.parameters(), max_norm=1.0)
        scaler.step(optimizer_G)

        optimizer_D.zero_grad()
        with autocast(enabled=use_amp):
            validity_real = discriminator(real_imgs, labels)
            d_real_loss = adversarial_loss(validity_real, valid)
            d_fake_loss = adversarial_loss(discriminator(gen_imgs.detach(), gen_labels), fake)
            d_loss = (d_real_loss + d_fake_loss) / 2
        scaler.scale(d_loss).backward()
        scaler.step(optimizer_D)
        scaler.update()
        warmup.step()
        step += 1

        confident = torch.where(validity_real.detach() > 0.5)[0]
        even_and_confident = ((labels & 1) == 0) & (validity_real.detach().squeeze(1) > 0.5)
        print("[Epoch %d] [Batch %d] d_loss=%r g_loss=%r g_norm=%r lr=%r active=%r confident=%r even=%r"
              % (epoch, i, d_loss.item(), g_loss.item(), g_norm.item(), warmup.get_last_lr()[0], activity["active"],
                 len(confident), int(even_and_confident.sum())))

hook.remove()
buffer = io.BytesIO()
torch.save({"generator": generator.state_dict(), "optimizer_G": optimizer_G.state_dict()}, buffer)
buffer.seek(0)
restored = Generator().to(device)
restored.load_state_dict(torch.load(buffer)["generator"])
restored.eval()
with torch.no_grad():
    labels = torch.arange(opt.n_classes, device=device)
    z = torch.tensor(np.random.normal(0, 1, (opt.n_classes, opt.latent_dim)), dtype=torch.float, device=device)
    samples = restored(z, labels)
    per_class = samples.view(opt.n_classes, -1).mean(dim=1)
    brightest = per_class.argmax().item()
print("sample_mean=%r sample_std=%r brightest=%r" % (samples.mean().item(), samples.std().item(), brightest))
